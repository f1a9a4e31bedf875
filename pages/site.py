"""One site (/sites/<code>): its batteries by health, its site power (solar, grid, load and storage, where
the site reports them), its equipment and the service due, the maintenance records and the site's
history; for engineers and admins the site, equipment and maintenance forms.

The site code comes from the URL and travels in a Store, so every callback gets it from the browser:
each one looks the site up again within the user's scope (data.sites.one) before reading or writing.
A site that does not exist and one that is not the user's get the same "not found".
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import dash
from dash import Input, Output, State, callback, ctx, dcc, html

import config
import inputs
from auth import current_scope
from components.devices_page import import_error
from components.empty import create_not_found
from components.export import table_file
from components.site_page import (EQUIPMENT_FIELDS, MAINTENANCE_FIELDS, NEW, battery_frame, battery_rows,
                                  create_due_list, create_equipment_table, create_history_table,
                                  create_maintenance_table, create_site_head, create_site_kpis, create_site_layout,
                                  create_site_power_panel, equipment_frame, equipment_options, maintenance_frame,
                                  status_options)
from components.sites_page import SITE_FIELDS
from data import device_admin, energy, equipment, sites
from data.db import get_db
from ingest.readings import IST
from pages.sites import form_errors, site_form

ROLES = ("admin", "engineer", "manager", "dealer")
dash.register_page(__name__, path_template="/sites/<code>", name="Site", title="Site")

SITE = State("site-code", "data")
SAVED, KIT_SAVED, WORK_SAVED = "site-saved", "equipment-saved", "maintenance-saved"
CHANGED = [Input(SAVED, "data"), Input(KIT_SAVED, "data"), Input(WORK_SAVED, "data")]
REFRESH_MS = 60_000
POWER_REFRESH_MS = 900_000   # site power arrives every 15 minutes; redrawing sooner only loses the user's zoom
POWER_HOURS, POWER_DAYS = 48, 14
STATUS_CHOICES = ("ok", "warning", "critical", "offline")


def layout(code: str | None = None, **_query):
    scope, db = current_scope(), get_db()
    code = sites.code_key(inputs.text(code, 32))
    site = sites.one(db, scope, code) if code and scope.role in ROLES else None
    if site is None:
        return create_not_found()
    settings = config.get()
    editor = sites.may_edit(scope)
    return html.Div(className="site-page", children=[
        dcc.Store(id="site-code", data=site["code"]),
        *[dcc.Store(id=store, data=0) for store in (SAVED, KIT_SAVED, WORK_SAVED)],
        dcc.Store(id="site-seen", data=site["updated_at"].isoformat()), dcc.Store(id="equipment-seen"),
        dcc.Interval(id="site-refresh", interval=REFRESH_MS),
        dcc.Interval(id="site-power-refresh", interval=POWER_REFRESH_MS),
        html.Div(id="site-head", children=create_site_head(site)),
        *create_site_layout(site, editor, device_admin.dealer_options(db, scope) if editor else [],
                            settings.map_tile_url, settings.map_attribution),
    ])


def _site(code) -> tuple[dict | None, object]:
    """The site the browser names, if the user may see it, and the user's scope."""
    scope = current_scope()
    if scope.role not in ROLES:
        return None, scope
    code = sites.code_key(inputs.text(code, 32))
    return (sites.one(get_db(), scope, code) if code else None), scope


@callback(Output("site-kpis", "children"), Output("site-status", "options"), Output("site-due", "children"),
          Output("site-equipment", "children"), Output("site-maintenance", "children"),
          Output("site-history", "children"), Input("site-code", "data"), *CHANGED, Input("site-refresh", "n_intervals"))
def show_site(code, *_triggers):
    site, scope = _site(code)
    if site is None:
        return [], [], None, None, None, None
    db = get_db()
    counts, soh = sites.status_counts(db, scope, site["id"])
    kit = equipment.listing(db, scope, site["id"])
    return (create_site_kpis(counts, soh), status_options(counts), create_due_list(kit), create_equipment_table(kit),
            create_maintenance_table(equipment.maintenance(db, scope, site["id"])),
            create_history_table(sites.history(db, scope, site["code"])))


@callback(Output("site-batteries-grid", "rowData"), Output("site-batteries-note", "children"),
          Input("site-status", "value"), Input("site-code", "data"), Input("site-refresh", "n_intervals"))
def show_batteries(status, code, _tick):
    site, scope = _site(code)
    if site is None:
        return [], None
    rows = sites.batteries(get_db(), scope, site["id"], inputs.choice(status, STATUS_CHOICES))
    note = (html.P(f"The first {len(rows):,}, worst first; the export has the same rows.", className="table-note")
            if len(rows) >= 5000 else None)
    return battery_rows(rows), note


