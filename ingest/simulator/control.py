"""The fleet simulator's control API, as the web app's scenario panel (demo mode) calls it.

In demo mode the vendor URL (``INTELLICAR_BASE_URL``) points at the simulator's mock API, so the
simulator's root is that URL without ``/api/standard``. Every call has a short timeout and every
failure becomes one ``SimulatorUnavailable`` with a sentence a person can act on. No dash here.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import requests

API_SUFFIX = "/api/standard"
TIMEOUT_SECONDS = 10


MAX_MINUTES = 7 * 24 * 60
MARGIN_MINUTES = 2  # past the rule's minimum duration: a few readings more than it needs


@dataclass(frozen=True)
class PanelScenario:
    """A fault the scenario panel offers: the simulator's kind behind it, the rule it should trip,
    and how long it runs unless the admin says otherwise."""
    label: str
    kind: str  # the simulator's scenario kind
    rule: str  # the alert type it should open
    effect: str
    default_minutes: int

    def minimum_minutes(self, duration_minutes: int) -> int:
        return int(duration_minutes) + MARGIN_MINUTES

    def minutes(self, duration_minutes: int) -> int:
        """The default length: long enough to pass the rule's minimum duration with room to spare."""
        return max(self.default_minutes, int(duration_minutes) + 15)


PANEL_SCENARIOS = {
    "overheating": PanelScenario("Overheating", "overheating", "high_temp", "the pack heats to 60-62 °C", 30),
    "deep_discharge": PanelScenario("Deep discharge", "deep_discharge", "deep_discharge",
                                    "SOC held at 0 % (low SOC and under-voltage follow)", 60),
    "overcurrent": PanelScenario("Over-current", "overcurrent", "overcurrent", "a 120-130 A discharge", 20),
    "offline": PanelScenario("Silent device", "offline", "no_communication", "the device sends nothing", 30),
    "flood": PanelScenario("Flood: firmware glitch", "firmware_glitch", "high_temp",
                           "a bad firmware reports 70 °C on many batteries at once", 20),
}
FLOOD = "flood"
FLOOD_SIZE = 200
MAX_FLOOD = 1000
MAX_CHOSEN = 50  # batteries picked by hand in one injection


class SimulatorUnavailable(Exception):
    """The simulator did not answer, or refused the request; the message says which and why."""


def root_url(base_url: str) -> str:
    base = base_url.rstrip("/")
    return base[: -len(API_SUFFIX)] if base.endswith(API_SUFFIX) else base


def _call(method: str, url: str, **kwargs) -> dict:
    try:
        response = requests.request(method, url, timeout=TIMEOUT_SECONDS, **kwargs)
    except requests.RequestException as exc:
        raise SimulatorUnavailable(f"the simulator at {url.rsplit('/sim/', 1)[0]} does not answer "
                                   f"({type(exc).__name__})") from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict):
        reason = body.get("error") if isinstance(body, dict) and body.get("error") else f"HTTP {response.status_code}"
        raise SimulatorUnavailable(f"the simulator refused the request: {reason}")
    return body


def inject(base_url: str, kind: str, vehicles: list[str], minutes: float,
           start: datetime | None = None) -> list[dict]:
    """Start scenario ``kind`` on every vehicle at ``start`` (now) for ``minutes``; returns what the
    simulator recorded (vehicle, kind, start, end). All or nothing."""
    start = start or datetime.now(timezone.utc)
    body = {"vehicles": list(vehicles), "kind": kind, "minutes": minutes, "start": int(start.timestamp() * 1000)}
    answer = _call("POST", f"{root_url(base_url)}/sim/scenario", json=body)
    return _scenarios(answer)


def truth(base_url: str) -> list[dict]:
    """Every scenario the simulator holds, as injected: its ground truth."""
    return _scenarios(_call("GET", f"{root_url(base_url)}/sim/truth"))


def _scenarios(answer: dict) -> list[dict]:
    rows = answer.get("scenarios")
    if not isinstance(rows, list):
        raise SimulatorUnavailable("the simulator answered without a list of scenarios")
    out = []
    for row in rows:
        try:
            out.append({"vehicle": str(row["vehicle"]), "kind": str(row["kind"]),
                        "start": datetime.fromisoformat(row["start"]), "end": datetime.fromisoformat(row["end"])})
        except (KeyError, TypeError, ValueError):
            raise SimulatorUnavailable("the simulator answered with a malformed scenario") from None
    return out
