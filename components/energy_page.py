"""The energy page's parts: the period picker, the cards, the efficiency-over-time figure, the ranking and
unattributed-meter tables, the charging-session grid and filters, and the files of each table.

Pure: frames and dicts in (from data.energy), components out; nothing here runs a query.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import dash_ag_grid as dag
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from components import theme
from components.alerts_page import GRID_THEME
from components.charts import READ_ONLY_MODEBAR, _layout
from components.empty import create_empty_state
from components.export import create_export_buttons
from components.formats import IST, ist, ist_naive, missing
from components.health_page import create_data_table
from components.kpi import create_kpi_card

PERIODS = {"7d": 7, "30d": 30, "90d": 90}
PERIOD_LABELS = {"7d": "7 days", "30d": "30 days", "90d": "90 days"}
DEFAULT_PERIOD = "7d"
TREND_GROUPS = {"site": "Site", "charger": "Charger", "vehicle": "Vehicle"}
RANK_GROUPS = {**TREND_GROUPS, "dealer": "Dealer"}
FLAG_CHOICES = {"all": "All sessions", "flagged": "Flagged (low or high)", "low": "Low: charger fault or leakage",
                "high": "High: meter or mapping error", "unmetered": "No meter"}
FLAG_WORDS = {"low": "Low", "high": "High"}
FLAG_TITLES = {"low": "Below the charging-loss threshold: a charger fault or leakage",
               "high": "Above 100 %: the meter or the vehicle-to-meter mapping is wrong",
               None: "No meter reading was mapped to this session"}
MAX_LINES = 8              # lines of the efficiency chart besides the fleet's: more is a tangle
OFF_SCALE = 1.25           # efficiencies above this (a mis-mapped meter reads 45x) sit on the chart's top edge
RANK_SHOWN = 500
SESSIONS_SHOWN = 1000
EXPORT_LIMIT = 100_000     # sessions in one file
MAX_VEHICLE_TEXT = 30
GRAPH_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": READ_ONLY_MODEBAR}
LINE_COLOURS = ("#f87171", "#facc15", "#38bdf8", "#f472b6", "#34d399", "#a78bfa", "#fb923c", "#94a3b8")
LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.16, xanchor="left", x=0)
UNATTRIBUTED_HINT = ("Each meter below counted energy while none of the vehicles mapped to it was charging. "
                     "Either a vehicle charges there that is missing from the meter mapping (its sessions then "
                     "show as “no meter” or far above 100 %), or something that should not be on the charger's "
                     "circuit is drawing power.")


class _IstDays:
    """``first`` to ``last`` (IST days, both included) as the instants a query bounds them by."""
    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), IST)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), IST)


@dataclass(frozen=True)
class Window(_IstDays):
    """The period picker's IST days."""
    days: int
    first: date
    last: date


@dataclass(frozen=True)
class SessionFilter(_IstDays):
    """The sessions view's filters, cleaned: the site already checked against the user's scope."""
    first: date
    last: date
    site_id: int | None = None
    flag: str | None = None
    device: str | None = None

    @property
    def narrowed(self) -> bool:
        return self.site_id is not None or self.flag is not None or self.device is not None


# -- numbers as people read them ------------------------------------------------------------------------
def number(v, digits: int = 1) -> str:
    return "—" if missing(v) else f"{float(v):,.{digits}f}"


def percent(v, digits: int = 1) -> str:
    return "—" if missing(v) else f"{float(v) * 100:,.{digits}f} %"


