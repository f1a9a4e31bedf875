"""Reading alerts for people: the filtered, paged list, the counts, one alert with its history,
the metric around it, and the cheap "anything new?" check of open screens.

Scope is applied in SQL through the alert's device: a dealer sees only its dealer's alerts, and
fleet-wide alerts (feed silence, no device) only reach whole-fleet roles. An alert outside the
scope and an unknown one look the same: ``find`` returns None for both.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from data.db import Database, like_escaped
from data.scope import Scope

SEVERITIES = ("critical", "warning", "info")
STATUSES = ("open", "acknowledged", "resolved")
ALERT_TYPES = ("low_soc", "deep_discharge", "high_temp", "soh_degradation", "overcurrent", "overvoltage",
               "undervoltage", "no_communication", "rapid_soh_drop", "excessive_cycles", "feed_silence",
               "charging_loss", "meter_mismatch")
# The reading field each alert type is about: the detail chart draws it with the threshold.
METRIC = {"low_soc": "soc", "deep_discharge": "soc", "high_temp": "temperature", "overcurrent": "current_magnitude",
          "overvoltage": "voltage", "undervoltage": "voltage", "soh_degradation": "soh", "rapid_soh_drop": "soh",
          "excessive_cycles": "charge_cycle", "no_communication": "soc"}
WINDOW = timedelta(hours=2)
MAX_CHART_SPAN = timedelta(hours=26)  # a days-long alert shows its last day, not a million points

# Sortable columns: what a table header may ask for, mapped to SQL. Nothing else reaches ORDER BY.
SORTS = {"last_seen_at": "a.last_seen_at", "first_seen_at": "a.first_seen_at", "severity": "sev_rank",
         "alert_type": "a.alert_type", "vehicle_number": "d.vehicle_number", "dealer": "dl.name",
         "city": "d.city", "occurrence_count": "a.occurrence_count", "status": "a.status", "owner": "o.username",
         "reading_value": "a.reading_value", "id": "a.id"}


@dataclass(frozen=True)
class AlertFilter:
    """What the page's filters or the API's query string ask for; every field already cleaned."""
    severities: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    dealer_id: int | None = None
    city: str | None = None
    since: date | None = None  # IST days, inclusive: alerts active at any time in [since, until]
    until: date | None = None
    vehicle: str | None = None  # prefix of a vehicle number or device id
    device_id: str | None = None
    ids: tuple[int, ...] = field(default=())


NO_FILTER = AlertFilter()


def _like_prefix(text: str) -> str:
    return like_escaped(text) + "%"


def _where(scope: Scope, filt: AlertFilter) -> tuple[str, dict]:
    clauses = ["TRUE" if scope.whole_fleet else "d.dealer_id = :scope_dealer_id"]
    params = dict(scope.params())
    if filt.severities:
        clauses.append("a.severity = ANY(:severities)")
        params["severities"] = list(filt.severities)
    if filt.types:
        clauses.append("a.alert_type = ANY(:types)")
        params["types"] = list(filt.types)
    if filt.statuses:
        clauses.append("a.status = ANY(:statuses)")
        params["statuses"] = list(filt.statuses)
    if filt.dealer_id is not None:
        clauses.append("d.dealer_id = :dealer_id")
        params["dealer_id"] = filt.dealer_id
    if filt.city:
        clauses.append("d.city = :city")
        params["city"] = filt.city
    if filt.since:
        # date → timestamp first: a date AT TIME ZONE is taken as a UTC midnight and lands at 05:30
        clauses.append("coalesce(a.resolved_at, 'infinity') >= "
                       "CAST(CAST(:since AS date) AS timestamp) AT TIME ZONE 'Asia/Kolkata'")
        params["since"] = filt.since
    if filt.until:
        clauses.append("a.first_seen_at < CAST(CAST(:until AS date) + 1 AS timestamp) AT TIME ZONE 'Asia/Kolkata'")
        params["until"] = filt.until
    if filt.vehicle:
        clauses.append("(upper(replace(replace(d.vehicle_number, ' ', ''), '-', '')) LIKE :plate "
                       "OR lower(a.device_id) LIKE :device_prefix)")
        params["plate"] = _like_prefix(re.sub(r"[\s-]", "", filt.vehicle).upper())
        params["device_prefix"] = _like_prefix(filt.vehicle.lower())
    if filt.device_id:
        clauses.append("a.device_id = :device_id")
        params["device_id"] = filt.device_id
    if filt.ids:
        clauses.append("a.id = ANY(:ids)")
        params["ids"] = list(filt.ids)
    return " AND ".join(clauses), params


_FROM = """FROM alerts a
           LEFT JOIN devices d ON d.device_id = a.device_id
           LEFT JOIN dealers dl ON dl.id = d.dealer_id
           LEFT JOIN users o ON o.id = a.owner_id"""

_COLUMNS = """a.id, a.severity, a.alert_type, a.device_id, d.vehicle_number, d.battery_serial, d.dealer_id,
              dl.code AS dealer_code, dl.name AS dealer, d.city, a.message, a.reading_value, a.threshold_value,
              a.first_seen_at, a.last_seen_at, a.occurrence_count, a.status, a.owner_id, o.username AS owner,
              a.acknowledged_at, a.resolved_at, a.escalated_at, a.reopened_from,
              CASE a.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END AS sev_rank"""


def list_alerts(db: Database, scope: Scope, filt: AlertFilter = NO_FILTER, *, offset: int = 0, limit: int = 100,
                sort: str = "last_seen_at", descending: bool = True) -> list[dict]:
    """One page of alerts in scope, newest activity first unless ``sort`` says otherwise."""
    where, params = _where(scope, filt)
    order = SORTS.get(sort, SORTS["last_seen_at"])
    direction = "DESC" if descending else "ASC"
    return db.query(
        f"""SELECT {_COLUMNS} {_FROM} WHERE {where}
            ORDER BY {order} {direction} NULLS LAST, a.id {direction}
            OFFSET :offset LIMIT :limit""",
        offset=max(0, offset), limit=max(1, min(limit, 10_000)), **params)


def list_after(db: Database, scope: Scope, filt: AlertFilter, cursor: int | None, limit: int) -> list[dict]:
    """Keyset paging for the API: alerts with an id below ``cursor``, newest first (stable under inserts)."""
    where, params = _where(scope, filt)
    if cursor is not None:
        where += " AND a.id < :cursor"
        params["cursor"] = cursor
    return db.query(f"SELECT {_COLUMNS} {_FROM} WHERE {where} ORDER BY a.id DESC LIMIT :limit",
                    limit=limit, **params)


def count_alerts(db: Database, scope: Scope, filt: AlertFilter = NO_FILTER) -> int:
    where, params = _where(scope, filt)
    return db.scalar(f"SELECT count(*) {_FROM} WHERE {where}", **params)


def summary(db: Database, scope: Scope, filt: AlertFilter = NO_FILTER) -> dict[str, dict[str, int]]:
    """Counts by severity and status within the filter: ``{"critical": {"open": 3, ...}, ...}``."""
    where, params = _where(scope, filt)
    counts = {s: {st: 0 for st in STATUSES} for s in SEVERITIES}
    for r in db.query(f"SELECT a.severity, a.status, count(*) AS n {_FROM} WHERE {where} "
                      "GROUP BY a.severity, a.status", **params):
        counts[r["severity"]][r["status"]] = r["n"]
    return counts


def find(db: Database, scope: Scope, alert_id: int | None) -> dict | None:
    """One alert in scope with its battery's header fields, or None (unknown and out of scope alike)."""
    if not isinstance(alert_id, int) or isinstance(alert_id, bool) or not 0 < alert_id < 2**63:
        return None
    where, params = _where(scope, AlertFilter(ids=(alert_id,)))
    return db.one(
        f"""SELECT {_COLUMNS}, d.customer_name, b.nominal_voltage,
                   b.model AS battery_model, s.soc, s.soh, s.voltage, s.temperature, s.reading_time,
                   r.description AS rule_description, r.clear_threshold AS rule_clear_threshold
            {_FROM}
            LEFT JOIN batteries b ON b.serial = d.battery_serial
            LEFT JOIN device_state s ON s.device_id = a.device_id
            LEFT JOIN alert_rules r ON r.alert_type = a.alert_type
            WHERE {where}""", **params)


