"""Alerts: one open alert per (device, type), every transition kept, notifications queued in the
alert's own transaction (the outbox), so a failed delivery never loses an alert."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.engine import Connection

from data.db import Database, text


def rules(db: Database) -> dict[str, dict]:
    return {r["alert_type"]: r for r in db.query("SELECT * FROM alert_rules WHERE enabled")}


def raise_alert(conn: Connection, *, device_id: str, alert_type: str, severity: str, message: str,
                value: float | None, threshold: float | None, at: datetime, count: int,
                channels: tuple[str, ...]) -> str:
    """Open the (device, type) alert, or count a repeat on the open one. Returns 'opened' or 'repeated'."""
    existing = conn.execute(text(
        """SELECT id FROM alerts WHERE device_id = :d AND alert_type = :t AND resolved_at IS NULL FOR UPDATE"""),
        {"d": device_id, "t": alert_type}).scalar()
    if existing is not None:
        conn.execute(text(
            """UPDATE alerts SET last_seen_at = greatest(last_seen_at, :at), occurrence_count = occurrence_count + :n,
                                 reading_value = :v, message = :m WHERE id = :id"""),
            {"at": at, "n": count, "v": value, "m": message, "id": existing})
        conn.execute(text("INSERT INTO alert_events (alert_id, event, details) VALUES (:id, 'repeated', :det)"),
                     {"id": existing, "det": json.dumps({"count": count, "value": value, "at": at.isoformat()})})
        return "repeated"
    alert_id = conn.execute(text(
        """INSERT INTO alerts (device_id, alert_type, severity, message, reading_value, threshold_value,
                               first_seen_at, last_seen_at, occurrence_count)
           VALUES (:d, :t, :s, :m, :v, :th, :at, :at, :n) RETURNING id"""),
        {"d": device_id, "t": alert_type, "s": severity, "m": message, "v": value, "th": threshold, "at": at,
         "n": count}).scalar()
    conn.execute(text("INSERT INTO alert_events (alert_id, event, details) VALUES (:id, 'opened', :det)"),
                 {"id": alert_id, "det": json.dumps({"value": value, "threshold": threshold, "at": at.isoformat()})})
    if severity in ("critical", "warning"):
        payload = {"alert_id": alert_id, "device_id": device_id, "alert_type": alert_type, "severity": severity,
                   "message": message, "value": value, "threshold": threshold, "at": at.isoformat()}
        for channel in channels:
            conn.execute(text(
                """INSERT INTO notification_outbox (alert_id, channel, idempotency_key, payload)
                   VALUES (:id, :c, :k, :p) ON CONFLICT (idempotency_key) DO NOTHING"""),
                {"id": alert_id, "c": channel, "k": f"alert-{alert_id}-opened-{channel}", "p": json.dumps(payload)})
    return "opened"


def resolve(conn: Connection, *, device_id: str, alert_type: str, at: datetime, value: float | None,
            user_id: int | None = None) -> bool:
    alert_id = conn.execute(text(
        """UPDATE alerts SET resolved_at = :at, resolved_by = :u
           WHERE device_id = :d AND alert_type = :t AND resolved_at IS NULL RETURNING id"""),
        {"at": at, "u": user_id, "d": device_id, "t": alert_type}).scalar()
    if alert_id is None:
        return False
    conn.execute(text("INSERT INTO alert_events (alert_id, event, user_id, details) VALUES (:id, 'resolved', :u, :det)"),
                 {"id": alert_id, "u": user_id, "det": json.dumps({"value": value, "at": at.isoformat()})})
    return True


def open_types(db: Database, device_ids: list[str]) -> set[tuple[str, str]]:
    return {(r["device_id"], r["alert_type"]) for r in db.query(
        "SELECT device_id, alert_type FROM alerts WHERE resolved_at IS NULL AND device_id = ANY(:ids)",
        ids=list(device_ids))}


# -- evaluation inputs ------------------------------------------------------------------------
def last_time_above(db: Database, device_id: str, soc: float, before: datetime) -> datetime | None:
    return db.scalar(
        """SELECT max(time) FROM telemetry.battery_readings
           WHERE device_id = :d AND soc > :soc AND time <= :before""", d=device_id, soc=soc, before=before)


def first_reading(db: Database, device_id: str) -> datetime | None:
    return db.scalar("SELECT min(time) FROM telemetry.battery_readings WHERE device_id = :d", d=device_id)


def soh_peak(db: Database, device_ids: list[str], days: int) -> dict[str, float]:
    """Highest daily SOH per device over ``days`` (from the daily rollup, both storage modes)."""
    return {r["device_id"]: r["peak"] for r in db.query(
        """SELECT device_id, max(min_soh) AS peak FROM telemetry.battery_daily
           WHERE device_id = ANY(:ids) AND bucket > now() - make_interval(days => :days) GROUP BY device_id""",
        ids=list(device_ids), days=days)}


def communication_changes(db: Database, minutes: int) -> tuple[list[dict], list[dict]]:
    """(devices silent longer than ``minutes`` with no open no_communication alert,
        devices reporting again that still have one open). Both small; the fleet is scanned in SQL."""
    rows = db.query(
        """SELECT s.device_id, s.reading_time, now() - s.reading_time > make_interval(mins => :m) AS silent
           FROM device_state s JOIN devices d USING (device_id)
           LEFT JOIN alerts a ON a.device_id = s.device_id AND a.alert_type = 'no_communication'
                              AND a.resolved_at IS NULL
           WHERE d.is_active AND s.reading_time IS NOT NULL
             AND ((now() - s.reading_time > make_interval(mins => :m)) <> (a.id IS NOT NULL))""", m=minutes)
    return [r for r in rows if r["silent"]], [r for r in rows if not r["silent"]]


# -- notification outbox ------------------------------------------------------------------------
def due_notifications(conn: Connection, limit: int = 50) -> list[dict]:
    return [dict(r) for r in conn.execute(text(
        """SELECT id, channel, idempotency_key, payload, attempts FROM notification_outbox
           WHERE status = 'pending' AND next_attempt_at <= now()
           ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED"""), {"limit": limit}).mappings()]


def mark_delivered(conn: Connection, outbox_id: int) -> None:
    conn.execute(text("""UPDATE notification_outbox SET status = 'delivered', delivered_at = now(),
                                attempts = attempts + 1, last_error = NULL WHERE id = :id"""), {"id": outbox_id})


def mark_failed(conn: Connection, outbox_id: int, error: str, retry_in_seconds: float | None) -> None:
    conn.execute(text(
        """UPDATE notification_outbox SET attempts = attempts + 1, last_error = :e,
                  status = CASE WHEN :retry IS NULL THEN 'failed' ELSE 'pending' END,
                  next_attempt_at = now() + make_interval(secs => coalesce(CAST(:retry AS double precision), 0))
           WHERE id = :id"""), {"id": outbox_id, "e": error[:500], "retry": retry_in_seconds})
