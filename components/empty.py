"""Empty and error states: always say why there is nothing to show."""
from __future__ import annotations

from dash import dcc, html


def create_empty_state(message: str, hint: str = "") -> html.Div:
    return html.Div(className="empty-state", children=[
        html.Div(message, className="empty-message"),
        html.Div(hint, className="empty-hint") if hint else None,
    ])


def create_not_found() -> html.Div:
    """What a page answers to a role that may not open it: the same as an address that does not exist."""
    return html.Div(className="not-found", children=[
        html.H1("Not found", className="page-title"),
        html.P("There is nothing at this address, or it is not yours to see."),
        dcc.Link("Back to the fleet overview", href="/"),
    ])
