"""The top bar's battery search: a box, and the list of matches under it. Pure: rows in, components out."""
from __future__ import annotations

from dash import dcc, html

from components.empty import create_empty_state

MATCHED_LABELS = {"device": "device id", "vehicle": "vehicle number", "serial": "battery serial",
                  "customer": "customer"}


def create_search_box() -> html.Div:
    return html.Div(className="topbar-search", role="search", children=[
        html.Label("Find a battery", htmlFor="search-input", className="visually-hidden"),
        dcc.Input(id="search-input", type="search", placeholder="Find a battery: vehicle, device, serial, customer",
                  debounce=0.25, autoComplete="off", className="search-input", maxLength=60),
        html.Div(id="search-results", className="search-results"),
        dcc.Location(id="search-go", refresh="callback-nav"),
    ])


def create_search_results(rows: list[dict], query: str) -> list | html.Div:
    if not query:
        return []
    if not rows:
        return create_empty_state("No battery matches", "Try the start of a vehicle number, device id, serial "
                                                        "or customer name.")
    return html.Ul(className="search-list", children=[
        html.Li(dcc.Link(href=f"/battery/{r['device_id']}", className="search-hit", children=[
            html.Span(r["vehicle_number"] or r["device_id"], className="search-hit-title"),
            html.Span(" · ".join(filter(None, [r["device_id"], r["battery_serial"], r["customer_name"],
                                               r["dealer_name"]])), className="search-hit-facts"),
            html.Span(f"matched {MATCHED_LABELS[r['matched']]}", className="search-hit-why"),
        ])) for r in rows
    ])
