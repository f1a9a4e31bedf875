"""One site (/sites/<code>): where it is, its batteries by health with a status filter, its site power
(a panel only where the site reports it), its equipment with the service due, the maintenance
records, its history; for engineers and admins the site, equipment and maintenance forms. Pure
layout: pages/site.py reads and writes through data/."""
from __future__ import annotations

import dash_ag_grid as dag
import dash_leaflet as dl
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from components import theme
from components.alerts_page import GRID_THEME
from components.audit_page import changed_values
from components.charts import READ_ONLY_MODEBAR, TIME_TICKS, _layout
from components.empty import create_empty_state
from components.export import create_export_buttons
from components.fleet_map import create_base_layers
from components.formats import IST, ist, ist_naive
from components.health_page import create_data_table, day, number
from components.kpi import create_kpi_card
from components.sites_page import (CLIMATE_ZONES, KINDS, STATUS_WORDS, create_site_form, form_field, options)
from data.equipment import KINDS as EQUIPMENT_KINDS, STATUSES as EQUIPMENT_STATUSES

EQUIPMENT_FIELDS = (("serial", "Serial"), ("kind", "Kind"), ("make", "Make"), ("model", "Model"),
                    ("rating", "Rating"), ("installed_on", "Installed on"), ("status", "Status"))
MAINTENANCE_FIELDS = (("equipment", "Equipment"), ("done_on", "Done on"), ("done_by", "Done by"),
                      ("next_due", "Next due"), ("work", "Work done"))
NEW = "__new__"
BATTERY_COLUMNS = [
    {"field": "vehicle_number", "headerName": "Vehicle", "width": 130, "pinned": "left", "cellRenderer": "BatteryLink"},
    {"field": "device_id", "headerName": "Device", "width": 140},
    {"field": "battery_serial", "headerName": "Battery serial", "width": 140},
    {"field": "customer_name", "headerName": "Customer", "width": 150},
    {"field": "status", "headerName": "Status", "width": 100,
     "cellClassRules": {f"grid-status-{s}": {"function": f"params.value == '{w}'"} for s, w in STATUS_WORDS.items()}},
    {"field": "soc", "headerName": "SOC %", "width": 90, "type": "rightAligned"},
    {"field": "soh", "headerName": "SOH %", "width": 90, "type": "rightAligned"},
    {"field": "temperature", "headerName": "Temp °C", "width": 95, "type": "rightAligned"},
    {"field": "charge_cycle", "headerName": "Cycles", "width": 90, "type": "rightAligned"},
    {"field": "reading_time", "headerName": "Last reading (IST)", "width": 150},
]


def create_site_head(site: dict) -> html.Div:
    where = ", ".join(p for p in (site["address"], site["city"], site["state"]) if p)
    return html.Div(className="page-head site-head", children=[
        html.Div([
            html.H1(site["name"], className="page-title", id="site-title"),
            html.Div(className="site-head-facts", children=[
                html.Span(KINDS.get(site["kind"], site["kind"]), className=f"status-pill site-kind site-kind-{site['kind']}"),
                html.Span(site["code"], className="site-code"), html.Span(f"Dealer: {site['dealer']}"),
                html.Span(f"Climate: {CLIMATE_ZONES.get(site['climate_zone'], site['climate_zone'])}"),
                html.Span(where)]),
        ]),
        dcc.Link("All sites", href="/sites", className="link-button"),
    ])


def create_site_map(site: dict, tile_url: str, attribution: str) -> html.Div:
    if site["latitude"] is None:
        return create_empty_state("No position", "Engineers can add the site's latitude and longitude.")
    centre = [site["latitude"], site["longitude"]]
    return html.Div(className="site-map", children=dl.Map(center=centre, zoom=14, style={"height": "100%"}, children=[
        *create_base_layers(tile_url, attribution),
        dl.CircleMarker(center=centre, radius=10, color=theme.ACCENT, fillOpacity=0.9,
                        children=dl.Tooltip(site["name"]))]))


