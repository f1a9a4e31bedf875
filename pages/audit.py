"""Audit log (/audit, admins): every change made in the app, filterable, exported as CSV or XLSX."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import dash
from dash import Input, Output, State, callback, ctx, html

import inputs
from auth import current_scope
from components.audit_page import KIND_WORDS, audit_frame, create_audit_layout, create_audit_table
from components.empty import create_not_found
from components.export import table_file
from data import audit
from data.db import get_db
from ingest.readings import IST

dash.register_page(__name__, path="/audit", name="Audit", title="Audit log", nav_order=7, roles=("admin",))

FILTERS = [Input("audit-kind", "value"), Input("audit-actor", "value"), Input("audit-target", "value"),
           Input("audit-dates", "start_date"), Input("audit-dates", "end_date")]


def _admin() -> bool:
    return current_scope().role == "admin"


def layout(**_query):
    if not _admin():
        return create_not_found()
    return html.Div(className="audit-page", children=[
        html.Div(className="page-head", children=[html.H1("Audit log", className="page-title")]),
        *create_audit_layout(),
    ])


def _filter(kind, actor, target, since, until) -> audit.AuditFilter:
    start, end = inputs.iso_date(since), inputs.iso_date(until)
    if start and end and start > end:
        start, end = end, start
    return audit.AuditFilter(
        kind=inputs.choice(kind, KIND_WORDS), actor=inputs.text(actor, 64), target=inputs.text(target, 100),
        since=datetime.combine(start, time(), IST) if start else None,
        until=datetime.combine(end + timedelta(days=1), time(), IST) if end else None)


@callback(Output("audit-table", "children"), *FILTERS)
def update_table(*values):
    if not _admin():
        return None
    return create_audit_table(audit.entries(get_db(), _filter(*values)))


@callback(Output("audit-download", "data"), Input("audit-export-csv", "n_clicks"),
          Input("audit-export-xlsx", "n_clicks"), *[State(f.component_id, f.component_property) for f in FILTERS],
          prevent_initial_call=True)
def export_table(_csv, _xlsx, *values):
    kind = inputs.choice((ctx.triggered_id or "").rsplit("-", 1)[-1], ("csv", "xlsx"))
    if kind is None or not _admin():
        return dash.no_update
    return table_file(audit_frame(audit.entries(get_db(), _filter(*values))), kind, "audit-log")
