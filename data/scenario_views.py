"""What the scenario panel (demo mode, admins) reads: the batteries a scenario can go to, and what
happened after an injection: the alerts opened since, their notifications and escalations.

Scope is applied in SQL like everywhere else, although only admins (whole fleet) open the panel.
"""
from __future__ import annotations

from datetime import datetime

from data.db import Database
from data.scope import Scope

MAX_ROWS = 500


def batteries(db: Database, scope: Scope, limit: int = 5000) -> list[dict]:
    """Active batteries with a vehicle number (the simulator knows vehicles by number), for the picker.
    ``reports_temperature``: some packs never send a temperature, so a heat scenario shows nothing on them."""
    return db.query(
        f"""SELECT d.device_id, d.vehicle_number, dl.code AS dealer_code, d.city,
                   s.temperature IS NOT NULL AS reports_temperature
            FROM devices d LEFT JOIN dealers dl ON dl.id = d.dealer_id
            LEFT JOIN device_state s ON s.device_id = d.device_id
            WHERE d.is_active AND d.vehicle_number IS NOT NULL AND {scope.devices('d')}
            ORDER BY d.vehicle_number LIMIT :limit""", limit=limit, **scope.params())


def vehicles_of(db: Database, scope: Scope, device_ids: list[str]) -> list[dict]:
    """The chosen devices that exist, are active and in scope: what the browser sent, checked."""
    if not device_ids:
        return []
    return db.query(
        f"""SELECT d.device_id, d.vehicle_number FROM devices d
            WHERE d.device_id = ANY(:ids) AND d.is_active AND d.vehicle_number IS NOT NULL AND {scope.devices('d')}
            ORDER BY d.vehicle_number""", ids=list(device_ids), **scope.params())


def temperature_reporters(db: Database, scope: Scope, count: int) -> list[dict]:
    """``count`` batteries whose latest reading carries a temperature: the flood's targets, so each
    one really raises its alert. Spread over the dealers (ordered by a hash, not by dealer)."""
    return db.query(
        f"""SELECT d.device_id, d.vehicle_number FROM devices d JOIN device_state s ON s.device_id = d.device_id
            WHERE s.temperature IS NOT NULL AND d.is_active AND d.vehicle_number IS NOT NULL
              AND {scope.devices('d')}
            ORDER BY md5(d.device_id) LIMIT :count""", count=count, **scope.params())


def alerts_since(db: Database, scope: Scope, since: datetime, limit: int = MAX_ROWS) -> list[dict]:
    """Alerts first seen at or after ``since``, newest first, each with its notifications
    ("webhook opened delivered", ...) and escalation events."""
    where = "TRUE" if scope.whole_fleet else "d.dealer_id = :scope_dealer_id"
    return db.query(
        f"""SELECT a.id, a.first_seen_at, a.last_seen_at, a.severity, a.alert_type, a.device_id, d.vehicle_number,
                   dl.code AS dealer_code, a.status, a.occurrence_count, a.reading_value, a.threshold_value,
                   a.escalated_at,
                   (SELECT string_agg(n.channel || ' ' || n.kind || ' ' || n.status, ', ' ORDER BY n.id)
                      FROM notification_outbox n WHERE n.alert_id = a.id) AS notifications,
                   (SELECT count(*) FROM alert_events e
                      WHERE e.alert_id = a.id AND e.event IN ('escalated', 'reminded')) AS escalations
            FROM alerts a LEFT JOIN devices d ON d.device_id = a.device_id
            LEFT JOIN dealers dl ON dl.id = d.dealer_id
            WHERE a.first_seen_at >= :since AND {where}
            ORDER BY a.first_seen_at DESC, a.id DESC LIMIT :limit""",
        since=since, limit=limit, **scope.params())


def notifications_since(db: Database, scope: Scope, since: datetime, limit: int = MAX_ROWS) -> list[dict]:
    """Outbox rows about alerts first seen since ``since``, and digests (no alert: flood control)
    queued since then. The target (a webhook URL, addresses) is left out: it may hold a secret."""
    where = "TRUE" if scope.whole_fleet else "(d.dealer_id = :scope_dealer_id OR n.dealer_id = :scope_dealer_id)"
    return db.query(
        f"""SELECT n.id, n.created_at, n.alert_id, a.alert_type, d.vehicle_number, n.channel, n.kind, n.audience,
                   n.status, n.attempts, n.delivered_at, n.last_error
            FROM notification_outbox n LEFT JOIN alerts a ON a.id = n.alert_id
            LEFT JOIN devices d ON d.device_id = a.device_id
            WHERE ((n.alert_id IS NOT NULL AND a.first_seen_at >= :since)
                   OR (n.alert_id IS NULL AND n.created_at >= :since))
              AND {where}
            ORDER BY n.created_at DESC, n.id DESC LIMIT :limit""",
        since=since, limit=limit, **scope.params())


def escalations_since(db: Database, scope: Scope, since: datetime, limit: int = MAX_ROWS) -> list[dict]:
    """Escalation and reminder events of alerts first seen since ``since``, newest first."""
    where = "TRUE" if scope.whole_fleet else "d.dealer_id = :scope_dealer_id"
    return db.query(
        f"""SELECT e.at, e.event, e.alert_id, a.alert_type, d.vehicle_number
            FROM alert_events e JOIN alerts a ON a.id = e.alert_id LEFT JOIN devices d ON d.device_id = a.device_id
            WHERE e.event IN ('escalated', 'reminded') AND a.first_seen_at >= :since AND {where}
            ORDER BY e.at DESC, e.id DESC LIMIT :limit""",
        since=since, limit=limit, **scope.params())