def create_site_kpis(counts: dict[str, int], avg_soh) -> list[html.Div]:
    total = sum(counts.values())
    return [
        create_kpi_card("site-kpi-batteries", "Batteries", f"{total:,}", "active, based here"),
        create_kpi_card("site-kpi-healthy", "Healthy", f"{counts['ok']:,}", "reporting, no open alert"),
        create_kpi_card("site-kpi-warning", "Warning", f"{counts['warning']:,}", "low SOC or a warning alert",
                        tone="warning" if counts["warning"] else "neutral"),
        create_kpi_card("site-kpi-critical", "Critical", f"{counts['critical']:,}", "very low SOC or a critical alert",
                        tone="critical" if counts["critical"] else "neutral"),
        create_kpi_card("site-kpi-offline", "Offline", f"{counts['offline']:,}", "silent for over 24 h"),
        create_kpi_card("site-kpi-soh", "Avg SOH", "—" if avg_soh is None else f"{avg_soh:.1f} %", "measured packs"),
    ]


def status_options(counts: dict[str, int]) -> list[dict]:
    total = sum(counts.values())
    return [{"label": f"All ({total:,})", "value": "all"}] + [
        {"label": f"{STATUS_WORDS[s].capitalize()} ({counts[s]:,})", "value": s}
        for s in ("ok", "warning", "critical", "offline")]


def create_battery_grid() -> dag.AgGrid:
    return dag.AgGrid(
        id="site-batteries-grid", columnDefs=[dict(c, minWidth=c["width"]) for c in BATTERY_COLUMNS],
        columnSize="responsiveSizeToFit", rowData=[],
        defaultColDef={"sortable": True, "resizable": True, "filter": True, "suppressHeaderMenuButton": True},
        dashGridOptions={"theme": {"function": GRID_THEME}, "animateRows": False, "pagination": True,
                         "paginationPageSize": 25, "paginationPageSizeSelector": False, "domLayout": "autoHeight",
                         "localeText": {"noRowsToShow": "No battery with that status is based here."}},
        getRowId="params.data.device_id", className="site-batteries-grid", style={"width": "100%"})


def battery_rows(rows: list[dict]) -> list[dict]:
    return [{
        "vehicle_number": r["vehicle_number"] or r["device_id"],
        "device_id": r["device_id"], "battery_serial": r["battery_serial"] or "—",
        "customer_name": r["customer_name"] or "—", "status": STATUS_WORDS.get(r["status"], r["status"]),
        "soc": number(r["soc"], 0), "soh": number(r["soh"]) if r["soh_measured"] else "not measured",
        "temperature": number(r["temperature"]), "charge_cycle": "—" if r["charge_cycle"] is None else r["charge_cycle"],
        "reading_time": ist(r["reading_time"]),
    } for r in rows]


def battery_frame(rows: list[dict], site_code: str) -> pd.DataFrame:
    return pd.DataFrame([{
        "Site": site_code, "Vehicle": r["vehicle_number"], "Device": r["device_id"], "Battery serial": r["battery_serial"],
        "Customer": r["customer_name"], "Status": STATUS_WORDS.get(r["status"], r["status"]), "SOC (%)": r["soc"],
        "SOH (%)": r["soh"] if r["soh_measured"] else None, "Temperature (°C)": r["temperature"],
        "Charge cycles": r["charge_cycle"], "Last reading (IST)": ist_naive(r["reading_time"]),
    } for r in rows], columns=["Site", "Vehicle", "Device", "Battery serial", "Customer", "Status", "SOC (%)",
                               "SOH (%)", "Temperature (°C)", "Charge cycles", "Last reading (IST)"])


# -- site power (solar, grid, load, storage) --------------------------------------------------------------
POWER_SERIES = (("solar_kw", "Solar", theme.WARNING), ("grid_kw", "Grid: import +, export −", theme.ACCENT),
                ("load_kw", "Load", theme.TEXT), ("storage_kw", "Storage: charging +, discharging −", "#a78bfa"))
DAY_SERIES = (("solar_kwh", "Solar", theme.WARNING), ("grid_import_kwh", "Grid import", theme.ACCENT),
              ("grid_export_kwh", "Grid export", "#34d399"), ("load_kwh", "Load", "#cbd5e1"))
POWER_GRAPH_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": READ_ONLY_MODEBAR}
POWER_LEGEND = dict(orientation="h", yanchor="top", y=-0.14, xanchor="left", x=0)


