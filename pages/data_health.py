"""Data health (/data-health): which devices send data we cannot fully trust, and why, worst first;
a device's rejected readings with the payload as received (``/data-health?device=ID``). Within the
user's scope in SQL (data.data_health)."""
from __future__ import annotations

import dash
from dash import Input, Output, State, callback, ctx, html

import inputs
from auth import current_scope
from components.data_health_page import (PROBLEMS, create_data_health_layout, create_devices_table, create_filters,
                                         create_reasons_table, create_rejects_panel, create_totals, devices_frame)
from components.empty import create_not_found
from components.export import table_file
from data import data_health, device_admin
from data.db import get_db

ROLES = ("admin", "engineer", "manager", "dealer")
dash.register_page(__name__, path="/data-health", name="Data health", title="Data health", nav_order=5.5,
                   roles=ROLES)

FILTERS = [Input("data-health-dealer", "value"), Input("data-health-problem", "value")]
EXPORT_LIMIT = 50_000


def layout(device=None, **_query):
    scope = current_scope()
    if scope.role not in ROLES:
        return create_not_found()
    db = get_db()
    device_id = inputs.text(device, 50)
    rejects = None
    if device_id:
        known = device_admin.one(db, scope, device_id) is not None
        rejects = create_rejects_panel(device_id, data_health.rejected(db, scope, device_id) if known else None)
    return html.Div(className="data-health-page", children=[
        html.Div(className="page-head", children=[html.H1("Data health", className="page-title")]),
        *create_data_health_layout(create_filters(device_admin.dealer_options(db, scope), scope.whole_fleet), rejects),
    ])


def _filter(dealer, problem) -> data_health.DataHealthFilter:
    scope = current_scope()
    return data_health.DataHealthFilter(dealer_code=inputs.text(dealer, 32) if scope.whole_fleet else None,
                                        problem=inputs.choice(problem, PROBLEMS))


@callback(Output("data-health-totals", "children"), Output("data-health-devices", "children"),
          Output("data-health-reasons-box", "children"), *FILTERS)
def update_page(dealer, problem):
    scope = current_scope()
    if scope.role not in ROLES:
        return None, None, None
    db, filt = get_db(), _filter(dealer, problem)
    totals = data_health.totals(db, scope, filt)
    rows = data_health.devices(db, scope, filt)
    shown = totals["devices"] if filt.problem is None else len(rows)
    return (create_totals(totals, data_health.DAYS), create_devices_table(rows, max(shown, len(rows))),
            create_reasons_table(totals["by_reason"]))


@callback(Output("data-health-download", "data"), Input("data-health-export-csv", "n_clicks"),
          Input("data-health-export-xlsx", "n_clicks"), State("data-health-dealer", "value"),
          State("data-health-problem", "value"), prevent_initial_call=True)
def export_devices(_csv, _xlsx, dealer, problem):
    scope = current_scope()
    kind = inputs.choice((ctx.triggered_id or "").rsplit("-", 1)[-1], ("csv", "xlsx"))
    if kind is None or scope.role not in ROLES:
        return dash.no_update
    rows = data_health.devices(get_db(), scope, _filter(dealer, problem), limit=EXPORT_LIMIT)
    return table_file(devices_frame(rows), kind, "data-health")
