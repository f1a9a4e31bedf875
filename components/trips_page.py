"""The trips page's parts: the period picker, the distance cards, the usage and efficiency tables, the
charging-hour figures and the server-paged trip history with its file.

Pure: frames and rows in (from data.trips), components out; nothing here runs a query.
"""
from __future__ import annotations

from datetime import date, timedelta

import dash_ag_grid as dag
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from components import theme
from components.alerts_page import GRID_THEME
from components.charts import READ_ONLY_MODEBAR, _count_axis, _layout, empty_figure
from components.empty import create_empty_state
from components.export import create_export_buttons
from components.formats import ist, ist_naive, missing
from components.kpi import create_kpi_card

PERIOD_LABELS = {"7d": "7 days", "30d": "30 days", "90d": "90 days"}
DEFAULT_PERIOD = "30d"
HISTORY_DAYS = 30          # the history opens on the last 30 IST days
BLOCK = 100                # rows per request of the grid
GRID_BOX, GRID_BOX_EMPTY = "trips-grid-box", "trips-grid-box is-empty"
MAX_TEXT = 50
GRAPH_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": READ_ONLY_MODEBAR}
HOURS = list(range(24))
DEEP_DOD, HIGH_DOD = 80, 60   # plug-in depth of discharge coloured as worrying / worth watching


# -- numbers as people read them ------------------------------------------------------------------------
def km(v, none: str = "—") -> str:
    if missing(v):
        return none
    v = float(v)
    return f"{v / 1e6:,.2f} M km" if v >= 10_000_000 else f"{v:,.0f} km"


def number(v, digits: int = 1) -> str:
    return "—" if missing(v) else f"{float(v):,.{digits}f}"


def _day(d: date) -> str:
    return f"{d:%a} {d.day} {d:%b}"


# -- the page's frame -----------------------------------------------------------------------------------
def create_period_picker(value: str = DEFAULT_PERIOD) -> html.Div:
    return html.Div(className="trips-period", children=[
        html.Span("Rankings and charging over the last", className="trips-period-label"),
        dcc.RadioItems(id="trips-period", value=value, inline=True, className="radio-row trips-period-choice",
                       options=[{"label": f" {label}", "value": key} for key, label in PERIOD_LABELS.items()]),
    ])


def _table_panel(title: str, body_id: str) -> html.Div:
    return html.Div(className="panel trips-table-panel", children=[
        html.H2(title, className="panel-title"),
        html.Div(id=body_id, className="table-scroll"),
    ])


def create_history_filters(dealers: list[dict], show_dealer: bool, today: date) -> html.Div:
    """Vehicle text, dealer (whole-fleet roles only: hidden for a dealer, whose scope decides anyway)
    and IST days, opening on the last 30 days."""
    return html.Div(className="filter-bar trips-filters", children=[
        dcc.Input(id="trips-text", type="search", debounce=True, maxLength=MAX_TEXT, autoComplete="off",
                  placeholder="Vehicle, device or battery serial", className="filter-input trips-search"),
        html.Div(dcc.Dropdown(id="trips-dealer", placeholder="All dealers", clearable=True, className="filter",
                              options=[{"label": d["name"], "value": d["code"]} for d in dealers] if show_dealer else []),
                 hidden=not show_dealer, className="trips-dealer-wrap"),
        dcc.DatePickerRange(id="trips-dates", display_format="DD MMM YYYY", clearable=True,
                            start_date=today - timedelta(days=HISTORY_DAYS - 1), end_date=today,
                            max_date_allowed=today, start_date_placeholder_text="From (IST)",
                            end_date_placeholder_text="To (IST)", className="trips-dates",
                            minimum_nights=0),
    ])


