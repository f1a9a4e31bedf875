"""The fleet map: every device as a coloured pin, clustered so tens of thousands stay smooth.

The server sends the pins column-wise (data.fleet.map_pins) into a Store; assets/fleet_map.js
turns them into GeoJSON in the browser, styles pins and clusters and builds the popups. That keeps
the payload and the server's work small at 22,000 devices.
"""
from __future__ import annotations

import dash_leaflet as dl
from dash import ClientsideFunction, Input, Output, clientside_callback, dcc, html

# India's centre: the view before any data arrives; the user's pan and zoom are never reset after.
INDIA = (23.5, 80.0)


def create_fleet_map(prefix: str, tile_url: str, attribution: str, center=INDIA, zoom: int = 5,
                     class_name: str = "fleet-map") -> html.Div:
    return html.Div(className=class_name, children=[
        dcc.Store(id=f"{prefix}-pins"),
        dl.Map(id=f"{prefix}-map", center=list(center), zoom=zoom, style={"height": "100%"},
               children=[
                   dl.TileLayer(url=tile_url, attribution=attribution, maxZoom=18),
                   dl.GeoJSON(id=f"{prefix}-points", data=None, cluster=True, zoomToBoundsOnClick=True,
                              superClusterOptions={"radius": 60, "maxZoom": 15},
                              pointToLayer={"variable": "fleetMap.pointToLayer"},
                              clusterToLayer={"variable": "fleetMap.clusterToLayer"},
                              onEachFeature={"variable": "fleetMap.bindPopup"}),
               ]),
        html.Div(id=f"{prefix}-map-note", className="map-note"),
        create_map_legend(),
    ])


def register_pin_conversion(prefix: str) -> None:
    """Browser-side: the Store's columns become the map layer's GeoJSON (no server round trip)."""
    clientside_callback(ClientsideFunction("fleetMap", "toGeojson"), Output(f"{prefix}-points", "data"),
                        Input(f"{prefix}-pins", "data"))


def create_map_legend() -> html.Div:
    items = (("g", "SOC > 50 %"), ("y", "SOC 20–50 % or warning"), ("r", "SOC < 20 % or critical"),
             ("o", "No data for 24 h"))
    return html.Div(className="map-legend", children=[
        html.Span(className="legend-item", children=[html.Span(className=f"legend-dot pin-{code}"), label])
        for code, label in items
    ])
