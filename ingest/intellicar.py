"""Client for the Intellicar Standard API (../shared/intellicar-api.md).

Every call is a JSON POST with the token in the body. The client owns the vendor's quirks in one
place: re-authentication once on an expired token, a global rate limit, 429 back-off honouring
Retry-After, one retry of SUCCESS-with-null-data, bounded retries with back-off on network errors
and 5xx. Whatever still fails becomes one ``IntellicarError`` naming the endpoint and vehicle.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

log = logging.getLogger(__name__)


class IntellicarError(Exception):
    """A vendor call failed for good; the message names the endpoint and the vehicle."""

    def __init__(self, endpoint: str, vehicle: str | None, reason: str):
        self.endpoint, self.vehicle, self.reason = endpoint, vehicle, reason
        where = f"{endpoint} for {vehicle}" if vehicle else endpoint
        super().__init__(f"Intellicar {where}: {reason}")


class _Retryable(Exception):
    """A failure worth another try (network, 5xx, 429, SUCCESS with null data)."""

    def __init__(self, reason: str, wait: float | None = None):
        super().__init__(reason)
        self.wait = wait


class _TokenExpired(Exception):
    pass


class RateLimiter:
    """At most ``per_second`` calls a second and ``min_interval`` seconds between two, across threads."""

    def __init__(self, per_second: float, min_interval: float):
        self.gap = max(1.0 / per_second, min_interval)
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.gap
        if start > now:
            time.sleep(start - now)

    def pause(self, seconds: float) -> None:
        """Hold every caller back, e.g. after a 429 with Retry-After."""
        with self._lock:
            self._next = max(self._next, time.monotonic() + seconds)


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass
class CallStats:
    calls: int = 0
    retries: int = 0
    reauths: int = 0
    throttled: int = 0

    def __post_init__(self):
        self._lock = threading.Lock()

    def add(self, name: str) -> None:
        with self._lock:  # the worker's threads share one client
            setattr(self, name, getattr(self, name) + 1)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {"calls": self.calls, "retries": self.retries, "reauths": self.reauths, "throttled": self.throttled}


class IntellicarClient:
    def __init__(self, base_url: str, username: str, password: str, *, calls_per_second: float = 3.0,
                 min_interval_ms: int = 400, timeout: float = 30.0, retries: int = 5,
                 null_data_pause: float = 1.0, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.username, self.password = username, password
        self.timeout, self.retries, self.null_data_pause = timeout, retries, null_data_pause
        self.limiter = RateLimiter(calls_per_second, min_interval_ms / 1000.0)
        self.session = session or requests.Session()
        self._token: str | None = None
        self._token_lock = threading.Lock()
        self.stats = CallStats()

    @classmethod
    def from_settings(cls, settings) -> "IntellicarClient":
        return cls(settings.intellicar_base_url, settings.intellicar_username, settings.intellicar_password,
                   calls_per_second=settings.intellicar_calls_per_second,
                   min_interval_ms=settings.intellicar_min_interval_ms,
                   timeout=settings.intellicar_timeout_seconds, retries=settings.intellicar_retries)

    # -- transport --------------------------------------------------------------------------
    def _post(self, endpoint: str, body: dict, vehicle: str | None) -> requests.Response:
        self.limiter.wait()
        self.stats.add("calls")
        try:
            response = self.session.post(f"{self.base_url}/{endpoint}", json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            raise _Retryable(f"network error: {exc.__class__.__name__}") from None
        if response.status_code == 429:
            self.stats.add("throttled")
            wait = _retry_after(response.headers.get("Retry-After"))
            self.limiter.pause(wait)  # every thread waits, not only this one
            raise _Retryable("rate limited (HTTP 429)", wait)
        return response

    def _authenticate(self) -> str:
        response = self._post("gettoken", {"username": self.username, "password": self.password}, None)
        if response.status_code == 401:
            raise IntellicarError("gettoken", None, "wrong username or password (HTTP 401)")
        if response.status_code >= 400:
            raise _Retryable(f"HTTP {response.status_code}")
        envelope = self._envelope("gettoken", None, response)
        token = (envelope.get("data") or {}).get("token") if isinstance(envelope.get("data"), dict) else None
        if envelope.get("status") != "SUCCESS" or not token:
            raise IntellicarError("gettoken", None, f"no token in answer ({envelope.get('err') or envelope.get('msg')})")
        return token

    def token(self, stale: str | None = None) -> str:
        """The current token; a new one if there is none or ``stale`` was found expired."""
        with self._token_lock:
            if self._token is None or self._token == stale:
                if stale is not None:
                    self.stats.add("reauths")
                self._token = self._authenticate()
            return self._token

    @staticmethod
    def _envelope(endpoint: str, vehicle: str | None, response: requests.Response) -> dict:
        try:
            envelope = response.json()
        except ValueError:
            raise _Retryable(f"malformed response (not JSON, HTTP {response.status_code})") from None
        if not isinstance(envelope, dict) or "status" not in envelope:
            raise _Retryable("malformed response (no status envelope)")
        return envelope

    def _attempt(self, endpoint: str, body: dict, vehicle: str | None, *, allow_null: bool):
        token = self.token()
        response = self._post(endpoint, dict(body, token=token), vehicle)
        if response.status_code == 401:
            raise _TokenExpired(token)
        if response.status_code >= 500:
            raise _Retryable(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise IntellicarError(endpoint, vehicle, f"HTTP {response.status_code}")
        envelope = self._envelope(endpoint, vehicle, response)
        if envelope["status"] != "SUCCESS":
            reason = f"{envelope.get('err') or ''} {envelope.get('msg') or ''}".strip()
            if "token" in reason.lower():
                raise _TokenExpired(token)
            raise IntellicarError(endpoint, vehicle, f"FAILURE: {reason or 'no reason given'}")
        if envelope.get("data") is None and not allow_null:
            raise _Retryable("SUCCESS with null data", self.null_data_pause)
        return envelope.get("data")

    def call(self, endpoint: str, vehicle: str | None = None, *, allow_null: bool = False, **fields):
        """POST ``endpoint`` with ``fields`` (plus token and vehicleno) and return ``data``."""
        body = dict(fields)
        if vehicle is not None:
            body["vehicleno"] = vehicle
        reauthed = False

        def attempt():
            nonlocal reauthed
            try:
                return self._attempt(endpoint, body, vehicle, allow_null=allow_null)
            except _TokenExpired as expired:
                if reauthed:
                    raise IntellicarError(endpoint, vehicle, "token rejected again after re-authentication") from None
                self.token(stale=str(expired))  # a failure here is retried like any other
                reauthed = True
                raise _Retryable("token expired; re-authenticated", 0) from None

        def before_sleep(state: RetryCallState) -> None:
            self.stats.add("retries")
            log.debug("retrying %s for %s: %s", endpoint, vehicle, state.outcome.exception())

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception()
            if isinstance(exc, _Retryable) and exc.wait is not None:
                return exc.wait
            return wait_exponential_jitter(initial=0.5, max=30)(state)

        # One more attempt than retries, plus one for a re-authentication.
        retrying = Retrying(stop=stop_after_attempt(self.retries + 2), wait=wait, reraise=True,
                            retry=retry_if_exception(lambda e: isinstance(e, _Retryable)), before_sleep=before_sleep)
        try:
            return retrying(attempt)
        except _Retryable as exc:
            raise IntellicarError(endpoint, vehicle, f"{exc} (gave up after {self.retries + 1} attempts)") from None

    # -- endpoints ----------------------------------------------------------------------------
    def list_vehicles(self) -> list[str]:
        data = self.call("listvehicles") or []
        return [str(v["vehicleno"]) for v in data if isinstance(v, dict) and v.get("vehicleno")]

    def battery_history(self, vehicle: str, start: datetime, end: datetime) -> list[dict]:
        return _rows(self.call("getbatterymetricshistory", vehicle, starttime=epoch_ms(start), endtime=epoch_ms(end)))

    def gps_history(self, vehicle: str, start: datetime, end: datetime) -> list[dict]:
        return _rows(self.call("getgpshistory", vehicle, starttime=epoch_ms(start), endtime=epoch_ms(end)))

    def distance(self, vehicle: str, start: datetime, end: datetime) -> dict:
        return self.call("getdistancetravelled", vehicle, starttime=epoch_ms(start), endtime=epoch_ms(end)) or {}

    def fuel_used(self, vehicle: str, start: datetime, end: datetime) -> dict:
        return self.call("getfuelused", vehicle, starttime=epoch_ms(start), endtime=epoch_ms(end)) or {}


def _rows(data) -> list[dict]:
    """History endpoints answer an array; an empty window may come back as {} or []."""
    if isinstance(data, list):
        return [row for row in data if isinstance(row, dict)]
    return []


def _retry_after(header: str | None) -> float:
    try:
        return min(max(float(header), 0.1), 120.0) if header else 1.0
    except ValueError:
        return 1.0
