"""Live toasts: the pieces every page's shell carries to show a new critical alert within seconds,
and the toast itself. Pure builders; the poll is pages/_live.py, the dismiss and the beep are
assets/live.js (clientside: no server round trip, no inline script under the CSP)."""
from __future__ import annotations

from dash import ClientsideFunction, Input, MATCH, Output, State, clientside_callback, dcc, html

POLL_MS = 5_000  # a new critical alert shows within this plus one cheap query: well inside 10 s


def create_live_parts() -> html.Div:
    """The container (toasts stack at the corner), the poll, and its memory. ``live-last`` holds
    the newest critical alert id already seen (None until the first poll of this page load)."""
    return html.Div(className="live", children=[
        dcc.Interval(id="live-poll", interval=POLL_MS),
        dcc.Store(id="live-last"),
        dcc.Store(id="live-beep"),  # {"n": new alerts, "id": newest}: the wall's sound listens to it
        dcc.Store(id="live-sound", data=False),  # the wall's sound switch (off until someone turns it on)
        dcc.Store(id="live-beeped"),
        html.Div(id="live-toasts", className="live-toasts", role="region", **{"aria-live": "polite",
                                                                               "aria-label": "New critical alerts"},
                 children=[]),
    ])


def _toast_id(key) -> dict:
    return {"type": "live-toast", "alert": str(key)}


def _close(key) -> html.Button:
    return html.Button("×", id={"type": "live-toast-close", "alert": str(key)}, className="toast-close", n_clicks=0,
                       title="Dismiss", **{"aria-label": "Dismiss"})


def create_toast(alert: dict) -> html.Div:
    vehicle = alert.get("vehicle_number") or alert.get("device_id") or "Whole fleet"
    return html.Div(id=_toast_id(alert["id"]), className="toast toast-critical", role="alert", children=[
        html.Div(className="toast-head", children=[
            html.Span("critical", className="badge badge-critical"),
            html.Span(vehicle, className="toast-vehicle"),
            html.Span(alert["alert_type"].replace("_", " "), className="toast-type"),
            _close(alert["id"]),
        ]),
        html.Div(alert.get("message") or "", className="toast-message"),
        dcc.Link("Open the alert →", href=f"/alerts?id={alert['id']}", className="toast-link"),
    ])


def create_more_toast(newest_id: int, more: int) -> html.Div:
    key = f"more-{newest_id}"
    return html.Div(id=_toast_id(key), className="toast toast-more", role="status", children=[
        html.Div(className="toast-head", children=[
            html.Span(f"{more} more new critical alert{'s' if more != 1 else ''}", className="toast-vehicle"),
            _close(key),
        ]),
        dcc.Link("Open the alerts page →", href="/alerts", className="toast-link"),
    ])


def register_live_clientside() -> None:
    """Dismiss a toast, and beep on new ones when the wall's sound is on (assets/live.js)."""
    clientside_callback(ClientsideFunction("live", "dismiss"),
                        Output({"type": "live-toast", "alert": MATCH}, "className"),
                        Input({"type": "live-toast-close", "alert": MATCH}, "n_clicks"),
                        State({"type": "live-toast", "alert": MATCH}, "className"), prevent_initial_call=True)
    clientside_callback(ClientsideFunction("live", "beep"), Output("live-beeped", "data"),
                        Input("live-beep", "data"), State("live-sound", "data"), prevent_initial_call=True)
