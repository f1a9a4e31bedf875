"""KPI cards: one big number, a title, and a line of context."""
from __future__ import annotations

from dash import html


def create_kpi_card(card_id: str, title: str, value: str, subtext: str = "", tone: str = "neutral") -> html.Div:
    return html.Div(
        className=f"kpi-card kpi-{tone}",
        id=card_id,
        children=[
            html.Div(title, className="kpi-title"),
            html.Div(value, className="kpi-value"),
            html.Div(subtext, className="kpi-subtext"),
        ],
    )


def format_count(value) -> str:
    return "—" if value is None else f"{int(value):,}"
