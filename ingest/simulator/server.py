"""A mock Intellicar Standard API serving the simulated fleet, quirks included.

Same shape as the real one: POST with JSON, the token in the body, the SUCCESS/FAILURE envelope,
epoch milliseconds, a 3 calls/s limit answered with HTTP 429 and Retry-After. A control API under
``/sim/`` lets tests and the demo expire tokens, force a burst of 429s, 5xx or SUCCESS-with-null-
data, inject scenarios, and read the ground truth.
"""
from __future__ import annotations

import secrets
import threading
import time
from datetime import datetime, timezone

from flask import Flask, jsonify, request

from ingest.simulator.fleet import SimulatedFleet
from ingest.simulator.model import SCENARIOS


def _time(value) -> datetime:
    value = float(value)
    return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, tz=timezone.utc)


class MockState:
    def __init__(self, username: str, password: str, calls_per_second: float, token_ttl: float):
        self.username, self.password = username, password
        self.calls_per_second, self.token_ttl = calls_per_second, token_ttl
        self.tokens: dict[str, float] = {}
        self.force = {"429": 0, "500": 0, "null": 0}
        self.calls: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    def take(self, kind: str) -> bool:
        with self.lock:
            if self.force[kind] > 0:
                self.force[kind] -= 1
                return True
            return False


MAX_BULK = 1000  # vehicles in one injection: the panel's flood asks for 200
MAX_MINUTES = 7 * 24 * 60


def _scenario_json(s) -> dict:
    return {"vehicle": s.vehicle, "kind": s.kind, "start": s.start.isoformat(), "end": s.end.isoformat()}


def ok(data):
    return jsonify(status="SUCCESS", data=data, err=None, msg=None)


def failure(err: str, msg: str, status: int = 200):
    return jsonify(status="FAILURE", data=None, err=err, msg=msg), status


def create_mock_app(fleet: SimulatedFleet, *, username: str = "demo", password: str = "demo",
                    calls_per_second: float = 3.0, token_ttl: float = 12 * 86400) -> Flask:
    app = Flask("intellicar-mock")
    state = MockState(username, password, calls_per_second, token_ttl)
    app.config["mock_state"] = state

    def rate_limited() -> bool:
        now = time.monotonic()
        with state.lock:
            recent = [c for c in state.calls if now - c[0] < 1.0]
            state.calls = recent
            if state.calls_per_second and len(recent) >= state.calls_per_second:
                return True
            state.calls.append((now, request.path))
        return False

    @app.post("/api/standard/<endpoint>")
    def api(endpoint: str):
        if state.take("429") or rate_limited():
            response = jsonify(status="FAILURE", data=None, err="RATE_LIMIT", msg="too many requests")
            response.status_code = 429
            response.headers["Retry-After"] = "0.5"
            return response
        if state.take("500"):
            return "upstream error", 502
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return failure("BAD_REQUEST", "body must be a JSON object", 400)
        if endpoint == "gettoken":
            if body.get("username") != state.username or body.get("password") != state.password:
                return failure("AUTH_FAILED", "invalid credentials", 401)
            token = secrets.token_urlsafe(24)
            with state.lock:
                state.tokens[token] = time.time() + state.token_ttl
            return ok({"token": token})
        expiry = state.tokens.get(body.get("token") or "")
        if expiry is None or expiry < time.time():
            return failure("TOKEN_EXPIRED", "token is invalid or expired")
        if state.take("null"):
            return ok(None)
        if endpoint == "listvehicles":
            return ok([{"vehicleno": v} for v in fleet.vehicles])
        vehicle = body.get("vehicleno")
        if vehicle not in fleet.vehicles:
            return failure("NOT_FOUND", f"unknown vehicle {vehicle!r}")
        if endpoint == "getvehicleinfo":
            v = fleet.vehicles[vehicle]
            return ok({"vehicleno": vehicle, "createdat": 0, "createdby": "sim", "type": "e-rickshaw",
                       "model": v.model, "assignedgroups": [{"groupname": v.city}]})
        if endpoint == "getlastgpsstatus":
            return ok(fleet.last_gps(vehicle))
        try:
            start, end = _time(body["starttime"]), _time(body["endtime"])
        except (KeyError, TypeError, ValueError):
            return failure("BAD_REQUEST", "starttime and endtime (epoch ms) are required", 400)
        handlers = {"getbatterymetricshistory": fleet.battery_history, "getgpshistory": fleet.gps_history,
                    "getdistancetravelled": fleet.distance, "getfuelused": fleet.fuel_used}
        if endpoint not in handlers:
            return failure("NOT_FOUND", f"unknown endpoint {endpoint!r}", 404)
        return ok(handlers[endpoint](vehicle, start, end))

    @app.post("/sim/control")
    def control():
        body = request.get_json(force=True)
        with state.lock:
            if body.get("expire_tokens"):
                state.tokens.clear()
            for kind in state.force:
                if kind in body:
                    state.force[kind] = int(body[kind])
            if "calls_per_second" in body:
                state.calls_per_second = float(body["calls_per_second"])
        return jsonify(force=state.force, calls_per_second=state.calls_per_second)

    @app.post("/sim/scenario")
    def scenario():
        """One vehicle (``"vehicle"``) or many at once (``"vehicles": [...]``, the panel's flood);
        ``start`` (epoch ms or s) defaults to now. All or nothing: one unknown vehicle refuses the lot."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return jsonify(error="body must be a JSON object"), 400
        bulk = "vehicles" in body
        vehicles = body.get("vehicles") if bulk else [body.get("vehicle")]
        if body.get("kind") not in SCENARIOS:
            return jsonify(error=f"kind must be one of {', '.join(SCENARIOS)}"), 400
        if not isinstance(vehicles, list) or not 1 <= len(vehicles) <= MAX_BULK:
            return jsonify(error=f"vehicles must be a list of 1 to {MAX_BULK} vehicle numbers"), 400
        unknown = [v for v in vehicles if not isinstance(v, str) or v not in fleet.vehicles]
        if unknown:
            return jsonify(error=f"unknown vehicle(s): {', '.join(map(str, unknown[:5]))}"
                                 + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")), 400
        try:
            minutes = float(body.get("minutes"))
            start = _time(body["start"]) if body.get("start") is not None else datetime.now(timezone.utc)
        except (TypeError, ValueError, OverflowError, OSError):
            return jsonify(error="minutes must be a number and start epoch milliseconds"), 400
        if not 0 < minutes <= MAX_MINUTES:  # also refuses NaN
            return jsonify(error=f"minutes must be above 0 and at most {MAX_MINUTES}"), 400
        injected = [fleet.inject(v, body["kind"], start, minutes) for v in vehicles]
        if bulk:
            return jsonify(scenarios=[_scenario_json(s) for s in injected])
        return jsonify(_scenario_json(injected[0]))

    @app.get("/sim/truth")
    def truth():
        return jsonify(scenarios=[_scenario_json(s) for s in fleet.scenarios])

    return app