def _ist_wall_clock(values) -> pd.Series:
    """Indian wall-clock times without a zone: Plotly draws them as given, so the axis reads IST."""
    return pd.to_datetime(values, utc=True).dt.tz_convert(IST).dt.tz_localize(None)


def site_power_figure(frame: pd.DataFrame, hours: int) -> go.Figure:
    times = _ist_wall_clock(frame["time"])
    fig = go.Figure()
    for column, name, colour in POWER_SERIES:
        if frame[column].isna().all():
            continue
        fig.add_trace(go.Scatter(
            x=times, y=frame[column], name=name, mode="lines", line=dict(color=colour, width=2),
            fill="tozeroy" if column == "solar_kw" else None, fillcolor="rgba(250,204,21,0.12)",
            hovertemplate="%{y:,.1f} kW<extra>" + name.split(":")[0] + "</extra>"))
    fig.update_xaxes(type="date", tickformatstops=TIME_TICKS)
    fig.update_yaxes(title_text="kW", zeroline=True, zerolinecolor=theme.MUTED, zerolinewidth=1.5)
    return _layout(fig, f"Power, last {hours} hours (IST)", False, legend=POWER_LEGEND, hovermode="x unified",
                   margin=dict(b=40))


def site_energy_days_figure(frame: pd.DataFrame, days: int) -> go.Figure:
    day = _ist_wall_clock(frame["day"]).dt.normalize()
    fig = go.Figure()
    for column, name, colour in DAY_SERIES:
        fig.add_trace(go.Bar(x=day, y=frame[column].fillna(0), name=name, marker_color=colour,
                             hovertemplate="%{x|%d %b}: %{y:,.1f} kWh<extra>" + name + "</extra>"))
    fig.update_xaxes(type="date", tickformat="%d %b", dtick=86_400_000 if len(frame) <= 7 else 2 * 86_400_000)
    fig.update_yaxes(title_text="kWh", rangemode="tozero")
    return _layout(fig, f"Energy per day, last {days} days", False, barmode="group", bargap=0.25,
                   legend=POWER_LEGEND, margin=dict(b=40))


def create_site_power_panel(power: pd.DataFrame, days: pd.DataFrame, hours: int, day_count: int) -> html.Div | None:
    """Solar, grid, load and storage power over the last hours and the energy per IST day; nothing at all
    for a site that reports no site power (a showroom, a depot)."""
    if power.empty and days.empty:
        return None
    left = (dcc.Graph(id="site-power-chart", figure=site_power_figure(power, hours), config=POWER_GRAPH_CONFIG,
                      className="chart site-power-chart") if not power.empty else
            create_empty_state(f"No site power readings in the last {hours} hours",
                               "The site's inverter and meters have not reported lately."))
    right = (dcc.Graph(id="site-energy-days", figure=site_energy_days_figure(days, day_count),
                       config=POWER_GRAPH_CONFIG, className="chart site-power-chart") if not days.empty else
             create_empty_state(f"No daily energy in the last {day_count} days"))
    return html.Div(className="panel site-power-panel", children=[
        html.H2("Site power", className="panel-title"),
        html.P("Grid above zero is power drawn from the grid, below zero power exported to it; storage above zero "
               "is the stationary battery charging, below zero discharging. Today's bar is today so far.",
               className="panel-hint"),
        html.Div(className="site-power-charts", children=[left, right]),
    ])


# -- equipment and maintenance ----------------------------------------------------------------------------
def _due(r: dict):
    if r["due"] is None:
        return "—" if r["status"] != "retired" else "retired"
    return html.Span(f"{day(r['next_due'])} ({r['due']})", className=f"due-{r['due'].replace(' ', '-')}")


def create_equipment_table(rows: list[dict]) -> html.Div:
    if not rows:
        return create_empty_state("No equipment recorded", "Chargers, meters, inverters, solar arrays and stationary "
                                                           "batteries at this site appear here.")
    body = [[r["serial"], EQUIPMENT_KINDS.get(r["kind"], r["kind"]), r["make"], r["model"], r["rating"] or "—",
             day(r["installed_on"]),
             html.Span(EQUIPMENT_STATUSES.get(r["status"], r["status"]), className=f"equipment-{r['status']}"),
             day(r["last_service"]), _due(r)] for r in rows]
    return create_data_table("site-equipment-table", ["Serial", "Kind", "Make", "Model", "Rating", "Installed",
                                                      "Status", "Last service", "Next service due"], body, len(rows))


