"""The fleet filter bar: dealer (whole-fleet roles only), city and status."""
from __future__ import annotations

from dash import dcc, html

STATUS_LABELS = {"ok": "OK (SOC > 50 %)", "warning": "Attention", "critical": "Critical", "offline": "No data 24 h",
                 "charging": "Charging now"}


def create_filter_bar(prefix: str, options: dict, show_dealer: bool) -> html.Div:
    dealer = dcc.Dropdown(id=f"{prefix}-dealer", placeholder="All dealers", clearable=True,
                          options=[{"label": f"{d['name']} ({d['city']})", "value": d["id"]} for d in options["dealers"]],
                          className="filter", persistence=True, persistence_type="session")
    return html.Div(className="filter-bar", children=[
        # Dealers see only their own batteries: the dealer filter is there but hidden (callbacks keep one shape).
        html.Div(dealer, style=None if show_dealer else {"display": "none"}),
        dcc.Dropdown(id=f"{prefix}-city", placeholder="All cities", clearable=True, options=options["cities"],
                     className="filter", persistence=True, persistence_type="session"),
        dcc.Dropdown(id=f"{prefix}-status", placeholder="Any status", clearable=True,
                     options=[{"label": label, "value": value} for value, label in STATUS_LABELS.items()],
                     className="filter", persistence=True, persistence_type="session"),
    ])
