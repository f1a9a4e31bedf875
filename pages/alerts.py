"""Alerts: the day's work of engineers and dealers. Counts, filters, a server-paged table, one
alert's detail with its buttons, CSV/XLSX export, and (admins) the thresholds.

Every callback reads the scope on the server and applies it in SQL (data.alert_views): a filter
or an id sent by the browser can narrow what a user sees, never widen it. ``/alerts?id=N`` opens
alert N; another dealer's alert and an unknown one both read "Alert not found".
"""
from __future__ import annotations

import time

import dash
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html, no_update

import inputs
from auth import current_scope
from components.alert_actions import DONE, create_action_bar, create_action_parts
from components.alert_detail import create_alert_detail, metric_figure, no_actions_note, not_found, nothing_selected
from components.alerts_page import create_alert_filters, create_alert_grid, create_summary, export_frame, grid_rows
from components.export import create_export_buttons, table_file
from data import alert_actions, alert_views, fleet
from data.alert_views import ALERT_TYPES, METRIC, SORTS
from data.db import get_db
from pages._alert_actions import actionable
from pages._alert_rules import create_rules_section

dash.register_page(__name__, path="/alerts", name="Alerts", title="Alerts", nav_order=1)

BULK_DONE = "alerts-bulk-done"
FILTER_IDS = [("alerts-severity", "value"), ("alerts-type", "value"), ("alerts-status", "value"),
              ("alerts-dealer", "value"), ("alerts-city", "value"), ("alerts-dates", "start_date"),
              ("alerts-dates", "end_date"), ("alerts-vehicle", "value")]
FILTER_INPUTS = [Input(i, p) for i, p in FILTER_IDS]
FILTER_STATES = [State(i, p) for i, p in FILTER_IDS]
DEFAULT_SORT = "last_seen_at"


def _may_acknowledge() -> bool:
    """Whether the user may acknowledge any alert at all (a dealer: its own dealer's)."""
    scope = current_scope()
    return "acknowledge" in alert_actions.allowed_actions(scope, {"dealer_id": scope.dealer_id})


def layout(id=None, **_query):  # noqa: A002  (the query string's name: /alerts?id=12)
    scope = current_scope()
    db = get_db()
    options = fleet.filter_options(db, scope)
    may_acknowledge = _may_acknowledge()
    bulk = html.Div(className="bulk-bar", children=[
        dcc.Input(id="alerts-bulk-comment", type="text", maxLength=alert_actions.MAX_COMMENT, debounce=False,
                  placeholder="Comment for the selected alerts (optional)", className="bulk-comment"),
        html.Button("Acknowledge selected", id="alerts-ack-selected", n_clicks=0, className="action-button"),
        html.Span(id="alerts-bulk-message", className="action-message", role="status"),
    ]) if may_acknowledge else None
    return html.Div(className="alerts-page", children=[
        html.Div(className="page-head alerts-head", children=[
            html.H1("Alerts", className="page-title"),
        ]),
        # Feed silence is fleet-wide: no dealer ever sees one, so its filter choice would always be empty.
        create_alert_filters(options["dealers"], options["cities"], scope.whole_fleet,
                             tuple(t for t in ALERT_TYPES if scope.whole_fleet or t != "feed_silence")),
        html.Div(id="alerts-summary"),
        # A malformed id reads "Alert not found" like an unknown one (0 is no alert's id).
        dcc.Store(id="alerts-open", data=inputs.alert_id(id) or (0 if id is not None else None)),
        dcc.Store(id="alerts-revealed"),
        dcc.Store(id=BULK_DONE),
        dcc.Store(id="alerts-grid-refreshed"),
        html.Section(className="panel alerts-table-panel", children=[
            html.Div(className="panel-head", children=[
                html.H2("Alerts", className="panel-title"),
                html.Span("Click a row to open the alert; sort by any column.", className="panel-hint"),
                create_export_buttons("alerts"),
            ]),
            bulk,
            html.Div(create_alert_grid(selectable=may_acknowledge), className="alerts-grid-box"),
        ]),
        html.Section(className="panel alerts-detail-panel", id="alerts-detail-panel", children=[
            create_action_parts(),
            html.Div(id="alerts-detail"),
        ]),
        create_rules_section() if scope.role == "admin" else None,
    ])


def _filter(severity, types, status, dealer, city, since, until, vehicle) -> alert_views.AlertFilter:
    return inputs.alert_filter(severity, types, status, dealer, city, since, until, vehicle,
                               whole_fleet=current_scope().whole_fleet)


@callback(Output("alerts-summary", "children"), *FILTER_INPUTS, Input(DONE, "data"), Input(BULK_DONE, "data"))
def update_summary(*values):
    counts = alert_views.summary(get_db(), current_scope(), _filter(*values[:len(FILTER_IDS)]))
    return create_summary(counts)


