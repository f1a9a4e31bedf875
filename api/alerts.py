"""``/api/v1/alerts``: the alert list, one alert with its history, the actions on it, and the rules.

Every route starts from ``current_scope()`` (a session user or an API key), reads alerts only through
``data.alert_views`` in that scope and acts only through ``data.alert_actions``, which decide who may
do what, exactly as for the page. An unknown alert and one outside the scope get the same 404.
"""
from __future__ import annotations

from flask import Blueprint, jsonify

from api.wire import NOT_FOUND, ApiError, alert_id, int_param, json_body, list_param, plain, text_param
from auth import current_scope
from data import alert_actions, alert_config, alert_views
from data.alert_actions import ActionRefused, AlertNotFound, InvalidAction
from data.db import get_db

bp = Blueprint("alerts", __name__)

MAX_LIMIT, DEFAULT_LIMIT = 500, 100
CONFIG_CHANGES_SHOWN = 50
# Field names the API speaks; ``type`` is the name the webhook body uses for the alert type too.
ALERT_FIELDS = {"id": "id", "type": "alert_type", "severity": "severity", "status": "status",
                "device_id": "device_id", "vehicle_number": "vehicle_number", "battery_serial": "battery_serial",
                "dealer_code": "dealer_code", "dealer": "dealer", "city": "city", "message": "message",
                "reading_value": "reading_value", "threshold_value": "threshold_value",
                "first_seen_at": "first_seen_at", "last_seen_at": "last_seen_at",
                "occurrence_count": "occurrence_count", "owner": "owner", "acknowledged_at": "acknowledged_at",
                "resolved_at": "resolved_at", "escalated_at": "escalated_at", "reopened_from": "reopened_from"}
BATTERY_FIELDS = {"model": "battery_model", "nominal_voltage": "nominal_voltage", "customer": "customer_name",
                  "soc": "soc", "soh": "soh", "voltage": "voltage", "temperature": "temperature",
                  "reading_time": "reading_time"}
# A number no rule field can hold; past it float() overflows, so it is refused before validation.
LARGEST_NUMBER = 1e15


def alert_json(row: dict) -> dict:
    return {name: plain(row.get(column)) for name, column in ALERT_FIELDS.items()}


def _detail_json(db, scope, row: dict) -> dict:
    return dict(alert_json(row),
                battery={name: plain(row.get(column)) for name, column in BATTERY_FIELDS.items()},
                rule={"description": row.get("rule_description"),
                      "clear_threshold": plain(row.get("rule_clear_threshold"))},
                allowed_actions=list(alert_actions.allowed_actions(scope, row)),
                events=[{"id": e["id"], "at": plain(e["at"]), "event": e["event"], "actor": e["actor"],
                         "comment": e["comment"], "details": plain(e["details"] or {})}
                        for e in alert_views.events(db, scope, row["id"])])


def _require_admin(scope, what: str) -> None:
    if scope.role != "admin":
        raise ApiError(403, f"only an admin may {what}")


@bp.get("/alerts")
def list_alerts():
    scope = current_scope()
    filt = alert_views.AlertFilter(
        statuses=list_param("status", alert_views.STATUSES),
        severities=list_param("severity", alert_views.SEVERITIES),
        types=list_param("type", alert_views.ALERT_TYPES),
        device_id=text_param("device_id", 50))
    limit = int_param("limit", 1, MAX_LIMIT, DEFAULT_LIMIT)
    cursor = int_param("cursor", 1, 2**63 - 1, None)
    rows = alert_views.list_after(get_db(), scope, filt, cursor, limit + 1)  # one more: is there a next page?
    page = rows[:limit]
    next_cursor = page[-1]["id"] if len(rows) > limit else None
    return jsonify(alerts=[alert_json(r) for r in page], next_cursor=next_cursor)


@bp.get("/alerts/<raw_id>")
def get_alert(raw_id: str):
    scope, db = current_scope(), get_db()
    row = alert_views.find(db, scope, alert_id(raw_id))
    if row is None:
        raise ApiError(404, NOT_FOUND)
    return jsonify(_detail_json(db, scope, row))


def _comment(body: dict):
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise ApiError(400, "comment must be text")
    return comment


