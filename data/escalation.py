"""Escalation: critical alerts nobody acknowledged in time, and the reminders that follow.

Timers run from ``created_at`` (when we opened the alert), not from the reading's time: an alert
opened from a backfill of yesterday's readings gets its full time to be acknowledged.
"""
from __future__ import annotations

from datetime import datetime

from data import alerts as store
from data.db import Database, text


def escalate_due(db: Database, now: datetime, after_minutes: int, targets) -> int:
    ids = [r["id"] for r in db.query(
        """SELECT id FROM alerts WHERE severity = 'critical' AND status = 'open' AND escalated_at IS NULL
             AND created_at <= CAST(:now AS timestamptz) - make_interval(mins => :m) ORDER BY id""",
        now=now, m=after_minutes)]
    done = 0
    for alert_id in ids:
        with db.transaction() as conn:
            hit = conn.execute(text(
                """UPDATE alerts SET escalated_at = :now WHERE id = :id AND status = 'open' AND escalated_at IS NULL
                   RETURNING id"""), {"now": now, "id": alert_id}).scalar()
            if hit is None:
                continue  # acknowledged or resolved meanwhile
            store.record_event(conn, alert_id, "escalated", {"after_minutes": after_minutes, "at": now.isoformat()})
            store.enqueue(conn, alert_id, "escalated", targets, None)
            done += 1
    return done


def remind_due(db: Database, now: datetime, every_minutes: int, targets) -> int:
    ids = [r["id"] for r in db.query(
        """SELECT id FROM alerts WHERE severity = 'critical' AND status = 'open' AND escalated_at IS NOT NULL
             AND coalesce(reminded_at, escalated_at) <= CAST(:now AS timestamptz) - make_interval(mins => :m)
           ORDER BY id""", now=now, m=every_minutes)]
    done = 0
    for alert_id in ids:
        with db.transaction() as conn:
            hit = conn.execute(text(
                """UPDATE alerts SET reminded_at = :now WHERE id = :id AND status = 'open' RETURNING id"""),
                {"now": now, "id": alert_id}).scalar()
            if hit is None:
                continue
            store.record_event(conn, alert_id, "reminded", {"every_minutes": every_minutes, "at": now.isoformat()})
            body = {"alert": store.payload(conn, alert_id), "at": now.isoformat()}
            store.enqueue(conn, alert_id, "reminder", targets, None, body=body)
            done += 1
    return done