def rupees(v, digits: int = 0) -> str:
    """₹1,63,389: Indian digit grouping (lakhs and crores), as an Indian reader expects money."""
    if missing(v):
        return "—"
    whole, _, fraction = f"{abs(float(v)):.{digits}f}".partition(".")
    head, tail = whole[:-3], whole[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    text = ",".join(groups + [tail]) if groups else tail
    return f"{'−' if float(v) < 0 else ''}₹{text}{'.' + fraction if fraction else ''}"


def energy_value(kwh) -> list:
    """314 kWh, 12,345 kWh, 123.4 MWh: the number big, the unit small, so a card's figure stays on one line."""
    if missing(kwh):
        return ["—"]
    kwh = float(kwh)
    if kwh >= 100_000:
        return [f"{kwh / 1000:,.0f}" if kwh >= 1e6 else f"{kwh / 1000:,.1f}", html.Span(" MWh", className="kpi-unit")]
    return [f"{kwh:,.0f}" if kwh >= 100 else f"{kwh:,.1f}", html.Span(" kWh", className="kpi-unit")]


def money_value(inr) -> list:
    """₹163, ₹45,210, ₹3.2 lakh, ₹1.4 crore: an Indian reader's scale for a card's figure."""
    if missing(inr):
        return ["—"]
    inr = float(inr)
    if inr >= 1e7:
        return [f"₹{inr / 1e7:,.1f}", html.Span(" crore", className="kpi-unit")]
    if inr >= 1e5:
        return [f"₹{inr / 1e5:,.1f}", html.Span(" lakh", className="kpi-unit")]
    return [rupees(inr)]


def _rounded(v, digits: int = 2):
    return None if missing(v) else round(float(v), digits)


# -- the page's frame -----------------------------------------------------------------------------------
def create_period_picker(value: str = DEFAULT_PERIOD) -> html.Div:
    return html.Div(className="energy-period", children=[
        html.Span("Over the last", className="energy-period-label"),
        dcc.RadioItems(id="energy-period", value=value, inline=True, className="radio-row",
                       options=[{"label": f" {label}", "value": key} for key, label in PERIOD_LABELS.items()]),
    ])


def _group_picker(picker_id: str, groups: dict[str, str]) -> dcc.RadioItems:
    return dcc.RadioItems(id=picker_id, value="site", inline=True, className="radio-row energy-group",
                          options=[{"label": f" By {label.lower()}", "value": key} for key, label in groups.items()])


def create_session_filters(sites: list[dict], today: date, days: int) -> html.Div:
    """Site (the user's own, from the server), flag, vehicle text and IST days."""
    return html.Div(className="filter-bar energy-filters", children=[
        dcc.Dropdown(id="energy-site", placeholder="All sites", clearable=True, className="filter energy-site",
                     options=[{"label": f"{s['name']} ({s['code']})", "value": s["code"]} for s in sites]),
        dcc.Dropdown(id="energy-flag", value="all", clearable=False, className="filter energy-flag",
                     options=[{"label": label, "value": key} for key, label in FLAG_CHOICES.items()]),
        dcc.Input(id="energy-vehicle", type="search", debounce=True, maxLength=MAX_VEHICLE_TEXT, autoComplete="off",
                  placeholder="Vehicle, device or battery serial", className="filter-input energy-vehicle"),
        dcc.DatePickerRange(id="energy-dates", display_format="DD MMM YYYY", clearable=True,
                            start_date=today - timedelta(days=days - 1), end_date=today, max_date_allowed=today,
                            start_date_placeholder_text="From (IST)", end_date_placeholder_text="To (IST)",
                            className="energy-dates", minimum_nights=0),
    ])


def create_energy_layout(sites: list[dict], whole_fleet: bool, today: date) -> list:
    """Everything below the title; the callbacks fill the slots."""
    rank_groups = RANK_GROUPS if whole_fleet else TREND_GROUPS
    return [
        html.Div(id="energy-kpis", className="kpi-row energy-kpis"),
        html.Section(className="panel", children=[
            html.Div(className="panel-head", children=[html.H2("Efficiency over time", className="panel-title"),
                                                       _group_picker("energy-trend-group", TREND_GROUPS)]),
            html.P(id="energy-trend-note", className="panel-hint"),
            html.Div(id="energy-trend", className="energy-trend"),
        ]),
        html.Section(className="panel", children=[
            html.Div(className="panel-head", children=[html.H2("Efficiency ranking", className="panel-title"),
                                                       create_export_buttons("energy-ranking")]),
            _group_picker("energy-rank-group", rank_groups),
            html.P("Worst first. Efficiency is DC into the packs over AC at the meters, of metered sessions; the "
                   "loss is the AC that never reached a pack, at the tariff.", className="panel-hint"),
            html.Div(id="energy-ranking", className="energy-grid-slot"),
        ]),
        html.Section(className="panel", children=[
            html.Div(className="panel-head", children=[
                html.H2("Meters counting energy with no vehicle charging", className="panel-title"),
                create_export_buttons("energy-unattributed")]),
            html.P(UNATTRIBUTED_HINT, className="panel-hint energy-unattributed-hint"),
            html.Div(id="energy-unattributed", className="table-scroll"),
        ]),
        html.Section(className="panel energy-sessions-panel", children=[
            html.Div(className="panel-head", children=[html.H2("Charging sessions", className="panel-title"),
                                                       create_export_buttons("energy-sessions")]),
            create_session_filters(sites, today, PERIODS[DEFAULT_PERIOD]),
            html.Div(className="energy-sessions-status", children=[
                html.Span(id="energy-sessions-count", className="energy-count"),
                html.Span(id="energy-sessions-message", className="energy-message", role="alert"),
            ]),
            html.Div(id="energy-sessions-box", className="energy-grid-box", children=create_sessions_grid()),
            html.Div(id="energy-sessions-empty"),
            html.P("Newest first. Flagged sessions are tinted: red below the charging-loss threshold (charger fault "
                   "or leakage), amber above 100 % (meter or mapping error). Days are Indian days; the export "
                   "takes every matching session.", className="panel-hint"),
        ]),
    ]


# -- the cards ------------------------------------------------------------------------------------------
def create_energy_kpis(t: dict, tariff: float, limits: dict, days: int) -> list:
    if not t.get("sessions"):
        return [create_empty_state(f"No charging sessions in the last {days} days",
                                   "A session appears once a pack's readings show it charging; its AC energy once "
                                   "the meter readings for it have arrived.")]
    eff, low, high = t.get("efficiency"), int(t.get("low") or 0), int(t.get("high") or 0)
    metered, sessions = int(t.get("metered") or 0), int(t["sessions"])
    eff_tone = "neutral" if eff is None else "critical" if eff < limits["low"] else \
        "warning" if eff > limits["high"] else "neutral"
    return [
        create_kpi_card("energy-kpi-ac", "AC at the meters", energy_value(t.get("ac_kwh")),
                        f"{metered:,} of {sessions:,} sessions metered"),
        create_kpi_card("energy-kpi-dc", "DC into packs", energy_value(t.get("dc_kwh")), "of the metered sessions"),
        create_kpi_card("energy-kpi-efficiency", "Efficiency", percent(eff),
                        f"DC ÷ AC · loss threshold {limits['low'] * 100:g} %", tone=eff_tone),
        create_kpi_card("energy-kpi-loss", "Energy lost", energy_value(t.get("loss_kwh")),
                        "AC that never reached a pack"),
        create_kpi_card("energy-kpi-cost", "Cost of losses", money_value(t.get("loss_inr")),
                        f"at {rupees(tariff, 2)} per kWh (tariff setting)",
                        tone="warning" if (t.get("loss_inr") or 0) > 0 else "neutral"),
        create_kpi_card("energy-kpi-low", "Flagged low", f"{low:,}", "sessions: charger fault or leakage",
                        tone="critical" if low else "neutral"),
        create_kpi_card("energy-kpi-high", "Flagged high", f"{high:,}", "sessions: meter or mapping error",
                        tone="warning" if high else "neutral"),
    ]


# -- efficiency over time -------------------------------------------------------------------------------
def worst_keys(ranking: pd.DataFrame, fleet_efficiency: float | None, n: int = MAX_LINES) -> list:
    """The ``n`` groups whose efficiency is furthest from the fleet's, either way: a failing charger
    (too low) and a mis-mapped meter (far too high) both matter."""
    if ranking is None or ranking.empty:
        return []
    rated = ranking[ranking["key"].notna() & ranking["efficiency"].notna()].copy()
    centre = fleet_efficiency if fleet_efficiency is not None else float(rated["efficiency"].median())
    rated["gap"] = (rated["efficiency"].astype(float) - centre).abs()
    return plain_keys(rated.sort_values(["gap", "sessions"], ascending=[False, False]).head(n)["key"])


def overall_efficiency(ranking: pd.DataFrame) -> float | None:
    """The whole scope's DC / AC from its groups' sums (every metered session is in exactly one group)."""
    if ranking is None or ranking.empty:
        return None
    ac = float(ranking["ac_kwh"].fillna(0).astype(float).sum())
    return float(ranking["dc_kwh"].fillna(0).astype(float).sum()) / ac if ac else None


def plain_keys(keys: pd.Series) -> list:
    """Keys as the database driver takes them: Python ints (a float column when a group had no key) or text."""
    return [int(k) if isinstance(k, float) and k.is_integer() else k for k in keys.tolist()]


def fleet_daily(by_site: pd.DataFrame) -> pd.DataFrame:
    """The whole scope's efficiency per day, from the per-site days (DC = efficiency x AC per site)."""
    if by_site is None or by_site.empty:
        return pd.DataFrame(columns=["day", "efficiency", "ac_kwh"])
    f = by_site.assign(dc=by_site["efficiency"].astype(float) * by_site["ac_kwh"].astype(float))
    days = f.groupby("day", as_index=False).agg(dc=("dc", "sum"), ac_kwh=("ac_kwh", "sum"))
    days["efficiency"] = days["dc"] / days["ac_kwh"].where(days["ac_kwh"] > 0)
    return days[["day", "efficiency", "ac_kwh"]]


def _trace(days, values, name: str, colour: str, width: float) -> go.Scatter:
    values = [float(v) for v in values]
    shown = [min(v, OFF_SCALE) * 100 for v in values]
    symbols = ["triangle-up" if v > OFF_SCALE else "circle" for v in values]
    return go.Scatter(x=list(days), y=shown, name=name, mode="lines+markers", line=dict(color=colour, width=width),
                      marker=dict(size=[11 if v > OFF_SCALE else 6 for v in values], symbol=symbols),
                      customdata=[v * 100 for v in values],
                      hovertemplate="%{x|%d %b}: %{customdata:,.1f} %<extra>" + name.replace("%", "%%") + "</extra>")


def efficiency_figure(daily: pd.DataFrame, fleet: pd.DataFrame, limits: dict, fleet_name: str,
                      order: list | None = None) -> go.Figure:
    """One line per group and a thicker one for the whole scope, per IST day, with the two rule lines.
    ``order``: the groups' keys, worst first; they take the palette's boldest colours in that order."""
    fig = go.Figure()
    if fleet is not None and not fleet.empty:
        fleet = fleet[fleet["efficiency"].notna()]
        fig.add_trace(_trace(fleet["day"], fleet["efficiency"], fleet_name, theme.TEXT, 4))
    names = daily.drop_duplicates("key")[["key", "name"]].to_dict("records") if not daily.empty else []
    if order:
        rank = {k: i for i, k in enumerate(order)}
        names.sort(key=lambda g: rank.get(g["key"], len(rank)))
    for i, g in enumerate(names):
        part = daily[daily["key"] == g["key"]].sort_values("day")
        fig.add_trace(_trace(part["day"], part["efficiency"], str(g["name"]), LINE_COLOURS[i % len(LINE_COLOURS)], 2))
    values = pd.concat([daily["efficiency"] if not daily.empty else pd.Series(dtype=float),
                        fleet["efficiency"] if fleet is not None else pd.Series(dtype=float)]).dropna().astype(float)
    low_edge = min([limits["low"] - 0.05, *values.tolist()])
    high_edge = max([limits["high"] + 0.05, *[min(v, OFF_SCALE) for v in values.tolist()]])
    fig.add_hline(y=limits["low"] * 100, line=dict(color=theme.CRITICAL, dash="dash", width=1.5),
                  annotation_text=f"loss threshold {limits['low'] * 100:g} %", annotation_position="bottom left",
                  annotation_font_color="#fca5a5")
    fig.add_hline(y=limits["high"] * 100, line=dict(color=theme.WARNING, dash="dash", width=1.5),
                  annotation_text=f"{limits['high'] * 100:g} %: above is a meter error",
                  annotation_position="top left", annotation_font_color=theme.WARNING)
    day_span = (max(daily["day"]) - min(daily["day"])).days if not daily.empty else 0
    fig.update_xaxes(type="date", tickformat="%d %b", dtick=86_400_000 if day_span <= 10 else None)
    fig.update_yaxes(title_text="Efficiency %", range=[max(low_edge * 100 - 3, 0), high_edge * 100 + 4],
                     ticksuffix=" %")
    if values.gt(OFF_SCALE).any():
        fig.add_annotation(text=f"▲ above {OFF_SCALE * 100:g} %: off the scale (hover for the value)",
                           showarrow=False, xref="paper", yref="paper", x=0, y=1.02, xanchor="left",
                           yanchor="bottom", font=dict(size=12, color=theme.MUTED))
    return _layout(fig, "", False, legend=LEGEND_BELOW, hovermode="closest", margin=dict(t=28, b=40))


def trend_note(group: str, shown: int, total: int, whole_fleet: bool) -> str:
    whole, whose = ("the fleet", "the fleet's") if whole_fleet else ("all your vehicles", "your vehicles'")
    what = {"site": "sites", "charger": "chargers", "vehicle": "vehicles"}[group]
    if total > shown:
        return (f"The {shown} {what} furthest from {whose} efficiency, and {whole} (white line), per Indian day; "
                f"{total:,} {what} in all, every one in the ranking below.")
    return f"Every {what[:-1]} with metered sessions, and {whole} (white line), per Indian day."


def create_trend(figure: go.Figure | None, days: int) -> html.Div | dcc.Graph:
    if figure is None:
        return create_empty_state(f"No metered charging in the last {days} days",
                                  "Efficiency needs a session and its meter's readings.")
    return dcc.Graph(id="energy-trend-chart", figure=figure, config=GRAPH_CONFIG, className="chart energy-chart")


# -- the ranking ----------------------------------------------------------------------------------------
RANK_NAMES = {"site": "Site", "charger": "Charger (or meter)", "vehicle": "Vehicle", "dealer": "Dealer"}
_NUMBER = {"type": "rightAligned", "valueFormatter": {"function": "params.value == null ? '—' : params.value"}}


def _rank_columns(group: str) -> list[dict]:
    name = {"field": "name", "headerName": RANK_NAMES[group], "width": 190, "pinned": "left", "tooltipField": "name"}
    if group == "vehicle":
        name["cellRenderer"] = "BatteryLink"
    flagged = {"energy-cell-low": "params.data.low > 0", "energy-cell-high": "params.data.high > 0"}
    return [name] + [dict(_NUMBER, field=f, headerName=h, width=w, **extra) for f, h, w, extra in (
        ("sessions", "Sessions", 100, {}), ("metered", "Metered", 100, {}), ("ac_kwh", "AC kWh", 100, {}),
        ("dc_kwh", "DC kWh", 100, {}), ("efficiency", "Efficiency %", 120, {"cellClassRules": flagged}),
        ("low", "Low", 80, {"cellClassRules": {"energy-cell-low": "params.value > 0"}}),
        ("high", "High", 80, {"cellClassRules": {"energy-cell-high": "params.value > 0"}}),
        ("loss_kwh", "Loss kWh", 100, {}), ("loss_inr", "Loss ₹", 100, {}))]


def ranking_rows(frame: pd.DataFrame, group: str) -> list[dict]:
    return [{"id": str(r["key"]), "name": str(r["name"]), "device_id": r["key"] if group == "vehicle" else None,
             "sessions": int(r["sessions"]), "metered": int(r["metered"]), "ac_kwh": _rounded(r["ac_kwh"], 1),
             "dc_kwh": _rounded(r["dc_kwh"], 1),
             "efficiency": None if missing(r["efficiency"]) else round(float(r["efficiency"]) * 100, 1),
             "low": int(r["low"]), "high": int(r["high"]), "loss_kwh": _rounded(r["loss_kwh"], 1),
             "loss_inr": _rounded(r["loss_inr"], 0)} for r in frame.head(RANK_SHOWN).to_dict("records")]


def create_ranking(frame: pd.DataFrame, group: str, days: int) -> html.Div | dag.AgGrid:
    if frame is None or frame.empty:
        return create_empty_state(f"No charging sessions in the last {days} days")
    grid = dag.AgGrid(
        id="energy-ranking-grid", rowData=ranking_rows(frame, group), getRowId="params.data.id",
        columnDefs=[dict(c, minWidth=c["width"]) for c in _rank_columns(group)], columnSize="responsiveSizeToFit",
        defaultColDef={"sortable": True, "resizable": True, "suppressHeaderMenuButton": True},
        dashGridOptions={"theme": {"function": GRID_THEME}, "animateRows": False, "pagination": True,
                         "paginationPageSize": 15, "paginationPageSizeSelector": False, "domLayout": "autoHeight"},
        className="energy-ranking-grid", style={"width": "100%"})
    note = (html.P(f"The worst {RANK_SHOWN:,} of {len(frame):,}; the export has them all.", className="table-note")
            if len(frame) > RANK_SHOWN else None)
    return html.Div([grid, note])


def ranking_frame(frame: pd.DataFrame, group: str, tariff: float, start: date, end: date) -> pd.DataFrame:
    out = pd.DataFrame({
        "From (IST)": start, "To (IST)": end,
        **({"Device": frame["key"]} if group == "vehicle" else {}),
        RANK_NAMES[group]: frame["name"], "Sessions": frame["sessions"], "Metered sessions": frame["metered"],
        "AC kWh": frame["ac_kwh"], "DC kWh": frame["dc_kwh"], "Efficiency (DC / AC)": frame["efficiency"],
        "Flagged low": frame["low"], "Flagged high": frame["high"], "Loss kWh": frame["loss_kwh"],
        "Loss INR": frame["loss_inr"], "Tariff INR per kWh": tariff})
    return out


# -- meters with no vehicle -----------------------------------------------------------------------------
def create_unattributed_table(frame: pd.DataFrame, tariff: float, days: int) -> html.Div:
    if frame is None or frame.empty:
        return html.P(f"None in the last {days} days: every meter's energy went to a mapped vehicle's charging.",
                      className="energy-all-attributed", id="energy-unattributed-none")
    rows = [[r["meter"], r["site"], number(r["kwh_ac"]), rupees(float(r["kwh_ac"]) * tariff), f"{int(r['readings']):,}"]
            for r in frame.to_dict("records")]
    return create_data_table("energy-unattributed-table", ["Meter", "Site", "AC kWh", "At the tariff",
                                                           "Readings"], rows[:300], len(rows))


def unattributed_frame(frame: pd.DataFrame, tariff: float, start: date, end: date) -> pd.DataFrame:
    return pd.DataFrame({"From (IST)": start, "To (IST)": end, "Meter": frame["meter"], "Site": frame["site"],
                         "AC kWh": frame["kwh_ac"], "INR at the tariff": frame["kwh_ac"].astype(float) * tariff,
                         "Readings": frame["readings"], "Tariff INR per kWh": tariff},
                        columns=["From (IST)", "To (IST)", "Meter", "Site", "AC kWh", "INR at the tariff", "Readings",
                                 "Tariff INR per kWh"])


# -- the sessions ---------------------------------------------------------------------------------------
_FLAG_CELL = {"energy-cell-low": "params.data.efficiency_flag == 'low'",
              "energy-cell-high": "params.data.efficiency_flag == 'high'"}
# Wide enough for their values (the grid scrolls sideways in its card rather than cut them); the
# energy figures come first, so a flagged row's reason is on screen without scrolling.
SESSION_COLUMNS = [
    {"field": "start", "headerName": "Start (IST)", "width": 140, "sort": "desc",
     "comparator": {"function": "(a, b, nodeA, nodeB) => nodeA.data.t0 - nodeB.data.t0"}},
    {"field": "end", "headerName": "End (IST)", "width": 135,
     "comparator": {"function": "(a, b, nodeA, nodeB) => nodeA.data.t1 - nodeB.data.t1"}},
    {"field": "vehicle_number", "headerName": "Vehicle", "width": 125, "cellRenderer": "BatteryLink"},
    dict(_NUMBER, field="efficiency", headerName="Efficiency %", width=130, cellClassRules=_FLAG_CELL),
    {"field": "flag", "headerName": "Flag", "width": 100, "tooltipField": "flag_title", "cellClassRules": _FLAG_CELL},
    dict(_NUMBER, field="dc_kwh", headerName="DC kWh", width=100),
    dict(_NUMBER, field="ac_kwh", headerName="AC kWh", width=100),
    {"field": "site", "headerName": "Site", "width": 240, "tooltipField": "site"},
    {"field": "charger", "headerName": "Charger", "width": 215, "tooltipField": "charger"},
    {"field": "meter", "headerName": "Meter", "width": 245, "tooltipField": "meter"},
    {"field": "dealer", "headerName": "Dealer", "width": 190, "tooltipField": "dealer"},
    dict(_NUMBER, field="soc_start", headerName="SOC start %", width=125),
    dict(_NUMBER, field="soc_end", headerName="SOC end %", width=120),
    dict(_NUMBER, field="mean_temperature", headerName="Mean °C", width=105),
]


def create_sessions_grid() -> dag.AgGrid:
    return dag.AgGrid(
        id="energy-sessions-grid", rowData=[], getRowId="params.data.id",
        # Fill a wide screen; below the columns' minimum widths the grid scrolls sideways in its card.
        columnDefs=[dict(c, minWidth=c["width"]) for c in SESSION_COLUMNS], columnSize="responsiveSizeToFit",
        defaultColDef={"sortable": True, "resizable": True, "suppressHeaderMenuButton": True},
        dashGridOptions={"theme": {"function": GRID_THEME}, "animateRows": False, "tooltipShowDelay": 300,
                         "rowClassRules": {"energy-row-low": "params.data.efficiency_flag == 'low'",
                                           "energy-row-high": "params.data.efficiency_flag == 'high'"}},
        className="energy-sessions-grid", style={"height": "100%", "width": "100%"})


def _seconds(t) -> float:
    return 0.0 if missing(t) else pd.Timestamp(t).timestamp()


def session_rows(frame: pd.DataFrame) -> list[dict]:
    """Rows as the grid shows them; ``device_id`` is for the vehicle's link, ``t0``/``t1`` to sort by time."""
    rows = []
    for r in frame.head(SESSIONS_SHOWN).to_dict("records"):
        flag = r["efficiency_flag"] if r["efficiency_flag"] in FLAG_WORDS else None
        metered = not missing(r["ac_kwh"])
        rows.append({
            "id": f"{r['device_id']}|{_seconds(r['start_time']):.0f}", "device_id": r["device_id"],
            "t0": _seconds(r["start_time"]), "t1": _seconds(r["end_time"]),
            "start": ist(r["start_time"], "%d %b %H:%M"), "end": ist(r["end_time"], "%d %b %H:%M"),
            "vehicle_number": r["vehicle_number"] or r["device_id"], "dealer": r["dealer"] or "—",
            "site": r["site"] or "—", "charger": r["charger"] or "—", "meter": r["meter"] or "—",
            "soc_start": _rounded(r["soc_start"], 0), "soc_end": _rounded(r["soc_end"], 0),
            "dc_kwh": _rounded(r["dc_kwh"]), "ac_kwh": _rounded(r["ac_kwh"]),
            "efficiency": None if missing(r["efficiency"]) else round(float(r["efficiency"]) * 100, 1),
            "efficiency_flag": flag, "flag": FLAG_WORDS.get(flag, "" if metered else "No meter"),
            "flag_title": FLAG_TITLES[flag] if flag or not metered else None,
            "mean_temperature": _rounded(r["mean_temperature"], 1),
        })
    return rows


def sessions_count(shown: int, more: bool) -> str:
    if more:
        return f"The latest {shown:,} sessions; the export has every matching one (up to {EXPORT_LIMIT:,})."
    return f"{shown:,} session{'s' if shown != 1 else ''}"


def sessions_empty(filtered: bool):
    return create_empty_state("No charging sessions match" if filtered else "No charging sessions in these days",
                              "Widen the dates, or clear the site, flag or vehicle." if filtered
                              else "A session appears once a pack's readings show it charging.")


SESSION_FILE_COLUMNS = {"start_time": "Start (IST)", "end_time": "End (IST)", "device_id": "Device",
                        "vehicle_number": "Vehicle", "dealer": "Dealer", "site_code": "Site code", "site": "Site",
                        "charger": "Charger", "meter": "Meter", "soc_start": "SOC start %", "soc_end": "SOC end %",
                        "dc_kwh": "DC kWh", "ac_kwh": "AC kWh", "efficiency": "Efficiency",
                        "efficiency_flag": "Flag", "mean_temperature": "Mean °C", "peak_temperature": "Peak °C"}


def sessions_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The sessions as a file: times as Indian wall-clock times (the headers say IST)."""
    out = frame.reindex(columns=list(SESSION_FILE_COLUMNS)).copy()
    for column in ("start_time", "end_time"):
        out[column] = [ist_naive(t) for t in out[column]]
    return out.rename(columns=SESSION_FILE_COLUMNS)
