"""Fleet health (/health): SOH you can trust, how the fleet ages, warranty risk, dealers, misuse,
the league table and the fleet health report, for every role within its scope.

Every callback reads the scope on the server (data.fleet_health applies it in SQL); the filters
and the highlight can only narrow what a user sees. A dealer's dealer filter is hidden and its
league table holds its own row and the fleet median.
"""
from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html

import config
import inputs
from auth import current_scope
from components import health_charts
from components.export import table_file
from components.health_page import (GRAPH_CONFIG, SHOWN, battery_frame, create_battery_table, create_health_filters,
                                    create_health_kpis, create_league_table, create_report_links, create_risk_table,
                                    create_table_card, league_frame, risk_frame)
from data import fleet_health, health_reports
from data.db import get_db

dash.register_page(__name__, path="/health", name="Health", title="Fleet health", nav_order=2)

FILTERS = [Input("health-dealer", "value"), Input("health-model", "value")]
HIGHLIGHT = [Input("health-highlight", "value"), Input("health-highlight-battery", "value")]
DISTRIBUTION_WIDTH = 2   # SOH points per bar


def _filter(dealer, model) -> fleet_health.HealthFilter:
    return fleet_health.HealthFilter(dealer=inputs.text(dealer, 20), model=inputs.text(model, 50))


def _graph(graph_id: str, tall: bool = False) -> dcc.Graph:
    return dcc.Graph(id=graph_id, config=GRAPH_CONFIG, className="chart chart-tall" if tall else "chart")


def layout(**_query):
    scope = current_scope()
    db = get_db()
    options = fleet_health.highlight_options(db, scope)
    highlight = ([{"label": f"Dealer: {d['label']}", "value": f"dealer:{d['value']}"} for d in options["dealers"]]
                 + [{"label": f"Model: {m['label']}", "value": f"model:{m['value']}"} for m in options["models"]])
    return html.Div(className="health-page", children=[
        html.Div(className="page-head", children=[
            html.H1("Fleet health", className="page-title"),
            create_health_filters(options["dealers"], options["models"], show_dealer=scope.whole_fleet),
        ]),
        html.Div(id="health-kpis", className="kpi-row"),
        html.Div(className="chart-row health-row", children=[_graph("health-distribution"),
                                                             _graph("health-temperature")]),
        html.Div(className="panel", children=[
            html.Div(className="panel-head", children=[
                html.H2("SOH against charge cycles and age", className="panel-title"),
                html.Div(className="filter-bar", children=[
                    dcc.Dropdown(id="health-highlight", options=highlight, placeholder="Highlight a dealer or model",
                                 clearable=True, className="filter filter-wide"),
                    dcc.Input(id="health-highlight-battery", type="search", debounce=True, maxLength=60,
                              placeholder="…or a battery (vehicle, serial)", className="filter text-filter"),
                ]),
            ]),
            html.P(id="health-highlight-note", className="panel-hint"),
            html.Div(className="chart-row health-row", children=[_graph("health-bands-cycles"),
                                                                 _graph("health-bands-age")]),
        ]),
        html.Div(className="chart-row health-row", children=[_graph("health-dealers", tall=True),
                                                             _graph("health-misuse", tall=True)]),
        create_table_card("health-risk", "Warranty risk",
                          "Under the warranty floor now, or expected to cross it before the warranty ends "
                          "(expected date from the fade forecast).", "health-risk"),
        create_table_card("health-league", "Dealer league",
                          "Average SOH, fade, misuse, alerts and communication uptime, scored 0–100."
                          + ("" if scope.whole_fleet else " You see your own row and the fleet median."),
                          "health-league"),
        create_table_card("health-batteries", "Batteries",
                          "Lowest SOH first; batteries with no SOH at the top, never counted as healthy.",
                          "health-batteries"),
        html.Div(className="panel", children=[
            html.H2("Fleet health report", className="panel-title"),
            html.Div(id="health-reports"),
        ]),
    ])


@callback(Output("health-kpis", "children"), Output("health-distribution", "figure"),
          Output("health-temperature", "figure"), Output("health-dealers", "figure"),
          Output("health-misuse", "figure"), *FILTERS)
