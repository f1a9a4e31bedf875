"""Shared pieces for ingest tests: the mock Intellicar server on loopback, a webhook receiver,
and the ground truth of what a window should store."""
from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from werkzeug.serving import make_server

import config
from data import demo
from ingest.readings import parse_battery
from ingest.simulator.fleet import SimulatedFleet
from ingest.simulator.model import Faults
from ingest.simulator.server import create_mock_app


class MockIntellicar:
    def __init__(self, vehicles: int = 6, faults: Faults = Faults(), calls_per_second: float = 0,
                 token_ttl: float = 3600):
        self.vehicles = demo.fleet(vehicles)
        self.fleet = SimulatedFleet(self.vehicles, faults)
        self.app = create_mock_app(self.fleet, calls_per_second=calls_per_second, token_ttl=token_ttl)
        self.delay = 0.0  # seconds each vendor call takes: a test can slow a cycle down to act inside it
        self.calls = 0  # vendor calls answered so far
        self._count_lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self._paced, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _paced(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/api/"):
            with self._count_lock:
                self.calls += 1
            if self.delay:
                time.sleep(self.delay)
        return self.app(environ, start_response)

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/standard"

    def control(self, **body):
        return requests.post(f"{self.url}/sim/control", json=body, timeout=5).json()

    def scenario(self, vehicle: str, kind: str, start: datetime, minutes: float):
        response = requests.post(f"{self.url}/sim/scenario", json={
            "vehicle": vehicle, "kind": kind, "start": int(start.timestamp() * 1000), "minutes": minutes}, timeout=5)
        assert response.status_code == 200, response.text
        return response.json()

    def close(self):
        self.server.shutdown()

    def expected_battery(self, vehicle: str, start: datetime, end: datetime) -> tuple[set, set]:
        """(times of valid readings, times of rejected readings) the API reports for the window."""
        parsed = parse_battery(vehicle, None, self.fleet.battery_history(vehicle, start, end))
        return {r["time"] for r in parsed.valid}, {r["time"] for r in parsed.rejected}


class WebhookReceiver:
    """A loopback HTTP server that records every POST: parsed body, and raw bytes with headers
    (``raw``) for checking signatures."""

    def __init__(self, on_post=None):
        received = self.received = []
        raw = self.raw = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                raw.append((body, dict(self.headers)))
                received.append({"key": self.headers.get("Idempotency-Key"), "body": json.loads(body)})
                if on_post:  # a test's hook, run while the sender waits for the answer
                    on_post(received[-1])
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def worker_settings(mock: MockIntellicar, **extra) -> config.Settings:
    env = {"DEMO_MODE": "1", "INTELLICAR_BASE_URL": mock.base_url, "INTELLICAR_USERNAME": "demo",
           "INTELLICAR_PASSWORD": "demo", "INTELLICAR_CALLS_PER_SECOND": "500", "INTELLICAR_MIN_INTERVAL_MS": "0",
           "INTELLICAR_CONCURRENCY": "2", "INTELLICAR_HISTORY_WINDOW_HOURS": "1", "INGEST_LOOKBACK_HOURS": "3"}
    env.update({k: str(v) for k, v in extra.items()})
    return config.load(env)


def env_for(settings: config.Settings, db_url: str) -> dict:
    """The environment a `python -m ingest` subprocess needs to run as ``settings`` say."""
    return {"DEMO_MODE": "1", "DATABASE_URL": db_url, "INTELLICAR_BASE_URL": settings.intellicar_base_url,
            "INTELLICAR_USERNAME": "demo", "INTELLICAR_PASSWORD": "demo",
            "INTELLICAR_CALLS_PER_SECOND": str(settings.intellicar_calls_per_second),
            "INTELLICAR_MIN_INTERVAL_MS": str(settings.intellicar_min_interval_ms),
            "INTELLICAR_CONCURRENCY": str(settings.intellicar_concurrency),
            "INTELLICAR_HISTORY_WINDOW_HOURS": str(settings.history_window_hours),
            "INGEST_LOOKBACK_HOURS": str(settings.ingest_lookback_hours), "PATH": "/usr/bin:/bin"}
