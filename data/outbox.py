"""The notification outbox: held rows and flood control, claiming with a lease, recording results.

A row is claimed in one short transaction (status 'sending' with a lease), sent with no transaction
open, and its result recorded in another: no row lock is held during an HTTP or SMTP call, and a
sender that dies mid-send leaves a row whose lease expires and is sent again (with the same
idempotency key, which receivers use to drop the repeat).
"""
from __future__ import annotations

import json
from datetime import datetime

from data.db import Database, text

LEASE_SECONDS = 120
DIGEST_LIST = 50  # alerts named in a digest body; the count covers all of them


def new_evaluation(db: Database) -> int:
    return db.scalar("SELECT nextval('alert_evaluation_seq')")


def release(db: Database, evaluation_id: int | None, flood_limit: int, stale_before: datetime) -> dict:
    """End of an evaluation: its held notifications (and any left by an evaluation that died) go out.

    Per alert type, if more than ``flood_limit`` alerts opened, each target gets one digest instead
    of one message per battery. Rows of alerts that had already resolved before ``stale_before`` (a
    backfill of the past) are skipped: news of a condition long over is noise. Returns counts: {'released', 'digests', 'digested', 'skipped'}."""
    counts = {"released": 0, "digests": 0, "digested": 0, "skipped": 0}
    with db.transaction() as conn:
        held = conn.execute(text(
            """SELECT o.id, o.alert_id, o.channel, o.target, o.audience, o.dealer_id, o.evaluation_id,
                      a.alert_type, coalesce(a.resolved_at < :stale, false) AS resolved, o.payload
               FROM notification_outbox o LEFT JOIN alerts a ON a.id = o.alert_id
               WHERE o.status = 'held' AND (o.evaluation_id = :ev OR o.evaluation_id < :ev OR :ev IS NULL)
               ORDER BY o.id FOR UPDATE OF o"""), {"ev": evaluation_id, "stale": stale_before}).mappings().all()
        live = [r for r in held if not r["resolved"]]
        skipped = [r["id"] for r in held if r["resolved"]]
        if skipped:
            conn.execute(text("""UPDATE notification_outbox SET status = 'skipped',
                                        last_error = 'alert resolved over an hour before it was notified' WHERE id = ANY(:ids)"""),
                         {"ids": skipped})
        counts["skipped"] = len(skipped)
        by_type: dict[str, set[int]] = {}
        for r in live:
            by_type.setdefault(r["alert_type"], set()).add(r["alert_id"])
        flooded = {t for t, ids in by_type.items() if len(ids) > flood_limit}
        release_ids = [r["id"] for r in live if r["alert_type"] not in flooded]
        if release_ids:
            conn.execute(text("UPDATE notification_outbox SET status = 'pending', next_attempt_at = now() "
                              "WHERE id = ANY(:ids)"), {"ids": release_ids})
        counts["released"] = len(release_ids)
        for alert_type in sorted(flooded):
            rows = [r for r in live if r["alert_type"] == alert_type]
            groups: dict[tuple, list] = {}
            for r in rows:
                groups.setdefault((r["channel"], r["target"], r["audience"], r["dealer_id"]), []).append(r)
            for (channel, target, audience, dealer_id), members in groups.items():
                alerts = [_body(m["payload"]).get("alert", {}) for m in members]
                body = {"digest": {"alert_type": alert_type, "count": len(members),
                                   "total_opened_in_evaluation": len(by_type[alert_type]),
                                   "alerts": alerts[:DIGEST_LIST]}}
                first = min(m["alert_id"] for m in members)
                conn.execute(text(
                    """INSERT INTO notification_outbox (alert_id, channel, idempotency_key, payload, kind, target,
                                                        audience, dealer_id, evaluation_id, status)
                       VALUES (NULL, :c, :k, :p, 'digest', :t, :aud, :dealer, :ev, 'pending')
                       ON CONFLICT (idempotency_key) DO NOTHING"""),
                    {"c": channel, "k": f"digest-{alert_type}-{first}-{len(members)}-{audience}{dealer_id or ''}"
                                        f"-{channel}", "p": json.dumps(body, default=str), "t": target,
                     "aud": audience, "dealer": dealer_id, "ev": members[0]["evaluation_id"]})
                counts["digests"] += 1
            conn.execute(text("UPDATE notification_outbox SET status = 'digested' WHERE id = ANY(:ids)"),
                         {"ids": [r["id"] for r in rows]})
            counts["digested"] += len(rows)
    return counts


def _body(value) -> dict:
    return value if isinstance(value, dict) else json.loads(value)


def claim(db: Database) -> dict | None:
    """Take the next due notification (or one whose sender's lease ran out) in a short transaction."""
    with db.transaction() as conn:
        row = conn.execute(text(
            """UPDATE notification_outbox SET status = 'sending', claimed_until = now() + make_interval(secs => :lease)
               WHERE id = (SELECT id FROM notification_outbox
                           WHERE (status = 'pending' AND next_attempt_at <= now())
                              OR (status = 'sending' AND claimed_until < now())
                           ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
               RETURNING id, alert_id, channel, idempotency_key, payload, attempts, kind, target, audience,
                         dealer_id"""), {"lease": LEASE_SECONDS}).mappings().first()
    if row is None:
        return None
    row = dict(row)
    row["payload"] = _body(row["payload"])
    return row


def delivered(db: Database, outbox_id: int) -> None:
    db.execute("""UPDATE notification_outbox SET status = 'delivered', delivered_at = now(), claimed_until = NULL,
                         attempts = attempts + 1, last_error = NULL WHERE id = :id AND status = 'sending'""",
               id=outbox_id)


def failed(db: Database, outbox_id: int, error: str, retry_in_seconds: float | None) -> None:
    db.execute(
        """UPDATE notification_outbox SET attempts = attempts + 1, last_error = :e, claimed_until = NULL,
                  status = CASE WHEN CAST(:retry AS double precision) IS NULL THEN 'failed' ELSE 'pending' END,
                  next_attempt_at = now() + make_interval(secs => coalesce(CAST(:retry AS double precision), 0))
           WHERE id = :id AND status = 'sending'""", id=outbox_id, e=error[:500], retry=retry_in_seconds)


def dealer_secret(db: Database, dealer_id: int | None) -> str | None:
    if dealer_id is None:
        return None
    return db.scalar("SELECT webhook_secret FROM dealers WHERE id = :id", id=dealer_id)
