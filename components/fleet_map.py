"""The fleet map: every device as a coloured pin, clustered so tens of thousands stay smooth.

The server sends the pins column-wise (data.fleet.map_pins) into a Store; assets/fleet_map.js
turns them into GeoJSON in the browser, styles pins and clusters, builds the popups and fits the
view to the pins. That keeps the payload and the server's work small at 22,000 devices.

Every map also carries the offline basemap (assets/geo/india.geojson: India's outline, states
and cities) in a pane below the tiles: loaded tiles cover it, and where tiles fail, or there are
none, it is what the control room sees.
"""
from __future__ import annotations

import dash
import dash_leaflet as dl
from dash import ClientsideFunction, Input, Output, State, clientside_callback, dcc, html

# India's centre: the view before any pins arrive.
INDIA = (23.5, 80.0)

BASEMAP_ASSET = "geo/india.geojson"
# Leaflet's tile pane sits at z-index 200: below it, opaque tiles hide the basemap once they load.
BASEMAP_PANE = "fleet-basemap"
BASEMAP_Z_INDEX = 150


def create_base_layers(tile_url: str, attribution: str) -> list:
    """The basemap pane, then the tiles when there is a tile URL (settings.map_tile_url is empty
    for MAP_TILE_URL=none)."""
    layers = [dl.Pane(name=BASEMAP_PANE, style={"zIndex": BASEMAP_Z_INDEX}, children=[
        # Fetched by URL, so the browser caches it instead of every page shipping it.
        dl.GeoJSON(url=dash.get_asset_url(BASEMAP_ASSET), pane=BASEMAP_PANE, interactive=False,
                   style={"variable": "fleetMap.basemapStyle"},
                   pointToLayer={"variable": "fleetMap.basemapPoint"}),
    ])]
    if tile_url:
        layers.append(dl.TileLayer(url=tile_url, attribution=attribution, maxZoom=18))
    return layers


def create_fleet_map(prefix: str, tile_url: str, attribution: str, center=INDIA, zoom: int = 5,
                     class_name: str = "fleet-map") -> html.Div:
    return html.Div(className=class_name, children=[
        dcc.Store(id=f"{prefix}-pins"),
        # Which pins the view was last fitted to, and at which refresh: see register_pin_conversion.
        dcc.Store(id=f"{prefix}-map-fit"),
        dl.Map(id=f"{prefix}-map", center=list(center), zoom=zoom, style={"height": "100%"}, children=[
            *create_base_layers(tile_url, attribution),
            dl.GeoJSON(id=f"{prefix}-points", data=None, cluster=True, zoomToBoundsOnClick=True,
                       superClusterOptions={"radius": 60, "maxZoom": 15},
                       pointToLayer={"variable": "fleetMap.pointToLayer"},
                       clusterToLayer={"variable": "fleetMap.clusterToLayer"},
                       onEachFeature={"variable": "fleetMap.bindPopup"}),
        ]),
        html.Div(id=f"{prefix}-map-note", className="map-note"),
        create_map_legend(),
    ])


def register_pin_conversion(prefix: str, refresh_id: str | None = None) -> None:
    """Browser-side: the Store's columns become the map layer's GeoJSON (no server round trip),
    and the view is fitted to the pins when they first arrive and when a filter changes which
    devices they are. The page's refresh Interval (``{prefix}-refresh`` unless named) tells a
    filter from a refresh: a refresh that brings other devices never moves the user's view."""
    clientside_callback(ClientsideFunction("fleetMap", "toGeojson"), Output(f"{prefix}-points", "data"),
                        Input(f"{prefix}-pins", "data"))
    clientside_callback(ClientsideFunction("fleetMap", "fitView"),
                        Output(f"{prefix}-map", "viewport"), Output(f"{prefix}-map-fit", "data"),
                        Input(f"{prefix}-pins", "data"), State(refresh_id or f"{prefix}-refresh", "n_intervals"),
                        State(f"{prefix}-map-fit", "data"))


def create_map_legend() -> html.Div:
    items = (("g", "SOC > 50 %"), ("y", "SOC 20–50 % or warning"), ("r", "SOC < 20 % or critical"),
             ("o", "No data for 24 h"))
    return html.Div(className="map-legend", children=[
        html.Span(className="legend-item", children=[html.Span(className=f"legend-dot pin-{code}"), label])
        for code, label in items
    ])