def create_trips_layout(dealers: list[dict], show_dealer: bool, today: date) -> list:
    """Everything below the title; the callbacks fill the slots."""
    return [
        html.Div(id="trips-kpis", className="kpi-row trips-kpis"),
        html.Div(className="trips-pair", children=[
            _table_panel("Most kilometres", "trips-top-km"),
            _table_panel("Most energy used", "trips-top-kwh"),
        ]),
        html.Div(className="panel", children=[
            html.H2("Efficiency, km per kWh", className="panel-title"),
            html.P(id="trips-eff-note", className="panel-hint"),
            html.Div(className="trips-pair trips-pair-inner", children=[
                html.Div([html.H3("Best batteries", className="trips-subtitle"),
                          html.Div(id="trips-eff-best", className="table-scroll")]),
                html.Div([html.H3("Worst batteries", className="trips-subtitle"),
                          html.Div(id="trips-eff-worst", className="table-scroll")]),
            ]),
            html.H3("By dealer", className="trips-subtitle"),
            html.Div(id="trips-eff-dealers", className="table-scroll"),
        ]),
        html.Div(className="chart-row trips-charts", children=[
            dcc.Graph(id="trips-charge-hours", config=GRAPH_CONFIG, className="chart"),
            dcc.Graph(id="trips-dod-hours", config=GRAPH_CONFIG, className="chart"),
        ]),
        html.Section(className="panel trips-history-panel", children=[
            html.Div(className="panel-head", children=[
                html.H2("Trip history", className="panel-title"), create_export_buttons("trips-history")]),
            create_history_filters(dealers, show_dealer, today),
            html.Div(className="trips-history-status", children=[
                html.Span(id="trips-history-count", className="trips-count"),
                html.Span(id="trips-history-message", className="trips-message", role="alert"),
            ]),
            html.Div(className="trips-grid-wrap", children=[
                html.Div(id="trips-history-box", className=GRID_BOX, children=create_history_grid(show_dealer)),
                html.Div(id="trips-history-empty", className="trips-grid-empty"),
            ]),
            html.P("One row per battery per IST day, stored once the day has ended. Energy is the same day's "
                   "energy reading; sort by any column, export takes every matching row.", className="panel-hint"),
        ]),
    ]


# -- distance cards -------------------------------------------------------------------------------------
def create_distance_kpis(s: dict) -> list[html.Div]:
    """Today, yesterday, this week (IST, from Monday) and this month (IST), from data.trips.distance_summary."""
    today, week_start, month_start = s["today"], s["week_start"], s["month_start"]
    yesterday = today - timedelta(days=1)
    drove = s.get("yesterday_trips") or 0
    per_battery = f" · {float(s['yesterday_km']) / drove:,.0f} km each" if drove and s.get("yesterday_km") else ""

    def closed(days: int, first: date, trips: int, what: str) -> tuple[str | None, str]:
        """("—", why) while no day of the span has closed; else (None, which days and how many trips)."""
        if not days:
            return "—", f"{what} began today: its km arrive after midnight IST"
        span = _day(first) if first == yesterday else f"{_day(first)} – {_day(yesterday)}"
        return None, f"{span} · {trips:,} battery-day{'s' if trips != 1 else ''}"

    week_dash, week_note = closed(s["days_week"], week_start, int(s["week_trips"]), "The week")
    month_dash, month_note = closed(s["days_month"], month_start, int(s["month_trips"]), "The month")
    return [
        create_kpi_card("trips-kpi-today", "Today (IST)", km(s.get("today_km")),
                        "so far" if not missing(s.get("today_km")) else "a day's trips are summarised after midnight IST"),
        create_kpi_card("trips-kpi-yesterday", f"Yesterday, {_day(yesterday)}", km(s.get("yesterday_km"), "0 km"),
                        f"{drove:,} batter{'y' if drove == 1 else 'ies'} drove{per_battery}" if drove
                        else "no trips recorded"),
        create_kpi_card("trips-kpi-week", "This week (IST, from Monday)", week_dash or km(s["week_km"]), week_note),
        create_kpi_card("trips-kpi-month", f"This month, {today:%B}", month_dash or km(s["month_km"]), month_note),
    ]


# -- tables -------------------------------------------------------------------------------------------
def _vehicle(r: dict):
    return dcc.Link(r.get("vehicle_number") or r["device_id"], href=f"/battery/{r['device_id']}")


