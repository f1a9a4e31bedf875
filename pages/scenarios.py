"""The scenario panel (demo mode, admins): inject the simulator's faults into chosen batteries and
watch them flow through alerts, notifications and escalation.

Only in demo mode, where the vendor URL is the simulator's mock API, and only for admins: the
layout and every callback check both on the server; anyone else gets the plain "not found" (a
page that exists but is not yours looks like one that does not). The nav shows it to admins in
demo mode only.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import dash
from dash import Input, Output, State, callback, no_update

import config
import inputs
from auth import current_scope
from components.empty import create_not_found
from components.export import table_file
from components.scenarios import WINDOWS, alerts_frame, batches, create_alerts, create_escalations, \
    create_expectations, create_notifications, create_scenario_form, create_scenario_page, create_summary, \
    create_truth, notifications_frame
from data import alert_config, scenario_views
from data.db import get_db
from data.scope import Scope
from ingest.readings import IST
from ingest.simulator import control
from ingest.simulator.control import FLOOD, FLOOD_SIZE, MAX_CHOSEN, MAX_FLOOD, MAX_MINUTES, PANEL_SCENARIOS, \
    SimulatorUnavailable

dash.register_page(__name__, path="/scenarios", name="Scenarios", title="Scenario panel", roles=("admin",),
                   **({"nav_order": 8} if config.get().demo_mode else {}))

REFRESH_MS = 10_000
MAX_ID_TEXT = 60
WINDOW_HOURS = {"6h": 6, "24h": 24}
SLACK = timedelta(minutes=1)


def allowed(scope: Scope) -> bool:
    return scope.role == "admin" and config.get().demo_mode


def layout(**_query):
    scope = current_scope()
    if not allowed(scope):
        return create_not_found()
    db = get_db()
    rules = {r["alert_type"]: r for r in alert_config.rules(db)}
    form = create_scenario_form(PANEL_SCENARIOS, scenario_views.batteries(db, scope), FLOOD_SIZE, MAX_CHOSEN)
    return create_scenario_page(form, create_expectations(PANEL_SCENARIOS, rules), REFRESH_MS)


# -- injecting --------------------------------------------------------------------------------
def _chosen(value) -> list[str]:
    if not isinstance(value, list):
        return []
    return [v for v in (inputs.text(item, MAX_ID_TEXT) for item in value[:MAX_CHOSEN + 1]) if v]


def _refused(message: str):
    return message, "rule-status error", no_update


def _targets(db, scope, kind: str, chosen, flood_size) -> tuple[list[dict], str | None]:
    """The batteries to inject into, checked against the database and the scope; or a message."""
    if kind == FLOOD:
        size = inputs.integer(flood_size, 1, MAX_FLOOD)
        if size is None:
            return [], f"Flood size must be a whole number from 1 to {MAX_FLOOD}."
        found = scenario_views.temperature_reporters(db, scope, size)
        return (found, None) if found else ([], "No battery reports a temperature yet: nothing to flood.")
    ids = _chosen(chosen)
    if len(ids) > MAX_CHOSEN:
        return [], f"Choose at most {MAX_CHOSEN} batteries (the flood takes {FLOOD_SIZE} at once)."
    found = scenario_views.vehicles_of(db, scope, ids)
    return (found, None) if found else ([], "Choose at least one battery.")


@callback(Output("scenario-status", "children"), Output("scenario-status", "className"),
          Output("scenario-injected", "data"), Input("scenario-inject", "n_clicks"), State("scenario-kind", "value"),
          State("scenario-batteries", "value"), State("scenario-flood-size", "value"),
          State("scenario-minutes", "value"), prevent_initial_call=True)
def inject(n_clicks, kind, chosen, flood_size, minutes):
    scope = current_scope()
    if not allowed(scope):
        return _refused("Not found.")
    if not inputs.integer(n_clicks, 1):
        return no_update, no_update, no_update
    kind = inputs.choice(kind, PANEL_SCENARIOS)
    if kind is None:
        return _refused("Choose a scenario.")
    scenario, db = PANEL_SCENARIOS[kind], get_db()
    rule = next((r for r in alert_config.rules(db) if r["alert_type"] == scenario.rule), {})
    duration = rule.get("duration_minutes", 0)
    if minutes in (None, ""):
        length = scenario.minutes(duration)
    else:
        length = inputs.integer(minutes, 1, MAX_MINUTES)
        if length is None:
            return _refused(f"Length must be a whole number of minutes from 1 to {MAX_MINUTES}.")
        if length < scenario.minimum_minutes(duration):
            return _refused(f"Too short: {scenario.rule} opens only after {duration} min of readings; "
                            f"use at least {scenario.minimum_minutes(duration)} min.")
    targets, problem = _targets(db, scope, kind, chosen, flood_size)
    if problem:
        return _refused(problem)
    try:
        injected = control.inject(config.get().intellicar_base_url, scenario.kind,
                                  [t["vehicle_number"] for t in targets], length)
    except SimulatorUnavailable as exc:
        return _refused(f"Not injected: {exc}.")
    start, end = injected[0]["start"], injected[0]["end"]
    message = (f"Injected {scenario.label.lower()} into {len(injected)} batter{'y' if len(injected) == 1 else 'ies'} "
               f"from {start.astimezone(IST):%H:%M} to {end.astimezone(IST):%H:%M} IST. Expect {scenario.rule} "
               f"({rule.get('severity', '?')}) after {duration} min of readings, on the worker's next cycle "
               f"(every {config.get().ingest_interval_seconds} s).")
    if rule and not rule["enabled"]:
        message += f" The {scenario.rule} rule is disabled: it will open nothing."
    if kind == FLOOD and len(injected) < (inputs.integer(flood_size, 1, MAX_FLOOD) or 0):
        message += f" Only {len(injected)} batteries report a temperature."
    return message, "rule-status ok", {"at": datetime.now(timezone.utc).isoformat(), "n": len(injected)}


# -- what happened next -----------------------------------------------------------------------
def _since(window: str, scenario_batches: list[dict], now: datetime) -> datetime:
    if window in WINDOW_HOURS:
        return now - timedelta(hours=WINDOW_HOURS[window])
    started = [b["start"] for b in scenario_batches if b["start"] <= now + SLACK]
    return max(started) - SLACK if started else now - timedelta(hours=WINDOW_HOURS["6h"])


def _truth() -> tuple[list[dict], str | None]:
    try:
        return batches(control.truth(config.get().intellicar_base_url)), None
    except SimulatorUnavailable as exc:
        return [], f"{exc}. Is this the demo (make run)?"


@callback(Output("scenario-summary", "children"), Output("scenario-truth", "children"),
          Output("scenario-alerts", "children"), Output("scenario-notifications", "children"),
          Output("scenario-escalations", "children"), Input("scenario-refresh", "n_intervals"),
          Input("scenario-injected", "data"), Input("scenario-window", "value"))
def show_results(_n, _injected, window):
    scope = current_scope()
    if not allowed(scope):
        return (no_update,) * 5
    window = inputs.choice(window, WINDOWS, "last")
    db, now = get_db(), datetime.now(timezone.utc)
    scenario_batches, error = _truth()
    since = _since(window, scenario_batches, now)
    alerts = scenario_views.alerts_since(db, scope, since)
    notifications = scenario_views.notifications_since(db, scope, since)
    escalations = scenario_views.escalations_since(db, scope, since)
    return (create_summary(scenario_batches, alerts, notifications, escalations, since, now),
            create_truth(scenario_batches, now, error), create_alerts(alerts), create_notifications(notifications),
            create_escalations(escalations))


def _export(frame_of, rows_of, name: str, window):
    scope = current_scope()
    kind = inputs.choice((dash.ctx.triggered_id or "").rsplit("-", 1)[-1], ("csv", "xlsx"))
    if not allowed(scope) or kind is None:
        return no_update
    now = datetime.now(timezone.utc)
    scenario_batches, _error = _truth()
    since = _since(inputs.choice(window, WINDOWS, "last"), scenario_batches, now)
    return table_file(frame_of(rows_of(get_db(), scope, since)), kind, f"{name}-{since.astimezone(IST):%Y%m%d-%H%M}")


@callback(Output("scenario-alerts-download", "data"), Input("scenario-alerts-export-csv", "n_clicks"),
          Input("scenario-alerts-export-xlsx", "n_clicks"), State("scenario-window", "value"),
          prevent_initial_call=True)
def export_alerts(_csv, _xlsx, window):
    return _export(alerts_frame, scenario_views.alerts_since, "scenario-alerts", window)


@callback(Output("scenario-notifications-download", "data"), Input("scenario-notifications-export-csv", "n_clicks"),
          Input("scenario-notifications-export-xlsx", "n_clicks"), State("scenario-window", "value"),
          prevent_initial_call=True)
def export_notifications(_csv, _xlsx, window):
    return _export(notifications_frame, scenario_views.notifications_since, "scenario-notifications", window)
