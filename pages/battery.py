"""One battery: header, gauges, telemetry over a chosen range, sessions, GPS trail, trips, alerts.

The device id comes from the URL and travels in a Store, so every callback gets it from the
browser: each one re-checks it against the user's scope in SQL (data.battery) before reading.
A device that is unknown or not the user's gets the same plain "not found".
"""
from __future__ import annotations

from datetime import datetime, timezone

import dash
import pandas as pd
import dash_leaflet as dl
from dash import Input, Output, State, callback, dcc, html

import config
import inputs
from auth import current_scope
from components import charts, theme
from components import alert_actions as alert_action_parts
from components.alert_actions import create_actionable_alert_list
from components.battery import create_battery_header, create_trip_table, trip_frame
from components.export import create_export_buttons, table_file
from components.empty import create_empty_state
from components.fleet_map import INDIA, create_base_layers
from components.soh_history import create_health_facts, soh_history_figure
from components.charge_sessions import charge_frame, create_charge_table
from data import alert_views, battery, health_views, search
from data.db import get_db
from ingest.readings import IST
from pages._alert_actions import actionable

dash.register_page(__name__, path_template="/battery/<device_id>", name="Battery", title="Battery")

REFRESH_MS = 10_000
TRIP_EXPORT_LIMIT = 3660  # ten years of daily trips: the whole history, in one file
GRAPH_CONFIG = {"displaylogo": False, "responsive": True}
DEVICE = State("battery-device", "data")


def not_found() -> html.Div:
    # Deliberately the same for "does not exist" and "not yours", and it does not echo the id.
    return html.Div(className="not-found", id="battery-not-found", children=[
        html.H1("Battery not found", className="page-title"),
        html.P("There is no battery with that id among the batteries you can see."),
        dcc.Link("Back to the fleet overview", href="/"),
    ])


def layout(device_id: str | None = None, **_query):
    """``device_id`` is what the URL says: a device id or a vehicle number (``/battery/UP32AB1000``)."""
    db, scope = get_db(), current_scope()
    reference = inputs.text(device_id, battery.MAX_DEVICE_ID)
    device_id = search.resolve(db, scope, reference) if reference else None
    info = battery.find(db, scope, device_id)
    if info is None:
        return not_found()
    settings = config.get()
    centre = [info["latitude"], info["longitude"]] if info["latitude"] is not None else list(INDIA)
    return html.Div(className="battery-page", children=[
        dcc.Store(id="battery-device", data=device_id),
        dcc.Interval(id="battery-refresh", interval=REFRESH_MS),
        html.Div(id="battery-header", children=create_battery_header(info, battery.is_online(info))),
        html.Div(id="battery-gauges", className="gauge-row"),
        html.Div(className="range-bar", children=[
            html.Span("Range", className="range-label"),
            dcc.RadioItems(id="battery-range", value="24h", inline=True, className="range-picker",
                           options=[{"label": k, "value": k} for k in battery.RANGES]),
            html.Span(id="battery-range-note", className="range-note"),
        ]),
        dcc.Graph(id="battery-series", config=GRAPH_CONFIG),
        dcc.Graph(id="battery-sessions", config=GRAPH_CONFIG),
        html.Div(className="battery-lower", children=[
            html.Section(className="panel", children=[
                html.H2("GPS trail", className="panel-title"),
                html.Div(className="trail-map", children=dl.Map(
                    id="battery-map", center=centre, zoom=13, style={"height": "100%"}, children=[
                        *create_base_layers(settings.map_tile_url, settings.map_attribution),
                        dl.Polyline(id="battery-trail", positions=[], color=theme.ACCENT, weight=3),
                        dl.CircleMarker(id="battery-position", center=centre, radius=8, color=theme.OK,
                                        fillOpacity=0.9),
                    ])),
                html.Div(id="battery-trail-note", className="map-note"),
            ]),
            html.Section(className="panel battery-alert-panel", children=[
                html.H2("Open alerts", className="panel-title"),
                alert_action_parts.create_action_parts(),
                dcc.Store(id="battery-alerts-shown"),
                html.Div(id="battery-alerts"),
            ]),
        ]),
        html.Section(className="panel battery-health", children=[
            html.Div(className="panel-head", children=[html.H2("Health and lifetime", className="panel-title")]),
            html.Div(id="battery-health-facts-slot"),
            dcc.Graph(id="battery-soh", config=GRAPH_CONFIG, style={"height": "420px"}),
        ]),
        html.Section(className="panel", children=[
            html.Div(className="panel-head", children=[
                html.H2("Charge sessions", className="panel-title"), create_export_buttons("battery-charges")]),
            html.Div(id="battery-charges", className="table-scroll"),
        ]),
        html.Section(className="panel", children=[
            html.Div(className="panel-head", children=[
                html.H2("Trips", className="panel-title"), create_export_buttons("battery-trips")]),
            html.Div(id="battery-trips", className="table-scroll"),
        ]),
    ])


