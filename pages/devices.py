"""Devices (/devices): every device in the user's scope with its mapping and data completeness, paged
and sorted on the server; a device's panel with its history; for engineers and admins, the mapping
form, activation and the bulk import.

Managers and dealers look (a dealer only at its own devices, in SQL); every change checks the role
on the server (data.device_admin), whatever the browser shows or sends.
"""
from __future__ import annotations

import dash
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, html

import config
import inputs
from auth import current_scope
from components.devices_page import (MAPPING_FIELDS, create_device_actions, create_device_head, create_devices_layout,
                                     create_history_table, create_import_table, export_frame, field_errors,
                                     grid_rows, import_error, site_options)
from components.empty import create_empty_state, create_not_found
from components.export import table_file
from data import device_admin, device_import, sites
from data.db import get_db
from data.imports import ImportFileError
from pages._uploads import uploaded_file

ROLES = ("admin", "engineer", "manager", "dealer")
dash.register_page(__name__, path="/devices", name="Devices", title="Devices", nav_order=5, roles=ROLES)

SAVED, IMPORTED, OPENED = "devices-saved", "devices-imported", "device-opened"
FILTER_IDS = (("devices-text", "value"), ("devices-dealer", "value"), ("devices-active", "value"))
FILTER_INPUTS = [Input(i, p) for i, p in FILTER_IDS]
FILTER_STATES = [State(i, p) for i, p in FILTER_IDS]
EXPORT_LIMIT = 50_000


def layout(**_query):
    scope = current_scope()
    if scope.role not in ROLES:
        return create_not_found()
    return html.Div(className="devices-page", children=[
        html.Div(className="page-head", children=[html.H1("Devices", className="page-title")]),
        dash.dcc.Store(id=SAVED, data=0), dash.dcc.Store(id=IMPORTED, data=0), dash.dcc.Store(id=OPENED),
        dash.dcc.Store(id="devices-grid-refreshed"),
        *create_devices_layout(device_admin.dealer_options(get_db(), scope), scope.whole_fleet,
                               device_admin.may_edit(scope), sites.options(get_db(), scope)),
    ])


def _filter(text, dealer, active) -> device_admin.DeviceFilter:
    scope = current_scope()
    state = inputs.choice(active, ("active", "inactive"))
    return device_admin.DeviceFilter(text=inputs.text(text, 60),
                                     dealer_code=inputs.text(dealer, 32) if scope.whole_fleet else None,
                                     active=None if state is None else state == "active")


@callback(Output("devices-count", "children"), *FILTER_INPUTS, Input(SAVED, "data"), Input(IMPORTED, "data"))
def update_count(text, dealer, active, _saved, _imported):
    scope = current_scope()
    if scope.role not in ROLES:
        return ""
    n = device_admin.count(get_db(), scope, _filter(text, dealer, active))
    return f"{n:,} device{'s' if n != 1 else ''}"


@callback(Output("devices-grid", "getRowsResponse"), Input("devices-grid", "getRowsRequest"), *FILTER_STATES)
def grid_block(request, *values):
    scope = current_scope()
    if scope.role not in ROLES:
        return {"rowData": [], "rowCount": 0}
    offset, limit, sort, descending = inputs.grid_block(request, device_admin.SORTS, "device_id")
    if not isinstance(request, dict) or not request.get("sortModel"):
        descending = False
    db, filt = get_db(), _filter(*values)
    rows = device_admin.listing(db, scope, filt, offset=offset, limit=limit, sort=sort, descending=descending)
    return {"rowData": grid_rows(rows), "rowCount": device_admin.count(db, scope, filt)}


clientside_callback(ClientsideFunction("devices", "refreshGrid"), Output("devices-grid-refreshed", "data"),
                    *FILTER_INPUTS, Input(SAVED, "data"), Input(IMPORTED, "data"), prevent_initial_call=True)


@callback(Output("devices-download", "data"), Input("devices-export-csv", "n_clicks"),
          Input("devices-export-xlsx", "n_clicks"), *FILTER_STATES, prevent_initial_call=True)
def export_table(_csv, _xlsx, *values):
    scope = current_scope()
    kind = inputs.choice((ctx.triggered_id or "").rsplit("-", 1)[-1], ("csv", "xlsx"))
    if kind is None or scope.role not in ROLES:
        return dash.no_update
    rows = device_admin.listing(get_db(), scope, _filter(*values), limit=EXPORT_LIMIT, gaps=False)
    return table_file(export_frame(rows), kind, "devices")


# -- one device --------------------------------------------------------------------------------------------
FIELD_OUTPUTS = [Output(f"device-{name}", "value") for name, _ in MAPPING_FIELDS]


@callback(Output("device-head", "children"), Output("device-body", "className"), *FIELD_OUTPUTS,
          Output("device-actions", "children"), Output("device-history", "children"), Output(OPENED, "data"),
          Input("devices-grid", "cellClicked"), Input(SAVED, "data"), State(OPENED, "data"),
          prevent_initial_call=True)
