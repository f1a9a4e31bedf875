"""Empty and error states: always say why there is nothing to show."""
from __future__ import annotations

from dash import html


def create_empty_state(message: str, hint: str = "") -> html.Div:
    return html.Div(className="empty-state", children=[
        html.Div(message, className="empty-message"),
        html.Div(hint, className="empty-hint") if hint else None,
    ])
