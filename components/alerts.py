"""Alert lists: severity badge, what happened, which battery (linked), when."""
from __future__ import annotations

from datetime import datetime

from dash import dcc, html

from components.empty import create_empty_state


def ago(then: datetime | None, now: datetime) -> str:
    if then is None:
        return "never"
    minutes = int((now - then).total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // 1440} days ago"


def create_severity_badge(severity: str) -> html.Span:
    return html.Span(severity, className=f"badge badge-{severity}")


def create_alert_item(alert: dict, now: datetime, link: bool = True) -> html.Li:
    target = alert.get("vehicle_number") or alert["device_id"]
    repeats = f" · ×{alert['occurrence_count']}" if alert.get("occurrence_count", 1) > 1 else ""
    name = dcc.Link(target, href=f"/battery/{alert['device_id']}", className="alert-device") if link \
        else html.Span(target, className="alert-device")
    return html.Li(className=f"alert-item alert-{alert['severity']}", children=[
        create_severity_badge(alert["severity"]),
        html.Div(className="alert-body", children=[
            html.Div([name, html.Span(alert["alert_type"].replace("_", " "), className="alert-type")]),
            html.Div(alert["message"], className="alert-message"),
            html.Div(f"{ago(alert['last_seen_at'], now)}{repeats}", className="alert-when"),
        ]),
    ])


def create_alert_feed(alerts: list[dict], now: datetime, empty: str = "No open alerts",
                      link: bool = True) -> html.Div:
    if not alerts:
        return create_empty_state(empty, "New alerts appear here within a refresh.")
    return html.Ul([create_alert_item(a, now, link) for a in alerts], className="alert-feed")