def show_device(clicked, _saved, opened):
    scope = current_scope()
    nothing = (create_empty_state("No device chosen", "Click a row of the table above."), "device-body hidden",
               *[None] * len(MAPPING_FIELDS), None, None, None)
    if scope.role not in ROLES:
        return nothing
    if ctx.triggered_id == "devices-grid":
        device_id = inputs.text((clicked or {}).get("rowId") if isinstance(clicked, dict) else None, 50)
    else:
        device_id = inputs.text((opened or {}).get("device_id") if isinstance(opened, dict) else None, 50)
    db = get_db()
    row = device_admin.one(db, scope, device_id) if device_id else None
    if row is None:
        return nothing
    return (create_device_head(row), "device-body", *[row.get(name) for name, _ in MAPPING_FIELDS],
            create_device_actions(row) if device_admin.may_edit(scope) else None,
            create_history_table(device_admin.history(db, scope, row["device_id"])),
            {"device_id": row["device_id"], "seen": row["updated_at"].isoformat()})


@callback(Output("device-site_code", "options"), Input("device-dealer_code", "value"), prevent_initial_call=True)
def sites_of_dealer(dealer):
    """The sites the device may be based at: its dealer's (the mapping check refuses any other)."""
    scope = current_scope()
    if scope.role not in ROLES:
        return []
    return site_options(sites.options(get_db(), scope, inputs.text(dealer, 32)))


def _mapping(serial, vehicle, dealer, customer, phone, city, site) -> device_admin.Mapping:
    return device_admin.Mapping(battery_serial=inputs.text(serial, 100), vehicle_number=device_admin.vehicle_key(
        inputs.text(vehicle, 100)), dealer_code=inputs.text(dealer, 32), customer_name=inputs.text(customer, 200),
        customer_phone=inputs.text(phone, 30), city=inputs.text(city, 200), site_code=inputs.text(site, 32))


@callback(Output("device-message", "children"), *[Output(f"device-{n}-error", "children") for n, _ in MAPPING_FIELDS],
          Output(SAVED, "data"), Input("device-save", "n_clicks"), Input("device-toggle", "n_clicks"),
          State(OPENED, "data"), *[State(f"device-{n}", "value") for n, _ in MAPPING_FIELDS], State(SAVED, "data"),
          prevent_initial_call=True)
def change_device(save, toggle, opened, *values):
    fields, saved = values[:-1], values[-1]
    clear = [""] * len(MAPPING_FIELDS)
    scope = current_scope()
    if not (save or toggle):   # the buttons were just drawn: not a click
        return dash.no_update, *[dash.no_update] * len(MAPPING_FIELDS), dash.no_update
    if not device_admin.may_edit(scope):
        return import_error("Only engineers and admins change devices."), *clear, dash.no_update
    device_id = inputs.text(opened.get("device_id") if isinstance(opened, dict) else None, 50)
    seen = inputs.text(opened.get("seen") if isinstance(opened, dict) else None, 40)
    if device_id is None or seen is None:
        return import_error("Choose a device first."), *clear, dash.no_update
    db = get_db()
    try:
        if ctx.triggered_id == "device-toggle":
            current = device_admin.one(db, scope, device_id)
            row = device_admin.set_active(db, scope, device_id, seen, not (current or {}).get("is_active", True))
            message = f"{device_id} {'activated' if row['is_active'] else 'deactivated: it is no longer polled'}."
        else:
            device_admin.update(db, scope, device_id, seen, _mapping(*fields))
            message = f"Saved the mapping of {device_id}."
    except device_admin.DeviceFormError as exc:
        return (import_error(exc.errors.get("form") or "Not saved: see the fields marked."),
                *field_errors(exc.errors), dash.no_update)
    return html.P(message, className="form-ok"), *clear, (inputs.integer(saved, 0, 10**9, 0) or 0) + 1


# -- import ---------------------------------------------------------------------------------------------------
def _judge(contents, filename, dry_run: bool):
    scope = current_scope()
    name, data = uploaded_file(contents, filename)
    frame = device_import.read_file(name, data, config.get().import_max_bytes)
    return device_import.run(get_db(), scope, frame, dry_run=dry_run)


@callback(Output("devices-import-preview", "children"), Output("devices-import-apply", "disabled"),
          Output(IMPORTED, "data"), Input("devices-upload", "contents"), Input("devices-import-apply", "n_clicks"),
          State("devices-upload", "filename"), State(IMPORTED, "data"), prevent_initial_call=True)
def import_devices(contents, apply_clicks, filename, imported):
    """A new file: the dry run's preview. "Apply": the same file for real, its report in place of the preview."""
    keep = dash.no_update
    applying = ctx.triggered_id == "devices-import-apply"
    if applying and not apply_clicks:
        return keep, keep, keep
    if not device_admin.may_edit(current_scope()):
        return import_error("Only engineers and admins import devices."), True, keep
    try:
        result = _judge(contents, filename, dry_run=not applying)
    except ImportFileError as exc:
        return import_error(str(exc)), True, keep
    if applying:
        return (create_import_table(result.rows, result.summary(), "devices-import-table"), True,
                (inputs.integer(imported, 0, 10**9, 0) or 0) + 1)
    c = result.counts()
    return (create_import_table(result.rows, "Preview: " + result.summary(), "devices-preview-table"),
            not (c["new"] or c["changed"]), keep)
