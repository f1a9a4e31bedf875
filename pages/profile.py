"""Your password (/profile, every signed-in user, from the name in the top bar)."""
from __future__ import annotations

import dash
from dash import Input, Output, State, callback, html
from flask_login import current_user

from auth import current_scope
from components.users_page import create_profile_layout, form_error
from data import user_admin
from data.db import get_db

dash.register_page(__name__, path="/profile", name="Password", title="Your password")

FIELDS = ("current", "new", "repeat")


def layout(**_query):
    scope = current_scope()
    return html.Div(className="profile-page", children=[
        html.Div(className="page-head", children=[html.H1("Your password", className="page-title")]),
        create_profile_layout(scope.actor or "", scope.role),
    ])


def _password(value) -> str | None:
    return value[:200] if isinstance(value, str) and value != "" else None


@callback(Output("profile-message", "children"), *[Output(f"profile-{f}-error", "children") for f in FIELDS],
          *[Output(f"profile-{f}", "value") for f in FIELDS],
          Input("profile-save", "n_clicks"), *[State(f"profile-{f}", "value") for f in FIELDS],
          prevent_initial_call=True)
def change_password(_n, current, new, repeat):
    scope = current_scope()
    token = getattr(current_user, "id", None) if scope.api_key_id is None else None
    try:
        user_admin.change_own_password(get_db(), scope, _password(current), _password(new), _password(repeat),
                                       session_token=token if isinstance(token, str) else None)
    except user_admin.UserFormError as exc:
        keep = dash.no_update
        return (form_error(exc.errors.get("form") or "Not changed: see the fields marked."),
                *[exc.errors.get(f, "") for f in FIELDS], "", keep, keep)
    return html.P("Password changed. Your other sessions have ended.", className="form-ok"), "", "", "", "", "", ""
