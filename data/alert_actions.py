"""What people do to alerts: acknowledge, assign, resolve. Who may do what is decided here, on the
server, for the page and the API alike:

| role     | acknowledge                 | assign | resolve |
|----------|-----------------------------|--------|---------|
| admin    | every alert                 | yes    | yes     |
| engineer | every alert                 | yes    | yes     |
| manager  | every alert                 | no     | no      |
| dealer   | its own dealer's alerts     | no     | no      |
| viewer   | no                          | no     | no      |

Every action is an ``alert_events`` row with the user (or API key), the time and the comment, in
the same transaction as the change. A second acknowledge (or resolve) changes nothing and says so.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from data import alert_views, audit
from data.db import Database, text
from data.scope import Scope

MAX_COMMENT = 1000
ACTIONS = ("acknowledge", "assign", "resolve")
_ALLOWED = {"admin": set(ACTIONS), "engineer": set(ACTIONS), "manager": {"acknowledge"},
            "dealer": {"acknowledge"}, "viewer": set()}


class AlertNotFound(LookupError):
    """Unknown, or outside the user's scope: callers answer both the same way (404)."""


class ActionRefused(PermissionError):
    """The user's role may not do this to this alert (403)."""


class InvalidAction(ValueError):
    """The request is wrong (a comment too long, an unknown user): the message says how (400)."""


@dataclass(frozen=True)
class ActionResult:
    alert_id: int
    changed: bool
    status: str
    message: str


def may(scope: Scope, action: str, alert: dict | None) -> bool:
    """Whether ``scope`` may do ``action`` to ``alert`` (a row from ``alert_views.find`` in that scope)."""
    if alert is None or action not in _ALLOWED.get(scope.role, set()):
        return False
    if scope.role == "dealer":
        return alert.get("dealer_id") is not None and alert["dealer_id"] == scope.dealer_id
    return True


def allowed_actions(scope: Scope, alert: dict | None) -> tuple[str, ...]:
    return tuple(a for a in ACTIONS if may(scope, a, alert))


def clean_comment(comment) -> str | None:
    """An optional comment: None or stripped text of at most 1,000 characters, else InvalidAction."""
    if comment is None:
        return None
    if not isinstance(comment, str):
        raise InvalidAction("comment must be text")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidAction(f"comment is {len(comment)} characters; at most {MAX_COMMENT} are allowed")
    if "\x00" in comment:
        raise InvalidAction("comment contains a NUL character")
    return comment or None


def _checked(db: Database, scope: Scope, alert_id, action: str) -> dict:
    alert = alert_views.find(db, scope, alert_id)
    if alert is None:
        raise AlertNotFound("alert not found")
    if not may(scope, action, alert):
        raise ActionRefused(f"a {scope.role} may not {action} this alert")
    return alert


def _event(conn, alert_id: int, event: str, scope: Scope, comment: str | None, details: dict | None = None) -> None:
    conn.execute(text(
        """INSERT INTO alert_events (alert_id, event, user_id, api_key_id, actor, comment, details)
           VALUES (:id, :event, :user, :key, :actor, :comment, :details)"""),
        {"id": alert_id, "event": event, "user": scope.user_id, "key": scope.api_key_id, "actor": scope.actor,
         "comment": comment, "details": json.dumps(details or {})})
    audit.record(conn, scope, f"alert.{event}", "alert", str(alert_id), None, details or None, note=comment)


def acknowledge(db: Database, scope: Scope, alert_id, comment=None) -> ActionResult:
    comment = clean_comment(comment)
    alert = _checked(db, scope, alert_id, "acknowledge")
    with db.transaction() as conn:
        changed = conn.execute(text(
            """UPDATE alerts SET status = 'acknowledged', acknowledged_at = now(), acknowledged_by = :user
               WHERE id = :id AND status = 'open' RETURNING id"""),
            {"id": alert["id"], "user": scope.user_id}).scalar() is not None
        if changed:
            _event(conn, alert["id"], "acknowledged", scope, comment)
    status = "acknowledged" if changed else alert["status"]
    return ActionResult(alert["id"], changed, status,
                        "Acknowledged." if changed else f"Already {alert['status']}; nothing changed.")


def acknowledge_many(db: Database, scope: Scope, alert_ids, comment=None) -> list[ActionResult]:
    """Acknowledge each alert the user may; the others are reported, never silently skipped."""
    comment = clean_comment(comment)
    results = []
    for alert_id in alert_ids:
        try:
            results.append(acknowledge(db, scope, alert_id, comment))
        except (AlertNotFound, ActionRefused) as exc:
            results.append(ActionResult(alert_id if isinstance(alert_id, int) else 0, False, "", str(exc)))
    return results


def assign(db: Database, scope: Scope, alert_id, user, comment=None) -> ActionResult:
    """Make ``user`` (a username or user id, from ``alert_views.assignable_users``) the alert's owner."""
    comment = clean_comment(comment)
    alert = _checked(db, scope, alert_id, "assign")
    candidates = alert_views.assignable_users(db, alert)
    owner = next((u for u in candidates if user in (u["username"], u["id"]) and not isinstance(user, bool)), None)
    if owner is None:
        raise InvalidAction("unknown user, or one who cannot own this alert")
    if alert["owner_id"] == owner["id"]:
        return ActionResult(alert["id"], False, alert["status"], f"Already assigned to {owner['username']}.")
    with db.transaction() as conn:
        conn.execute(text("UPDATE alerts SET owner_id = :owner WHERE id = :id"), {"owner": owner["id"], "id": alert["id"]})
        _event(conn, alert["id"], "assigned", scope, comment,
               {"owner": owner["username"], "previous_owner": alert["owner"]})
    return ActionResult(alert["id"], True, alert["status"], f"Assigned to {owner['username']}.")


def resolve(db: Database, scope: Scope, alert_id, comment=None) -> ActionResult:
    """Resolve by hand. If the condition is still present, the next evaluation opens a new alert
    linked to this one (``reopened_from``): resolving hides nothing that is still true."""
    comment = clean_comment(comment)
    alert = _checked(db, scope, alert_id, "resolve")
    with db.transaction() as conn:
        changed = conn.execute(text(
            """UPDATE alerts SET status = 'resolved', resolved_at = now(), resolved_by = :user
               WHERE id = :id AND resolved_at IS NULL RETURNING id"""),
            {"id": alert["id"], "user": scope.user_id}).scalar() is not None
        if changed:
            _event(conn, alert["id"], "resolved", scope, comment, {"by_hand": True})
    return ActionResult(alert["id"], changed, "resolved",
                        "Resolved." if changed else "Already resolved; nothing changed.")
