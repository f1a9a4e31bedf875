"""System (/system, admins): is ingest keeping up, is the vendor throttling us, is the outbox
draining, how big is the database, are TimescaleDB's jobs failing, which statements are slow.
Refreshes every minute."""
from __future__ import annotations

import dash
from dash import Input, Output, callback, ctx, dcc, html

import inputs
from auth import current_scope
from components.empty import create_not_found
from components.export import table_file
from components.system_page import (create_outbox_table, create_rollup_table, create_runs_table, create_sizes_table,
                                    create_statements_panel, create_system_kpis, create_system_layout,
                                    create_timescale_panel, lag_figure, runs_frame)
from data import system
from data.db import get_db

dash.register_page(__name__, path="/system", name="System", title="System", nav_order=7.5, roles=("admin",))

REFRESH_MS = 60_000


def _admin() -> bool:
    return current_scope().role == "admin"


def layout(**_query):
    if not _admin():
        return create_not_found()
    return html.Div(className="system-page", children=[
        html.Div(className="page-head", children=[html.H1("System", className="page-title")]),
        dcc.Interval(id="system-refresh", interval=REFRESH_MS),
        html.Div(id="system-body"),
    ])


@callback(Output("system-body", "children"), Input("system-refresh", "n_intervals"))
def update_system(_n):
    if not _admin():
        return None
    db = get_db()
    lag = system.lag_distribution(db)
    late = sum(b["devices"] for b in lag if b["bucket"] in ("15-60 min", "1-24 h", "over 24 h"))
    outbox = system.outbox(db)
    backlog = sum(r["messages"] for r in outbox if r["status"] in ("pending", "sending", "held"))
    return create_system_layout(
        create_system_kpis(system.ingest_totals(db), system.database_size(db), late, backlog),
        create_runs_table(system.ingest_runs(db)), lag_figure(lag), create_outbox_table(outbox),
        create_sizes_table(system.table_sizes(db)), create_rollup_table(system.rollup_lag(db)),
        create_timescale_panel(system.timescale(db)), create_statements_panel(system.slow_statements(db)))


@callback(Output("system-runs-download", "data"), Input("system-runs-export-csv", "n_clicks"),
          Input("system-runs-export-xlsx", "n_clicks"), prevent_initial_call=True)
def export_runs(_csv, _xlsx):
    kind = inputs.choice((ctx.triggered_id or "").rsplit("-", 1)[-1], ("csv", "xlsx"))
    if kind is None or not _admin():
        return dash.no_update
    return table_file(runs_frame(system.ingest_runs(get_db(), limit=1000)), kind, "ingest-cycles")
