"""Sites (/sites): the locations grid, a card per showroom, charging hub and depot in the user's scope
with its batteries' health, its equipment and the service that is due; for engineers and admins the
new-site form and the import of sites and equipment.

A dealer sees only its own sites, in SQL; every change checks the role on the server (data.sites,
data.site_import), whatever the browser shows or sends.
"""
from __future__ import annotations

import dash
from dash import Input, Output, State, callback, ctx, dcc, html

import config
import inputs
from auth import current_scope
from components.devices_page import create_import_table, import_error
from components.export import table_file
from components.sites_page import SITE_FIELDS, create_site_cards, create_sites_layout, locations_frame
from components.empty import create_not_found
from data import device_admin, site_import, sites
from data.db import get_db
from data.imports import ImportFileError
from pages._uploads import uploaded_file

ROLES = ("admin", "engineer", "manager", "dealer")
dash.register_page(__name__, path="/sites", name="Sites", title="Sites", nav_order=5.2, roles=ROLES)

SAVED, IMPORTED = "sites-saved", "sites-imported"
FILTERS = [Input("sites-text", "value"), Input("sites-dealer", "value"), Input("sites-kind", "value"),
           Input("sites-zone", "value")]
FILTER_STATES = [State(i.component_id, i.component_property) for i in FILTERS]
REFRESH_MS = 60_000


def layout(**_query):
    scope = current_scope()
    if scope.role not in ROLES:
        return create_not_found()
    return html.Div(className="sites-page", children=[
        html.Div(className="page-head", children=[html.H1("Sites", className="page-title"),
                                                  html.Div(id="sites-unplaced", className="panel-hint")]),
        dcc.Store(id=SAVED, data=0), dcc.Store(id=IMPORTED, data=0),
        dcc.Interval(id="sites-refresh", interval=REFRESH_MS),
        *create_sites_layout(device_admin.dealer_options(get_db(), scope), scope.whole_fleet, sites.may_edit(scope)),
    ])


def _filter(text, dealer, kind, zone) -> sites.SiteFilter:
    scope = current_scope()
    return sites.SiteFilter(text=inputs.text(text, 60), dealer_code=inputs.text(dealer, 32) if scope.whole_fleet else None,
                            kind=inputs.choice(kind, sites.KINDS), climate_zone=inputs.choice(zone, sites.CLIMATE_ZONES))


@callback(Output("sites-count", "children"), Output("sites-cards", "children"), Output("sites-unplaced", "children"),
          *FILTERS, Input(SAVED, "data"), Input(IMPORTED, "data"), Input("sites-refresh", "n_intervals"))
def update_cards(text, dealer, kind, zone, *_triggers):
    scope = current_scope()
    if scope.role not in ROLES:
        return "", [], ""
    db, filt = get_db(), _filter(text, dealer, kind, zone)
    rows = sites.locations(db, scope, filt)
    loose = sites.unplaced(db, scope)
    note = (f"{loose:,} active batter{'y is' if loose == 1 else 'ies are'} based at no site: set their site on the "
            "devices page." if loose else "")
    batteries = sum(r["batteries"] for r in rows)
    title = f"{len(rows):,} site{'s' if len(rows) != 1 else ''} · {batteries:,} batter{'y' if batteries == 1 else 'ies'}"
    return title, create_site_cards(rows, filt != sites.SiteFilter()), note


@callback(Output("sites-download", "data"), Input("sites-export-csv", "n_clicks"), Input("sites-export-xlsx", "n_clicks"),
          *FILTER_STATES, prevent_initial_call=True)
def export_sites(_csv, _xlsx, *values):
    scope = current_scope()
    kind = inputs.choice((ctx.triggered_id or "").rsplit("-", 1)[-1], ("csv", "xlsx"))
    if kind is None or scope.role not in ROLES:
        return dash.no_update
    return table_file(locations_frame(sites.locations(get_db(), scope, _filter(*values))), kind, "sites")


