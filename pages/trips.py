"""Trips (/trips): fleet kilometres today, this week and this month; the batteries that drive and use the
most; km per kWh by battery and by dealer; when batteries are plugged in and how empty they are; the
trip history, paged and filtered on the server, with its CSV and XLSX files.

Every callback reads the scope on the server and data.trips applies it in SQL: the filters narrow,
never widen (a dealer's dealer filter is hidden and ignored, and its scope keeps it to its own
batteries whatever vehicle or dealer it types).
"""
from __future__ import annotations

from datetime import datetime

import dash
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, dcc, html

import inputs
from auth import current_scope
from components import trips_page as page
from components.export import table_file
from data import device_admin, trips
from data.db import get_db

dash.register_page(__name__, path="/trips", name="Trips", title="Trip analytics", nav_order=4)

FILTER_IDS = (("trips-text", "value"), ("trips-dealer", "value"), ("trips-dates", "start_date"),
              ("trips-dates", "end_date"))
FILTER_INPUTS = [Input(i, p) for i, p in FILTER_IDS]
FILTER_STATES = [State(i, p) for i, p in FILTER_IDS]
PERIOD = Input("trips-period", "value")
REFRESH_MS = 300_000   # trips arrive once a day; a page left open still rolls over at midnight
# No rows, count unknown. A count of 0 would be truer, but after one dash-ag-grid takes the next answer's
# rows on a detour that can leave them undrawn ("No Rows To Show" over 30 rows) once the filters widen
# again; the grid is folded under the page's own message whenever there is nothing, so null costs nothing.
NO_ROWS = {"rowData": [], "rowCount": None}


def layout(**_query):
    scope = current_scope()
    today = datetime.now(trips.IST).date()
    return html.Div(className="trips-page", children=[
        html.Div(className="page-head", children=[html.H1("Trip analytics", className="page-title"),
                                                  page.create_period_picker()]),
        dcc.Interval(id="trips-refresh", interval=REFRESH_MS),
        dcc.Store(id="trips-grid-refreshed"),
        *page.create_trips_layout(device_admin.dealer_options(get_db(), scope) if scope.whole_fleet else [],
                                  scope.whole_fleet, today),
    ])


def _days(period) -> int:
    return trips.PERIODS[inputs.choice(period, trips.PERIODS, page.DEFAULT_PERIOD)]


@callback(Output("trips-kpis", "children"), Input("trips-refresh", "n_intervals"))
def update_distance(_n):
    scope = current_scope()
    return page.create_distance_kpis(trips.distance_summary(get_db(), scope))


@callback(Output("trips-top-km", "children"), Output("trips-top-kwh", "children"), PERIOD,
          Input("trips-refresh", "n_intervals"))
def update_usage(period, _n):
    scope, days = current_scope(), _days(period)
    top = trips.top_usage(get_db(), scope, days)
    return (page.create_usage_table(top, "km", days, scope.whole_fleet),
            page.create_usage_table(top, "kwh", days, scope.whole_fleet))


@callback(Output("trips-eff-note", "children"), Output("trips-eff-best", "children"),
          Output("trips-eff-worst", "children"), Output("trips-eff-dealers", "children"), PERIOD,
          Input("trips-refresh", "n_intervals"))
def update_efficiency(period, _n):
    scope, days = current_scope(), _days(period)
    db = get_db()
    eff = trips.battery_efficiency(db, scope, days)
    return (page.efficiency_note(eff, days),
            page.create_efficiency_table(eff["best"], "best", eff["ranked"], trips.TOP, days, eff["min_km"],
                                         scope.whole_fleet),
            page.create_efficiency_table(eff["worst"], "worst", eff["ranked"], trips.TOP, days, eff["min_km"],
                                         scope.whole_fleet),
            page.create_dealer_table(trips.dealer_efficiency(db, scope, days), days, scope.whole_fleet))


@callback(Output("trips-charge-hours", "figure"), Output("trips-dod-hours", "figure"), PERIOD,
          Input("trips-refresh", "n_intervals"))
