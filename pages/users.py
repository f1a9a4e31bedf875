"""Users (/users, admins): the list with role, dealer, last sign-in and state; create a user; change
a user's name, role and dealer; reset its password; disable, enable, delete.

Every callback checks the admin role on the server; data.user_admin validates each field, refuses
stale edits and keeps the last admin, and writes the audit line with the change.
"""
from __future__ import annotations

import dash
from dash import Input, Output, State, callback, ctx, html

import inputs
from auth import current_scope
from components.empty import create_not_found
from components.export import table_file
from components.users_page import (create_users_layout, create_users_table, created_message, form_error,
                                   shown_once, user_options, users_frame)
from data import user_admin
from data.db import get_db

dash.register_page(__name__, path="/users", name="Users", title="Users", nav_order=6, roles=("admin",))

SAVED = "users-saved"   # bumped on every change: the table and the picker re-read
NEW_FIELDS = ("username", "name", "role", "dealer", "password")
EDIT_FIELDS = ("name", "role", "dealer", "password", "confirm")
ONLY_ADMINS = "Only an admin may manage users."


def _admin() -> bool:
    return current_scope().role == "admin"


def layout(**_query):
    if not _admin():
        return create_not_found()
    return html.Div(className="users-page", children=[
        html.Div(className="page-head", children=[html.H1("Users", className="page-title")]),
        dash.dcc.Store(id=SAVED, data=0),
        *create_users_layout(user_admin.dealer_options(get_db())),
    ])


@callback(Output("users-table", "children"), Output("edit-user-pick", "options"), Input(SAVED, "data"))
def update_table(_saved):
    if not _admin():
        return None, []
    rows = user_admin.listing(get_db())
    return create_users_table(rows), user_options(rows)


@callback(Output("users-download", "data"), Input("users-export-csv", "n_clicks"),
          Input("users-export-xlsx", "n_clicks"), prevent_initial_call=True)
def export_users(_csv, _xlsx):
    kind = inputs.choice((ctx.triggered_id or "").rsplit("-", 1)[-1], ("csv", "xlsx"))
    if kind is None or not _admin():
        return dash.no_update
    return table_file(users_frame(user_admin.listing(get_db())), kind, "users")


def _fields(name, role, dealer) -> user_admin.UserFields:
    return user_admin.UserFields(display_name=inputs.text(name, 100), role=inputs.text(role, 16) or "",
                                 dealer_code=inputs.text(dealer, 32))


def _password(value) -> str | None:
    # Passwords keep their spaces; only the length is bounded, and empty means "generate one".
    return value[:200] if isinstance(value, str) and value != "" else None


def _next(saved) -> int:
    return (inputs.integer(saved, 0, 10**9, 0) or 0) + 1


@callback(Output("new-user-message", "children"),
          *[Output(f"new-user-{f}-error", "children") for f in NEW_FIELDS],
          Output("new-user-password", "value"), Output("new-user-username", "value"), Output("new-user-name", "value"),
          Output("new-user-role", "value"), Output("new-user-dealer", "value"), Output(SAVED, "data"),
          Input("new-user-create", "n_clicks"),
          State("new-user-username", "value"), State("new-user-name", "value"), State("new-user-role", "value"),
          State("new-user-dealer", "value"), State("new-user-password", "value"), State(SAVED, "data"),
          prevent_initial_call=True)
def create_user(_n, username, name, role, dealer, password, saved):
    clear = [""] * len(NEW_FIELDS)
    keep = [dash.no_update] * 5
    if not _admin():
        return form_error(ONLY_ADMINS), *clear, *keep, dash.no_update
    try:
        row, shown = user_admin.create(get_db(), current_scope(), inputs.text(username, 64),
                                       _fields(name, role, dealer), _password(password))
    except user_admin.UserFormError as exc:
        errors = {"name": exc.errors.get("display_name"), **exc.errors}
        return (form_error("Not created: see the fields marked."), *[errors.get(f, "") for f in NEW_FIELDS],
                *keep, dash.no_update)
    # Created: the form empties for the next one; the message keeps the name (and a generated password).
    return created_message(row["username"], shown), *clear, "", "", "", None, None, _next(saved)