def _table(table_id: str, header: list[str], rows: list[list], numeric_from: int,
           phone_hides: tuple[str, ...] = ()) -> html.Table:
    """A plain table; columns from ``numeric_from`` on are figures, right-aligned. Columns named in
    ``phone_hides`` give way on a phone, so the figures that matter fit its width."""
    def cell(i, value, tag):
        classes = ["num" if i >= numeric_from else "", "phone-hidden" if header[i] in phone_hides else ""]
        return tag(value, className=" ".join(c for c in classes if c) or None)
    return html.Table(className="data-table trips-table", id=table_id, children=[
        html.Thead(html.Tr([cell(i, h, html.Th) for i, h in enumerate(header)])),
        html.Tbody([html.Tr([cell(i, v, html.Td) for i, v in enumerate(row)]) for row in rows]),
    ])


def create_usage_table(frame: pd.DataFrame, by: str, days: int, show_dealer: bool) -> html.Div | html.Table:
    """The top batteries by kilometres (``by="km"``) or energy (``"kwh"``) from data.trips.top_usage."""
    rank = f"{by}_rank"
    rows = frame[frame[rank].notna()].sort_values(rank) if frame is not None and not frame.empty else frame
    if rows is None or rows.empty:
        what = "kilometres" if by == "km" else "energy use"
        return create_empty_state(f"No {what} recorded in the last {days} days",
                                  "Trips and energy arrive once a day, after midnight IST.")
    header = ["#", "Vehicle", *(["Dealer"] if show_dealer else []), "km", "kWh", "km/kWh", "Days"]
    body = [[int(r[rank]), _vehicle(r), *([r["dealer"] or "—"] if show_dealer else []), number(r["km"], 0),
             number(r["kwh"]), number(r["km_per_kwh"]), int(r["trip_days"])]
            for r in rows.to_dict("records")]
    return _table(f"trips-top-{by}-table", header, body, 3 if show_dealer else 2, ("Dealer", "Days"))


def efficiency_note(eff: dict, days: int) -> str:
    if not eff["ranked"] and not eff["short"]:
        return f"No day in the last {days} days has both distance and energy recorded."
    scope = f"{float(eff['km_per_kwh']):.1f} km/kWh overall" if not missing(eff.get("km_per_kwh")) else ""
    short = (f"; {eff['short']:,} with less than {eff['min_km']:,.0f} km are left out (too little driving "
             "to judge)" if eff["short"] else "")
    return (f"{scope} over the last {days} days, from days with both distance and energy. "
            f"{eff['ranked']:,} batter{'y' if eff['ranked'] == 1 else 'ies'} ranked{short}.")


def create_efficiency_table(frame: pd.DataFrame, which: str, ranked: int, shown: int, days: int,
                            min_km: float, show_dealer: bool):
    """Best or worst batteries by km per kWh; the worst list says so when the best list holds them all."""
    if frame is None or frame.empty:
        return create_empty_state("No battery to rank",
                                  f"A battery needs {min_km:,.0f} km with energy recorded in the last {days} days.")
    if which == "worst" and ranked <= shown:
        return create_empty_state(f"All {ranked} ranked batter{'y is' if ranked == 1 else 'ies are'} in the best list",
                                  "The worst list starts once more batteries are ranked.")
    rank = f"{which}_rank"
    header = ["#", "Vehicle", *(["Dealer"] if show_dealer else []), "km/kWh", "km", "kWh"]
    body = [[int(r[rank]) if which == "best" else ranked - int(r[rank]) + 1, _vehicle(r),
             *([r["dealer"] or "—"] if show_dealer else []), number(r["km_per_kwh"]), number(r["km"], 0),
             number(r["kwh"])] for r in frame.to_dict("records")]
    return _table(f"trips-eff-{which}-table", header, body, 3 if show_dealer else 2, ("Dealer",))