@callback(Output("site-power", "children"), Input("site-code", "data"), Input("site-power-refresh", "n_intervals"))
def show_site_power(code, _tick):
    site, scope = _site(code)
    if site is None:
        return None
    db, now = get_db(), datetime.now(timezone.utc)
    first_day = datetime.combine(now.astimezone(IST).date() - timedelta(days=POWER_DAYS - 1), time(), IST)
    power = energy.site_power(db, scope, site["id"], now - timedelta(hours=POWER_HOURS), now)
    days = energy.site_power_days(db, scope, site["id"], first_day, now)
    return create_site_power_panel(power, days, POWER_HOURS, POWER_DAYS)


def _export_kind() -> str | None:
    return inputs.choice((ctx.triggered_id or "").rsplit("-", 1)[-1], ("csv", "xlsx"))


@callback(Output("site-batteries-download", "data"), Input("site-batteries-export-csv", "n_clicks"),
          Input("site-batteries-export-xlsx", "n_clicks"), State("site-status", "value"), SITE,
          prevent_initial_call=True)
def export_batteries(_csv, _xlsx, status, code):
    site, scope = _site(code)
    kind = _export_kind()
    if site is None or kind is None:
        return dash.no_update
    rows = sites.batteries(get_db(), scope, site["id"], inputs.choice(status, STATUS_CHOICES))
    return table_file(battery_frame(rows, site["code"]), kind, f"site-{site['code']}-batteries")


@callback(Output("site-equipment-download", "data"), Input("site-equipment-export-csv", "n_clicks"),
          Input("site-equipment-export-xlsx", "n_clicks"), SITE, prevent_initial_call=True)
def export_equipment(_csv, _xlsx, code):
    site, scope = _site(code)
    kind = _export_kind()
    if site is None or kind is None:
        return dash.no_update
    return table_file(equipment_frame(equipment.listing(get_db(), scope, site["id"])), kind,
                      f"site-{site['code']}-equipment")


@callback(Output("site-maintenance-download", "data"), Input("site-maintenance-export-csv", "n_clicks"),
          Input("site-maintenance-export-xlsx", "n_clicks"), SITE, prevent_initial_call=True)
def export_maintenance(_csv, _xlsx, code):
    site, scope = _site(code)
    kind = _export_kind()
    if site is None or kind is None:
        return dash.no_update
    return table_file(maintenance_frame(equipment.maintenance(get_db(), scope, site["id"]), site["code"]), kind,
                      f"site-{site['code']}-maintenance")


def _bump(saved) -> int:
    return (inputs.integer(saved, 0, 10**9, 0) or 0) + 1


# -- the site form -----------------------------------------------------------------------------------------
@callback(Output("site-edit-message", "children"), *[Output(f"site-edit-{n}-error", "children") for n, _ in SITE_FIELDS],
          Output("site-head", "children"), Output("site-seen", "data"), Output(SAVED, "data"),
          Input("site-edit-save", "n_clicks"), SITE, State("site-seen", "data"),
          *[State(f"site-edit-{n}", "value") for n, _ in SITE_FIELDS], State(SAVED, "data"), prevent_initial_call=True)
def edit_site(clicks, code, seen, *values):
    fields, saved = values[:-1], values[-1]
    keep = [dash.no_update] * (len(SITE_FIELDS) + 4)
    if not clicks:
        return keep
    site, scope = _site(code)
    clear = [""] * len(SITE_FIELDS)
    if site is None or not sites.may_edit(scope):
        return import_error("Only engineers and admins change sites."), *clear, dash.no_update, dash.no_update, \
            dash.no_update
    try:
        row = sites.update(get_db(), scope, site["code"], inputs.text(seen, 40) or "", site_form(fields))
    except sites.SiteFormError as exc:
        return (import_error(exc.errors.get("form") or "Not saved: see the fields marked."), *form_errors(exc.errors),
                dash.no_update, dash.no_update, dash.no_update)
    return (html.P(f"Saved {row['code']}.", className="form-ok"), *clear, create_site_head(row),
            row["updated_at"].isoformat(), _bump(saved))


# -- equipment -----------------------------------------------------------------------------------------------
@callback(Output("equipment-choice", "options"), Output("maintenance-equipment", "options"), Input("site-code", "data"),
          Input(KIT_SAVED, "data"))
def equipment_choices(code, _saved):
    site, scope = _site(code)
    if site is None:
        return [], []
    kit = equipment.listing(get_db(), scope, site["id"])
    return equipment_options(kit, with_new=True), equipment_options(kit, with_new=False)


