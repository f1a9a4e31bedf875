"""The alert engine: the ten rules of seed 000 section 6 over each device's newly stored readings.

Thresholds, severities, clear thresholds (hysteresis) and durations come from ``alert_rules``. A
rule that fires anywhere in the new readings opens the (device, type) alert or counts a repeat; it
resolves when the newest reading after the last trigger is past the clear threshold, so a value
hovering at the threshold does not flap.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from data import alerts as store
from data.db import Database

STUCK_SOH = 100.0  # a constant 100.0 is "not measured", not "healthy"


@dataclass
class Outcome:
    opened: int = 0
    repeated: int = 0
    resolved: int = 0


# name -> (reading field, triggers(value, threshold), clears(value, clear_threshold), scale voltage?)
_THRESHOLD_RULES = {
    "low_soc": ("soc", lambda v, t: v < t, lambda v, c: v >= c, False),
    "high_temp": ("temperature", lambda v, t: v > t, lambda v, c: v <= c, False),
    "overcurrent": ("current", lambda v, t: abs(v) > t, lambda v, c: abs(v) <= c, False),
    "overvoltage": ("voltage", lambda v, t: v > t, lambda v, c: v <= c, True),
    "undervoltage": ("voltage", lambda v, t: v < t, lambda v, c: v >= c, True),
    "soh_degradation": ("soh", lambda v, t: v < t and v != STUCK_SOH, lambda v, c: v >= c, False),
    "excessive_cycles": ("charge_cycle", lambda v, t: v > t, lambda v, c: False, False),
}


def _message(rule: dict, field: str, value: float, threshold: float) -> str:
    return f"{rule['description']}: {field} {value:g} (threshold {threshold:g})"


class AlertEngine:
    def __init__(self, db: Database, channels: tuple[str, ...] = ()):
        self.db = db
        self.channels = channels

    def evaluate(self, new_readings: dict[str, list[dict]], nominal: dict[str, float]) -> Outcome:
        """``new_readings``: device_id -> readings stored this cycle (newer than the device's old cursor)."""
        rules = store.rules(self.db)
        outcome = Outcome()
        devices = [d for d, rows in new_readings.items() if rows]
        peaks = store.soh_peak(self.db, devices, (rules.get("rapid_soh_drop") or {}).get("window_days") or 30)
        open_now = {device for device, _ in store.open_types(self.db, devices)}
        for device_id in devices:
            rows = sorted(new_readings[device_id], key=lambda r: r["time"])
            scale = nominal.get(device_id, 51.2) / 51.2
            if device_id not in open_now and not self._could_fire(rules, rows, scale, peaks.get(device_id)):
                continue  # the common case at fleet scale: nothing to open, nothing to resolve
            with self.db.transaction() as conn:
                for alert_type, (field, fires, clears, scaled) in _THRESHOLD_RULES.items():
                    rule = rules.get(alert_type)
                    if rule is None or rule["threshold"] is None:
                        continue
                    threshold = rule["threshold"] * (scale if scaled else 1)
                    clear = (rule["clear_threshold"] if rule["clear_threshold"] is not None else rule["threshold"])
                    clear *= scale if scaled else 1
                    self._apply(conn, outcome, device_id, alert_type, rule, field, rows,
                                lambda v, t=threshold: fires(v, t), lambda v, c=clear: clears(v, c), threshold)
                self._deep_discharge(conn, outcome, device_id, rules.get("deep_discharge"), rows)
                self._rapid_soh_drop(conn, outcome, device_id, rules.get("rapid_soh_drop"), rows, peaks)
        self._no_communication(outcome, rules.get("no_communication"))
        return outcome

    @staticmethod
    def _could_fire(rules: dict, rows: list[dict], scale: float, soh_peak: float | None) -> bool:
        for alert_type, (field, fires, _clears, scaled) in _THRESHOLD_RULES.items():
            rule = rules.get(alert_type)
            if rule is None or rule["threshold"] is None:
                continue
            threshold = rule["threshold"] * (scale if scaled else 1)
            if any(r.get(field) is not None and fires(r[field], threshold) for r in rows):
                return True
        deep = rules.get("deep_discharge")
        if deep and any(r.get("soc") is not None and r["soc"] <= deep["threshold"] for r in rows):
            return True
        drop = rules.get("rapid_soh_drop")
        measured = [r["soh"] for r in rows if r.get("soh") is not None and r["soh"] != STUCK_SOH]
        return bool(drop and measured and soh_peak is not None and soh_peak - measured[-1] > drop["threshold"])

    def _apply(self, conn, outcome, device_id, alert_type, rule, field, rows, fires, clears, threshold):
        triggers = [r for r in rows if r.get(field) is not None and fires(r[field])]
        if triggers:
            worst = triggers[-1]
            result = store.raise_alert(conn, device_id=device_id, alert_type=alert_type, severity=rule["severity"],
                                       message=_message(rule, field, worst[field], threshold), value=worst[field],
                                       threshold=threshold, at=worst["time"], count=len(triggers),
                                       channels=self.channels)
            setattr(outcome, result, getattr(outcome, result) + 1)
        last_trigger = triggers[-1]["time"] if triggers else None
        after = [r for r in rows if r.get(field) is not None and (last_trigger is None or r["time"] > last_trigger)]
        if after and clears(after[-1][field]):
            if store.resolve(conn, device_id=device_id, alert_type=alert_type, at=after[-1]["time"],
                             value=after[-1][field]):
                outcome.resolved += 1

    def _deep_discharge(self, conn, outcome, device_id, rule, rows):
        """SOC at or below the threshold for ``duration_minutes`` without a break, anywhere in the rows."""
        if rule is None:
            return
        with_soc = [r for r in rows if r.get("soc") is not None]
        if not with_soc:
            return
        threshold, clear = rule["threshold"], rule["clear_threshold"] or rule["threshold"]
        run_start, trigger, longest = None, None, timedelta(0)
        for r in with_soc:
            if r["soc"] > threshold:
                run_start = None
                continue
            if run_start is None:
                run_start = store.last_time_above(self.db, device_id, threshold, r["time"]) \
                    if r is with_soc[0] else r["time"]
                run_start = run_start or store.first_reading(self.db, device_id) or r["time"]
            if r["time"] - run_start >= timedelta(minutes=rule["duration_minutes"]):
                trigger, longest = r, max(longest, r["time"] - run_start)
        if trigger is not None:
            result = store.raise_alert(
                conn, device_id=device_id, alert_type="deep_discharge", severity=rule["severity"],
                message=f"{rule['description']}: SOC {trigger['soc']:g} % for {longest.total_seconds() / 60:.0f} min",
                value=trigger["soc"], threshold=threshold, at=trigger["time"], count=1, channels=self.channels)
            setattr(outcome, result, getattr(outcome, result) + 1)
        latest = with_soc[-1]
        if latest["soc"] >= clear and (trigger is None or latest["time"] > trigger["time"]) and store.resolve(
                conn, device_id=device_id, alert_type="deep_discharge", at=latest["time"], value=latest["soc"]):
            outcome.resolved += 1

    def _rapid_soh_drop(self, conn, outcome, device_id, rule, rows, peaks):
        measured = [r for r in rows if r.get("soh") is not None and r["soh"] != STUCK_SOH]
        if rule is None or not measured or device_id not in peaks or peaks[device_id] is None:
            return
        latest = measured[-1]
        drop = peaks[device_id] - latest["soh"]
        if drop > rule["threshold"]:
            result = store.raise_alert(
                conn, device_id=device_id, alert_type="rapid_soh_drop", severity=rule["severity"],
                message=f"{rule['description']}: SOH fell {drop:.1f} points in {rule['window_days']} days",
                value=drop, threshold=rule["threshold"], at=latest["time"], count=1, channels=self.channels)
            setattr(outcome, result, getattr(outcome, result) + 1)
        elif drop < rule["threshold"] - 1 and store.resolve(conn, device_id=device_id, alert_type="rapid_soh_drop",
                                                            at=latest["time"], value=drop):
            outcome.resolved += 1

    def _no_communication(self, outcome, rule):
        if rule is None:
            return
        # Only changes: a still-silent device is one condition, not a new occurrence every cycle.
        silent, reporting = store.communication_changes(self.db, rule["duration_minutes"])
        now = datetime.now(timezone.utc)
        with self.db.transaction() as conn:
            for r in silent:
                hours = (now - r["reading_time"]).total_seconds() / 3600
                result = store.raise_alert(
                    conn, device_id=r["device_id"], alert_type="no_communication", severity=rule["severity"],
                    message=f"No data for {hours:.1f} h (last reading {r['reading_time']:%Y-%m-%d %H:%M} UTC)",
                    value=hours, threshold=rule["duration_minutes"] / 60, at=now, count=1, channels=self.channels)
                setattr(outcome, result, getattr(outcome, result) + 1)
            for r in reporting:
                if store.resolve(conn, device_id=r["device_id"], alert_type="no_communication",
                                 at=r["reading_time"], value=None):
                    outcome.resolved += 1
