"""One ingest cycle: list vehicles, poll each device's streams from its cursor, store, alert, notify.

Each (device, stream, window) is stored in one transaction together with its cursor, so a crash,
a SIGKILL or a database restart loses nothing that was acknowledged and a re-run stores nothing
twice. Every vendor failure is an ``IntellicarError`` for one device and stream: it is logged and
counted, the cursor stays, and the next cycle asks again. A lost database (``DatabaseUnavailable``)
ends the cycle at once, since every other device would fail the same way; the loop logs one line,
backs off briefly and runs the cycle again from the cursors.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import config
from data import telemetry
from data.db import Database, DatabaseUnavailable, InvalidQueryInput
from ingest import daily, efficiency, health, maintenance, notify
from ingest.alert_rules import AlertEngine, Evaluation
from ingest.intellicar import IntellicarClient, IntellicarError
from ingest.readings import IST, parse_battery, parse_energy, parse_gps, parse_trip

log = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=10)  # re-ask the tail of the last window: late frames land, dupes are ignored
STREAMS = ("battery", "gps")
# Waits after consecutive database failures (capped by the cycle interval): a restart is over in
# seconds, a longer outage is not worth a line every two seconds.
RETRY_DELAYS = (2, 5, 15, 30, 60)


@dataclass
class CycleFigures:
    started_at: datetime
    devices_polled: int = 0
    rows_stored: int = 0
    rows_rejected: int = 0
    alerts_opened: int = 0
    alerts_resolved: int = 0
    max_lag_seconds: float | None = None
    errors: int = 0

    def line(self) -> str:
        lag = "n/a" if self.max_lag_seconds is None else f"{self.max_lag_seconds / 60:.1f} min"
        return (f"cycle: {self.devices_polled} devices polled, {self.rows_stored} rows stored, "
                f"{self.rows_rejected} rejected, {self.alerts_opened} alerts opened, "
                f"{self.alerts_resolved} resolved, slowest device lag {lag}, {self.errors} errors")


def windows(start: datetime, end: datetime, hours: int):
    """History endpoints answer a whole window at once: split long ones."""
    step = timedelta(hours=hours)
    while start < end:
        yield start, min(start + step, end)
        start += step


class Worker:
    def __init__(self, db: Database, client: IntellicarClient, settings: config.Settings):
        self.db, self.client, self.settings = db, client, settings
        self.engine = AlertEngine(db, settings)
        self.stop = threading.Event()
        self._database_lost = threading.Event()  # set for the rest of a cycle once the database fails
        self._lock = threading.Lock()

    def _halted(self) -> bool:
        return self.stop.is_set() or self._database_lost.is_set()

    # -- one device ---------------------------------------------------------------------------
    def _poll_stream(self, device: dict, stream: str, since: datetime, until: datetime, figures: CycleFigures) -> None:
        vehicle, device_id = device["vehicle_number"], device["device_id"]
        for start, end in windows(since, until, self.settings.history_window_hours):
            if self._halted():
                return
            if stream == "battery":
                raw = self.client.battery_history(vehicle, start, end)
                parsed = parse_battery(device_id, device["battery_serial"], raw, device["nominal_voltage"])
                result = telemetry.store(self.db, battery=parsed.valid, rejected=parsed.rejected,
                                         cursors={(device_id, stream): end})
                health.track_sessions(self.db, device, end)
            else:
                raw = self.client.gps_history(vehicle, start, end)
                parsed = parse_gps(device_id, raw)
                result = telemetry.store(self.db, gps=parsed.valid, rejected=parsed.rejected,
                                         cursors={(device_id, stream): end})
            with self._lock:
                figures.rows_stored += result.rows
                figures.rows_rejected += result.rejected_stored

    def _poll_days(self, device: dict, cursor: datetime | None, now: datetime) -> None:
        """Trips and energy per completed local day since the cursor."""
        today = now.astimezone(IST).replace(hour=0, minute=0, second=0, microsecond=0)
        first = cursor or today - timedelta(days=1)
        first = max(first, today - timedelta(hours=self.settings.ingest_lookback_hours))
        day = first.astimezone(IST).replace(hour=0, minute=0, second=0, microsecond=0)
        while day < today and not self._halted():
            end = day + timedelta(days=1)
            vehicle, device_id = device["vehicle_number"], device["device_id"]
            trip = parse_trip(device_id, self.client.distance(vehicle, day, end))
            energy = parse_energy(device_id, self.client.fuel_used(vehicle, day, end))
            telemetry.store(self.db, trips=[trip] if trip and (trip["distance_km"] or 0) > 0 else [],
                            energy=[energy] if energy else [], cursors={(device_id, "daily"): end})
            day = end

    def poll_device(self, device: dict, cursors: dict, now: datetime, figures: CycleFigures,
                    since_override: datetime | None = None, evaluation: Evaluation | None = None) -> None:
        if self._halted():
            return
        floor = now - timedelta(hours=self.settings.ingest_lookback_hours)
        try:
            for stream in STREAMS:
                cursor = cursors[stream].get(device["device_id"])
                since = since_override or (max(cursor - OVERLAP, floor) if cursor else floor)
                self._poll_stream(device, stream, since, now, figures)
            if evaluation is not None:  # its readings are stored: judge them now, not after the sweep
                self.engine.evaluate_pending(evaluation, [device["device_id"]])
            if since_override is None:
                self._poll_days(device, cursors["daily"].get(device["device_id"]), now)
        except IntellicarError as exc:
            log.warning("%s", exc)
            with self._lock:
                figures.errors += 1
        except InvalidQueryInput as exc:  # vendor data validation let through; this device only
            log.warning("device %s: %s", device["device_id"], exc)
            with self._lock:
                figures.errors += 1
        except DatabaseUnavailable:
            self._database_lost.set()  # the devices still queued would only fail the same way
            raise
        with self._lock:
            figures.devices_polled += 1

    # -- the cycle ----------------------------------------------------------------------------
    def _devices(self) -> list[dict]:
        try:
            telemetry.register_devices(self.db, self.client.list_vehicles())
        except (IntellicarError, InvalidQueryInput) as exc:
            log.warning("listing vehicles: %s; polling the devices we know", exc)
        return telemetry.active_devices(self.db)

    def run_cycle(self, since: datetime | None = None, progress=None, now: datetime | None = None,
                  finished: set[str] | None = None) -> CycleFigures:
        """One cycle up to ``now`` (default: the present; tests and replays pass an earlier moment).

        ``finished``: device ids to skip, and to which each device polled is added (a backfill
        resumed after a database failure does not ask the vendor twice)."""
        now = now or datetime.now(timezone.utc)
        self._database_lost.clear()
        figures = CycleFigures(started_at=now)
        calls_before = self._vendor_calls()
        evaluation = self.engine.begin(now)
        devices = self._devices()
        cursors = {s: telemetry.cursors(self.db, s) for s in (*STREAMS, "daily")}
        todo = [d for d in devices if finished is None or d["device_id"] not in finished]
        with ThreadPoolExecutor(max_workers=self.settings.intellicar_concurrency) as pool:
            futures = {pool.submit(self.poll_device, d, cursors, now, figures, since, evaluation): d["device_id"]
                       for d in todo}
            for future in as_completed(futures):
                future.result()
                if finished is not None and not self._halted():  # a halted device stopped part-way
                    finished.add(futures[future])
                if progress:
                    progress.update(1)
        # Whatever is still pending: devices whose evaluation an earlier, killed cycle never reached.
        self.engine.evaluate_pending(evaluation)
        self.engine.evaluate_fleet(evaluation)
        self.engine.escalate(now)
        self.engine.finish(evaluation)
        outcome = evaluation.outcome
        figures.alerts_opened, figures.alerts_resolved = outcome.opened, outcome.resolved
        battery_cursors = telemetry.cursors(self.db, "battery")
        lags = [(now - battery_cursors[d["device_id"]]).total_seconds() if d["device_id"] in battery_cursors
                else None for d in devices]
        known = [lag for lag in lags if lag is not None]
        figures.max_lag_seconds = max(known) if known else None
        notify.deliver_due(self.db, self.settings)
        maintenance.run(self.db, self.settings)
        efficiency.run(self.db, self.settings, now)
        if since is None:  # a backfill replays the past; the daily jobs follow the clock
            daily.run(self.db, self.settings, now)
        telemetry.record_run(self.db, {
            "started_at": figures.started_at, "devices_polled": figures.devices_polled,
            "rows_stored": figures.rows_stored, "rows_rejected": figures.rows_rejected,
            "alerts_opened": figures.alerts_opened, "alerts_resolved": figures.alerts_resolved,
            "max_lag_seconds": figures.max_lag_seconds, "errors": figures.errors,
            "note": "backfill" if since else None,
            **{f"vendor_{k}": v - calls_before.get(k, 0) for k, v in self._vendor_calls().items()}})
        log.info("%s", figures.line())
        return figures

    def _vendor_calls(self) -> dict[str, int]:
        """The client's running counts (calls, retries, 429s, re-logins); a cycle records its own share."""
        stats = getattr(self.client, "stats", None)
        return stats.snapshot() if stats is not None else {}

    def _backoff(self, exc: DatabaseUnavailable, failures: int) -> None:
        """One line for the operator, then a short wait (never longer than a cycle)."""
        delay = min(RETRY_DELAYS[min(failures, len(RETRY_DELAYS)) - 1], self.settings.ingest_interval_seconds)
        log.error("%s; retrying in %d s", exc, delay)
        self.stop.wait(delay)

    def run_forever(self) -> None:
        failures = 0
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                self.run_cycle()
            except DatabaseUnavailable as exc:
                failures += 1
                self._backoff(exc, failures)
                continue
            failures = 0
            self.stop.wait(max(self.settings.ingest_interval_seconds - (time.monotonic() - started), 1))

    def backfill(self, since: datetime, progress=None) -> CycleFigures | None:
        """Re-read history from ``since`` for every device. A database failure backs off and resumes
        with the devices not done yet; None if stopped (SIGTERM) before the end."""
        finished: set[str] = set()
        failures = 0
        while not self.stop.is_set():
            try:
                return self.run_cycle(since=since, progress=progress, finished=finished)
            except DatabaseUnavailable as exc:
                failures += 1
                self._backoff(exc, failures)
        return None