@callback(*[Output(f"equipment-{n}", "value") for n, _ in EQUIPMENT_FIELDS], Output("equipment-serial", "disabled"),
          Output("equipment-seen", "data"), Input("equipment-choice", "value"), SITE, prevent_initial_call=True)
def open_equipment(serial, code):
    site, scope = _site(code)
    blank = [None, None, None, None, None, None, "in_service"]
    serial = inputs.text(serial, 100)
    if site is None or serial is None or serial == NEW:
        return *blank, False, None
    item = equipment.one(get_db(), scope, serial)
    if item is None or item["site_code"] != site["code"]:
        return *blank, False, None
    return (item["serial"], item["kind"], item["make"], item["model"], item["rating"],
            None if item["installed_on"] is None else item["installed_on"].isoformat(), item["status"], True,
            {"serial": item["serial"], "seen": item["updated_at"].isoformat()})


@callback(Output("equipment-message", "children"), *[Output(f"equipment-{n}-error", "children") for n, _ in EQUIPMENT_FIELDS],
          Output(KIT_SAVED, "data"), Input("equipment-save", "n_clicks"), SITE,
          State("equipment-seen", "data"), *[State(f"equipment-{n}", "value") for n, _ in EQUIPMENT_FIELDS],
          State(KIT_SAVED, "data"), prevent_initial_call=True)
def save_equipment(clicks, code, opened, *values):
    fields, saved = dict(zip([n for n, _ in EQUIPMENT_FIELDS], values[:-1])), values[-1]
    clear = [""] * len(EQUIPMENT_FIELDS)
    if not clicks:
        return dash.no_update, *[dash.no_update] * len(EQUIPMENT_FIELDS), dash.no_update
    site, scope = _site(code)
    if site is None or not equipment.may_edit(scope):
        return import_error("Only engineers and admins change equipment."), *clear, dash.no_update
    opened = opened if isinstance(opened, dict) else {}
    seen = inputs.text(opened.get("seen"), 40)
    serial = inputs.text(opened.get("serial"), 100) if seen else inputs.text(fields["serial"], 100)
    form = equipment.EquipmentForm(
        serial=serial, site_code=site["code"], kind=inputs.choice(fields["kind"], equipment.KINDS),
        make=inputs.text(fields["make"], 200), model=inputs.text(fields["model"], 200),
        rating=inputs.text(fields["rating"], 80), installed_on=inputs.text(fields["installed_on"], 40),
        status=inputs.choice(fields["status"], equipment.STATUSES))
    try:
        row = equipment.save(get_db(), scope, form, seen=seen)
    except sites.SiteFormError as exc:
        errors = [exc.errors.get(n, "") for n, _ in EQUIPMENT_FIELDS]
        return import_error(exc.errors.get("form") or "Not saved: see the fields marked."), *errors, dash.no_update
    return (html.P(f"Saved {row['serial']}{'' if seen else ': choose it above to change it'}.", className="form-ok"),
            *clear, _bump(saved))


@callback(Output("maintenance-message", "children"),
          *[Output(f"maintenance-{n}-error", "children") for n, _ in MAINTENANCE_FIELDS],
          Output(WORK_SAVED, "data"), Input("maintenance-save", "n_clicks"), SITE,
          *[State(f"maintenance-{n}", "value") for n, _ in MAINTENANCE_FIELDS], State(WORK_SAVED, "data"),
          prevent_initial_call=True)
def record_maintenance(clicks, code, *values):
    fields, saved = dict(zip([n for n, _ in MAINTENANCE_FIELDS], values[:-1])), values[-1]
    clear = [""] * len(MAINTENANCE_FIELDS)
    if not clicks:
        return dash.no_update, *[dash.no_update] * len(MAINTENANCE_FIELDS), dash.no_update
    site, scope = _site(code)
    if site is None or not equipment.may_edit(scope):
        return import_error("Only engineers and admins record maintenance."), *clear, dash.no_update
    serial = inputs.text(fields["equipment"], 100)
    form = equipment.MaintenanceForm(done_on=inputs.text(fields["done_on"], 40), work=inputs.text(fields["work"], 2000),
                                     done_by=inputs.text(fields["done_by"], 200),
                                     next_due=inputs.text(fields["next_due"], 40))
    try:
        equipment.record_maintenance(get_db(), scope, serial, form, site_code=site["code"])
    except sites.SiteFormError as exc:
        errors = [exc.errors.get(n, "") for n, _ in MAINTENANCE_FIELDS]
        return import_error(exc.errors.get("form") or "Not recorded: see the fields marked."), *errors, dash.no_update
    return html.P(f"Recorded the work on {serial}.", className="form-ok"), *clear, _bump(saved)
