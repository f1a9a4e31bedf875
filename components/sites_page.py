"""The sites page (/sites): filters, the locations grid (a card per site with its batteries' health,
its equipment and the maintenance due), and for engineers and admins the new-site form and the
import of sites and equipment. Also the site form itself, which the site page reuses for edits.
Pure layout: pages/sites.py reads and writes through data/."""
from __future__ import annotations

import pandas as pd
from dash import dcc, html

from components.empty import create_empty_state
from components.export import create_export_buttons
from components.formats import count
from data.sites import CLIMATE_ZONES, KINDS
STATUS_WORDS = {"ok": "healthy", "warning": "warning", "critical": "critical", "offline": "offline"}
SITE_FIELDS = (("code", "Code"), ("name", "Name"), ("kind", "Kind"), ("dealer_code", "Dealer"), ("city", "City"),
               ("state", "State"), ("address", "Address"), ("climate_zone", "Climate zone"),
               ("latitude", "Latitude"), ("longitude", "Longitude"))
CARDS_SHOWN = 60


def options(words: dict[str, str]) -> list[dict]:
    return [{"label": label, "value": value} for value, label in words.items()]


def create_site_filters(dealers: list[dict], show_dealer: bool) -> html.Div:
    return html.Div(className="filter-bar sites-filters", children=[
        dcc.Input(id="sites-text", type="text", placeholder="Site, city or address", debounce=True, maxLength=60,
                  className="filter-input sites-search"),
        dcc.Dropdown(id="sites-dealer", options=[{"label": d["name"], "value": d["code"]} for d in dealers],
                     placeholder="All dealers", className="filter", style=None if show_dealer else {"display": "none"}),
        dcc.Dropdown(id="sites-kind", options=options(KINDS), placeholder="Every kind of site", className="filter"),
        dcc.Dropdown(id="sites-zone", options=options(CLIMATE_ZONES), placeholder="Every climate zone",
                     className="filter"),
    ])


# -- the locations grid --------------------------------------------------------------------------------
def _bar(site: dict) -> html.Div:
    total = site["batteries"] or 0
    segments = [html.Span(className=f"site-bar-{s}", style={"width": f"{100 * site[s] / total:.2f}%"},
                          title=f"{site[s]} {STATUS_WORDS[s]}") for s in ("ok", "warning", "critical", "offline")
                if total and site[s]]
    return html.Div(segments or [html.Span(className="site-bar-none", style={"width": "100%"})], className="site-bar")


def _legend(site: dict) -> html.Div:
    parts = [html.Span(f"{site[s]} {STATUS_WORDS[s]}", className=f"site-legend-{s}")
             for s in ("ok", "warning", "critical", "offline") if site[s]]
    return html.Div(parts or [html.Span("no batteries based here")], className="site-legend")


def _upkeep(site: dict) -> html.Div:
    words = [f"{site['equipment']} equipment"]
    if site["faulty"]:
        words.append(html.Span(f"{site['faulty']} faulty", className="site-alarm"))
    if site["overdue"]:
        words.append(html.Span(f"{site['overdue']} service overdue", className="site-alarm"))
    if site["due_soon"]:
        words.append(html.Span(f"{site['due_soon']} due within 30 days", className="site-due"))
    out = []
    for w in words:
        out += [w, " · "]
    return html.Div(out[:-1], className="site-upkeep")


def create_site_card(site: dict) -> html.Div:
    worst = "critical" if site["critical"] else "warning" if site["warning"] or site["faulty"] or site["overdue"] else "ok"
    soh = "—" if site["avg_soh"] is None else f"{site['avg_soh']:.1f} %"
    return html.Div(className=f"site-card site-card-{worst}", id=f"site-card-{site['code']}", children=[
        html.Div(className="site-card-head", children=[
            dcc.Link(site["name"], href=f"/sites/{site['code']}", className="site-card-name"),
            html.Span(KINDS.get(site["kind"], site["kind"]), className=f"status-pill site-kind site-kind-{site['kind']}")]),
        html.Div(f"{site['city']}{', ' + site['state'] if site['state'] else ''} · {site['dealer']} · "
                 f"{CLIMATE_ZONES.get(site['climate_zone'], site['climate_zone'])}", className="site-card-where"),
        html.Div(className="site-card-figures", children=[
            html.Div([html.Div(count(site["batteries"]), className="site-card-number"),
                      html.Div("batteries", className="site-card-label")]),
            html.Div([html.Div(soh, className="site-card-number"), html.Div("avg SOH", className="site-card-label")]),
        ]),
        _bar(site), _legend(site), _upkeep(site),
    ])


def create_site_cards(rows: list[dict], filtered: bool) -> list:
    if not rows:
        return [create_empty_state("No sites match" if filtered else "No sites yet",
                                   "Clear the filters." if filtered else
                                   "Engineers and admins add sites below, or import them from a file.")]
    note = (html.P(f"The {CARDS_SHOWN} sites that need attention most, of {len(rows):,}: filter to find the others; "
                   "the export has them all.", className="table-note") if len(rows) > CARDS_SHOWN else None)
    return [html.Div([create_site_card(r) for r in rows[:CARDS_SHOWN]], className="site-cards"), note]


