"""The devices page (/devices): filters, the server-paged grid, a device's panel (its mapping form
for engineers and admins, facts for everyone else, its history) and the bulk import. Pure layout:
pages/devices.py reads and writes through data/."""
from __future__ import annotations

import dash_ag_grid as dag
import pandas as pd
from dash import dcc, html

from components.alerts_page import GRID_THEME
from components.audit_page import changed_values
from components.empty import create_empty_state
from components.export import create_export_buttons
from components.formats import duration, ist, ist_naive, share
from components.health_page import create_data_table

BLOCK = 100
COLUMNS = [
    {"field": "device_id", "headerName": "Device", "width": 150, "pinned": "left"},
    {"field": "battery_serial", "headerName": "Battery serial", "width": 140},
    {"field": "model", "headerName": "Model", "width": 130},
    {"field": "vehicle_number", "headerName": "Vehicle", "width": 120},
    {"field": "dealer", "headerName": "Dealer", "width": 170},
    {"field": "customer_name", "headerName": "Customer", "width": 150},
    {"field": "city", "headerName": "City", "width": 110},
    {"field": "site", "headerName": "Site", "width": 160},
    {"field": "activated_at", "headerName": "Activated (IST)", "width": 130},
    {"field": "is_active", "headerName": "Active", "width": 90},
    {"field": "last_seen", "headerName": "Last seen (IST)", "width": 140},
    {"field": "complete_24h", "headerName": "Data 24 h", "width": 100, "sortable": False,
     "headerTooltip": "Share of the expected readings (one per 30 s) received in the last 24 hours"},
    {"field": "complete_7d", "headerName": "Data 7 d", "width": 95, "sortable": False},
    {"field": "longest_gap", "headerName": "Longest gap 24 h", "width": 140, "sortable": False},
]
MAPPING_FIELDS = (("battery_serial", "Battery serial"), ("vehicle_number", "Vehicle number"),
                  ("dealer_code", "Dealer"), ("customer_name", "Customer"), ("customer_phone", "Customer phone"),
                  ("city", "City"), ("site_code", "Site"))


def create_device_filters(dealers: list[dict], show_dealer: bool) -> html.Div:
    return html.Div(className="filter-bar devices-filters", children=[
        dcc.Input(id="devices-text", type="text", placeholder="Device, serial, vehicle, customer or city",
                  debounce=True, maxLength=60, className="filter-input devices-search"),
        dcc.Dropdown(id="devices-dealer", options=[{"label": d["name"], "value": d["code"]} for d in dealers],
                     placeholder="All dealers", className="filter",
                     style=None if show_dealer else {"display": "none"}),
        dcc.Dropdown(id="devices-active", options=[{"label": "Active", "value": "active"},
                                                   {"label": "Inactive", "value": "inactive"}],
                     placeholder="Active and inactive", className="filter"),
    ])


def create_device_grid() -> dag.AgGrid:
    return dag.AgGrid(
        id="devices-grid", rowModelType="infinite", getRowId="params.data.device_id",
        columnDefs=[dict(c, minWidth=c["width"]) for c in COLUMNS], columnSize="responsiveSizeToFit",
        defaultColDef={"sortable": True, "resizable": True, "suppressHeaderMenuButton": True},
        dashGridOptions={"theme": {"function": GRID_THEME}, "cacheBlockSize": BLOCK, "maxBlocksInCache": 20,
                         "infiniteInitialRowCount": 1, "rowBuffer": 0, "animateRows": False,
                         "suppressMultiSort": True, "tooltipShowDelay": 300},
        className="devices-grid", style={"height": "100%", "width": "100%"},
    )


def create_import_panel() -> html.Div:
    return html.Div(className="panel", id="devices-import-panel", children=[
        html.Div(className="panel-head", children=[
            html.H2("Import device mappings", className="panel-title"),
            html.A("Template (CSV)", href="/download/devices-template.csv", className="link-button",
                   id="devices-template-link"),
        ]),
        html.P("A CSV or XLSX file with the template's columns. You see what would change first; then the valid "
               "rows are applied and every refused row is listed with its line and reason. Importing the same file "
               "again changes nothing.", className="panel-hint"),
        dcc.Upload(id="devices-upload", className="upload-box", max_size=-1, multiple=False,
                   children=html.Div(["Drop a file here or ", html.Span("choose one", className="upload-link")])),
        html.Div(id="devices-import-preview"),
        html.Button("Apply the valid rows", id="devices-import-apply", n_clicks=0, className="action-button",
                    disabled=True),
    ])


def create_devices_layout(dealers: list[dict], show_dealer: bool, editor: bool, sites: list[dict]) -> list:
    return [
        create_device_filters(dealers, show_dealer),
        html.Div(className="panel devices-table-panel", children=[
            html.Div(className="panel-head", children=[
                html.Div(id="devices-count", className="panel-title"), create_export_buttons("devices")]),
            html.Div(className="devices-grid-box", children=create_device_grid()),
            html.P("Click a device to see its details and history" + (" and change its mapping." if editor else "."),
                   className="panel-hint"),
        ]),
        create_device_panel(dealers, editor, sites),
        create_import_panel() if editor else None,
    ]


# -- values as shown ---------------------------------------------------------------------------------
def gap_words(seconds) -> str:
    return duration(seconds, none="no data in 24 h")


