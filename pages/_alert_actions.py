"""The one server callback behind every alert's Acknowledge / Assign / Resolve buttons (the alerts
page's detail and the battery page's panel), and the browser bridge that feeds it.

The buttons carry per-alert ids (components/alert_actions.py); assets/alerts.js turns a click into
one request ``{"alert", "action", "comment", "user"}`` in a plain store. Whatever that request says,
the data layer re-checks the alert against the user's scope and role (``data.alert_actions``): a
refused action changes nothing and says so, and an alert out of scope reads "Alert not found", the
same as an unknown one.
"""
from __future__ import annotations

import time

from dash import ClientsideFunction, Input, Output, State, ALL, callback, clientside_callback, no_update

import inputs
from auth import current_scope
from components.alert_actions import DONE, MESSAGE, REQUEST
from data import alert_actions, alert_views
from data.alert_actions import ActionRefused, AlertNotFound, InvalidAction
from data.db import Database, get_db
from data.scope import Scope

NOT_FOUND = "Alert not found."

clientside_callback(
    ClientsideFunction("alerts", "request"), Output(REQUEST, "data"),
    Input({"type": "alert-act", "alert": ALL, "action": ALL}, "n_clicks"),
    State({"type": "alert-comment", "alert": ALL}, "value"),
    State({"type": "alert-assignee", "alert": ALL}, "value"),
    prevent_initial_call=True)


def actionable(db: Database, scope: Scope, alerts: list[dict]) -> tuple[dict[int, tuple], dict[int, list]]:
    """What the user may do to each alert, and who each assignable one may go to (one query per dealer)."""
    allowed = {a["id"]: alert_actions.allowed_actions(scope, a) for a in alerts}
    users, by_dealer = {}, {}
    for a in alerts:
        if "assign" in allowed[a["id"]]:
            key = a.get("dealer_id")
            if key not in by_dealer:
                by_dealer[key] = alert_views.assignable_users(db, a)
            users[a["id"]] = by_dealer[key]
    return allowed, users


def perform(db: Database, scope: Scope, request: dict) -> alert_actions.ActionResult:
    action = request["action"]
    if action == "acknowledge":
        return alert_actions.acknowledge(db, scope, request["alert"], request["comment"])
    if action == "resolve":
        return alert_actions.resolve(db, scope, request["alert"], request["comment"])
    return alert_actions.assign(db, scope, request["alert"], request["user"], request["comment"])


@callback(Output(MESSAGE, "children"), Output(MESSAGE, "className"), Output(DONE, "data"),
          Input(REQUEST, "data"), prevent_initial_call=True)
def act(request):
    scope = current_scope()
    cleaned = inputs.alert_action(request, alert_actions.ACTIONS)
    if cleaned is None:
        return no_update, no_update, no_update
    label = f"Alert #{cleaned['alert']}: "
    try:
        result = perform(get_db(), scope, cleaned)
    except AlertNotFound:
        return NOT_FOUND, "action-message error", no_update
    except ActionRefused:
        return f"{label}your role may not {cleaned['action']} this alert; nothing changed.", "action-message error", \
            no_update
    except InvalidAction as exc:
        return f"{label}not done: {exc}.", "action-message error", no_update
    # The time makes each "done" new, so a second click on the same button refreshes the page again.
    return (label + result.message, "action-message ok",
            {"alert": result.alert_id, "action": cleaned["action"], "changed": result.changed, "at": time.time()})
