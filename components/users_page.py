"""The users page (/users, admins) and the password page (/profile): forms, the users table and the
messages. Pure layout: pages/users.py and pages/profile.py read and change through data/."""
from __future__ import annotations

import pandas as pd
from dash import dcc, html

from components.export import create_export_buttons
from components.health_page import create_data_table
from ingest.readings import IST

ROLE_WORDS = {"admin": "Admin", "manager": "Manager", "engineer": "Engineer", "dealer": "Dealer",
              "viewer": "Viewer (wall display)"}   # the roles of data.users.ROLES, in its order


def _field(label: str, control, error_id: str, hint: str | None = None) -> html.Label:
    return html.Label(className="form-field", children=[
        html.Span(label, className="form-label"), control,
        html.Span(hint, className="form-hint") if hint else None,
        html.Span(id=error_id, className="field-error", role="alert"),
    ])


def _role_options() -> list[dict]:
    return [{"label": label, "value": role} for role, label in ROLE_WORDS.items()]


def _dealer_dropdown(id_: str, dealers: list[dict]) -> dcc.Dropdown:
    return dcc.Dropdown(id=id_, options=[{"label": f"{d['name']} ({d['code']})", "value": d["code"]} for d in dealers],
                        placeholder="Only for dealer users", className="filter form-control")


def create_new_user_form(dealers: list[dict]) -> html.Div:
    return html.Div(className="panel", children=[
        html.H2("Add a user", className="panel-title"),
        html.Div(className="form-grid", children=[
            _field("Username", dcc.Input(id="new-user-username", type="text", maxLength=64, className="form-input",
                                         autoComplete="off"), "new-user-username-error"),
            _field("Name", dcc.Input(id="new-user-name", type="text", maxLength=100, className="form-input"),
                   "new-user-name-error"),
            _field("Role", dcc.Dropdown(id="new-user-role", options=_role_options(), placeholder="Role",
                                        className="filter form-control"), "new-user-role-error"),
            _field("Dealer", _dealer_dropdown("new-user-dealer", dealers), "new-user-dealer-error"),
            _field("Password", dcc.Input(id="new-user-password", type="password", className="form-input",
                                         autoComplete="new-password"), "new-user-password-error",
                   "Leave empty to generate one, shown once."),
        ]),
        html.Button("Create user", id="new-user-create", n_clicks=0, className="action-button"),
        html.Div(id="new-user-message", role="status", className="form-message"),
    ])


def create_edit_user_form(dealers: list[dict]) -> html.Div:
    return html.Div(className="panel", children=[
        html.H2("Change a user", className="panel-title"),
        html.Div(className="form-row", children=[
            dcc.Dropdown(id="edit-user-pick", placeholder="Choose a user", className="filter form-control"),
        ]),
        dcc.Store(id="edit-user-opened"),
        html.Div(className="form-grid", children=[
            _field("Name", dcc.Input(id="edit-user-name", type="text", maxLength=100, className="form-input"),
                   "edit-user-name-error"),
            _field("Role", dcc.Dropdown(id="edit-user-role", options=_role_options(), clearable=False,
                                        className="filter form-control"), "edit-user-role-error"),
            _field("Dealer", _dealer_dropdown("edit-user-dealer", dealers), "edit-user-dealer-error"),
        ]),
        html.Div(className="form-actions", children=[
            html.Button("Save changes", id="edit-user-save", n_clicks=0, className="action-button"),
            html.Button("Disable", id="edit-user-disable", n_clicks=0, className="action-button secondary"),
            html.Button("Enable", id="edit-user-enable", n_clicks=0, className="action-button secondary"),
        ]),
        html.Div(className="form-grid", children=[
            _field("New password", dcc.Input(id="edit-user-password", type="password", className="form-input",
                                             autoComplete="new-password"), "edit-user-password-error",
                   "Leave empty to generate one, shown once. The user's sessions end."),
            html.Div(className="form-field form-button-cell", children=[
                html.Button("Reset password", id="edit-user-reset", n_clicks=0, className="action-button secondary")]),
        ]),
        html.Div(className="form-grid", children=[
            _field("Delete: type the username", dcc.Input(id="edit-user-confirm", type="text", className="form-input",
                                                          autoComplete="off"), "edit-user-confirm-error",
                   "A user named on alert or claim records can only be disabled."),
            html.Div(className="form-field form-button-cell", children=[
                html.Button("Delete user", id="edit-user-delete", n_clicks=0, className="action-button danger")]),
        ]),
        html.Div(id="edit-user-message", role="status", className="form-message"),
    ])


