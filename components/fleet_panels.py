"""Panels the overview and the wall share: the map beside the alert feed, and the three fleet charts."""
from __future__ import annotations

from dash import dcc, html

from components.fleet_map import create_fleet_map


def create_map_and_alerts(prefix: str, tile_url: str, attribution: str, class_name: str,
                          map_class: str = "fleet-map") -> html.Div:
    return html.Div(className=class_name, children=[
        create_fleet_map(prefix, tile_url, attribution, class_name=map_class),
        html.Section(className="panel alert-panel", children=[
            html.H2("Open alerts", className="panel-title"),
            html.Div(id=f"{prefix}-alerts", className="alert-scroll"),
        ]),
    ])


def create_fleet_charts(prefix: str, class_name: str, graph_config: dict) -> html.Div:
    """Ids ``{prefix}-soc``, ``{prefix}-cycles``, ``{prefix}-distance``, filled by one callback."""
    return html.Div(className=class_name, children=[
        dcc.Graph(id=f"{prefix}-{name}", config=graph_config, className="chart")
        for name in ("soc", "cycles", "distance")
    ])
