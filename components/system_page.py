"""The system page (/system, admins): ingest health, device lag, outbox, storage, TimescaleDB jobs,
slow statements and rollup lag. Pure layout from the figures pages/system.py reads."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from components import theme
from components.export import create_export_buttons
from components.health_page import create_data_table
from components.formats import duration, ist
from components.kpi import create_kpi_card
from ingest.readings import IST

PG_STAT_HINT = ("pg_stat_statements is not enabled. To see the slowest statements: add "
                "shared_preload_libraries = 'pg_stat_statements' to postgresql.conf (TimescaleDB's image: "
                "'timescaledb,pg_stat_statements'), restart PostgreSQL, then run CREATE EXTENSION pg_stat_statements; "
                "in the app's database.")


def _ist(t) -> str:
    return ist(t, "%d %b %H:%M:%S")


def _n(v, digits: int = 0) -> str:
    return "—" if v is None or pd.isna(v) else f"{float(v):,.{digits}f}"


def _bytes(n) -> str:
    if n is None:
        return "—"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return ""


def _panel(title: str, body, hint: str | None = None, export: str | None = None) -> html.Div:
    return html.Div(className="panel", children=[
        html.Div(className="panel-head", children=[html.H2(title, className="panel-title"),
                                                     create_export_buttons(export) if export else None]),
        html.P(hint, className="panel-hint") if hint else None,
        html.Div(body, className="table-scroll"),
    ])


def create_system_kpis(totals: dict, db_bytes: int, late_devices: int, backlog: int) -> html.Div:
    return html.Div(className="kpi-row", children=[
        create_kpi_card("system-cycles", "Ingest cycles (24 h)", _n(totals["cycles"]),
                        f"last {_ist(totals['last_cycle'])} IST" if totals["cycles"] else "none: is the worker running?",
                        "neutral" if totals["cycles"] else "critical"),
        create_kpi_card("system-rows", "Rows stored (24 h)", _n(totals["rows_stored"]),
                        f"{_n(totals['rows_rejected'])} rejected"),
        create_kpi_card("system-vendor", "Vendor calls (24 h)", _n(totals["vendor_calls"]),
                        f"{_n(totals['vendor_retries'])} retries, {_n(totals['vendor_throttled'])} throttled (429)"),
        create_kpi_card("system-late", "Devices over 15 min late", _n(late_devices), "active devices",
                        "warning" if late_devices else "neutral"),
        create_kpi_card("system-backlog", "Notifications waiting", _n(backlog), "held, pending or sending"),
        create_kpi_card("system-size", "Database size", _bytes(db_bytes), "tables, indexes and chunks"),
    ])


def create_runs_table(runs: list[dict]) -> html.Div:
    rows = [[_ist(r["started_at"]), duration(r["seconds"]), _n(r["devices_polled"]), _n(r["rows_stored"]),
             _n(r["rows_rejected"]), _n(r["errors"]), duration(r["max_lag_seconds"]), _n(r["vendor_calls"]),
             _n(r["vendor_retries"]), _n(r["vendor_throttled"]), _n(r["vendor_reauths"]), r["note"] or ""]
            for r in runs]
    if not rows:
        return html.P("No ingest cycle recorded yet: is the worker running?", className="panel-hint")
    return create_data_table("system-runs-table", ["Started (IST)", "Took", "Devices", "Stored", "Rejected", "Errors",
                                                   "Max lag", "Calls", "Retries", "429s", "Re-logins", "Note"],
                             rows, len(rows))


def runs_frame(runs: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{
        "Started (IST)": pd.Timestamp(r["started_at"]).tz_convert(IST).tz_localize(None), "Seconds": r["seconds"],
        "Devices": r["devices_polled"], "Stored": r["rows_stored"], "Rejected": r["rows_rejected"],
        "Errors": r["errors"], "Max lag (s)": r["max_lag_seconds"], "Vendor calls": r["vendor_calls"],
        "Retries": r["vendor_retries"], "429s": r["vendor_throttled"], "Re-logins": r["vendor_reauths"],
        "Note": r["note"]} for r in runs],
        columns=["Started (IST)", "Seconds", "Devices", "Stored", "Rejected", "Errors", "Max lag (s)", "Vendor calls",
                 "Retries", "429s", "Re-logins", "Note"])


def lag_figure(buckets: list[dict]) -> go.Figure:
    colours = [theme.OK, theme.OK, theme.WARNING, theme.WARNING, theme.CRITICAL, theme.OFFLINE][:len(buckets)]
    fig = go.Figure(go.Bar(x=[b["bucket"] for b in buckets], y=[b["devices"] for b in buckets],
                           marker_color=colours, text=[b["devices"] for b in buckets], textposition="outside",
                           hovertemplate="%{x}: %{y} devices<extra></extra>", cliponaxis=False))
    fig.update_layout(template=theme.template(), height=260, margin={"l": 50, "r": 10, "t": 30, "b": 40},
                      title={"text": "Active devices by the age of their newest reading", "font": {"size": 14}},
                      yaxis={"title": "devices", "rangemode": "tozero", "tickformat": ",d"}, showlegend=False)
    return fig


def create_outbox_table(rows: list[dict]) -> html.Div:
    if not rows:
        return html.P("The outbox is empty.", className="panel-hint")
    return create_data_table("system-outbox-table", ["Status", "Messages", "Oldest (IST)"],
                             [[r["status"], _n(r["messages"]), _ist(r["oldest"])] for r in rows], len(rows))


def create_sizes_table(rows: list[dict]) -> html.Div:
    return create_data_table("system-sizes-table", ["Table", "Size with indexes", "Rows (estimate)"],
                             [[r["name"], _bytes(r["bytes"]),
                               # -1: never vacuumed or analysed, so PostgreSQL has no estimate yet
                               _n(r["approx_rows"]) if (r["approx_rows"] or 0) >= 0 else "not estimated yet"]
                              for r in rows],
                             len(rows))


def create_rollup_table(rows: list[dict]) -> html.Div:
    return create_data_table("system-rollups-table", ["Rollup", "Newest bucket (IST)", "Newest reading (IST)",
                                                      "Behind"],
                             [[r["rollup"], _ist(r["newest_bucket"]), _ist(r["newest_reading"]),
                               duration(r["behind_seconds"])] for r in rows], len(rows))


def create_timescale_panel(info: dict | None) -> html.Div:
    if info is None:
        return _panel("TimescaleDB", html.P("This database runs on plain PostgreSQL (the demo and CI): no hypertables, "
                                            "compression or background jobs to watch.", className="panel-hint"))
    if info.get("unreadable"):
        return _panel("TimescaleDB", html.P(f"TimescaleDB's catalogue could not be read: {info['unreadable']}",
                                            className="form-error"))
    failing = [j for j in info["jobs"] if j["last_run_status"] == "Failed"]
    return _panel("TimescaleDB", [
        html.P(f"{len(failing)} background job(s) failing." if failing else "Every background job ran fine.",
               className="form-error" if failing else "form-ok"),
        create_data_table("system-hypertables-table", ["Hypertable", "Chunks", "Compressed", "Compression"],
                          [[h["name"], _n(h["chunks"]), _n(h["compressed_chunks"]), "on" if h["compression"] else "off"]
                           for h in info["hypertables"]], len(info["hypertables"])),
        create_data_table("system-jobs-table", ["Job", "Policy", "Hypertable", "Last run", "Started (IST)",
                                                "Failures", "Runs", "Next (IST)"],
                          [[j["job_id"], j["proc_name"], j["hypertable"], j["last_run_status"] or "never",
                            _ist(j["last_run_started_at"]), _n(j["total_failures"]), _n(j["total_runs"]),
                            _ist(j["next_start"])] for j in info["jobs"]], len(info["jobs"])),
        create_data_table("system-job-errors-table", ["Job", "Policy", "When (IST)", "Error"],
                          [[e["job_id"], e["proc_name"], _ist(e["start_time"]), e["err_message"]]
                           for e in info["errors"]], len(info["errors"])) if info["errors"] else None,
    ], "Chunks and compression per hypertable; a failing compression or refresh policy is otherwise silent.")


def create_statements_panel(rows: list[dict] | None) -> html.Div:
    if rows is None:
        return _panel("Slowest statements", html.P(PG_STAT_HINT, className="panel-hint"))
    return _panel("Slowest statements", create_data_table(
        "system-statements-table", ["Statement", "Calls", "Mean (ms)", "Total (ms)"],
        [[r["query"], _n(r["calls"]), _n(r["mean_ms"], 1), _n(r["total_ms"])] for r in rows], len(rows)),
        "By total time, from pg_stat_statements.")


def create_system_layout(kpis, runs, lag, outbox, sizes, rollups, ts_panel, statements) -> list:
    return [
        kpis,
        _panel("Ingest cycles", runs, "The newest cycles of the worker: what each stored, refused and cost at the "
                                      "vendor.", export="system-runs"),
        html.Div(className="panel", children=[
            dcc.Graph(id="system-lag", figure=lag, config={"displayModeBar": False, "responsive": True})]),
        html.Div(className="system-pair", children=[
            _panel("Notification outbox", outbox), _panel("Rollups", rollups, "How far each rollup trails the newest "
                                                                             "reading.")]),
        _panel("Storage", sizes, "The largest tables with their indexes."),
        ts_panel,
        statements,
    ]