def _action_answer(db, scope, result: alert_actions.ActionResult):
    row = alert_views.find(db, scope, result.alert_id)
    return jsonify(alert_id=result.alert_id, changed=result.changed, status=result.status, message=result.message,
                   alert=alert_json(row) if row else None)


@bp.post("/alerts/<raw_id>/acknowledge")
def acknowledge(raw_id: str):
    scope, db, target = current_scope(), get_db(), alert_id(raw_id)
    comment = _comment(json_body(("comment",)))
    return _action_answer(db, scope, alert_actions.acknowledge(db, scope, target, comment))


@bp.post("/alerts/<raw_id>/resolve")
def resolve(raw_id: str):
    scope, db, target = current_scope(), get_db(), alert_id(raw_id)
    comment = _comment(json_body(("comment",)))
    return _action_answer(db, scope, alert_actions.resolve(db, scope, target, comment))


@bp.post("/alerts/<raw_id>/assign")
def assign(raw_id: str):
    scope, db, target = current_scope(), get_db(), alert_id(raw_id)
    body = json_body(("user", "comment"))
    user = body.get("user")
    # A username, or a user id; True would equal id 1 and 1.0 too, so only str and int are accepted.
    if isinstance(user, bool) or not isinstance(user, (str, int)) or user == "":
        raise ApiError(400, "user is required: a username or a user id")
    comment = _comment(body)
    return _action_answer(db, scope, alert_actions.assign(db, scope, target, user, comment))


@bp.get("/alerts/config")
def get_config():
    scope = current_scope()
    _require_admin(scope, "read the alert rules")
    db = get_db()
    return jsonify(rules=plain(alert_config.rules(db)),
                   changes=plain(alert_config.changes(db, limit=CONFIG_CHANGES_SHOWN)))


def _rule_errors(db, body: dict) -> dict[str, dict[str, str]]:
    """Every rule change checked against the rules as they are now; ``{}`` when all are valid."""
    current = {r["alert_type"]: r for r in alert_config.rules(db)}
    errors: dict[str, dict[str, str]] = {}
    for alert_type, changes in body.items():
        if alert_type not in current:
            errors[alert_type[:64]] = {"alert_type": "unknown alert type"}
            continue
        if not isinstance(changes, dict):
            errors[alert_type] = {"fields": "must be an object of field: value"}
            continue
        too_big = {f: "is out of range" for f, v in changes.items()
                   if isinstance(v, int) and not isinstance(v, bool) and abs(v) > LARGEST_NUMBER}
        try:
            alert_config.validate(alert_type, current[alert_type],
                                  {f: v for f, v in changes.items() if f not in too_big})
        except alert_config.RuleError as exc:
            too_big.update(exc.errors)
        if too_big:
            errors[alert_type] = too_big
    return errors


@bp.put("/alerts/config")
def put_config():
    """Change several rules at once: all are validated first, and one bad field changes nothing."""
    scope = current_scope()
    _require_admin(scope, "change the alert rules")
    db = get_db()
    body = json_body()
    errors = _rule_errors(db, body)
    if errors:
        raise ApiError(400, "nothing was changed: correct the fields named in errors", errors=errors)
    changed = []
    for alert_type, changes in body.items():
        before = next(r for r in alert_config.rules(db) if r["alert_type"] == alert_type)
        try:
            after = alert_config.update(db, alert_type, changes, changed_by=scope.actor, scope=scope)
        except alert_config.RuleError as exc:  # another admin changed the rule in between
            raise ApiError(409, "a rule changed while this request was applied; read the rules again",
                           errors={alert_type: exc.errors}, applied=changed) from None
        if after.get("updated_at") != before.get("updated_at"):
            changed.append(alert_type)
    return jsonify(changed=changed, rules=plain(alert_config.rules(db)))


@bp.errorhandler(AlertNotFound)
def _not_found(exc):
    return jsonify(error=NOT_FOUND), 404


@bp.errorhandler(ActionRefused)
def _refused(exc):
    return jsonify(error=str(exc)), 403


@bp.errorhandler(InvalidAction)
def _invalid(exc):
    return jsonify(error=str(exc)), 400