def grid_rows(rows: list[dict]) -> list[dict]:
    return [{
        "device_id": r["device_id"], "battery_serial": r["battery_serial"] or "—", "model": r["model"] or "—",
        "vehicle_number": r["vehicle_number"] or "—", "dealer": r["dealer"] or "—",
        "customer_name": r["customer_name"] or "—", "city": r["city"] or "—", "site": r["site"] or "—",
        "activated_at": ist(r["activated_at"], "%d %b %Y"), "is_active": "yes" if r["is_active"] else "no",
        "last_seen": ist(r["last_seen"]), "complete_24h": share(r.get("complete_24h")),
        "complete_7d": share(r.get("complete_7d")), "longest_gap": gap_words(r.get("longest_gap_s")),
    } for r in rows]


def export_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{
        "Device": r["device_id"], "Battery serial": r["battery_serial"], "Model": r["model"],
        "Vehicle": r["vehicle_number"], "Dealer code": r["dealer_code"], "Dealer": r["dealer"],
        "Customer": r["customer_name"], "Customer phone": r["customer_phone"], "City": r["city"],
        "Site code": r["site_code"], "Site": r["site"],
        "Activated (IST)": ist_naive(r["activated_at"]), "Active": r["is_active"],
        "Last seen (IST)": ist_naive(r["last_seen"]),
        "Data 24 h (share)": None if r.get("complete_24h") is None else round(float(r["complete_24h"]), 3),
        "Data 7 d (share)": None if r.get("complete_7d") is None else round(float(r["complete_7d"]), 3),
    } for r in rows], columns=["Device", "Battery serial", "Model", "Vehicle", "Dealer code", "Dealer", "Customer",
                               "Customer phone", "City", "Site code", "Site", "Activated (IST)", "Active", "Last seen (IST)",
                               "Data 24 h (share)", "Data 7 d (share)"])


# -- one device ---------------------------------------------------------------------------------------
def _field(name: str, label: str, control) -> html.Label:
    return html.Label(className="form-field", children=[
        html.Span(label, className="form-label"), control,
        html.Span(id=f"device-{name}-error", className="field-error", role="alert")])


def create_device_panel(dealers: list[dict], editor: bool, sites: list[dict]) -> html.Div:
    """Filled when a row is clicked. Everyone sees the mapping; only editors get enabled fields and
    the buttons (rendered by the server with the device, so other roles never receive them)."""
    def box(name):
        return dcc.Input(id=f"device-{name}", type="text", className="form-input", maxLength=100, disabled=not editor)
    controls = {name: box(name) for name, _ in MAPPING_FIELDS if name not in ("dealer_code", "site_code")}
    controls["site_code"] = dcc.Dropdown(id="device-site_code", options=site_options(sites), placeholder="No site",
                                         disabled=not editor, className="filter form-control")
    controls["dealer_code"] = dcc.Dropdown(
        id="device-dealer_code", options=[{"label": f"{d['name']} ({d['code']})", "value": d["code"]} for d in dealers],
        clearable=False, disabled=not editor, className="filter form-control")
    return html.Div(className="panel devices-detail", id="devices-detail", children=[
        html.Div(id="device-head", children=create_empty_state("No device chosen", "Click a row of the table above.")),
        html.Div(id="device-body", className="device-body hidden", children=[
            html.Div(className="form-grid", children=[_field(n, label, controls[n]) for n, label in MAPPING_FIELDS]),
            html.Div(id="device-actions", className="form-actions"),
            html.Div(id="device-message", role="status", className="form-message"),
            html.H3("History", className="panel-subtitle"),
            html.Div(id="device-history"),
        ]),
    ])


def site_options(sites: list[dict]) -> list[dict]:
    return [{"label": f"{s['name']} ({s['code']})", "value": s["code"]} for s in sites]


def create_device_head(row: dict) -> html.Div:
    state = "active" if row["is_active"] else "inactive"
    return html.Div(className="panel-head", children=[
        html.Div(className="device-title-row", children=[
            html.H2(f"Device {row['device_id']}", className="panel-title", id="device-title"),
            html.Span(state, className=f"status-pill status-{state}", id="device-state")]),
        dcc.Link("Battery page", href=f"/battery/{row['device_id']}", className="link-button"),
    ])


def create_device_actions(row: dict) -> list:
    return [html.Button("Save mapping", id="device-save", n_clicks=0, className="action-button"),
            html.Button("Deactivate" if row["is_active"] else "Activate", id="device-toggle", n_clicks=0,
                        className="action-button secondary" if row["is_active"] else "action-button")]


def create_history_table(rows: list[dict]) -> html.Div:
    if not rows:
        return html.P("No change since the device was registered.", className="panel-hint")
    body = [[ist(r["at"]), r["actor"], r["action"].replace("device.", ""), changed_values(r["before"]), changed_values(r["after"])]
            for r in rows]
    return create_data_table("device-history-table", ["When (IST)", "Who", "What", "Before", "After"], body, len(rows))


def field_errors(errors: dict[str, str]) -> list[str]:
    return [errors.get(name, "") for name, _ in MAPPING_FIELDS]


# -- import ---------------------------------------------------------------------------------------------
STATUS_WORDS = {"new": "new", "changed": "changed", "unchanged": "unchanged", "error": "refused"}


def create_import_table(rows: list, summary: str, table_id: str, key: str = "Device") -> html.Div:
    """An import's report: each row's line, what it names (``key``), the result and why."""
    shown = [[r.line, r.key or "—", html.Span(STATUS_WORDS[r.status], className=f"import-{r.status}"),
              r.message] for r in rows]
    return html.Div([html.P(summary, className="import-summary"),
                     create_data_table(table_id, ["Line", key, "Result", "Detail"], shown[:500], len(shown))])


def import_error(message: str) -> html.P:
    return html.P(message, className="form-error")