def _gauges(info: dict) -> list:
    nominal = info.get("nominal_voltage") or 51.2
    scale = nominal / 51.2
    return [
        dcc.Graph(id="gauge-soc", config={"staticPlot": True}, className="gauge", figure=charts.gauge(
            info["soc"], "SOC", "%", 0, 100,
            [(0, 20, "#7f1d1d"), (20, 50, "#713f12"), (50, 100, "#14532d")])),
        dcc.Graph(id="gauge-voltage", config={"staticPlot": True}, className="gauge", figure=charts.gauge(
            info["voltage"], "Voltage", "V", 40 * scale, 60 * scale,
            [(40 * scale, 42 * scale, "#7f1d1d"), (42 * scale, 44 * scale, "#713f12"),
             (44 * scale, 57.6 * scale, "#14532d"), (57.6 * scale, 60 * scale, "#7f1d1d")])),
        dcc.Graph(id="gauge-current", config={"staticPlot": True}, className="gauge", figure=charts.gauge(
            info["current"], "Current", "A", -120, 60,
            [(-120, -100, "#7f1d1d"), (-100, 0, "#713f12"), (0, 60, "#14532d")])),
        dcc.Graph(id="gauge-temperature", config={"staticPlot": True}, className="gauge", figure=charts.gauge(
            info["temperature"], "Temperature", "°C", 0, 70,
            [(0, 45, "#14532d"), (45, 55, "#713f12"), (55, 70, "#7f1d1d")])),
    ]


def _range(value) -> str:
    return inputs.choice(value, battery.RANGES, default="24h")


@callback(Output("battery-header", "children"), Output("battery-gauges", "children"),
          Input("battery-refresh", "n_intervals"), DEVICE)
def update_live(_n, device_id):
    info = battery.find(get_db(), current_scope(), device_id)
    if info is None:
        return not_found(), []
    if info["reading_time"] is None:
        return (create_battery_header(info, False),
                create_empty_state("No readings from this battery yet", "Gauges appear with its first reading."))
    return create_battery_header(info, battery.is_online(info)), _gauges(info)


@callback(Output("battery-series", "figure"), Output("battery-sessions", "figure"),
          Output("battery-range-note", "children"),
          Input("battery-range", "value"), Input("battery-refresh", "n_intervals"), DEVICE)
def update_series(range_key, _n, device_id):
    range_key = _range(range_key)
    frame, resolution = battery.series(get_db(), current_scope(), device_id, range_key, datetime.now(timezone.utc))
    revision = f"{device_id}:{range_key}"
    if frame.empty:
        message = f"No readings in the last {range_key}"
        return (charts.empty_figure("Telemetry", message), charts.empty_figure("Charge / discharge sessions", message),
                message)
    frame["time"] = pd.to_datetime(frame["time"], utc=True).dt.tz_convert(IST)
    note = {"raw": "every reading", "hour": "hourly averages", "day": "daily averages"}[resolution]
    return (charts.battery_series(frame, resolution, revision),
            charts.session_timeline(battery.sessions(frame), revision),
            f"{len(frame):,} points, {note}"
            + ("; this BMS reports current without a sign, so charge and discharge follow the SOC"
               if battery.current_is_unsigned(frame) else "")
            + "; drag on a chart to zoom, double-click to reset")


@callback(Output("battery-trail", "positions"), Output("battery-position", "center"),
          Output("battery-trail-note", "children"),
          Input("battery-range", "value"), Input("battery-refresh", "n_intervals"), DEVICE)
def update_trail(range_key, _n, device_id):
    range_key = _range(range_key)
    fixes = battery.trail(get_db(), current_scope(), device_id, range_key, datetime.now(timezone.utc))
    if not fixes:
        return [], dash.no_update, f"No GPS fixes in the last {range_key}"
    positions = [[round(f["lat"], 5), round(f["lng"], 5)] for f in fixes]
    return positions, positions[-1], f"{len(fixes):,} fixes, last at {fixes[-1]['time'].astimezone(IST):%d %b %H:%M}"


