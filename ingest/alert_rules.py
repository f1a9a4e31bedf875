"""The alert engine: the ten rules of seed 000 section 6 over each device's stored readings, plus the
fleet-level watches (no communication, feed silence) and escalation.

Which readings: every reading stored since the device's evaluation mark (``alert_marks``, lowered by
the writer in the rows' own transaction). The outcome (alerts opened, repeated, resolved, and
notifications queued) is written in one transaction with the mark's move, so a reading stored is a
reading evaluated once, whatever is killed and when. Re-evaluating a stretch (after a late frame)
is harmless: a trigger already covered by an alert counts nothing twice.

When a rule fires: the value must be past the threshold in every reading for at least the rule's
``duration_minutes`` (a run; a silence longer than ``RUN_GAP`` breaks it), so one spike opens
nothing. It clears at a reading past the clear threshold (hysteresis). An alert a person resolved
while its run went on opens again as a new alert linked to the old one (``reopened_from``).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import config
from data import alerts as store
from data import outbox
from data.db import Database
from ingest import notify

log = logging.getLogger(__name__)

STUCK_SOH = 100.0  # a constant 100.0 is "not measured", not "healthy"
RUN_GAP = timedelta(minutes=15)  # no reading for longer: the condition was not seen throughout
CHUNK = timedelta(days=1)  # evaluate a long backlog a day at a time: memory stays flat
MAX_ROWS = 20_000
NOTIFY_HORIZON = timedelta(hours=1)  # an alert that opened and ended longer ago than this is history, not news


@dataclass(frozen=True)
class Check:
    field: str
    above: bool  # fires above the threshold (else below)
    inclusive: bool = False
    scaled: bool = False  # volts: scaled to the pack's nominal voltage
    clears: bool = True
    label: str = ""
    unit: str = ""


CHECKS = {
    "low_soc": Check("soc", above=False, label="SOC", unit="%"),
    "deep_discharge": Check("soc", above=False, inclusive=True, label="SOC", unit="%"),
    "high_temp": Check("temperature", above=True, label="temperature", unit="°C"),
    "overcurrent": Check("current_magnitude", above=True, label="current", unit="A"),
    "overvoltage": Check("voltage", above=True, scaled=True, label="voltage", unit="V"),
    "undervoltage": Check("voltage", above=False, scaled=True, label="voltage", unit="V"),
    "soh_degradation": Check("soh_measured", above=False, label="SOH", unit="%"),
    "rapid_soh_drop": Check("soh_drop", above=True, label="SOH drop", unit="points"),
    "excessive_cycles": Check("charge_cycle", above=True, clears=False, label="charge cycles"),
}


@dataclass
class Outcome:
    opened: int = 0
    repeated: int = 0
    resolved: int = 0
    devices: int = 0
    opened_types: dict = field(default_factory=dict)

    def add(self, other: "Outcome") -> None:
        self.opened += other.opened
        self.repeated += other.repeated
        self.resolved += other.resolved
        self.devices += other.devices
        for k, v in other.opened_types.items():
            self.opened_types[k] = self.opened_types.get(k, 0) + v


def _value(check: Check, r: dict, peak: float | None):
    if check.field == "current_magnitude":
        return abs(r["current"]) if r.get("current") is not None else None
    if check.field == "soh_measured":
        return r["soh"] if r.get("soh") is not None and r["soh"] != STUCK_SOH else None
    if check.field == "soh_drop":
        soh = r.get("soh")
        return peak - soh if peak is not None and soh is not None and soh != STUCK_SOH else None
    return r.get(check.field)


def _fires(check: Check, v: float, t: float) -> bool:
    if check.above:
        return v >= t if check.inclusive else v > t
    return v <= t if check.inclusive else v < t


def _clears(check: Check, v: float, c: float) -> bool:
    return check.clears and (v <= c if check.above else v >= c)


@dataclass
class Evaluation:
    """One pass of the engine (a worker cycle): its rules and the id its held notifications carry."""
    id: int
    rules: dict
    now: datetime
    outcome: Outcome = field(default_factory=Outcome)
    lock: threading.Lock = field(default_factory=threading.Lock)  # the worker evaluates from several threads


class AlertEngine:
    def __init__(self, db: Database, settings: config.Settings):
        self.db, self.settings = db, settings

    # -- a pass ---------------------------------------------------------------------------------
    def begin(self, now: datetime | None = None) -> Evaluation:
        """Rules are read here: a change saved by an admin applies from the next pass."""
        return Evaluation(outbox.new_evaluation(self.db), store.rules(self.db), now or datetime.now(timezone.utc))

    def finish(self, ev: Evaluation) -> dict:
        """Release the pass's held notifications (one digest per type past the flood limit)."""
        return outbox.release(self.db, ev.id, self.settings.alert_flood_limit, ev.now - NOTIFY_HORIZON)

    def run(self, now: datetime | None = None) -> Outcome:
        """A whole pass: every pending device, the fleet watches, escalation, then release."""
        ev = self.begin(now)
        self.evaluate_pending(ev)
        self.evaluate_fleet(ev)
        self.escalate(ev.now)
        self.finish(ev)
        return ev.outcome

    # -- devices ----------------------------------------------------------------------------------
    def evaluate_pending(self, ev: Evaluation, device_ids: list[str] | None = None) -> Outcome:
        """Evaluate every device (or those named) with readings past its mark."""
        thresholds = {t: r["threshold"] for t, r in ev.rules.items() if t in CHECKS and r["threshold"] is not None}
        drop = ev.rules.get("rapid_soh_drop") or {}
        store.clear_quiet_marks(self.db, device_ids, thresholds, int(self._lookback(ev.rules).total_seconds() // 60),
                                drop.get("window_days") or 30, ev.now)
        for mark in store.pending_marks(self.db, device_ids):
            result = self._evaluate_device(ev, mark)
            with ev.lock:
                ev.outcome.add(result)
        return ev.outcome

    def _lookback(self, rules: dict) -> timedelta:
        longest = max((rules[t]["duration_minutes"] for t in CHECKS if t in rules), default=0)
        return timedelta(minutes=longest) + RUN_GAP

    def _evaluate_device(self, ev: Evaluation, mark: dict) -> Outcome:
        device_id, start, version = mark["device_id"], mark["pending_from"], mark["version"]
        scale = (mark["nominal_voltage"] or 51.2) / 51.2
        drop_rule = ev.rules.get("rapid_soh_drop")
        peak = store.soh_peak(self.db, [device_id], drop_rule["window_days"] or 30, ev.now).get(device_id) \
            if drop_rule else None
        lookback, outcome = self._lookback(ev.rules), Outcome(devices=1)
        while True:
            end = start + CHUNK
            rows = store.readings(self.db, device_id, start - lookback, end, MAX_ROWS)
            if len(rows) == MAX_ROWS:  # a dense day: stop at the last whole timestamp read
                end = rows[-1]["time"]
                rows = [r for r in rows if r["time"] < end]
            latest_time = store.latest_reading_time(self.db, device_id)
            more = latest_time is not None and latest_time >= end
            with self.db.transaction() as conn:
                known = store.latest_by_type(conn, device_id, [t for t in CHECKS if t in ev.rules])
                for alert_type, check in CHECKS.items():
                    rule = ev.rules.get(alert_type)
                    if rule is None or rule["threshold"] is None:
                        continue
                    self._judge(conn, ev, outcome, device_id, rule, check, rows, start, scale, peak,
                                known.get(alert_type))
                moved = store.finish_mark(conn, device_id, version, end if more else None)
            if not (moved and more):
                return outcome
            start = end

    def _judge(self, conn, ev, outcome, device_id, rule, check, rows, pending_from, scale, peak, last) -> None:
        """One rule over one device's rows, oldest first: open, repeat, resolve as the runs say."""
        factor = scale if check.scaled else 1
        threshold = rule["threshold"] * factor
        if rule["clear_threshold"] is not None:
            clear = rule["clear_threshold"] * factor
        else:
            clear = threshold - 1 if check.field == "soh_drop" else threshold
        duration = timedelta(minutes=rule["duration_minutes"])
        state = _RuleState(last)
        run_start = previous = None
        for r in rows:
            v = _value(check, r, peak)
            if v is None:
                continue
            if previous is not None and r["time"] - previous > RUN_GAP:
                run_start = None
            previous = r["time"]
            if not _fires(check, v, threshold):
                run_start = None
                if r["time"] >= pending_from and _clears(check, v, clear) and state.is_open and r["time"] > state.seen:
                    self._flush(conn, state, outcome, rule, check, threshold)
                    if store.close(conn, state.last["id"], at=r["time"], value=v):
                        outcome.resolved += 1
                    state.closed(r["time"])
                continue
            if run_start is None:
                run_start = r["time"]
            if r["time"] < pending_from or r["time"] - run_start < duration:
                continue
            if state.is_open:
                if r["time"] > state.seen:
                    state.repeat(r["time"], v, r["time"] - run_start)
                continue
            if state.last is not None and r["time"] <= state.covered_until:
                continue  # a stretch evaluated again: an alert already covered it
            # A person resolved the last one, and the condition is still (or again) here: link them.
            reopened = state.last["id"] if state.last is not None and state.last.get("by_hand") else None
            alert_id = store.open_alert(
                conn, device_id=device_id, alert_type=rule["alert_type"], severity=rule["severity"],
                message=self._message(rule, check, v, threshold, r["time"] - run_start), value=v,
                threshold=threshold, at=r["time"], count=1, reopened_from=reopened)
            self._notify_opened(conn, ev, rule, alert_id, device_id)
            outcome.opened += 1
            outcome.opened_types[rule["alert_type"]] = outcome.opened_types.get(rule["alert_type"], 0) + 1
            state.opened(alert_id, r["time"])
        self._flush(conn, state, outcome, rule, check, threshold)

    def _flush(self, conn, state: "_RuleState", outcome: Outcome, rule, check, threshold) -> None:
        if not state.repeats:
            return
        message = self._message(rule, check, state.value, threshold, state.lasted)
        if state.opened_here:  # the rest of the run that opened it: one sighting, no 'repeated' event
            store.grow(conn, state.last["id"], at=state.seen, count=state.repeats, value=state.value, message=message)
        else:
            store.repeat(conn, state.last["id"], at=state.seen, count=state.repeats, value=state.value,
                         message=message)
            outcome.repeated += 1
        state.repeats = 0

    @staticmethod
    def _message(rule: dict, check: Check, value: float, threshold: float, lasted: timedelta) -> str:
        unit = f" {check.unit}" if check.unit else ""
        minutes = lasted.total_seconds() / 60
        span = f" for {minutes:.0f} min" if rule["duration_minutes"] else ""
        return f"{rule['description']}: {check.label} {value:g}{unit}{span} (threshold {threshold:g}{unit})"

    def _notify_opened(self, conn, ev: Evaluation, rule: dict, alert_id: int, device_id: str | None) -> None:
        if not rule["notify"] or rule["severity"] not in ("critical", "warning"):
            return
        targets = notify.operator_targets(self.settings) + notify.dealer_targets(store.dealer_of(conn, device_id),
                                                                                 self.settings)
        store.enqueue(conn, alert_id, "opened", targets, ev.id)

    # -- the fleet ------------------------------------------------------------------------------
    def evaluate_fleet(self, ev: Evaluation) -> Outcome:
        self._no_communication(ev)
        self._feed_silence(ev)
        return ev.outcome

    def _no_communication(self, ev: Evaluation) -> None:
        rule = ev.rules.get("no_communication")
        if rule is None:
            return
        # Only changes: a still-silent device is one condition, not a new occurrence every cycle.
        silent, reporting = store.communication_changes(self.db, rule["duration_minutes"], ev.now)
        with self.db.transaction() as conn:
            for r in silent:
                last = store.latest(conn, r["device_id"], "no_communication")
                reopened = last["id"] if last and last["by_hand"] else None
                hours = (ev.now - r["reading_time"]).total_seconds() / 3600
                alert_id = store.open_alert(
                    conn, device_id=r["device_id"], alert_type="no_communication", severity=rule["severity"],
                    message=f"No data for {hours:.1f} h (last reading {r['reading_time']:%Y-%m-%d %H:%M} UTC)",
                    value=round(hours, 2), threshold=rule["duration_minutes"] / 60, at=ev.now, count=1,
                    reopened_from=reopened)
                self._notify_opened(conn, ev, rule, alert_id, r["device_id"])
                ev.outcome.opened += 1
                ev.outcome.opened_types["no_communication"] = ev.outcome.opened_types.get("no_communication", 0) + 1
            for r in reporting:
                if store.resolve(conn, device_id=r["device_id"], alert_type="no_communication",
                                 at=r["reading_time"], value=None):
                    ev.outcome.resolved += 1

    def _feed_silence(self, ev: Evaluation) -> None:
        """No reading from any device for the rule's duration: the vendor, the credentials or the
        worker, not one device. One fleet-wide alert, not one per battery."""
        rule = ev.rules.get("feed_silence")
        newest = store.newest_reading(self.db)
        if rule is None or newest is None:
            return
        silent_for = ev.now - newest
        with self.db.transaction() as conn:
            last = store.latest(conn, None, "feed_silence")
            is_open = last is not None and last["resolved_at"] is None
            if silent_for > timedelta(minutes=rule["duration_minutes"]) and not is_open:
                minutes = silent_for.total_seconds() / 60
                alert_id = store.open_alert(
                    conn, device_id=None, alert_type="feed_silence", severity=rule["severity"],
                    message=f"No reading from any device for {minutes:.0f} min (last at {newest:%Y-%m-%d %H:%M} UTC):"
                            " check the vendor API, its credentials and the worker",
                    value=round(minutes, 1), threshold=rule["duration_minutes"], at=ev.now, count=1,
                    reopened_from=last["id"] if last and last["by_hand"] else None)
                self._notify_opened(conn, ev, rule, alert_id, None)
                ev.outcome.opened += 1
            elif silent_for <= timedelta(minutes=rule["duration_minutes"]) and is_open:
                if store.close(conn, last["id"], at=newest, value=None):
                    ev.outcome.resolved += 1

    # -- escalation -----------------------------------------------------------------------------
    def escalate(self, now: datetime) -> dict:
        """Critical alerts nobody acknowledged in time: an ``escalated`` event and a notification to
        the escalation contacts (the operator's, if none are set); then a reminder at each interval
        until someone acknowledges or it resolves."""
        from data import escalation

        targets = notify.escalation_targets(self.settings) or [
            store.Target(t.channel, t.address, "escalation") for t in notify.operator_targets(self.settings)]
        escalated = escalation.escalate_due(self.db, now, self.settings.alert_escalation_minutes, targets)
        reminded = escalation.remind_due(self.db, now, self.settings.alert_reminder_minutes, targets)
        return {"escalated": escalated, "reminded": reminded}


class _RuleState:
    """The newest alert of one (device, rule) as a pass walks its readings, and the repeats not yet written."""

    def __init__(self, last: dict | None):
        self.last = last
        self.seen = last["last_seen_at"] if last else None
        self.repeats, self.value, self.lasted, self.opened_here = 0, None, timedelta(0), False

    @property
    def covered_until(self) -> datetime:
        """Readings up to here belong to the last alert: a person who resolved it saw it up to its last
        sighting; the engine resolved it at the reading that cleared it."""
        return self.last["last_seen_at"] if self.last.get("by_hand") else self.last["resolved_at"]

    @property
    def is_open(self) -> bool:
        return self.last is not None and self.last["resolved_at"] is None

    def repeat(self, at: datetime, value: float, lasted: timedelta) -> None:
        self.repeats, self.seen, self.value, self.lasted = self.repeats + 1, at, value, lasted

    def opened(self, alert_id: int, at: datetime) -> None:
        self.last = {"id": alert_id, "last_seen_at": at, "resolved_at": None, "by_hand": False}
        self.seen, self.repeats, self.opened_here = at, 0, True

    def closed(self, at: datetime) -> None:
        self.last = dict(self.last, resolved_at=at)
        self.opened_here = False