def update_charging(period, _n):
    scope, days = current_scope(), _days(period)
    hours = trips.charging_by_hour(get_db(), scope, days)
    return page.charging_starts_figure(hours, days), page.plug_in_depth_figure(hours, days)


# -- the history ------------------------------------------------------------------------------------------
def _history_filter(text, dealer, since, until) -> tuple[trips.TripFilter | None, str]:
    """The history's filters cleaned, or None and what is wrong with them in words."""
    scope = current_scope()
    problems = []
    search = inputs.text(text, page.MAX_TEXT)
    if search is None and text is not None and not (isinstance(text, str) and not text.strip()):
        problems.append(f"The search takes up to {page.MAX_TEXT} printable characters.")
    dealer_code = None
    if scope.whole_fleet:   # a dealer's choice is ignored here; its scope would empty the answer anyway
        dealer_code = inputs.text(dealer, 32)
        if dealer_code is None and dealer is not None:
            problems.append("Choose the dealer from the list.")
    first, last = inputs.date_range(since, until, problems)
    if problems:
        return None, " ".join(problems)
    return trips.TripFilter(text=search, dealer_code=dealer_code, since=first, until=last), ""


@callback(Output("trips-history-count", "children"), Output("trips-history-message", "children"),
          Output("trips-history-box", "className"), Output("trips-history-empty", "children"), *FILTER_INPUTS)
def update_history_count(*values):
    scope = current_scope()
    filt, problem = _history_filter(*values)
    # An empty answer folds the grid away under a message, but never takes it off the page: a grid
    # that is not drawn loads no rows, and would stay empty when the filters change back.
    if filt is None:
        return "", problem, page.GRID_BOX_EMPTY, page.history_empty(problem=True)
    totals = trips.history_totals(get_db(), scope, filt)
    if not totals["trips"]:
        return "", "", page.GRID_BOX_EMPTY, page.history_empty()
    return page.history_count(totals, trips.EXPORT_LIMIT), "", page.GRID_BOX, None


@callback(Output("trips-grid", "getRowsResponse"), Input("trips-grid", "getRowsRequest"), *FILTER_STATES)
def grid_block(request, *values):
    """One block of rows for the grid: only the requested rows are read, in the requested order."""
    scope = current_scope()
    filt, _problem = _history_filter(*values)
    if filt is None:
        return NO_ROWS
    offset, limit, sort, descending = inputs.grid_block(request, trips.SORTS, trips.DEFAULT_SORT)
    db = get_db()
    total = trips.history_totals(db, scope, filt)["trips"]
    if not total:
        return NO_ROWS
    rows = trips.history(db, scope, filt, offset=offset, limit=limit, sort=sort, descending=descending)
    return {"rowData": page.history_rows(rows), "rowCount": total}


clientside_callback(ClientsideFunction("trips", "refreshGrid"), Output("trips-grid-refreshed", "data"),
                    *FILTER_INPUTS, prevent_initial_call=True)


@callback(Output("trips-history-download", "data"), Input("trips-history-export-csv", "n_clicks"),
          Input("trips-history-export-xlsx", "n_clicks"), *FILTER_STATES, State("trips-grid", "getRowsRequest"),
          prevent_initial_call=True)
def export_history(_csv, _xlsx, *values):
    """Every matching trip (up to data.trips.EXPORT_LIMIT) in the table's order, not only the rows on screen."""
    scope = current_scope()
    kind = inputs.choice((ctx.triggered_id or "").rsplit("-", 1)[-1], ("csv", "xlsx"))
    filt, _problem = _history_filter(*values[:-1])
    if kind is None or filt is None:   # the page already says what is wrong with the filters
        return dash.no_update
    _offset, _limit, sort, descending = inputs.grid_block(values[-1], trips.SORTS, trips.DEFAULT_SORT)
    rows = trips.export_history(get_db(), scope, filt, sort=sort, descending=descending)
    return table_file(page.history_frame(rows), kind, "trips")