def create_due_list(rows: list[dict]) -> html.Div:
    due = [r for r in rows if r["due"] in ("overdue", "due soon")]
    if not due:
        return html.P("Nothing due in the next 30 days.", className="panel-hint", id="site-due-none")
    due.sort(key=lambda r: r["next_due"])
    return html.Ul(className="due-list", id="site-due-list", children=[
        html.Li([html.Span(f"{day(r['next_due'])}", className=f"due-{r['due'].replace(' ', '-')}"), " ",
                 f"{EQUIPMENT_KINDS.get(r['kind'], r['kind'])} {r['serial']} ({r['make']} {r['model']})",
                 html.Span(f" · {r['due']}", className="panel-hint")]) for r in due])


def equipment_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{
        "Site": r["site_code"], "Serial": r["serial"], "Kind": EQUIPMENT_KINDS.get(r["kind"], r["kind"]),
        "Make": r["make"], "Model": r["model"], "Rating": r["rating"], "Installed on": r["installed_on"],
        "Status": EQUIPMENT_STATUSES.get(r["status"], r["status"]), "Last service": r["last_service"],
        "Next service due": r["next_due"], "Due": r["due"],
    } for r in rows], columns=["Site", "Serial", "Kind", "Make", "Model", "Rating", "Installed on", "Status",
                               "Last service", "Next service due", "Due"])


def create_maintenance_table(rows: list[dict]) -> html.Div:
    if not rows:
        return create_empty_state("No maintenance recorded yet")
    body = [[day(r["done_on"]), r["serial"], EQUIPMENT_KINDS.get(r["kind"], r["kind"]), r["work"], r["done_by"],
             day(r["next_due"])] for r in rows]
    return create_data_table("site-maintenance-table", ["Done on", "Serial", "Kind", "Work done", "Done by",
                                                        "Next due"], body[:300], len(body))


def maintenance_frame(rows: list[dict], site_code: str) -> pd.DataFrame:
    return pd.DataFrame([{
        "Site": site_code, "Done on": r["done_on"], "Serial": r["serial"], "Kind": EQUIPMENT_KINDS.get(r["kind"], r["kind"]),
        "Make": r["make"], "Model": r["model"], "Work done": r["work"], "Done by": r["done_by"],
        "Next due": r["next_due"], "Recorded by": r["recorded_by"],
    } for r in rows], columns=["Site", "Done on", "Serial", "Kind", "Make", "Model", "Work done", "Done by",
                               "Next due", "Recorded by"])


def create_history_table(rows: list[dict]) -> html.Div:
    if not rows:
        return html.P("No change since the site was added.", className="panel-hint")
    body = [[ist(r["at"]), r["actor"], r["action"], r["target"], changed_values(r["before"]), changed_values(r["after"])]
            for r in rows]
    return create_data_table("site-history-table", ["When (IST)", "Who", "What", "Of", "Before", "After"], body,
                             len(body))


def equipment_options(rows: list[dict], with_new: bool) -> list[dict]:
    out = [{"label": "New equipment…", "value": NEW}] if with_new else []
    return out + [{"label": f"{EQUIPMENT_KINDS.get(r['kind'], r['kind'])} {r['serial']}", "value": r["serial"]}
                  for r in rows if r["status"] != "retired" or with_new]