def _opened(row: dict | None) -> dict | None:
    return {"id": row["id"], "seen": row["updated_at"].isoformat()} if row else None


@callback(Output("edit-user-name", "value"), Output("edit-user-role", "value"), Output("edit-user-dealer", "value"),
          Output("edit-user-opened", "data"), Output("edit-user-message", "children"),
          *[Output(f"edit-user-{f}-error", "children") for f in EDIT_FIELDS],
          Output("edit-user-password", "value"), Output("edit-user-confirm", "value"), Output(SAVED, "data"),
          Input("edit-user-pick", "value"), Input("edit-user-save", "n_clicks"),
          Input("edit-user-disable", "n_clicks"), Input("edit-user-enable", "n_clicks"),
          Input("edit-user-reset", "n_clicks"), Input("edit-user-delete", "n_clicks"),
          State("edit-user-opened", "data"), State("edit-user-name", "value"), State("edit-user-role", "value"),
          State("edit-user-dealer", "value"), State("edit-user-password", "value"),
          State("edit-user-confirm", "value"), State(SAVED, "data"), prevent_initial_call=True)
def change_user(pick, _save, _disable, _enable, _reset, _delete, opened, name, role, dealer, password, confirm, saved):
    keep = dash.no_update
    clear = [""] * len(EDIT_FIELDS)
    if not _admin():
        return keep, keep, keep, None, form_error(ONLY_ADMINS), *clear, "", "", keep
    db, scope = get_db(), current_scope()
    action = ctx.triggered_id
    if action == "edit-user-pick":
        row = user_admin.one(db, inputs.integer(pick, 1, 2**31 - 1)) if pick is not None else None
        if row is None:
            return None, None, None, None, "", *clear, "", "", keep
        return row["display_name"], row["role"], row["dealer_code"], _opened(row), "", *clear, "", "", keep
    user_id = inputs.integer((opened or {}).get("id") if isinstance(opened, dict) else None, 1, 2**31 - 1)
    seen = inputs.text((opened or {}).get("seen") if isinstance(opened, dict) else None, 40)
    if user_id is None or seen is None:
        return keep, keep, keep, keep, form_error("Choose a user first."), *clear, keep, keep, keep
    try:
        message, row = _apply(db, scope, action, user_id, seen, _fields(name, role, dealer), _password(password),
                              inputs.text(confirm, 64))
    except user_admin.UserFormError as exc:
        errors = {"name": exc.errors.get("display_name"), **exc.errors}
        return (keep, keep, keep, keep, form_error(errors.get("form") or "Not changed: see the fields marked."),
                *[errors.get(f) or "" for f in EDIT_FIELDS], keep, keep, keep)
    if row is None:   # deleted
        return None, None, None, None, message, *clear, "", "", _next(saved)
    return (row["display_name"], row["role"], row["dealer_code"], _opened(row), message, *clear, "", "",
            _next(saved))


def _apply(db, scope, action, user_id, seen, fields, password, confirm):
    if action == "edit-user-save":
        row = user_admin.update(db, scope, user_id, seen, fields)
        return html.P(f"Saved {row['username']}.", className="form-ok"), row
    if action in ("edit-user-disable", "edit-user-enable"):
        active = action == "edit-user-enable"
        row = user_admin.set_active(db, scope, user_id, seen, active)
        word = "enabled" if active else "disabled: its sessions ended"
        return html.P(f"{row['username']} {word}.", className="form-ok"), user_admin.one(db, user_id)
    if action == "edit-user-reset":
        shown = user_admin.reset_password(db, scope, user_id, seen, password)
        row = user_admin.one(db, user_id)
        return html.Div(className="form-ok", children=[
            html.P(f"New password set for {row['username']}; its sessions ended."),
            shown_once(shown) if shown else None]), row
    if action == "edit-user-delete":
        username = user_admin.delete(db, scope, user_id, seen, confirm)
        return html.P(f"Deleted {username}.", className="form-ok"), None
    raise user_admin.UserFormError({"form": "Unknown action."})
