"""The control-room wall: no navigation, large type, KPIs always on top, panels that rotate.

Rotation is pure CSS (assets/app.css), so a wall left on all day costs the server nothing but
the 30 s refreshes. "Data as of" turns red when ingest falls behind.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import dash
from dash import Input, Output, callback, dcc, html

import config
from auth import current_scope
from components import charts
from components.alerts import create_alert_feed
from components.fleet_map import create_fleet_map, register_pin_conversion
from components.kpi import create_fleet_kpis
from components.empty import create_empty_state
from data import fleet
from data.db import get_db
from ingest.readings import IST

dash.register_page(__name__, path="/wall", name="Wall", title="Fleet wall", nav_order=9)

REFRESH_MS = 30_000
register_pin_conversion("wall")
GRAPH_CONFIG = {"displaylogo": False, "staticPlot": True, "responsive": True}
MIN_LATE = timedelta(minutes=10)


def layout(**_query):
    settings = config.get()
    return html.Div(className="wall", children=[
        dcc.Interval(id="wall-refresh", interval=REFRESH_MS),
        html.Header(className="wall-head", children=[
            html.Div("⚡ Battery fleet", className="wall-title"),
            html.Div(id="wall-asof", className="wall-asof"),
        ]),
        html.Div(id="wall-kpis", className="kpi-row wall-kpis"),
        html.Div(className="wall-stage", children=[
            html.Div(className="wall-panel wall-panel-1", children=[
                create_fleet_map("wall", settings.map_tile_url, settings.map_attribution, class_name="fleet-map wall-map"),
                html.Section(className="panel alert-panel", children=[
                    html.H2("Open alerts", className="panel-title"),
                    html.Div(id="wall-alerts", className="alert-scroll"),
                ]),
            ]),
            html.Div(className="wall-panel wall-panel-2", children=[
                dcc.Graph(id="wall-soc", config=GRAPH_CONFIG, className="chart"),
                dcc.Graph(id="wall-cycles", config=GRAPH_CONFIG, className="chart"),
                dcc.Graph(id="wall-distance", config=GRAPH_CONFIG, className="chart"),
            ]),
        ]),
    ])


def late_after() -> timedelta:
    return max(MIN_LATE, timedelta(seconds=3 * config.get().ingest_interval_seconds))


@callback(Output("wall-kpis", "children"), Output("wall-alerts", "children"), Output("wall-asof", "children"),
          Output("wall-asof", "className"), Input("wall-refresh", "n_intervals"))
def update_wall(_n):
    db, scope = get_db(), current_scope()
    k = fleet.kpis(db, scope)
    cards = create_fleet_kpis(k) if k["batteries"] else create_empty_state("No batteries registered yet")
    alerts = create_alert_feed(fleet.alert_feed(db, scope, limit=12), datetime.now(IST), link=False)
    asof = fleet.data_as_of(db, scope)
    newest = asof["newest_reading"]
    if newest is None:
        return cards, alerts, "No data received yet", "wall-asof late"
    late = asof["now"] - newest > late_after()
    text = f"Data as of {newest.astimezone(IST):%d %b %H:%M} IST" + (" — ingest is late" if late else "")
    return cards, alerts, text, "wall-asof late" if late else "wall-asof"


@callback(Output("wall-pins", "data"), Output("wall-map-note", "children"), Input("wall-refresh", "n_intervals"))
def update_wall_map(_n):
    pins = fleet.map_pins(get_db(), current_scope())
    return pins, "" if pins["id"] else "No battery has reported a position yet."


@callback(Output("wall-soc", "figure"), Output("wall-cycles", "figure"), Output("wall-distance", "figure"),
          Input("wall-refresh", "n_intervals"))
def update_wall_charts(_n):
    db, scope = get_db(), current_scope()
    return (charts.soc_distribution(fleet.soc_distribution(db, scope)),
            charts.cycle_distribution(fleet.cycle_distribution(db, scope)),
            charts.distance_calendar(fleet.daily_distance(db, scope), datetime.now(IST).date()))
