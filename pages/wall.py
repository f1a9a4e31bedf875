"""The control-room wall: no navigation, large type, KPIs always on top, panels that rotate.

Rotation is pure CSS (assets/app.css), so a wall left on all day costs the server nothing but
the 30 s refreshes. "Data as of" turns red when ingest falls behind.
"""
from __future__ import annotations

from datetime import datetime

import dash
from dash import ClientsideFunction, Input, Output, callback, clientside_callback, dcc, html

import config
from auth import current_scope
from components.alerts import create_alert_feed
from components.fleet_map import register_pin_conversion
from components.fleet_panels import create_fleet_charts, create_map_and_alerts
from components.kpi import create_fleet_kpis
from components.empty import create_empty_state
from data import fleet
from data.db import get_db
from ingest.readings import IST
from pages._fleet_views import data_as_of, fleet_figures, map_pins

dash.register_page(__name__, path="/wall", name="Wall", title="Fleet wall", nav_order=9)

REFRESH_MS = 30_000
register_pin_conversion("wall")
GRAPH_CONFIG = {"displaylogo": False, "staticPlot": True, "responsive": True}


def layout(**_query):
    settings = config.get()
    return html.Div(className="wall", children=[
        dcc.Interval(id="wall-refresh", interval=REFRESH_MS),
        html.Header(className="wall-head", children=[
            html.Div("⚡ Battery fleet", className="wall-title"),
            # Off on every load: browsers play sound only after a press on the page (assets/live.js).
            html.Button("Sound off", id="wall-sound", className="wall-sound", n_clicks=0,
                        title="Beep when a new critical alert arrives"),
            html.Div(id="wall-asof", className="wall-asof"),
        ]),
        html.Div(id="wall-kpis", className="kpi-row wall-kpis"),
        html.Div(className="wall-stage", children=[
            create_map_and_alerts("wall", settings.map_tile_url, settings.map_attribution,
                                  "wall-panel wall-panel-1", map_class="fleet-map wall-map"),
            create_fleet_charts("wall", "wall-panel wall-panel-2", GRAPH_CONFIG),
        ]),
    ])


# The sound switch runs in the browser: turning it on must happen inside the press to unlock audio.
clientside_callback(ClientsideFunction("live", "toggleSound"), Output("live-sound", "data"),
                    Output("wall-sound", "children"), Output("wall-sound", "className"),
                    Input("wall-sound", "n_clicks"), prevent_initial_call=True)


@callback(Output("wall-kpis", "children"), Output("wall-alerts", "children"), Output("wall-asof", "children"),
          Output("wall-asof", "className"), Input("wall-refresh", "n_intervals"))
def update_wall(_n):
    db, scope = get_db(), current_scope()
    k = fleet.kpis(db, scope)
    cards = create_fleet_kpis(k) if k["batteries"] else create_empty_state("No batteries registered yet")
    alerts = create_alert_feed(fleet.alert_feed(db, scope, limit=12), datetime.now(IST))
    text, late = data_as_of(db, scope)
    return cards, alerts, text, "wall-asof late" if late else "wall-asof"


@callback(Output("wall-pins", "data"), Output("wall-map-note", "children"), Input("wall-refresh", "n_intervals"))
def update_wall_map(_n):
    return map_pins(get_db(), current_scope())


@callback(Output("wall-soc", "figure"), Output("wall-cycles", "figure"), Output("wall-distance", "figure"),
          Input("wall-refresh", "n_intervals"))
def update_wall_charts(_n):
    return fleet_figures(get_db(), current_scope(), large=True)
