"""Fleet overview: the first page every user sees."""
from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html

from auth import current_scope
from components.kpi import create_kpi_card, format_count
from data import fleet
from data.db import get_db

dash.register_page(__name__, path="/", name="Overview", title="Fleet overview", nav_order=0)

REFRESH_MS = 30_000


def layout(**_query):
    return html.Div(className="overview", children=[
        html.H1("Fleet overview", className="page-title"),
        dcc.Interval(id="overview-refresh", interval=REFRESH_MS),
        dcc.Loading(html.Div(id="overview-kpis", className="kpi-row"), type="dot"),
    ])


@callback(Output("overview-kpis", "children"), Input("overview-refresh", "n_intervals"))
def update_kpis(_n):
    counts = fleet.overview_counts(get_db(), current_scope())
    alerts = (counts["critical_alerts"] or 0) + (counts["warning_alerts"] or 0)
    return [
        create_kpi_card("kpi-active", "Active batteries", format_count(counts["active_devices"]),
                        f"of {format_count(counts['devices'])} registered"),
        create_kpi_card("kpi-reporting", "Reporting (24 h)", format_count(counts["reporting_24h"]),
                        "devices with a reading in the last day"),
        create_kpi_card("kpi-dealers", "Dealers", format_count(counts["dealers"]), "with devices in view"),
        create_kpi_card("kpi-alerts", "Open alerts", format_count(alerts),
                        f"{counts['critical_alerts']} critical, {counts['warning_alerts']} warning",
                        tone="critical" if counts["critical_alerts"] else "neutral"),
    ]