def create_dealer_table(frame: pd.DataFrame, days: int, whole_fleet: bool):
    """Dealers by km per kWh, best first: every dealer for whole-fleet roles, its own row for a dealer."""
    if frame is None or frame.empty:
        return create_empty_state("No dealer to compare",
                                  f"No day in the last {days} days has both distance and energy recorded.")
    rank = ["Rank"] if whole_fleet else []
    body = [[*([i + 1] if whole_fleet else []), r["dealer"], f"{int(r['batteries']):,}", number(r["km_per_kwh"]),
             number(r["km"], 0), number(r["kwh"], 0)] for i, r in enumerate(frame.to_dict("records"))]
    table = _table("trips-eff-dealers-table", [*rank, "Dealer", "Batteries", "km/kWh", "km", "kWh"], body,
                   len(rank) + 1, ("Batteries", "km", "kWh"))
    note = None if whole_fleet else html.P("You see your own batteries only.", className="table-note")
    return html.Div([table, note])


# -- charging hours -------------------------------------------------------------------------------------
def _titled(fig: go.Figure, days: int, note: str = "") -> go.Figure:
    """The title, and the period under it in small type: one line each fits a phone's card."""
    fig.update_layout(title_subtitle=dict(text=f"last {days} days, IST{note}", font=dict(size=13, color=theme.MUTED)),
                      margin=dict(t=80))
    return fig


def _hour_axis() -> dict:
    # Two-figure hours: eight "00:00" labels would tilt on a phone's card.
    return dict(title_text="Hour of day (IST)", tickmode="array", tickvals=HOURS[::3],
                ticktext=[f"{h:02d}" for h in HOURS[::3]], range=[-0.6, 23.6], showgrid=False)


def charging_starts_figure(frame: pd.DataFrame, days: int) -> go.Figure:
    """Charge sessions started in each IST hour over the period."""
    title = "Charging starts by hour"
    if frame is None or frame.empty:
        return empty_figure(title, f"No charge session started in the last {days} days")
    counts = frame.set_index("hour")["sessions"].reindex(HOURS, fill_value=0).astype(int)
    fig = go.Figure(go.Bar(x=HOURS, y=counts.tolist(), marker_color=theme.ACCENT,
                           customdata=[f"{h:02d}:00–{h:02d}:59" for h in HOURS],
                           hovertemplate="%{customdata}: %{y:,d} sessions started<extra></extra>"))
    return _titled(_layout(fig, title, False, modebar_remove=READ_ONLY_MODEBAR, bargap=0.15, xaxis=_hour_axis(),
                           yaxis=_count_axis(max(counts.max(), 1), "sessions")), days)


def plug_in_depth_figure(frame: pd.DataFrame, days: int) -> go.Figure:
    """Mean depth of discharge when plugged in (100 − SOC at the start), per IST hour of the start."""
    title = "Depth of discharge at plug-in"
    known = frame[frame["with_soc"] > 0] if frame is not None and not frame.empty else None
    if known is None or known.empty:
        return empty_figure(title, f"No charge session with a starting SOC in the last {days} days")
    dod = known["mean_dod"].astype(float)
    colours = [theme.CRITICAL if v >= DEEP_DOD else theme.WARNING if v >= HIGH_DOD else theme.OK for v in dod]
    fig = go.Figure(go.Bar(
        x=known["hour"].astype(int).tolist(), y=dod.tolist(), marker_color=colours,
        customdata=[[f"{h:02d}:00–{h:02d}:59", int(n)] for h, n in zip(known["hour"], known["with_soc"])],
        hovertemplate="%{customdata[0]}: %{y:.0f} % used on average (%{customdata[1]:,d} sessions)<extra></extra>"))
    return _titled(_layout(fig, title, False, modebar_remove=READ_ONLY_MODEBAR, bargap=0.15, xaxis=_hour_axis(),
                           yaxis=dict(title_text="mean DoD %", range=[0, 100], dtick=20)), days,
                   f" · yellow ≥ {HIGH_DOD} %, red ≥ {DEEP_DOD} %")


