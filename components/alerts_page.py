"""Pieces of the alerts page: the filters, the counts, the server-paged table and its file.

Pure: rows in, components out. The table is dash-ag-grid's infinite row model: the grid asks for
one block of rows at a time (sorted by one of ``data.alert_views.SORTS``) and the page's callback
answers with that block and the total count, so 100,000 alerts never travel to the browser.
"""
from __future__ import annotations

import dash_ag_grid as dag
import pandas as pd
from dash import dcc, html

from components import theme
from components.alert_detail import ist, type_label, value_vs_threshold
from ingest.readings import IST

SEVERITIES = ("critical", "warning", "info")
STATUSES = ("open", "acknowledged", "resolved")
DEFAULT_STATUSES = ["open", "acknowledged"]
# alert type -> the unit of its value and threshold (data.alert_views.METRIC names the field)
TYPE_UNITS = {"low_soc": "%", "deep_discharge": "%", "high_temp": "°C", "soh_degradation": "%", "overcurrent": "A",
              "overvoltage": "V", "undervoltage": "V", "rapid_soh_drop": "%", "excessive_cycles": "",
              "no_communication": "min", "feed_silence": "min",
              "charging_loss": "DC/AC", "meter_mismatch": "DC/AC"}
BLOCK = 100  # rows per request of the grid


def unit_of(alert_type: str) -> str:
    return TYPE_UNITS.get(alert_type, "")


def _dropdown(id_: str, placeholder: str, options, value=None, multi: bool = True) -> dcc.Dropdown:
    return dcc.Dropdown(id=id_, placeholder=placeholder, options=options, value=value, multi=multi, clearable=True,
                        className="filter alerts-filter")


def create_alert_filters(dealers: list[dict], cities: list[str], show_dealer: bool,
                         alert_types: tuple[str, ...]) -> html.Div:
    """Severity, type, status (open and acknowledged to start with), dealer (whole-fleet roles only:
    a dealer never sees the control), city, IST days and a vehicle search."""
    # A dealer's page keeps the control's id (the callbacks have one shape) but neither shows nor fills it.
    dealer = html.Div(_dropdown("alerts-dealer", "All dealers",
                                [{"label": d["name"], "value": d["id"]} for d in dealers] if show_dealer else [],
                                multi=False), hidden=not show_dealer, className="filter-wrap")
    return html.Div(className="filter-bar alerts-filters", children=[
        _dropdown("alerts-severity", "Any severity", [{"label": s.title(), "value": s} for s in SEVERITIES]),
        _dropdown("alerts-type", "Any type", [{"label": type_label(t), "value": t} for t in alert_types]),
        _dropdown("alerts-status", "Any status", [{"label": s.title(), "value": s} for s in STATUSES],
                  value=list(DEFAULT_STATUSES)),
        dealer,
        _dropdown("alerts-city", "All cities", cities, multi=False),
        dcc.DatePickerRange(id="alerts-dates", display_format="DD MMM YYYY", clearable=True,
                            start_date_placeholder_text="From (IST)", end_date_placeholder_text="To (IST)",
                            className="alerts-dates"),
        dcc.Input(id="alerts-vehicle", type="search", placeholder="Vehicle or device…", debounce=True,
                  className="alerts-vehicle", maxLength=30, autoComplete="off"),
    ])


def create_summary(counts: dict[str, dict[str, int]]) -> html.Div:
    """Counts by severity and by status for the filter in force, one card each."""
    by_status = {st: sum(counts[s][st] for s in counts) for st in STATUSES}
    cards = [html.Div(className=f"count-card count-{s}", id=f"alerts-count-{s}", children=[
        html.Div(s.title(), className="count-title"),
        html.Div(f"{sum(counts[s].values()):,}", className="count-value"),
        html.Div(" · ".join(f"{counts[s][st]:,} {st}" for st in STATUSES if counts[s][st]) or "none",
                 className="count-sub"),
    ]) for s in SEVERITIES]
    cards += [html.Div(className=f"count-card count-status count-{st}", id=f"alerts-count-{st}", children=[
        html.Div(st.title(), className="count-title"),
        html.Div(f"{by_status[st]:,}", className="count-value"),
    ]) for st in STATUSES]
    return html.Div(cards, className="count-row")


