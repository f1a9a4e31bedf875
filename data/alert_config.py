"""The alert rules as admins configure them: validated per field, every change kept with who and when.

The worker reads ``alert_rules`` at the start of each evaluation, so a saved change applies on its
next cycle. Thresholds are for a 51.2 V pack where the unit is volts (the engine scales them to
each pack's nominal voltage).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

from data import audit
from data.db import Database, text
from data.scope import Scope

SEVERITIES = ("critical", "warning", "info")
FIELDS = ("enabled", "threshold", "severity", "duration_minutes", "clear_threshold", "notify")
MAX_DURATION = 7 * 24 * 60  # a week, in minutes


@dataclass(frozen=True)
class RuleLimits:
    unit: str
    low: float | None  # physical range of the threshold (and the clear threshold); None: no threshold
    high: float | None
    fires_above: bool  # True: the rule fires above the threshold, so it clears below it
    min_duration: int = 0


# Physical ranges: what a 51.2 V LFP pack can report at all (seed 000 section 6 data quality filters).
LIMITS = {
    "low_soc": RuleLimits("%", 0, 100, False),
    "deep_discharge": RuleLimits("%", 0, 100, False),
    "high_temp": RuleLimits("°C", -10, 80, True),
    "soh_degradation": RuleLimits("%", 0, 100, False),
    "overcurrent": RuleLimits("A", 1, 200, True),
    "overvoltage": RuleLimits("V", 30, 70, True),
    "undervoltage": RuleLimits("V", 30, 70, False),
    "no_communication": RuleLimits("", None, None, True, min_duration=5),
    "rapid_soh_drop": RuleLimits("SOH points", 0.5, 50, True),
    "excessive_cycles": RuleLimits("cycles", 1, 20000, True),
    "feed_silence": RuleLimits("", None, None, True, min_duration=5),
    # Charging efficiency (DC into the pack / AC at the meter) per charge session.
    "charging_loss": RuleLimits("DC/AC", 0.5, 1.0, False),
    "meter_mismatch": RuleLimits("DC/AC", 1.0, 3.0, True),
}


class RuleError(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def rules(db: Database) -> list[dict]:
    """Every rule with its unit and range, in the seed's order."""
    rows = {r["alert_type"]: r for r in db.query("SELECT * FROM alert_rules")}
    return [dict(rows[t], unit=LIMITS[t].unit, low=LIMITS[t].low, high=LIMITS[t].high,
                 fires_above=LIMITS[t].fires_above) for t in LIMITS if t in rows]


def _number(value, name: str, errors: dict) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors[name] = "must be a number"
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        errors[name] = "must be a number"
        return None
    if not math.isfinite(number):
        errors[name] = "must be a finite number"
        return None
    return number


def validate(alert_type: str, current: dict, changes: dict) -> dict:
    """The rule after ``changes``, or RuleError with one message per wrong field."""
    if alert_type not in LIMITS:
        raise RuleError({"alert_type": "unknown alert type"})
    limits, errors = LIMITS[alert_type], {}
    unknown = set(changes) - set(FIELDS)
    if unknown:
        errors["fields"] = f"unknown field(s): {', '.join(sorted(map(str, unknown)))}"
    new = {f: current[f] for f in FIELDS}
    for flag in ("enabled", "notify"):
        if flag in changes:
            if not isinstance(changes[flag], bool):
                errors[flag] = "must be true or false"
            else:
                new[flag] = changes[flag]
    if "severity" in changes:
        if changes["severity"] not in SEVERITIES:
            errors["severity"] = f"must be one of {', '.join(SEVERITIES)}"
        else:
            new["severity"] = changes["severity"]
    if "duration_minutes" in changes:
        minutes = _number(changes["duration_minutes"], "duration_minutes", errors)
        if "duration_minutes" not in errors:
            if minutes is None or not minutes.is_integer():
                errors["duration_minutes"] = "must be a whole number of minutes"
            elif not limits.min_duration <= minutes <= MAX_DURATION:
                errors["duration_minutes"] = f"must be between {limits.min_duration} and {MAX_DURATION} minutes"
            else:
                new["duration_minutes"] = int(minutes)
    for name in ("threshold", "clear_threshold"):
        if name not in changes:
            continue
        value = _number(changes[name], name, errors)
        if name in errors:
            continue
        if limits.low is None:
            if value is not None:
                errors[name] = "this rule has no threshold; set its duration instead"
            continue
        if value is None and name == "threshold":
            errors[name] = "is required"
        elif value is not None and not limits.low <= value <= limits.high:
            errors[name] = f"must be between {limits.low:g} and {limits.high:g} {limits.unit}".rstrip()
        else:
            new[name] = value
    if not errors and limits.low is not None and new["clear_threshold"] is not None and new["threshold"] is not None:
        if limits.fires_above and new["clear_threshold"] > new["threshold"]:
            errors["clear_threshold"] = (f"must be at or below the threshold ({new['threshold']:g} {limits.unit}): "
                                         "the alert fires above it and clears below")
        elif not limits.fires_above and new["clear_threshold"] < new["threshold"]:
            errors["clear_threshold"] = (f"must be at or above the threshold ({new['threshold']:g} {limits.unit}): "
                                         "the alert fires below it and clears above")
    if errors:
        raise RuleError(errors)
    return new


def update(db: Database, alert_type: str, changes: dict, changed_by: str, scope: Scope | None = None) -> dict:
    """Apply ``changes`` to one rule and keep the change (in the audit log too, given the ``scope``
    that made it); returns the new rule. RuleError: nothing changed."""
    current = db.one("SELECT * FROM alert_rules WHERE alert_type = :t", t=alert_type) if alert_type in LIMITS else None
    if current is None:
        raise RuleError({"alert_type": "unknown alert type"})
    new = validate(alert_type, current, changes)
    before = {f: current[f] for f in FIELDS}
    if new == before:
        return current
    with db.transaction() as conn:
        conn.execute(text(
            """UPDATE alert_rules SET enabled = :enabled, threshold = :threshold, severity = :severity,
                      duration_minutes = :duration_minutes, clear_threshold = :clear_threshold, notify = :notify,
                      updated_at = now(), updated_by = :by
               WHERE alert_type = :t"""), dict(new, t=alert_type, by=changed_by))
        conn.execute(text(
            """INSERT INTO alert_rule_changes (alert_type, changed_by, before, after)
               VALUES (:t, :by, :before, :after)"""),
            {"t": alert_type, "by": changed_by, "before": json.dumps(before), "after": json.dumps(new)})
        if scope is not None:
            audit.record(conn, scope, "threshold.update", "threshold", alert_type, *audit.changed(before, new))
    return db.one("SELECT * FROM alert_rules WHERE alert_type = :t", t=alert_type)


def changes(db: Database, limit: int = 50) -> list[dict]:
    """The newest rule changes: who, when, and each field's value before and after."""
    return db.query("""SELECT id, alert_type, changed_at, changed_by, before, after FROM alert_rule_changes
                       ORDER BY changed_at DESC, id DESC LIMIT :limit""", limit=limit)