def create_users_layout(dealers: list[dict]) -> list:
    return [
        html.Div(className="panel", children=[
            html.Div(className="panel-head", children=[html.H2("Users", className="panel-title"),
                                                         create_export_buttons("users")]),
            html.Div(id="users-table", className="table-scroll"),
        ]),
        html.Div(className="users-forms", children=[create_new_user_form(dealers), create_edit_user_form(dealers)]),
    ]


def _when(t) -> str:
    return pd.Timestamp(t).tz_convert(IST).strftime("%d %b %Y %H:%M") if t is not None else "never"


def create_users_table(rows: list[dict]) -> html.Div:
    body = [[r["username"], r["display_name"] or "", ROLE_WORDS.get(r["role"], r["role"]), r["dealer"] or "—",
             "yes" if r["is_active"] else "disabled", _when(r["last_login_at"]), _when(r["created_at"])]
            for r in rows]
    return create_data_table("users-list", ["Username", "Name", "Role", "Dealer", "Active", "Last sign-in (IST)",
                                            "Created (IST)"], body, len(rows))


def users_frame(rows: list[dict]) -> pd.DataFrame:
    def naive(t):
        return pd.Timestamp(t).tz_convert(IST).tz_localize(None) if t is not None else None
    return pd.DataFrame([{
        "Username": r["username"], "Name": r["display_name"], "Role": r["role"], "Dealer code": r["dealer_code"],
        "Dealer": r["dealer"], "Active": r["is_active"], "Demo login": r["is_demo"],
        "Last sign-in (IST)": naive(r["last_login_at"]), "Created (IST)": naive(r["created_at"]),
    } for r in rows], columns=["Username", "Name", "Role", "Dealer code", "Dealer", "Active", "Demo login",
                               "Last sign-in (IST)", "Created (IST)"])


def user_options(rows: list[dict]) -> list[dict]:
    return [{"label": f"{r['username']} · {ROLE_WORDS.get(r['role'], r['role'])}"
                      + ("" if r["is_active"] else " · disabled"), "value": r["id"]} for r in rows]


def created_message(username: str, password: str | None) -> html.Div:
    return html.Div(className="form-ok", children=[
        html.P(f"Created {username}."),
        shown_once(password) if password else None,
    ])


def shown_once(password: str) -> html.Div:
    return html.Div(className="shown-once", children=[
        html.Span("Password: "), html.Code(password, id="shown-password"),
        html.P("Copy it now and hand it over in person: it is not shown again.", className="form-hint"),
    ])


def form_error(message: str) -> html.P:
    return html.P(message, className="form-error")


def create_profile_layout(username: str, role: str) -> html.Div:
    return html.Div(className="panel profile-panel", children=[
        html.H2("Change your password", className="panel-title"),
        html.P(f"Signed in as {username} ({ROLE_WORDS.get(role, role)}). Your other sessions end when it changes.",
               className="panel-hint"),
        html.Div(className="form-grid", children=[
            _field("Current password", dcc.Input(id="profile-current", type="password", className="form-input",
                                                 autoComplete="current-password"), "profile-current-error"),
            _field("New password", dcc.Input(id="profile-new", type="password", className="form-input",
                                             autoComplete="new-password"), "profile-new-error",
                   "At least 8 characters."),
            _field("New password again", dcc.Input(id="profile-repeat", type="password", className="form-input",
                                                   autoComplete="new-password"), "profile-repeat-error"),
        ]),
        html.Button("Change password", id="profile-save", n_clicks=0, className="action-button"),
        html.Div(id="profile-message", role="status", className="form-message"),
    ])
