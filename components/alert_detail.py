"""One alert in full: its battery's header, the metric around it with the threshold drawn, and its
history. Pure: rows and a frame in, components and a figure out. Times are IST."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from components import theme
from components.alerts import create_severity_badge
from components.charts import TIME_TICKS
from ingest.readings import IST

# The metric each alert type is drawn with (data.alert_views.METRIC names the reading field).
METRIC_LABELS = {"soc": ("SOC", "%"), "temperature": ("Temperature", "°C"), "current_magnitude": ("Current (magnitude)", "A"),
                 "voltage": ("Voltage", "V"), "soh": ("SOH", "%"), "charge_cycle": ("Charge cycles", "")}
EVENT_LABELS = {"opened": "Opened", "repeated": "Repeated", "acknowledged": "Acknowledged", "assigned": "Assigned",
                "escalated": "Escalated", "reminded": "Reminder sent", "resolved": "Resolved", "reopened": "Reopened"}
TYPE_LABELS = {"low_soc": "Low SOC", "deep_discharge": "Deep discharge", "high_temp": "High temperature",
               "soh_degradation": "SOH degradation", "overcurrent": "Over-current", "overvoltage": "Over-voltage",
               "undervoltage": "Under-voltage", "no_communication": "No communication",
               "rapid_soh_drop": "Rapid SOH drop", "excessive_cycles": "Excessive cycles",
               "feed_silence": "Feed silence", "charging_loss": "Charging loss",
               "meter_mismatch": "Meter mismatch"}
GRAPH_CONFIG = {"displaylogo": False, "responsive": True}
NOT_FOUND = "Alert not found"


def type_label(alert_type: str) -> str:
    return TYPE_LABELS.get(alert_type, alert_type.replace("_", " "))


def ist(t: datetime | None, with_year: bool = False) -> str:
    if t is None:
        return "—"
    return f"{t.astimezone(IST):%d %b %Y %H:%M}" if with_year else f"{t.astimezone(IST):%d %b %H:%M}"


def number(value, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.1f}"
    return f"{text} {unit}".strip()


def value_vs_threshold(alert: dict, unit: str = "") -> str:
    if alert.get("reading_value") is None and alert.get("threshold_value") is None:
        return "—"
    return f"{number(alert.get('reading_value'))} / {number(alert.get('threshold_value'))} {unit}".strip()


def create_status_pill(status: str) -> html.Span:
    return html.Span(status, className=f"status-pill status-{status}")


def not_found() -> html.Div:
    # The same words for an unknown alert and another dealer's: the page must not tell them apart.
    return html.Div(className="alert-detail-empty", id="alerts-detail-not-found", children=[
        html.H2(NOT_FOUND, className="detail-title"),
        html.P("There is no alert with that number among the alerts you can see."),
    ])


def nothing_selected() -> html.Div:
    return html.Div(className="alert-detail-empty", children=[
        html.P("Select an alert in the table to see its battery, the reading around it and its history."),
    ])


def _fact(label: str, value) -> html.Div:
    return html.Div(className="fact", children=[html.Span(label, className="fact-label"),
                                                html.Span("—" if value in (None, "") else str(value),
                                                          className="fact-value")])


def create_detail_header(alert: dict, unit: str) -> html.Div:
    """Which battery, and what the alert is: the first thing an operator needs."""
    device = alert.get("device_id")
    title = alert.get("vehicle_number") or device or "Whole fleet"
    link = dcc.Link("Open the battery page →", href=f"/battery/{device}", className="detail-battery-link",
                    id="alerts-detail-battery-link") if device else None
    reopened = (dcc.Link(f"reopens alert #{alert['reopened_from']}", href=f"/alerts?id={alert['reopened_from']}",
                         className="detail-reopened") if alert.get("reopened_from") else None)
    return html.Div(className="detail-header", children=[
        html.Div(className="detail-title-row", children=[
            create_severity_badge(alert["severity"]),
            html.H2(title, className="detail-title", id="alerts-detail-title"),
            html.Span(type_label(alert["alert_type"]), className="detail-type"),
            create_status_pill(alert["status"]),
            html.Span(f"#{alert['id']}", className="detail-number"),
            reopened,
            link,
        ]),
        html.P(alert.get("message") or "", className="detail-message"),
        html.Div(className="facts detail-facts", children=[
            _fact("Device", device),
            _fact("Battery serial", alert.get("battery_serial")),
            _fact("Dealer", alert.get("dealer")),
            _fact("Customer", alert.get("customer_name")),
            _fact("Model", alert.get("battery_model")),
            _fact("SOC now", number(alert.get("soc"), "%") if alert.get("soc") is not None else None),
            _fact("SOH now", number(alert.get("soh"), "%") if alert.get("soh") is not None else None),
            _fact("Value / threshold", value_vs_threshold(alert, unit)),
            _fact("Opened (IST)", ist(alert.get("first_seen_at"), with_year=True)),
            _fact("Last seen (IST)", ist(alert.get("last_seen_at"), with_year=True)),
            _fact("Repeats", alert.get("occurrence_count")),
            _fact("Owner", alert.get("owner")),
        ]),
    ])


def metric_figure(frame: pd.DataFrame, alert: dict, field: str | None) -> go.Figure:
    """The alert's metric from 2 h before it opened to 2 h after, the threshold as a dashed line and
    the time it was active shaded: whether it was one spike or a sustained fault shows at a glance."""
    label, unit = METRIC_LABELS.get(field or "", ("Reading", ""))
    title = f"{label} around the alert (IST)"
    fig = go.Figure()
    fig.update_layout(template=theme.TEMPLATE, title_text=title, height=320, showlegend=False,
                      margin=dict(t=48, b=16, l=16, r=28), hovermode="x unified")
    frame = frame.dropna(subset=["value"])  # some packs never report a field (no temperature sensor)
    if frame.empty:
        fig.update_layout(xaxis=dict(visible=False), yaxis=dict(visible=False), annotations=[dict(
            text=f"No {label.lower()} readings around this alert", showarrow=False, xref="paper", yref="paper",
            x=0.5, y=0.5, font=dict(size=16, color=theme.MUTED))])
        return fig
    times = pd.to_datetime(frame["time"], utc=True).dt.tz_convert(IST)
    colour = theme.SEVERITY_COLOURS.get(alert["severity"], theme.ACCENT)
    fig.add_trace(go.Scatter(x=times, y=frame["value"].astype(float), mode="lines",
                             line=dict(color=theme.ACCENT, width=2),
                             name=label, hovertemplate=f"%{{y:.1f}} {unit}<extra></extra>"))
    start = alert["first_seen_at"].astimezone(IST)
    end = (alert.get("resolved_at") or alert["last_seen_at"]).astimezone(IST)
    if end > start:
        fig.add_vrect(x0=start, x1=end, fillcolor=colour, opacity=0.12, line_width=0)
    else:  # seen once so far: a line where it opened
        fig.add_vline(x=start, line=dict(color=colour, width=1, dash="dot"))
    threshold = alert.get("threshold_value")
    if threshold is not None:
        fig.add_hline(y=threshold, line=dict(color=colour, dash="dash", width=2),
                      annotation_text=f"threshold {number(threshold, unit)}", annotation_position="top left",
                      annotation_font=dict(color=colour, size=13))
    fig.update_xaxes(tickformatstops=TIME_TICKS)
    fig.update_yaxes(title_text=f"{label} {unit}".strip())
    return fig


def _event_line(event: dict) -> html.Li:
    details = event.get("details") or {}
    extra = None
    if event["event"] == "assigned" and details.get("owner"):
        extra = f"to {details['owner']}"
    elif event["event"] == "resolved" and details.get("by_hand") is False:
        extra = "condition cleared"
    return html.Li(className=f"history-item history-{event['event']}", children=[
        html.Div(className="history-head", children=[
            html.Span(EVENT_LABELS.get(event["event"], event["event"]), className="history-event"),
            html.Span(extra, className="history-extra") if extra else None,
            html.Span(f"by {event['actor']}", className="history-actor"),
            html.Span(ist(event["at"], with_year=True), className="history-at"),
        ]),
        html.Blockquote(event["comment"], className="history-comment") if event.get("comment") else None,
    ])


def create_history(events: list[dict]) -> html.Div:
    if not events:
        return html.P("No history recorded for this alert.", className="history-empty")
    return html.Ol([_event_line(e) for e in events], className="alert-history", id="alerts-detail-history")


def no_actions_note(alert: dict, allowed: tuple[str, ...]) -> str:
    if not allowed:
        return "Your role can look at this alert but not act on it."
    return "Resolved: nothing more to do." if alert.get("status") == "resolved" else "Nothing more you can do here."


def create_alert_detail(alert: dict, events: list[dict], figure: go.Figure, field: str | None,
                        action_bar, note: str = "") -> html.Div:
    """The whole detail panel: header, chart and (beside it on a wide screen) actions and history.
    ``note`` stands where the buttons would when there are none."""
    unit = METRIC_LABELS.get(field or "", ("", ""))[1]
    return html.Div(className="alert-detail", id=f"alerts-detail-{alert['id']}", children=[
        create_detail_header(alert, unit),
        html.Div(className="detail-body", children=[
            # Its own height: Dash gives the graph "height: 100%", which in a grid row is the taller
            # neighbour's (the history), or next to nothing beside a short one.
            dcc.Graph(figure=figure, config=GRAPH_CONFIG, className="detail-chart", id="alerts-detail-chart",
                      style={"height": "320px"}),
            html.Div(className="detail-side", children=[
                html.Div(className="detail-actions", children=[
                    html.H3("Act on this alert", className="detail-subtitle"),
                    action_bar,
                ]) if action_bar is not None else html.P(
                    note, className="detail-no-actions"),
                html.H3("History", className="detail-subtitle"),
                create_history(events),
            ]),
        ]),
    ])