def events(db: Database, scope: Scope, alert_id: int) -> list[dict]:
    """The alert's history, oldest first: who did what, when, with which comment."""
    if find(db, scope, alert_id) is None:
        return []
    return db.query(
        """SELECT e.id, e.at, e.event, e.comment, e.details,
                  coalesce(u.username, 'key:' || k.name, e.actor, 'system') AS actor
           FROM alert_events e LEFT JOIN users u ON u.id = e.user_id LEFT JOIN api_keys k ON k.id = e.api_key_id
           WHERE e.alert_id = :id ORDER BY e.at, e.id""", id=alert_id)


def metric_window(db: Database, scope: Scope, alert: dict) -> pd.DataFrame:
    """The alert's metric from 2 h before it opened to 2 h after its last sighting (or resolution).

    ``alert`` is a row from ``find`` (already in scope); an alert with no device or metric gets an
    empty frame."""
    field_name = METRIC.get(alert["alert_type"])
    if field_name is None or alert.get("device_id") is None:
        return pd.DataFrame(columns=["time", "value"])
    end = (alert["resolved_at"] or alert["last_seen_at"]) + WINDOW
    start = max(alert["first_seen_at"] - WINDOW, end - MAX_CHART_SPAN)
    # Over-current is judged on the magnitude (discharge current is negative): draw what was judged.
    value = "abs(r.current)" if field_name == "current_magnitude" else f"r.{field_name}"
    return db.frame(
        f"""SELECT r.time, {value} AS value FROM telemetry.battery_readings r
            JOIN devices d ON d.device_id = r.device_id
            WHERE r.device_id = :device AND r.time BETWEEN :start AND :end
              AND {"TRUE" if scope.whole_fleet else "d.dealer_id = :scope_dealer_id"}
            ORDER BY r.time""", device=alert["device_id"], start=start, end=end, **scope.params())