def update_overview(dealer, model):
    db, scope, filt = get_db(), current_scope(), _filter(dealer, model)
    per_battery = fleet_health.per_battery(db, scope, filt)
    return (create_health_kpis(fleet_health.summary(db, scope, filt)),
            health_charts.soh_distribution(fleet_health.distribution(db, scope, filt, DISTRIBUTION_WIDTH),
                                           DISTRIBUTION_WIDTH),
            health_charts.temperature_impact(per_battery),
            health_charts.dealer_boxes(per_battery),
            health_charts.misuse_bars(fleet_health.misuse(db, scope, filt)))


def _highlight(db, scope, choice, battery_text) -> tuple[str | None, str | None, str | None, str]:
    """(kind, key, label, note) of what to draw on top of the bands."""
    key = inputs.text(battery_text, 60)
    if key:
        found = fleet_health.find_battery(db, scope, key)
        if found is None:
            return None, None, None, "No battery of yours has that vehicle number, serial or device id."
        return "battery", found["device_id"], found["label"], f"Highlighted: battery {found['label']}, its own days."
    value = inputs.text(choice, 80) or ""
    kind, _, code = value.partition(":")
    if kind in ("dealer", "model") and code:
        return kind, code, f"{kind.title()} {code}", f"Highlighted: {kind} {code}, its median per bucket."
    return None, None, None, "The band is the fleet's 10th to 90th percentile per bucket; the line its median."


@callback(Output("health-bands-cycles", "figure"), Output("health-bands-age", "figure"),
          Output("health-highlight-note", "children"), *FILTERS, *HIGHLIGHT)
def update_bands(dealer, model, choice, battery_text):
    db, scope, filt = get_db(), current_scope(), _filter(dealer, model)
    kind, key, label, note = _highlight(db, scope, choice, battery_text)
    eol = config.get().eol_soh
    figures = []
    for axis, axis_title, title in (("cycles", "Charge cycles", "SOH against charge cycles"),
                                    ("age", "Age, days since sale", "SOH against age")):
        top = fleet_health.highlight(db, scope, axis, kind, key) if kind else []
        figures.append(health_charts.soh_bands(fleet_health.bands(db, scope, axis, filt), top, axis_title, label,
                                               eol, title, fleet_health.points(db, scope, axis, filt)))
    return *figures, note


@callback(Output("health-risk", "children"), Output("health-league", "children"),
          Output("health-batteries", "children"), Output("health-reports", "children"), *FILTERS)
def update_tables(dealer, model):
    db, scope, filt = get_db(), current_scope(), _filter(dealer, model)
    return (create_risk_table(fleet_health.warranty_risk(db, scope, filt)),
            create_league_table(fleet_health.league(db, scope), scope.whole_fleet),
            create_battery_table(fleet_health.batteries(db, scope, filt, limit=SHOWN)),
            create_report_links(health_reports.reports(db, scope)))


def _kind() -> str | None:
    return inputs.choice((dash.ctx.triggered_id or "").rsplit("-", 1)[-1], ("csv", "xlsx"))


@callback(Output("health-risk-download", "data"), Input("health-risk-export-csv", "n_clicks"),
          Input("health-risk-export-xlsx", "n_clicks"), State("health-dealer", "value"),
          State("health-model", "value"), prevent_initial_call=True)
def export_risk(_csv, _xlsx, dealer, model):
    kind = _kind()
    if kind is None:
        return dash.no_update
    frame = fleet_health.warranty_risk(get_db(), current_scope(), _filter(dealer, model))
    return table_file(risk_frame(frame), kind, "warranty-risk")


@callback(Output("health-league-download", "data"), Input("health-league-export-csv", "n_clicks"),
          Input("health-league-export-xlsx", "n_clicks"), prevent_initial_call=True)
def export_league(_csv, _xlsx):
    kind = _kind()
    if kind is None:
        return dash.no_update
    scope = current_scope()
    return table_file(league_frame(fleet_health.league(get_db(), scope), scope.whole_fleet), kind, "dealer-league")


@callback(Output("health-batteries-download", "data"), Input("health-batteries-export-csv", "n_clicks"),
          Input("health-batteries-export-xlsx", "n_clicks"), State("health-dealer", "value"),
          State("health-model", "value"), prevent_initial_call=True)
def export_batteries(_csv, _xlsx, dealer, model):
    kind = _kind()
    if kind is None:
        return dash.no_update
    frame = fleet_health.batteries(get_db(), current_scope(), _filter(dealer, model))
    return table_file(battery_frame(frame), kind, "battery-health")