# -- the history grid ------------------------------------------------------------------------------------
COLUMNS = [
    # field = the data.trips.SORTS name the server sorts by; values arrive formatted for people
    {"field": "vehicle_number", "headerName": "Vehicle", "width": 130, "pinned": "left", "cellRenderer": "BatteryLink"},
    {"field": "battery_serial", "headerName": "Battery", "width": 130},
    {"field": "dealer", "headerName": "Dealer", "width": 170},
    {"field": "day", "headerName": "Day (IST)", "width": 150, "sort": "desc"},
    {"field": "start", "headerName": "Start (IST)", "width": 125, "sortable": False},
    {"field": "end", "headerName": "End (IST)", "width": 125, "sortable": False},
    {"field": "distance_km", "headerName": "km", "width": 90, "type": "rightAligned"},
    {"field": "energy_kwh", "headerName": "kWh", "width": 90, "type": "rightAligned"},
    {"field": "km_per_kwh", "headerName": "km/kWh", "width": 100, "type": "rightAligned"},
]


def create_history_grid(show_dealer: bool) -> dag.AgGrid:
    """The history grid; a dealer's has no dealer column (every row would name itself)."""
    columns = [dict(c, minWidth=c["width"]) for c in COLUMNS if show_dealer or c["field"] != "dealer"]
    return dag.AgGrid(
        id="trips-grid", rowModelType="infinite", getRowId="params.data.id",
        # Fill a wide screen; below the columns' minimum widths the grid scrolls sideways in its card.
        columnDefs=columns, columnSize="responsiveSizeToFit",
        defaultColDef={"sortable": True, "resizable": True, "suppressHeaderMenuButton": True},
        dashGridOptions={"theme": {"function": GRID_THEME}, "cacheBlockSize": BLOCK, "maxBlocksInCache": 20,
                         "infiniteInitialRowCount": 1, "rowBuffer": 0, "animateRows": False,
                         "suppressMultiSort": True},
        className="trips-grid", style={"height": "100%", "width": "100%"},
    )


def history_rows(rows: list[dict]) -> list[dict]:
    """Rows as the grid shows them; ``device_id`` is for the vehicle's link."""
    return [{
        "id": r["id"], "device_id": r["device_id"], "vehicle_number": r["vehicle_number"] or r["device_id"],
        "battery_serial": r["battery_serial"] or "—", "dealer": r["dealer"] or "—",
        "day": f"{r['day']:%a %d %b %Y}", "start": ist(r["start_time"], "%d %b %H:%M"),
        "end": ist(r["end_time"], "%d %b %H:%M"), "distance_km": number(r["distance_km"]),
        "energy_kwh": number(r["energy_kwh"], 2), "km_per_kwh": number(r["km_per_kwh"]),
    } for r in rows]


EXPORT_COLUMNS = ["Vehicle", "Device", "Battery serial", "Dealer code", "Dealer", "Day (IST)", "Start (IST)",
                  "End (IST)", "Distance km", "Energy kWh", "km per kWh"]


def history_frame(rows: list[dict]) -> pd.DataFrame:
    """The history as a file: every matching trip, numbers as numbers, times in IST."""
    return pd.DataFrame([[
        r["vehicle_number"], r["device_id"], r["battery_serial"], r["dealer_code"], r["dealer"], r["day"],
        ist_naive(r["start_time"]), ist_naive(r["end_time"]), r["distance_km"], r["energy_kwh"], r["km_per_kwh"],
    ] for r in rows], columns=EXPORT_COLUMNS)


def history_count(totals: dict, limit: int) -> str:
    n = int(totals["trips"])
    text = (f"{n:,} trip{'s' if n != 1 else ''} · {km(totals['km'])} · {number(totals['kwh'], 0)} kWh · "
            f"{int(totals['batteries']):,} batter{'y' if totals['batteries'] == 1 else 'ies'}")
    return text + (f" (the export holds the first {limit:,})" if n > limit else "")


def history_empty(problem: bool = False):
    if problem:
        return create_empty_state("No trips shown", "Correct the filters: the message above says what is wrong.")
    return create_empty_state("No trips match", "Widen the dates or clear the search. Trips are summarised once a "
                                                "day, after midnight IST.")