@callback(Output("alerts-grid", "getRowsResponse"), Input("alerts-grid", "getRowsRequest"), *FILTER_STATES)
def grid_block(request, *values):
    """One block of rows for the grid: only the requested rows are read, in the requested order."""
    scope = current_scope()
    offset, limit, sort, descending = inputs.grid_block(request, SORTS, DEFAULT_SORT)
    filt = _filter(*values)
    db = get_db()
    rows = alert_views.list_alerts(db, scope, filt, offset=offset, limit=limit, sort=sort, descending=descending)
    return {"rowData": grid_rows(rows), "rowCount": alert_views.count_alerts(db, scope, filt)}


clientside_callback(ClientsideFunction("alerts", "refreshGrid"), Output("alerts-grid-refreshed", "data"),
                    *FILTER_INPUTS, Input(DONE, "data"), Input(BULK_DONE, "data"), prevent_initial_call=True)


@callback(Output("alerts-detail", "children"), Output("alerts-open", "data"),
          Input("alerts-grid", "cellClicked"), Input(DONE, "data"), Input(BULK_DONE, "data"),
          State("alerts-open", "data"))
def show_detail(clicked, _done, _bulk, opened):
    scope = current_scope()
    if dash.ctx.triggered_id == "alerts-grid":
        clicked = clicked if isinstance(clicked, dict) else {}
        alert_id = inputs.alert_id(clicked.get("rowId"))
        if alert_id is None or str(clicked.get("colId")).startswith("ag-Grid-"):  # a tick in the selection box
            return no_update, no_update
    else:
        alert_id = inputs.alert_id(opened)
        if alert_id is None:
            return (not_found() if opened is not None else nothing_selected()), None
    db = get_db()
    alert = alert_views.find(db, scope, alert_id)
    if alert is None:
        return not_found(), None
    allowed, users = actionable(db, scope, [alert])
    field = METRIC.get(alert["alert_type"])
    detail = create_alert_detail(
        alert, alert_views.events(db, scope, alert_id),
        metric_figure(alert_views.metric_window(db, scope, alert), alert, field), field,
        create_action_bar(alert, allowed[alert_id], users.get(alert_id)), no_actions_note(alert, allowed[alert_id]))
    return detail, alert_id


clientside_callback(ClientsideFunction("alerts", "reveal"), Output("alerts-revealed", "data"),
                    Input("alerts-grid", "cellClicked"), prevent_initial_call=True)


@callback(Output("alerts-bulk-message", "children"), Output(BULK_DONE, "data"), Output("alerts-grid", "deselectAll"),
          Input("alerts-ack-selected", "n_clicks"), State("alerts-grid", "selectedRows"),
          State("alerts-bulk-comment", "value"), prevent_initial_call=True)
def acknowledge_selected(n_clicks, selected, comment):
    scope = current_scope()
    if not inputs.integer(n_clicks, 1):
        return no_update, no_update, no_update
    ids = inputs.alert_ids(selected)
    if not ids:
        return "Select alerts with the boxes in the first column first.", no_update, no_update
    try:
        results = alert_actions.acknowledge_many(get_db(), scope, ids, inputs.comment_text(comment))
    except alert_actions.InvalidAction as exc:
        return f"Not done: {exc}.", no_update, no_update
    done = sum(r.changed for r in results)
    refused = sum(1 for r in results if not r.changed and not r.status)
    already = len(results) - done - refused
    parts = [f"{done} acknowledged"] + ([f"{already} already acknowledged or resolved"] if already else []) \
        + ([f"{refused} not yours to acknowledge or not found"] if refused else [])
    return "; ".join(parts) + ".", {"n": done, "at": time.time()}, True


@callback(Output("alerts-download", "data"), Input("alerts-export-csv", "n_clicks"),
          Input("alerts-export-xlsx", "n_clicks"), *FILTER_STATES, State("alerts-grid", "getRowsRequest"),
          prevent_initial_call=True)
def export_table(_csv, _xlsx, *values):
    """All matching alerts (up to 100,000) in the table's order, not only the rows on screen."""
    scope = current_scope()
    kind = inputs.choice((dash.ctx.triggered_id or "").rsplit("-", 1)[-1], ("csv", "xlsx"))
    if kind is None:
        return no_update
    _offset, _limit, sort, descending = inputs.grid_block(values[-1], SORTS, DEFAULT_SORT)
    rows = alert_views.export_alerts(get_db(), scope, _filter(*values[:-1]), sort=sort, descending=descending)
    return table_file(export_frame(rows), kind, "alerts")