def create_equipment_form() -> html.Div:
    def box(name, **kw):
        return dcc.Input(id=f"equipment-{name}", type="text", className="form-input", **kw)
    controls = {
        "serial": box("serial", maxLength=100), "make": box("make", maxLength=100), "model": box("model", maxLength=100),
        "rating": box("rating", maxLength=40, placeholder="3.3 kW AC"),
        "installed_on": dcc.Input(id="equipment-installed_on", type="date", className="form-input"),
        "kind": dcc.Dropdown(id="equipment-kind", options=options(EQUIPMENT_KINDS), clearable=False,
                             className="filter form-control"),
        "status": dcc.Dropdown(id="equipment-status", options=options(EQUIPMENT_STATUSES), value="in_service",
                               clearable=False, className="filter form-control"),
    }
    return html.Div([
        html.Label(className="form-field form-wide", children=[
            html.Span("Equipment to change", className="form-label"),
            dcc.Dropdown(id="equipment-choice", value=NEW, clearable=False, className="filter form-control")]),
        html.Div(className="form-grid", children=[form_field("equipment", n, label, controls[n])
                                                  for n, label in EQUIPMENT_FIELDS]),
        html.Div(className="form-actions", children=[
            html.Button("Save equipment", id="equipment-save", n_clicks=0, className="action-button")]),
        html.Div(id="equipment-message", role="status", className="form-message"),
    ])


def create_maintenance_form() -> html.Div:
    controls = {
        "equipment": dcc.Dropdown(id="maintenance-equipment", clearable=False, className="filter form-control",
                                  placeholder="Choose equipment"),
        "done_on": dcc.Input(id="maintenance-done_on", type="date", className="form-input"),
        "done_by": dcc.Input(id="maintenance-done_by", type="text", maxLength=100, className="form-input",
                             placeholder="Name (company)"),
        "next_due": dcc.Input(id="maintenance-next_due", type="date", className="form-input"),
        "work": dcc.Textarea(id="maintenance-work", maxLength=1000, className="form-input maintenance-work",
                             placeholder="What was done"),
    }
    return html.Div([
        html.Div(className="form-grid", children=[form_field("maintenance", n, label, controls[n])
                                                  for n, label in MAINTENANCE_FIELDS]),
        html.Div(className="form-actions", children=[
            html.Button("Record the work", id="maintenance-save", n_clicks=0, className="action-button")]),
        html.Div(id="maintenance-message", role="status", className="form-message"),
    ])


def create_panel(title: str, body_id: str, export: str | None = None, hint: str = "", extra=None) -> html.Div:
    return html.Div(className="panel", children=[
        html.Div(className="panel-head", children=[html.H2(title, className="panel-title"),
                                                   create_export_buttons(export) if export else None]),
        html.P(hint, className="panel-hint") if hint else None,
        extra,
        html.Div(id=body_id, className="table-scroll"),
    ])


def create_site_layout(site: dict, editor: bool, dealers: list[dict], tile_url: str, attribution: str) -> list:
    details = [
        html.Div(className="site-top", children=[
            html.Div(className="panel site-map-panel", children=[create_site_map(site, tile_url, attribution)]),
            html.Div(className="panel", children=[html.H2("Maintenance due", className="panel-title"),
                                                  html.Div(id="site-due")]),
        ]),
        html.Div(id="site-kpis", className="kpi-row site-kpis"),
        html.Div(id="site-power"),
        create_panel("Batteries", "site-batteries-note", "site-batteries",
                     extra=html.Div([dcc.RadioItems(id="site-status", value="all", inline=True, className="radio-row"),
                                     html.Div(create_battery_grid(), className="site-grid-box")])),
        create_panel("Equipment", "site-equipment", "site-equipment",
                     hint="Chargers, energy meters, inverters, solar arrays and stationary batteries, with their "
                          "latest service and when the next is due."),
    ]
    if editor:
        details.append(html.Details(className="panel", id="equipment-panel", children=[
            html.Summary(html.H2("Add or change equipment", className="panel-title")), create_equipment_form()]))
    details.append(create_panel("Maintenance records", "site-maintenance", "site-maintenance"))
    if editor:
        details.append(html.Details(className="panel", id="maintenance-panel", children=[
            html.Summary(html.H2("Record maintenance", className="panel-title")), create_maintenance_form()]))
        details.append(html.Details(className="panel", id="site-edit-panel", children=[
            html.Summary(html.H2("Edit the site", className="panel-title")),
            create_site_form("site-edit", dealers, site),
            html.Div(className="form-actions", children=[
                html.Button("Save the site", id="site-edit-save", n_clicks=0, className="action-button")]),
            html.Div(id="site-edit-message", role="status", className="form-message")]))
    details.append(create_panel("History", "site-history", hint="Changes to the site and its equipment, newest first."))
    return details
