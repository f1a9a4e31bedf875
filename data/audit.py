"""The audit log: every change made in the app, with who, when, what and from which address.

Writers call ``record`` inside the transaction that makes the change (pass its connection), so a
change and its audit line are stored together or not at all. Older histories that predate the log
(alert events, threshold and warranty-term changes) keep their own tables; ``entries`` reads the log.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from data.db import Database, like_escaped, text
from data.scope import Scope

KINDS = ("user", "device", "threshold", "warranty", "alert", "site", "equipment")
MAX_ROWS = 5000

_INSERT = text("""INSERT INTO audit_log (actor, user_id, remote_addr, action, target_kind, target, before, after, note)
                  VALUES (:actor, :user_id, :addr, :action, :kind, :target, CAST(:before AS jsonb),
                          CAST(:after AS jsonb), :note)""")


def _json(value) -> str | None:
    return None if value is None else json.dumps(value, default=str, sort_keys=True)


def record(conn, scope: Scope, action: str, kind: str, target: str, before: dict | None = None,
           after: dict | None = None, note: str | None = None) -> None:
    """One audit line, on ``conn`` (an open transaction of ``Database.transaction()``)."""
    conn.execute(_INSERT, {"actor": scope.actor or scope.role, "user_id": scope.user_id, "addr": scope.address,
                           "action": action, "kind": kind, "target": str(target), "before": _json(before),
                           "after": _json(after), "note": note})


def changed(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the fields that changed, old and new, for an audit line that says what happened."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


@dataclass(frozen=True)
class AuditFilter:
    kind: str | None = None
    actor: str | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def entries(db: Database, filt: AuditFilter = AuditFilter(), limit: int = MAX_ROWS) -> list[dict]:
    """Newest first. Admins only: the caller checks the role."""
    def like(v):
        return None if v is None else f"%{like_escaped(v)}%"
    return db.query(
        """SELECT id, at, actor, remote_addr, action, target_kind, target, before, after, note FROM audit_log
           WHERE (CAST(:kind AS text) IS NULL OR target_kind = :kind)
             AND (CAST(:actor AS text) IS NULL OR actor ILIKE :actor)
             AND (CAST(:target AS text) IS NULL OR target ILIKE :target)
             AND (CAST(:since AS timestamptz) IS NULL OR at >= :since)
             AND (CAST(:until AS timestamptz) IS NULL OR at < :until)
           ORDER BY at DESC, id DESC LIMIT :limit""",
        kind=filt.kind, actor=like(filt.actor), target=like(filt.target), since=filt.since, until=filt.until,
        limit=limit)


def history(db: Database, kind: str, target: str, limit: int = 200) -> list[dict]:
    """One thing's changes, newest first (a device's mapping history, a user's)."""
    return db.query("""SELECT at, actor, remote_addr, action, before, after, note FROM audit_log
                       WHERE target_kind = :kind AND target = :target ORDER BY at DESC, id DESC LIMIT :limit""",
                    kind=kind, target=str(target), limit=limit)