def site_form(prefix_values) -> sites.SiteForm:
    """The site form's fields as typed, cleaned (the checks are data.sites.check_site's)."""
    v = dict(zip([n for n, _ in SITE_FIELDS], prefix_values))
    return sites.SiteForm(code=sites.code_key(inputs.text(v["code"], 32)), name=inputs.text(v["name"], 200),
                          kind=inputs.choice(v["kind"], sites.KINDS), dealer_code=inputs.text(v["dealer_code"], 32),
                          city=inputs.text(v["city"], 200), climate_zone=inputs.choice(v["climate_zone"],
                                                                                      sites.CLIMATE_ZONES),
                          address=inputs.text(v["address"], 400), state=inputs.text(v["state"], 200),
                          latitude=inputs.text(v["latitude"], 30), longitude=inputs.text(v["longitude"], 30))


def form_errors(errors: dict[str, str]) -> list[str]:
    return [errors.get(name, "") for name, _ in SITE_FIELDS]


@callback(Output("site-new-message", "children"), *[Output(f"site-new-{n}-error", "children") for n, _ in SITE_FIELDS],
          Output(SAVED, "data"), Input("site-new-save", "n_clicks"),
          *[State(f"site-new-{n}", "value") for n, _ in SITE_FIELDS], State(SAVED, "data"), prevent_initial_call=True)
def add_site(clicks, *values):
    fields, saved = values[:-1], values[-1]
    clear = [""] * len(SITE_FIELDS)
    if not clicks:
        return dash.no_update, *[dash.no_update] * len(SITE_FIELDS), dash.no_update
    scope = current_scope()
    if not sites.may_edit(scope):
        return import_error("Only engineers and admins add sites."), *clear, dash.no_update
    try:
        row = sites.create(get_db(), scope, site_form(fields))
    except sites.SiteFormError as exc:
        return import_error(exc.errors.get("form") or "Not added: see the fields marked."), *form_errors(exc.errors), \
            dash.no_update
    return (html.P(["Added ", dcc.Link(row["name"], href=f"/sites/{row['code']}"), f" ({row['code']})."],
                   className="form-ok"), *clear, (inputs.integer(saved, 0, 10**9, 0) or 0) + 1)


@callback(Output("sites-import-preview", "children"), Output("sites-import-apply", "disabled"),
          Output(IMPORTED, "data"), Input("sites-upload", "contents"), Input("sites-import-apply", "n_clicks"),
          Input("sites-import-kind", "value"), State("sites-upload", "filename"), State(IMPORTED, "data"),
          prevent_initial_call=True)
def import_sites(contents, apply_clicks, kind, filename, imported):
    """A new file (or another kind chosen): the dry run's preview. "Apply": the same file for real."""
    keep = dash.no_update
    applying = ctx.triggered_id == "sites-import-apply"
    if applying and not apply_clicks:
        return keep, keep, keep
    scope = current_scope()
    if not sites.may_edit(scope):
        return import_error("Only engineers and admins import sites and equipment."), True, keep
    if contents is None and ctx.triggered_id == "sites-import-kind":
        return None, True, keep
    try:
        kind = site_import.spec_of(inputs.choice(kind, site_import.SPECS) or "").kind
        name, data = uploaded_file(contents, filename)
        frame = site_import.read_file(kind, name, data, config.get().import_max_bytes)
        result = site_import.run(get_db(), scope, kind, frame, dry_run=not applying)
    except ImportFileError as exc:
        return import_error(str(exc)), True, keep
    key = "Site" if kind == "sites" else "Serial"
    if applying:
        return (create_import_table(result.rows, result.summary(), "sites-import-table", key), True,
                (inputs.integer(imported, 0, 10**9, 0) or 0) + 1)
    c = result.counts()
    return (create_import_table(result.rows, "Preview: " + result.summary(), "sites-preview-table", key),
            not (c["new"] or c["changed"]), keep)