@callback(Output("battery-map", "bounds"), Input("battery-range", "value"), DEVICE)
def fit_trail(range_key, device_id):
    """Only when the range changes: the 10 s refresh must not undo the user's pan and zoom."""
    range_key = _range(range_key)
    box = battery.trail_bounds(get_db(), current_scope(), device_id, range_key, datetime.now(timezone.utc))
    if box is None:
        return dash.no_update
    pad = 0.002
    return [[box["south"] - pad, box["west"] - pad], [box["north"] + pad, box["east"] + pad]]


@callback(Output("battery-trips", "children"), Input("battery-refresh", "n_intervals"), DEVICE)
def update_trips(_n, device_id):
    return create_trip_table(battery.trips(get_db(), current_scope(), device_id))


@callback(Output("battery-alerts", "children"), Output("battery-alerts-shown", "data"),
          Input("battery-refresh", "n_intervals"), Input(alert_action_parts.DONE, "data"), DEVICE,
          State("battery-alerts-shown", "data"))
def update_alerts(_n, _done, device_id, shown):
    """Redrawn only when an alert changed (or right after an action, ``DONE``): a redraw replaces
    the comment boxes, and the 10 s refresh must not take one from under a person typing in it."""
    db, scope = get_db(), current_scope()
    device = inputs.text(device_id, battery.MAX_DEVICE_ID)
    alerts = alert_views.device_alerts(db, scope, device) if device else []
    signature = [[a["id"], a["status"], a["owner"], a["occurrence_count"], a["last_seen_at"].isoformat()]
                 for a in alerts]
    if signature == shown and dash.ctx.triggered_id == "battery-refresh":
        return dash.no_update, dash.no_update
    allowed, users = actionable(db, scope, alerts)
    empty = create_empty_state("No open alerts on this battery", "New alerts appear here within a refresh.")
    return create_actionable_alert_list(alerts, allowed, users, empty), signature


@callback(Output("battery-trips-download", "data"), Input("battery-trips-export-csv", "n_clicks"),
          Input("battery-trips-export-xlsx", "n_clicks"), DEVICE, prevent_initial_call=True)
def export_trips(_csv, _xlsx, device_id):
    db, scope = get_db(), current_scope()
    kind = inputs.choice((dash.ctx.triggered_id or "").rsplit("-", 1)[-1], ("csv", "xlsx"))
    info = battery.find(db, scope, device_id)  # in scope, and the vehicle number names the file
    if kind is None or info is None:
        return dash.no_update
    rows = battery.trips(db, scope, info["device_id"], limit=TRIP_EXPORT_LIMIT)
    return table_file(trip_frame(rows), kind, f"trips-{info['vehicle_number'] or info['device_id']}")


@callback(Output("battery-health-facts-slot", "children"), Output("battery-soh", "figure"),
          Input("battery-device", "data"))
def update_health(device_id):
    """Once per visit: the ledger changes once a day."""
    db, scope = get_db(), current_scope()
    info = battery.find(db, scope, device_id)
    if info is None:
        return not_found(), charts.empty_figure("State of health", "Battery not found")
    row = health_views.battery(db, scope, info["device_id"])
    history = health_views.history(db, scope, info["device_id"])
    eol = config.get().eol_soh
    if row is not None:
        row = dict(row, eol_soh=eol)
    return (create_health_facts(row),
            soh_history_figure(history, row, row["sold_at"] if row else None,
                               _warranty_months(db, info["device_id"]), eol))


def _warranty_months(db, device_id: str) -> int | None:
    terms = health_views.warranty_terms(db, device_id)
    return terms["warranty_months"] if terms else None


@callback(Output("battery-charges", "children"), Input("battery-device", "data"))
def update_charges(device_id):
    db, scope = get_db(), current_scope()
    info = battery.find(db, scope, device_id)
    sessions = health_views.sessions(db, scope, info["device_id"]) if info else None
    return create_charge_table(sessions)


@callback(Output("battery-charges-download", "data"), Input("battery-charges-export-csv", "n_clicks"),
          Input("battery-charges-export-xlsx", "n_clicks"), DEVICE, prevent_initial_call=True)
def export_charges(_csv, _xlsx, device_id):
    db, scope = get_db(), current_scope()
    kind = inputs.choice((dash.ctx.triggered_id or "").rsplit("-", 1)[-1], ("csv", "xlsx"))
    info = battery.find(db, scope, device_id)
    if kind is None or info is None:
        return dash.no_update
    sessions = health_views.sessions(db, scope, info["device_id"], limit=100_000)
    return table_file(charge_frame(sessions), kind, f"charge-sessions-{info['vehicle_number'] or info['device_id']}")