COLUMNS = [
    # field = the SORTS name the server sorts by; the value is already formatted for people
    dict(field="severity", headerName="Severity", width=110, cellRenderer="AlertSeverity"),
    dict(field="vehicle_number", headerName="Vehicle", width=130),
    dict(field="alert_type", headerName="Type", width=160),
    dict(field="dealer", headerName="Dealer", width=170),
    dict(field="city", headerName="City", width=100),
    dict(field="reading_value", headerName="Value / threshold", width=150, sortable=False),
    dict(field="first_seen_at", headerName="Opened (IST)", width=135),
    dict(field="last_seen_at", headerName="Last seen (IST)", width=150, sort="desc"),
    dict(field="occurrence_count", headerName="Repeats", width=95, type="rightAligned"),
    dict(field="status", headerName="Status", width=135, cellRenderer="AlertStatus"),
    dict(field="owner", headerName="Owner", width=110),
]
GRID_THEME = ("themeQuartz.withParams({"
              f"backgroundColor: '{theme.PANEL}', foregroundColor: '{theme.TEXT}', accentColor: '{theme.ACCENT}', "
              f"headerBackgroundColor: '#1a2540', borderColor: '{theme.GRID}', oddRowBackgroundColor: '#152036', "
              "browserColorScheme: 'dark', fontSize: 14, headerFontSize: 13, spacing: 6})")


def create_alert_grid(selectable: bool) -> dag.AgGrid:
    """The table. ``selectable``: checkboxes for "Acknowledge selected" (roles that may acknowledge)."""
    options = {
        "theme": {"function": GRID_THEME},
        "cacheBlockSize": BLOCK, "maxBlocksInCache": 20, "infiniteInitialRowCount": 1, "rowBuffer": 0,
        "animateRows": False, "suppressMultiSort": True,
    }
    if selectable:
        options["rowSelection"] = {"mode": "multiRow", "checkboxes": True, "headerCheckbox": False,
                                   "enableClickSelection": False}
    return dag.AgGrid(
        id="alerts-grid", rowModelType="infinite", getRowId="params.data.id",
        # Fill a wide screen; below the columns' minimum widths the grid scrolls sideways in its card.
        columnDefs=[dict(c, minWidth=c["width"]) for c in COLUMNS], columnSize="responsiveSizeToFit",
        defaultColDef={"sortable": True, "resizable": True, "suppressHeaderMenuButton": True},
        dashGridOptions=options, className="alerts-grid", style={"height": "100%", "width": "100%"},
    )


def grid_rows(alerts: list[dict]) -> list[dict]:
    """Rows as the grid shows them (times in IST); ``id`` names the row for selection and the detail."""
    return [{
        "id": a["id"], "severity": a["severity"], "alert_type": type_label(a["alert_type"]),
        "vehicle_number": a.get("vehicle_number") or a.get("device_id") or "Whole fleet",
        "dealer": a.get("dealer") or "—", "city": a.get("city") or "—",
        "reading_value": value_vs_threshold(a, unit_of(a["alert_type"])),
        "first_seen_at": ist(a["first_seen_at"]), "last_seen_at": ist(a["last_seen_at"]),
        "occurrence_count": a["occurrence_count"], "status": a["status"], "owner": a.get("owner") or "—",
    } for a in alerts]


EXPORT_COLUMNS = ["Alert", "Severity", "Type", "Vehicle", "Device", "Dealer", "City", "Value", "Threshold", "Unit",
                  "Opened (IST)", "Last seen (IST)", "Resolved (IST)", "Repeats", "Status", "Owner", "Message"]


def _naive_ist(t):
    return t.astimezone(IST).replace(tzinfo=None) if t is not None else None


def export_frame(alerts: list[dict]) -> pd.DataFrame:
    """The table as a file: every matching alert, numbers as numbers, times in IST."""
    return pd.DataFrame([[
        a["id"], a["severity"], type_label(a["alert_type"]), a.get("vehicle_number"), a.get("device_id"),
        a.get("dealer"), a.get("city"), a.get("reading_value"), a.get("threshold_value"), unit_of(a["alert_type"]),
        _naive_ist(a["first_seen_at"]), _naive_ist(a["last_seen_at"]), _naive_ist(a.get("resolved_at")),
        a["occurrence_count"], a["status"], a.get("owner"), a.get("message"),
    ] for a in alerts], columns=EXPORT_COLUMNS)

