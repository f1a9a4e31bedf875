"""The thresholds section of the alerts page (admins): one form per rule, validated per field, and
the history of changes.

``pages/alerts.py`` renders ``create_rules_section()`` for admins only; every callback here checks
the role again on the server, because anyone signed in can post to Dash's callback endpoint.
There is one save callback per rule (ids are plain strings: the body check in security.py knows
no pattern-matching ids), and the history listens to each rule's "saved" store.
"""
from __future__ import annotations

import dash
from dash import Input, Output, State, callback, html, no_update

import inputs
from auth import current_scope
from components.alert_rules import ON, create_rules_history, create_rules_section as build_section, field_id, \
    form_fields, form_values, history_frame, saved_message
from components.export import table_file
from data import alert_config
from data.alert_config import LIMITS, RuleError
from data.db import get_db

ADMIN_ONLY = "Only administrators can change alert rules."
HISTORY_ROWS = 50
EXPORT_ROWS = 10_000
MAX_NUMBER_TEXT = 40


def _is_admin() -> bool:
    return current_scope().role == "admin"


def create_rules_section() -> html.Section:
    if not _is_admin():  # pages/alerts.py shows it to admins only; say nothing to anyone else
        return html.Section(id="alert-rules", hidden=True)
    return build_section(alert_config.rules(get_db()))


# -- reading the form ------------------------------------------------------------------------
def _flag(value) -> bool:
    return isinstance(value, list) and ON in value


def _number(value):
    """A number as typed; None for an empty box; anything else (a list, a 10 kB string) stays a short
    text that alert_config.validate answers with "must be a number"."""
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    if isinstance(value, str) and not value.strip():
        return None
    return inputs.text(value, MAX_NUMBER_TEXT) or "not a number"


def _changes(fields: tuple[str, ...], values: tuple) -> dict:
    form = dict(zip(fields, values))
    changes = {}
    for name in fields:
        if name in ("enabled", "notify"):
            changes[name] = _flag(form[name])
        elif name == "severity":
            # An unknown severity goes through as None: validate names the allowed ones next to the field.
            changes[name] = inputs.choice(form[name], alert_config.SEVERITIES)
        else:
            changes[name] = _number(form[name])
    return changes


# -- one save callback per rule --------------------------------------------------------------
def _register(alert_type: str) -> None:
    rule = {"alert_type": alert_type, "low": LIMITS[alert_type].low}
    fields = form_fields(rule)
    outputs = ([Output(field_id(alert_type, f"{f}-error"), "children") for f in fields]
               + [Output(field_id(alert_type, f), "value") for f in fields]
               + [Output(field_id(alert_type, "status"), "children"), Output(field_id(alert_type, "status"), "className"),
                  Output(field_id(alert_type, "saved"), "data")])
    states = [State(field_id(alert_type, f), "value") for f in fields]

    @callback(*outputs, Input(field_id(alert_type, "save"), "n_clicks"), *states, prevent_initial_call=True)
    def save_rule(n_clicks, *values):
        scope = current_scope()
        unchanged = [no_update] * (2 * len(fields))
        if scope.role != "admin":
            return *unchanged, ADMIN_ONLY, "rule-status error", no_update
        if not inputs.integer(n_clicks, 1):
            return *unchanged, no_update, no_update, no_update
        db = get_db()
        before = next((r for r in alert_config.rules(db) if r["alert_type"] == alert_type), None)
        try:
            after = alert_config.update(db, alert_type, _changes(fields, values), changed_by=scope.actor, scope=scope)
        except RuleError as exc:
            errors = [exc.errors.get(f, "") for f in fields]
            general = "; ".join(v for k, v in exc.errors.items() if k not in fields)
            message = "Not saved: " + (general or "correct the fields marked in red.")
            return *errors, *[no_update] * len(fields), message, "rule-status error", no_update
        shown = form_values(after)
        message = saved_message(alert_type, before or {}, after, LIMITS[alert_type].unit)
        return *[""] * len(fields), *[shown[f] for f in fields], message, "rule-status ok", str(after["updated_at"])

    save_rule.__name__ = f"save_rule_{alert_type}"


for _alert_type in LIMITS:
    _register(_alert_type)


# -- the history -----------------------------------------------------------------------------
@callback(Output("alert-rules-history", "children"),
          *[Input(field_id(t, "saved"), "data") for t in LIMITS])
def show_history(*_saved):
    if not _is_admin():
        return ADMIN_ONLY
    changes = alert_config.changes(get_db(), limit=HISTORY_ROWS)
    return create_rules_history(changes, {t: lim.unit for t, lim in LIMITS.items()})


@callback(Output("alert-rules-history-download", "data"), Input("alert-rules-history-export-csv", "n_clicks"),
          Input("alert-rules-history-export-xlsx", "n_clicks"), prevent_initial_call=True)
def export_history(_csv, _xlsx):
    kind = inputs.choice((dash.ctx.triggered_id or "").rsplit("-", 1)[-1], ("csv", "xlsx"))
    if not _is_admin() or kind is None:
        return no_update
    return table_file(history_frame(alert_config.changes(get_db(), limit=EXPORT_ROWS)), kind, "alert-rule-changes")
