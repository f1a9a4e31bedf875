"""Alerts as the engine writes them: one open alert per (device, type), every transition kept, and
notifications queued in the alert's own transaction (the outbox), so a failed delivery never loses
an alert. Also the evaluation marks: which stored readings still wait for the rules.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from data.db import Database, text


@dataclass(frozen=True)
class Target:
    """Where one notification goes: a channel, its address (webhook URL or e-mail list) and whose it is."""
    channel: str  # 'webhook' | 'email'
    address: str
    audience: str = "operator"  # 'operator' | 'dealer' | 'escalation'
    dealer_id: int | None = None


def rules(db: Database) -> dict[str, dict]:
    return {r["alert_type"]: r for r in db.query("SELECT * FROM alert_rules WHERE enabled")}


_LATEST = """SELECT DISTINCT ON (a.alert_type) a.alert_type, a.id, a.status, a.first_seen_at, a.last_seen_at,
                     a.resolved_at,
                     EXISTS (SELECT 1 FROM alert_events e WHERE e.alert_id = a.id AND e.event = 'resolved'
                               AND (e.details->>'by_hand')::boolean) AS by_hand
              FROM alerts a WHERE a.device_id IS NOT DISTINCT FROM :d AND a.alert_type = ANY(:types)
              ORDER BY a.alert_type, a.id DESC"""


def latest_by_type(conn: Connection, device_id: str | None, alert_types) -> dict[str, dict]:
    """The newest alert of each type on a device, open or not, in one query: the engine decides
    repeat, reopen or nothing from it. Types without an alert are absent."""
    return {r["alert_type"]: dict(r) for r in conn.execute(
        text(_LATEST), {"d": device_id, "types": list(alert_types)}).mappings()}


def latest(conn: Connection, device_id: str | None, alert_type: str) -> dict | None:
    return latest_by_type(conn, device_id, [alert_type]).get(alert_type)


def open_alert(conn: Connection, *, device_id: str | None, alert_type: str, severity: str, message: str,
               value: float | None, threshold: float | None, at: datetime, count: int,
               reopened_from: int | None = None) -> int:
    alert_id = conn.execute(text(
        """INSERT INTO alerts (device_id, alert_type, severity, message, reading_value, threshold_value,
                               first_seen_at, last_seen_at, occurrence_count, reopened_from)
           VALUES (:d, :t, :s, :m, :v, :th, :at, :at, :n, :prev) RETURNING id"""),
        {"d": device_id, "t": alert_type, "s": severity, "m": message, "v": value, "th": threshold, "at": at,
         "n": count, "prev": reopened_from}).scalar()
    details = {"value": value, "threshold": threshold, "at": at.isoformat()}
    if reopened_from:
        details["reopened_from"] = reopened_from
    record_event(conn, alert_id, "opened", details)
    return alert_id


# A condition that goes on is one alert whose count and last sighting move with every cycle; its
# history gets a 'repeated' line at most once per hour of readings (a week-long SOH alert would
# otherwise write a row every cycle, for every battery).
REPEAT_EVENT_EVERY = timedelta(hours=1)


def repeat(conn: Connection, alert_id: int, *, at: datetime, count: int, value: float | None, message: str) -> None:
    seen = conn.execute(text(
        """UPDATE alerts SET last_seen_at = greatest(last_seen_at, :at), occurrence_count = occurrence_count + :n,
                             reading_value = :v, message = :m WHERE id = :id RETURNING occurrence_count"""),
        {"at": at, "n": count, "v": value, "m": message, "id": alert_id}).scalar()
    noted = conn.execute(text(
        """SELECT max(CAST(details->>'at' AS timestamptz)) FROM alert_events
           WHERE alert_id = :id AND event IN ('opened', 'repeated')"""), {"id": alert_id}).scalar()
    if noted is None or at - noted >= REPEAT_EVENT_EVERY:
        record_event(conn, alert_id, "repeated", {"count": count, "seen": seen, "value": value, "at": at.isoformat()})


def grow(conn: Connection, alert_id: int, *, at: datetime, count: int, value: float | None, message: str) -> None:
    """Add the rest of the run that just opened an alert to it (one sighting: no 'repeated' event)."""
    conn.execute(text(
        """UPDATE alerts SET last_seen_at = greatest(last_seen_at, :at), occurrence_count = occurrence_count + :n,
                             reading_value = :v, message = :m WHERE id = :id"""),
        {"at": at, "n": count, "v": value, "m": message, "id": alert_id})


def close(conn: Connection, alert_id: int, *, at: datetime, value: float | None) -> bool:
    """Resolve an open alert because its condition cleared (the engine's resolution, not a person's)."""
    done = conn.execute(text(
        """UPDATE alerts SET status = 'resolved', resolved_at = :at WHERE id = :id AND resolved_at IS NULL
           RETURNING id"""), {"at": at, "id": alert_id}).scalar()
    if done is None:
        return False
    record_event(conn, alert_id, "resolved", {"value": value, "at": at.isoformat(), "by_hand": False})
    return True


def record_event(conn: Connection, alert_id: int, event: str, details: dict) -> None:
    conn.execute(text("INSERT INTO alert_events (alert_id, event, details) VALUES (:id, :e, :det)"),
                 {"id": alert_id, "e": event, "det": json.dumps(details, default=str)})


# -- the simple entry points (tests, fixtures, and callers that need no engine) -------------------
def raise_alert(conn: Connection, *, device_id: str, alert_type: str, severity: str, message: str,
                value: float | None, threshold: float | None, at: datetime, count: int,
                channels: tuple = (), targets: tuple[Target, ...] = ()) -> str:
    """Open the (device, type) alert, or count a repeat on the open one. Returns 'opened' or 'repeated'.
    ``targets``: where to notify on opening (``channels`` is kept for older callers and ignored)."""
    existing = conn.execute(text(
        """SELECT id FROM alerts WHERE device_id IS NOT DISTINCT FROM :d AND alert_type = :t
                                   AND resolved_at IS NULL FOR UPDATE"""),
        {"d": device_id, "t": alert_type}).scalar()
    if existing is not None:
        repeat(conn, existing, at=at, count=count, value=value, message=message)
        return "repeated"
    alert_id = open_alert(conn, device_id=device_id, alert_type=alert_type, severity=severity, message=message,
                          value=value, threshold=threshold, at=at, count=count)
    if severity in ("critical", "warning"):
        enqueue(conn, alert_id, "opened", targets, None)
    return "opened"


def resolve(conn: Connection, *, device_id: str | None, alert_type: str, at: datetime, value: float | None) -> bool:
    alert_id = conn.execute(text(
        """SELECT id FROM alerts WHERE device_id IS NOT DISTINCT FROM :d AND alert_type = :t AND resolved_at IS NULL"""),
        {"d": device_id, "t": alert_type}).scalar()
    return alert_id is not None and close(conn, alert_id, at=at, value=value)


# -- notifications --------------------------------------------------------------------------------
def payload(conn: Connection, alert_id: int) -> dict:
    """What a notification says about an alert: the documented ``alert`` object of the webhook body."""
    row = conn.execute(text(
        """SELECT a.id, a.alert_type AS type, a.severity, a.status, a.device_id, d.vehicle_number,
                  dl.code AS dealer_code, dl.name AS dealer, d.city, a.message, a.reading_value AS value,
                  a.threshold_value AS threshold, a.first_seen_at, a.last_seen_at, a.occurrence_count,
                  a.reopened_from
           FROM alerts a LEFT JOIN devices d ON d.device_id = a.device_id LEFT JOIN dealers dl ON dl.id = d.dealer_id
           WHERE a.id = :id"""), {"id": alert_id}).mappings().one()
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}


def enqueue(conn: Connection, alert_id: int | None, kind: str, targets, evaluation_id: int | None,
            body: dict | None = None) -> int:
    """Queue one notification per target. With an ``evaluation_id`` the rows are held until that
    evaluation ends (flood control decides then: each alone, or one digest)."""
    if not targets:
        return 0
    body = body if body is not None else {"alert": payload(conn, alert_id)}
    status = "held" if evaluation_id is not None else "pending"
    stamp = body.get("at") or ""
    for t in targets:
        key = f"alert-{alert_id}-{kind}{stamp}-{t.audience}{t.dealer_id or ''}-{t.channel}"
        conn.execute(text(
            """INSERT INTO notification_outbox (alert_id, channel, idempotency_key, payload, kind, target, audience,
                                                dealer_id, evaluation_id, status)
               VALUES (:id, :c, :k, :p, :kind, :target, :aud, :dealer, :ev, :status)
               ON CONFLICT (idempotency_key) DO NOTHING"""),
            {"id": alert_id, "c": t.channel, "k": key, "p": json.dumps(body, default=str), "kind": kind,
             "target": t.address, "aud": t.audience, "dealer": t.dealer_id, "ev": evaluation_id, "status": status})
    return len(targets)


def dealer_of(conn: Connection, device_id: str | None) -> dict | None:
    if device_id is None:
        return None
    row = conn.execute(text(
        """SELECT dl.id, dl.alert_webhook_url, dl.alert_emails FROM devices d JOIN dealers dl ON dl.id = d.dealer_id
           WHERE d.device_id = :d"""), {"d": device_id}).mappings().first()
    return dict(row) if row else None


# -- evaluation marks ----------------------------------------------------------------------------
def pending_marks(db: Database, device_ids: list[str] | None = None) -> list[dict]:
    """Devices with stored readings not yet evaluated: (device_id, pending_from, version)."""
    return db.query(
        """SELECT m.device_id, m.pending_from, m.version, coalesce(b.nominal_voltage, 51.2) AS nominal_voltage
           FROM alert_marks m JOIN devices d ON d.device_id = m.device_id
           LEFT JOIN batteries b ON b.serial = d.battery_serial
           WHERE m.pending_from IS NOT NULL
             AND (CAST(:ids AS text[]) IS NULL OR m.device_id = ANY(CAST(:ids AS text[])))
           ORDER BY m.pending_from""", ids=device_ids)


def finish_mark(conn: Connection, device_id: str, version: int, next_from: datetime | None) -> bool:
    """Record that readings before ``next_from`` (all, if None) are evaluated, in the outcome's transaction.
    If rows were stored meanwhile (the version moved), the mark stays where the writer put it, and
    the next evaluation covers them (evaluation is idempotent). Returns whether the mark moved."""
    return conn.execute(text(
        """UPDATE alert_marks SET pending_from = CASE WHEN version = :v THEN :next ELSE pending_from END,
                                  evaluated_at = now()
           WHERE device_id = :d RETURNING version = :v"""),
        {"d": device_id, "v": version, "next": next_from}).scalar() or False


# A reading that could fire each rule, in SQL: a superset of the engine's checks (ingest/alert_rules.py
# CHECKS), so a device none of whose pending readings matches, and with no open alert, has nothing to
# judge. ``:t_<type>`` binds the rule's threshold; ``scale`` is the pack's nominal voltage / 51.2.
_COULD_FIRE = {
    "low_soc": "r.soc <= :t_low_soc",
    "deep_discharge": "r.soc <= :t_deep_discharge",
    "high_temp": "r.temperature >= :t_high_temp",
    "overcurrent": "abs(r.current) >= :t_overcurrent",
    "overvoltage": "r.voltage >= :t_overvoltage * q.scale",
    "undervoltage": "r.voltage <= :t_undervoltage * q.scale",
    "soh_degradation": "(r.soh <= :t_soh_degradation AND r.soh <> 100)",
    "excessive_cycles": "r.charge_cycle >= :t_excessive_cycles",
    "rapid_soh_drop": "(r.soh <> 100 AND r.soh <= q.soh_peak - :t_rapid_soh_drop)",
}


def clear_quiet_marks(db: Database, device_ids: list[str] | None, thresholds: dict[str, float],
                      lookback_minutes: int, soh_window_days: int, now: datetime) -> int:
    """The common case at fleet scale in one statement: pending devices with no open alert and no
    pending reading (or reading within the rules' lookback) past any threshold have their mark
    cleared; the engine judges the rest one by one. Returns how many were cleared."""
    fire = " OR ".join(_COULD_FIRE[t] for t in thresholds if t in _COULD_FIRE) or "FALSE"
    params = {f"t_{t}": v for t, v in thresholds.items() if t in _COULD_FIRE}
    return db.execute(
        f"""WITH pending AS (
              SELECT m.device_id, m.version, m.pending_from, coalesce(b.nominal_voltage, 51.2) / 51.2 AS scale,
                     (SELECT max(x.min_soh) FROM telemetry.battery_daily x
                       WHERE x.device_id = m.device_id AND x.min_soh < 100
                         AND x.bucket > CAST(:now AS timestamptz) - make_interval(days => :days)) AS soh_peak
              FROM alert_marks m JOIN devices d ON d.device_id = m.device_id
              LEFT JOIN batteries b ON b.serial = d.battery_serial
              WHERE m.pending_from IS NOT NULL
                AND (CAST(:ids AS text[]) IS NULL OR m.device_id = ANY(CAST(:ids AS text[])))),
            quiet AS (
              SELECT q.device_id, q.version FROM pending q
              WHERE NOT EXISTS (SELECT 1 FROM alerts a WHERE a.device_id = q.device_id AND a.resolved_at IS NULL)
                AND NOT EXISTS (SELECT 1 FROM telemetry.battery_readings r
                                WHERE r.device_id = q.device_id
                                  AND r.time >= q.pending_from - make_interval(mins => :lookback)
                                  AND ({fire})))
            UPDATE alert_marks m SET pending_from = NULL, evaluated_at = now()
            FROM quiet WHERE m.device_id = quiet.device_id AND m.version = quiet.version""",
        ids=device_ids, lookback=lookback_minutes, days=soh_window_days, now=now, **params)


def evaluate_only_after(db: Database, cutoff: datetime) -> int:
    """Mark readings before ``cutoff`` evaluated (a seeded past); the rest still wait for the engine."""
    return db.execute(
        """UPDATE alert_marks m SET pending_from = CASE WHEN s.reading_time >= :cutoff THEN :cutoff END
           FROM device_state s WHERE s.device_id = m.device_id AND m.pending_from < :cutoff""", cutoff=cutoff)


def readings(db: Database, device_id: str, start: datetime, end: datetime | None, limit: int) -> list[dict]:
    return db.query(
        """SELECT time, soc, soh, voltage, current, temperature, charge_cycle FROM telemetry.battery_readings
           WHERE device_id = :d AND time >= :start AND (CAST(:end AS timestamptz) IS NULL OR time < :end)
           ORDER BY time LIMIT :limit""", d=device_id, start=start, end=end, limit=limit)


def latest_reading_time(db: Database, device_id: str) -> datetime | None:
    return db.scalar("SELECT reading_time FROM device_state WHERE device_id = :d", d=device_id)


def soh_peak(db: Database, device_ids: list[str], days: int, now: datetime) -> dict[str, float]:
    """Highest daily SOH per device over ``days`` before ``now`` (from the daily rollup, both storage modes)."""
    return {r["device_id"]: r["peak"] for r in db.query(
        """SELECT device_id, max(min_soh) AS peak FROM telemetry.battery_daily
           WHERE device_id = ANY(:ids) AND bucket > CAST(:now AS timestamptz) - make_interval(days => :days)
             AND min_soh IS NOT NULL AND min_soh < 100
           GROUP BY device_id""", ids=list(device_ids), days=days, now=now)}


# -- fleet-level conditions ----------------------------------------------------------------------
def communication_changes(db: Database, minutes: int, now: datetime) -> tuple[list[dict], list[dict]]:
    """(devices silent longer than ``minutes`` with no open no_communication alert,
        devices reporting again that still have one open). Both small; the fleet is scanned in SQL."""
    rows = db.query(
        """SELECT s.device_id, s.reading_time,
                  CAST(:now AS timestamptz) - s.reading_time > make_interval(mins => :m) AS silent
           FROM device_state s JOIN devices d USING (device_id)
           LEFT JOIN alerts a ON a.device_id = s.device_id AND a.alert_type = 'no_communication'
                              AND a.resolved_at IS NULL
           WHERE d.is_active AND s.reading_time IS NOT NULL
             AND ((CAST(:now AS timestamptz) - s.reading_time > make_interval(mins => :m)) <> (a.id IS NOT NULL))""",
        m=minutes, now=now)
    return [r for r in rows if r["silent"]], [r for r in rows if not r["silent"]]


def newest_reading(db: Database) -> datetime | None:
    """When the last reading of any active device arrived (feed silence watches this)."""
    return db.scalar("""SELECT max(s.reading_time) FROM device_state s JOIN devices d USING (device_id)
                        WHERE d.is_active""")
