"""Fleet overview: KPIs, the fleet map, the alert feed and the fleet charts, refreshed every 30 s.

Each callback reads the user's scope on the server and the filters from the page; the refresh
only replaces data, so the map keeps its zoom and the filters keep their values.
"""
from __future__ import annotations

from datetime import datetime

import dash
from dash import Input, Output, callback, dcc, html

import config
from auth import current_scope
from components.alerts import create_alert_feed
from components.empty import create_empty_state
from components.filters import create_filter_bar
from components.fleet_map import register_pin_conversion
from components.fleet_panels import create_fleet_charts, create_map_and_alerts
from components.kpi import create_fleet_kpis
from data import fleet
from data.db import get_db
from ingest.readings import IST
from pages._fleet_views import data_as_of, fleet_figures, map_pins

dash.register_page(__name__, path="/", name="Overview", title="Fleet overview", nav_order=0)

REFRESH_MS = 30_000
register_pin_conversion("overview")
FILTERS = [Input("overview-dealer", "value"), Input("overview-city", "value"), Input("overview-status", "value")]
GRAPH_CONFIG = {"displaylogo": False, "responsive": True}


def layout(**_query):
    scope = current_scope()
    settings = config.get()
    options = fleet.filter_options(get_db(), scope)
    return html.Div(className="overview", children=[
        html.Div(className="page-head", children=[
            html.Div(className="page-title-block", children=[
                html.H1("Fleet overview", className="page-title"),
                html.Div(id="overview-asof", className="overview-asof")]),
            create_filter_bar("overview", options, show_dealer=scope.whole_fleet),
        ]),
        dcc.Interval(id="overview-refresh", interval=REFRESH_MS),
        html.Div(id="overview-kpis", className="kpi-row"),
        create_map_and_alerts("overview", settings.map_tile_url, settings.map_attribution, "overview-middle"),
        create_fleet_charts("overview", "chart-row", GRAPH_CONFIG),
    ])


def _filter(dealer, city, status) -> fleet.FleetFilter:
    return fleet.FleetFilter.from_inputs(dealer, city, status)


@callback(Output("overview-kpis", "children"), Input("overview-refresh", "n_intervals"), *FILTERS)
def update_kpis(_n, dealer, city, status):
    k = fleet.kpis(get_db(), current_scope(), _filter(dealer, city, status))
    if not k["batteries"]:
        return create_empty_state("No batteries match", html.Span([
            "Clear the filters, or register devices on the ", dcc.Link("devices page", href="/devices"), "."]))
    return create_fleet_kpis(k)


@callback(Output("overview-asof", "children"), Output("overview-asof", "className"),
          Input("overview-refresh", "n_intervals"))
def update_asof(_n):
    text, late = data_as_of(get_db(), current_scope())
    return text, "overview-asof late" if late else "overview-asof"


@callback(Output("overview-pins", "data"), Output("overview-map-note", "children"),
          Input("overview-refresh", "n_intervals"), *FILTERS)
def update_map(_n, dealer, city, status):
    return map_pins(get_db(), current_scope(), _filter(dealer, city, status))


@callback(Output("overview-alerts", "children"), Input("overview-refresh", "n_intervals"), *FILTERS)
def update_alerts(_n, dealer, city, status):
    alerts = fleet.alert_feed(get_db(), current_scope(), _filter(dealer, city, status))
    return create_alert_feed(alerts, datetime.now(IST))


@callback(Output("overview-soc", "figure"), Output("overview-cycles", "figure"), Output("overview-distance", "figure"),
          Input("overview-refresh", "n_intervals"), *FILTERS)
def update_charts(_n, dealer, city, status):
    return fleet_figures(get_db(), current_scope(), _filter(dealer, city, status))
