"""Figures for the overview, wall and battery pages. Pure: they take rows, never query.

Every figure explains itself when it has nothing to show (``empty_figure``) rather than
rendering blank axes.
"""
from __future__ import annotations

from datetime import date, timedelta

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components import theme

_CONFIG_MARGIN = dict(l=48, r=16, t=44, b=36)
_TITLE = dict(x=0.02, xanchor="left")


def empty_figure(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(template=theme.TEMPLATE, title=dict(_TITLE, text=title), margin=_CONFIG_MARGIN,
                      xaxis=dict(visible=False), yaxis=dict(visible=False),
                      annotations=[dict(text=message, showarrow=False, font=dict(size=16, color=theme.MUTED),
                                        xref="paper", yref="paper", x=0.5, y=0.5)])
    return fig


def soc_distribution(bands: list[dict], title: str = "State of charge now") -> go.Figure:
    if not bands:
        return empty_figure(title, "No battery has reported in the last 24 h")
    counts = {b["band"]: b["devices"] for b in bands}
    x = [f"{lo}–{lo + 10}" for lo in range(0, 100, 10)]
    y = [counts.get(lo, 0) for lo in range(0, 100, 10)]
    colours = [theme.CRITICAL if lo < 20 else theme.WARNING if lo < 50 else theme.OK for lo in range(0, 100, 10)]
    fig = go.Figure(go.Bar(x=x, y=y, marker_color=colours, hovertemplate="SOC %{x} %: %{y} batteries<extra></extra>"))
    fig.update_layout(template=theme.TEMPLATE, title=dict(_TITLE, text=title), margin=_CONFIG_MARGIN, bargap=0.08,
                      xaxis_title="SOC %", yaxis_title="batteries")
    return fig


def cycle_distribution(bands: list[dict], width: int = 100, title: str = "Charge cycles") -> go.Figure:
    if not bands:
        return empty_figure(title, "No charge-cycle counts reported yet")
    fig = go.Figure(go.Bar(x=[f"{b['band']}–{b['band'] + width - 1}" for b in bands], y=[b["devices"] for b in bands],
                           marker_color=theme.ACCENT, hovertemplate="%{x} cycles: %{y} batteries<extra></extra>"))
    fig.update_layout(template=theme.TEMPLATE, title=dict(_TITLE, text=title), margin=_CONFIG_MARGIN, bargap=0.08,
                      xaxis_title="cycles", yaxis_title="batteries")
    return fig


def distance_calendar(days: list[dict], today: date, weeks: int = 12, title: str = "Fleet km per day") -> go.Figure:
    """A calendar heat map: a column per week (Monday first), a row per weekday."""
    if not days:
        return empty_figure(title, "No trips recorded in the last 12 weeks")
    km = {d["day"]: float(d["km"] or 0) for d in days}
    first_monday = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    z, text = [[None] * weeks for _ in weekdays], [[""] * weeks for _ in weekdays]
    for w in range(weeks):
        for wd in range(7):
            day = first_monday + timedelta(days=7 * w + wd)
            if day <= today:
                z[wd][w] = km.get(day, 0.0)
                text[wd][w] = f"{day:%a %d %b}: {km.get(day, 0.0):,.0f} km"
    x = [(first_monday + timedelta(days=7 * w)).strftime("%d %b") for w in range(weeks)]
    fig = go.Figure(go.Heatmap(z=z, x=x, y=weekdays, text=text, hoverinfo="text", xgap=3, ygap=3,
                               colorscale=[[0, theme.PANEL], [0.01, "#0c4a6e"], [1, theme.ACCENT]],
                               colorbar=dict(title="km", thickness=10)))
    fig.update_layout(template=theme.TEMPLATE, title=dict(_TITLE, text=title), margin=_CONFIG_MARGIN,
                      yaxis=dict(autorange="reversed", showgrid=False), xaxis=dict(showgrid=False))
    return fig


SERIES = (("soc", "SOC %", theme.OK), ("voltage", "Voltage V", theme.ACCENT), ("current", "Current A", theme.WARNING),
          ("temperature", "Temperature °C", theme.CRITICAL))


def battery_series(frame, resolution: str, revision: str) -> go.Figure:
    """SOC, voltage, current and temperature stacked on one shared, zoomable time axis.

    ``revision`` keeps the user's zoom across the page's 10 s refreshes until the range changes.
    """
    fig = make_subplots(rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        subplot_titles=[label for _, label, _ in SERIES])
    mode = "lines" if resolution == "raw" else "lines+markers"
    for row, (column, label, colour) in enumerate(SERIES, start=1):
        fig.add_trace(go.Scattergl(x=frame["time"], y=frame[column], name=label, mode=mode, line=dict(color=colour),
                                   marker=dict(size=3), connectgaps=False), row=row, col=1)
        if frame[column].isna().all():
            fig.add_annotation(text=f"no {label.split()[0].lower()} reported in this range", showarrow=False,
                               xref="x domain", yref="y domain", x=0.5, y=0.5, row=row, col=1,
                               font=dict(color=theme.MUTED))
    note = {"raw": "every reading", "hour": "hourly averages", "day": "daily averages"}[resolution]
    fig.update_layout(template=theme.TEMPLATE, height=720, showlegend=False, uirevision=revision,
                      title=dict(_TITLE, text=f"Telemetry ({note})"), margin=dict(l=56, r=16, t=64, b=36), hovermode="x unified")
    return fig


SESSION_COLOURS = {"charge": theme.OK, "discharge": theme.WARNING, "rest": theme.OFFLINE}


def session_timeline(blocks: list[dict], revision: str) -> go.Figure:
    title = "Charge / discharge sessions"
    if not blocks:
        return empty_figure(title, "No current readings in this range")
    fig = go.Figure()
    for kind, colour in SESSION_COLOURS.items():
        mine = [b for b in blocks if b["kind"] == kind]
        if not mine:
            continue
        fig.add_trace(go.Bar(
            base=[b["start"] for b in mine], x=[(b["end"] - b["start"]).total_seconds() * 1000 for b in mine],
            y=[kind] * len(mine), orientation="h", marker_color=colour, name=kind,
            customdata=[[f"{b['start']:%d %b %H:%M}", f"{b['end']:%H:%M}"] for b in mine],
            hovertemplate=kind + " %{customdata[0]}–%{customdata[1]}<extra></extra>"))
    fig.update_layout(template=theme.TEMPLATE, title=dict(_TITLE, text=title), height=220, barmode="overlay", showlegend=False,
                      xaxis=dict(type="date"), uirevision=revision, margin=_CONFIG_MARGIN)
    return fig


def gauge(value, title: str, unit: str, lo: float, hi: float, bands: list[tuple[float, float, str]]) -> go.Figure:
    fig = go.Figure(go.Indicator(
        mode="gauge+number", value=value, number=dict(suffix=f" {unit}", valueformat=".1f"),
        title=dict(text=title), gauge=dict(axis=dict(range=[lo, hi]), bar=dict(color=theme.TEXT),
                                           steps=[dict(range=[a, b], color=c) for a, b, c in bands])))
    if value is None:
        fig.add_annotation(text="no reading", showarrow=False, font=dict(color=theme.MUTED, size=14), y=0.1)
    fig.update_layout(template=theme.TEMPLATE, height=200, margin=dict(l=24, r=24, t=48, b=8))
    return fig