def locations_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{
        "Site": r["code"], "Name": r["name"], "Kind": KINDS.get(r["kind"], r["kind"]), "Dealer code": r["dealer_code"],
        "Dealer": r["dealer"], "City": r["city"], "State": r["state"], "Address": r["address"],
        "Climate zone": CLIMATE_ZONES.get(r["climate_zone"], r["climate_zone"]), "Latitude": r["latitude"],
        "Longitude": r["longitude"], "Batteries": r["batteries"], "Healthy": r["ok"], "Warning": r["warning"],
        "Critical": r["critical"], "Offline": r["offline"],
        "Avg SOH (%)": None if r["avg_soh"] is None else round(float(r["avg_soh"]), 1),
        "Equipment": r["equipment"], "Faulty": r["faulty"], "Service overdue": r["overdue"],
        "Service due in 30 days": r["due_soon"],
    } for r in rows], columns=["Site", "Name", "Kind", "Dealer code", "Dealer", "City", "State", "Address",
                               "Climate zone", "Latitude", "Longitude", "Batteries", "Healthy", "Warning", "Critical",
                               "Offline", "Avg SOH (%)", "Equipment", "Faulty", "Service overdue",
                               "Service due in 30 days"])


# -- the site form (new site here; edits on the site page) -----------------------------------------------
def form_field(prefix: str, name: str, label: str, control) -> html.Label:
    return html.Label(className="form-field", children=[
        html.Span(label, className="form-label"), control,
        html.Span(id=f"{prefix}-{name}-error", className="field-error", role="alert")])


def create_site_form(prefix: str, dealers: list[dict], site: dict | None = None) -> html.Div:
    """Fields ``{prefix}-{name}`` with their errors; a new site's code is typed, an existing one's is fixed."""
    site = site or {}

    def box(name, **kw):
        value = site.get(name)
        return dcc.Input(id=f"{prefix}-{name}", type="text", className="form-input", value=value, **kw)

    controls = {
        "code": box("code", maxLength=32, placeholder="LKO01-HUB2", disabled=bool(site)),
        "name": box("name", maxLength=100), "city": box("city", maxLength=100), "state": box("state", maxLength=100),
        "address": box("address", maxLength=300),
        "kind": dcc.Dropdown(id=f"{prefix}-kind", options=options(KINDS), value=site.get("kind"), clearable=False,
                             className="filter form-control"),
        "dealer_code": dcc.Dropdown(id=f"{prefix}-dealer_code", value=site.get("dealer_code"), clearable=False,
                                    options=[{"label": f"{d['name']} ({d['code']})", "value": d["code"]}
                                             for d in dealers], className="filter form-control"),
        "climate_zone": dcc.Dropdown(id=f"{prefix}-climate_zone", options=options(CLIMATE_ZONES),
                                     value=site.get("climate_zone"), clearable=False, className="filter form-control"),
        "latitude": dcc.Input(id=f"{prefix}-latitude", type="text", inputMode="decimal", className="form-input",
                              value=None if site.get("latitude") is None else str(site["latitude"]),
                              placeholder="26.8467"),
        "longitude": dcc.Input(id=f"{prefix}-longitude", type="text", inputMode="decimal", className="form-input",
                               value=None if site.get("longitude") is None else str(site["longitude"]),
                               placeholder="80.9462"),
    }
    return html.Div(className="form-grid", children=[form_field(prefix, n, label, controls[n])
                                                     for n, label in SITE_FIELDS])


def create_new_site_panel(dealers: list[dict]) -> html.Details:
    return html.Details(className="panel sites-new", id="sites-new-panel", children=[
        html.Summary(html.H2("Add a site", className="panel-title")),
        html.P("A showroom, charging hub or depot of one dealer. Position in decimal degrees; the climate zone is "
               "the National Building Code's.", className="panel-hint"),
        create_site_form("site-new", dealers),
        html.Div(className="form-actions", children=[
            html.Button("Add the site", id="site-new-save", n_clicks=0, className="action-button")]),
        html.Div(id="site-new-message", role="status", className="form-message"),
    ])


def create_site_import_panel() -> html.Div:
    return html.Div(className="panel", id="sites-import-panel", children=[
        html.Div(className="panel-head", children=[
            html.H2("Import sites or equipment", className="panel-title"),
            html.Div(className="link-row", children=[
                html.A("Sites template (CSV)", href="/download/sites-template.csv", className="link-button",
                       id="sites-template-link"),
                html.A("Equipment template (CSV)", href="/download/equipment-template.csv", className="link-button",
                       id="equipment-template-link")]),
        ]),
        html.P("A CSV or XLSX file with the template's columns: import sites first, then the equipment that stands "
               "at them. You see what would change first; then the valid rows are applied and every refused row is "
               "listed with its line and reason. Importing the same file again changes nothing.",
               className="panel-hint"),
        dcc.RadioItems(id="sites-import-kind", options=[{"label": " Sites", "value": "sites"},
                                                        {"label": " Equipment", "value": "equipment"}],
                       value="sites", inline=True, className="radio-row"),
        dcc.Upload(id="sites-upload", className="upload-box", max_size=-1, multiple=False,
                   children=html.Div(["Drop a file here or ", html.Span("choose one", className="upload-link")])),
        html.Div(id="sites-import-preview"),
        html.Button("Apply the valid rows", id="sites-import-apply", n_clicks=0, className="action-button",
                    disabled=True),
    ])


def create_sites_layout(dealers: list[dict], show_dealer: bool, editor: bool) -> list:
    return [
        create_site_filters(dealers, show_dealer),
        html.Div(className="panel", children=[
            html.Div(className="panel-head", children=[
                html.Div(id="sites-count", className="panel-title"), create_export_buttons("sites")]),
            html.P("Each site's batteries by health (healthy, warning, critical, offline), its equipment and the "
                   "service that is due. Worst first; open a site for its batteries and equipment.",
                   className="panel-hint"),
            html.Div(id="sites-cards"),
        ]),
        create_new_site_panel(dealers) if editor else None,
        create_site_import_panel() if editor else None,
    ]