def device_alerts(db: Database, scope: Scope, device_id: str, open_only: bool = True, limit: int = 50) -> list[dict]:
    """A battery's alerts (its page's panel): open and acknowledged first, then the newest."""
    filt = AlertFilter(device_id=device_id, statuses=("open", "acknowledged") if open_only else ())
    return list_alerts(db, scope, filt, limit=limit, sort="severity", descending=False)


def assignable_users(db: Database, alert: dict) -> list[dict]:
    """Who may own an alert: active engineers and admins, and the alert's own dealer's users."""
    return db.query(
        """SELECT id, username, coalesce(display_name, username) AS name, role FROM users
           WHERE is_active AND (role IN ('engineer', 'admin') OR (role = 'dealer' AND dealer_id = :dealer))
           ORDER BY role <> 'engineer', username""", dealer=alert.get("dealer_id"))


def latest_critical_id(db: Database, scope: Scope) -> int:
    """The newest critical alert's id in scope (0 if none): open screens poll this, nothing heavier.
    Index-only either way: the fleet's newest, or each of the dealer's devices' newest."""
    if scope.whole_fleet:
        return db.scalar("SELECT coalesce(max(id), 0) FROM alerts WHERE severity = 'critical'")
    return db.scalar(
        """SELECT coalesce(max(a.id), 0) FROM devices d
           CROSS JOIN LATERAL (SELECT max(x.id) AS id FROM alerts x
                               WHERE x.device_id = d.device_id AND x.severity = 'critical') a
           WHERE d.dealer_id = :scope_dealer_id""", **scope.params())


def critical_since(db: Database, scope: Scope, after_id: int, limit: int = 5) -> list[dict]:
    """Critical alerts newer than ``after_id`` still open, newest first: the toasts of open screens."""
    where, params = _where(scope, AlertFilter(severities=("critical",), statuses=("open",)))
    return db.query(f"SELECT {_COLUMNS} {_FROM} WHERE {where} AND a.id > :after ORDER BY a.id DESC LIMIT :limit",
                    after=after_id, limit=limit, **params)


def count_critical_since(db: Database, scope: Scope, after_id: int) -> int:
    """How many open critical alerts in scope are newer than ``after_id``: the "N more" of a flood's toasts."""
    where, params = _where(scope, AlertFilter(severities=("critical",), statuses=("open",)))
    return db.scalar(f"SELECT count(*) {_FROM} WHERE {where} AND a.id > :after", after=after_id, **params)


EXPORT_LIMIT = 100_000


def export_alerts(db: Database, scope: Scope, filt: AlertFilter = NO_FILTER, *, sort: str = "last_seen_at",
                  descending: bool = True, limit: int = EXPORT_LIMIT) -> list[dict]:
    """Every alert the filter matches, in the table's order, up to ``limit``: the page's CSV/XLSX file."""
    where, params = _where(scope, filt)
    order = SORTS.get(sort, SORTS["last_seen_at"])
    direction = "DESC" if descending else "ASC"
    return db.query(
        f"""SELECT {_COLUMNS} {_FROM} WHERE {where}
            ORDER BY {order} {direction} NULLS LAST, a.id {direction} LIMIT :limit""",
        limit=max(1, min(limit, EXPORT_LIMIT)), **params)
