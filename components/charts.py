"""Figures for the overview, wall and battery pages. Pure: they take rows, never query.

Every figure explains itself when it has nothing to show (``empty_figure``) rather than
rendering blank axes. ``large`` gives the wall's type sizes (``theme.WALL_TEMPLATE``); the
figure itself is the same everywhere.
"""
from __future__ import annotations

import math
from datetime import date, timedelta

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components import theme

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
# The fleet charts are read, not explored: only the download button, so the short mode bar never
# covers the title on a narrow card.
READ_ONLY_MODEBAR = ["zoom", "pan", "select", "lasso", "zoomIn", "zoomOut", "autoScale", "resetScale",
                     "toggleSpikelines", "hoverClosestCartesian", "hoverCompareCartesian"]
# Time ticks short enough to stay level on a phone: the date on every tick within a day, so no
# tick carries Plotly's long "Nov 23, 2026" header line.
TIME_TICKS = [dict(dtickrange=[None, 86_400_000], value="%H:%M<br>%d %b"),
              dict(dtickrange=[86_400_000, "M1"], value="%d %b"),
              dict(dtickrange=["M1", None], value="%b %Y")]


def _layout(fig: go.Figure, title: str, large: bool, **layout) -> go.Figure:
    fig.update_layout(template=theme.template(large), title_text=title, **layout)
    return fig


def empty_figure(title: str, message: str, large: bool = False) -> go.Figure:
    note = dict(text=message, showarrow=False, font=dict(size=22 if large else 16, color=theme.MUTED),
                xref="paper", yref="paper", x=0.5, y=0.5)
    return _layout(go.Figure(), title, large, xaxis=dict(visible=False), yaxis=dict(visible=False), annotations=[note])


def round_step(span: float, lines: int = 5) -> int:
    """A whole, round gap between gridlines (1, 2, 5, 10, 20 …) giving at most ``lines`` of them.
    For counts, Plotly's own choice for a top of 3 would be 0.5, and half a battery means nothing."""
    rough = max(span, 1) / lines
    magnitude = 10 ** math.floor(math.log10(rough)) if rough >= 1 else 1
    return max(1, next(int(m * magnitude) for m in (1, 2, 5, 10) if m * magnitude >= rough))


def _count_axis(top: float, title: str) -> dict:
    return dict(title_text=title, tickformat=",d", rangemode="tozero", tick0=0, dtick=round_step(top))


def _band_histogram(lows: list[int], counts: list[int], width: int, colours, hover: str, x_title: str,
                    title: str, large: bool) -> go.Figure:
    """Bars between band edges on a numeric axis: the ticks are the edges (0, 20, 40 …), short enough
    never to be cut or crowded, where "90–100" per bar did both."""
    labels = [f"{lo}–{lo + width}" for lo in lows]
    fig = go.Figure(go.Bar(x=[lo + width / 2 for lo in lows], y=counts, width=width * 0.92, marker_color=colours,
                           customdata=labels, hovertemplate=hover))
    left, right = lows[0], lows[-1] + width
    step = max(width, round_step(right - left))  # at most 6 edge labels: they fit a phone's card
    return _layout(fig, title, large, modebar_remove=READ_ONLY_MODEBAR,
                   xaxis=dict(title_text=x_title, range=[left, right], tick0=0, dtick=step, tickformat=",d",
                              showgrid=False),
                   yaxis=_count_axis(max(counts), "batteries"))


def soc_distribution(bands: list[dict], title: str = "State of charge now", large: bool = False) -> go.Figure:
    if not bands:
        return empty_figure(title, "No battery has reported in the last 24 h", large)
    counts = {b["band"]: b["devices"] for b in bands}
    lows = list(range(0, 100, 10))
    colours = [theme.CRITICAL if lo < 20 else theme.WARNING if lo < 50 else theme.OK for lo in lows]
    return _band_histogram(lows, [counts.get(lo, 0) for lo in lows], 10, colours,
                           "SOC %{customdata} %: %{y} batteries<extra></extra>", "SOC %", title, large)


def cycle_distribution(bands: list[dict], width: int = 100, title: str = "Charge cycles",
                       large: bool = False) -> go.Figure:
    if not bands:
        return empty_figure(title, "No charge-cycle counts reported yet", large)
    counts = {b["band"]: b["devices"] for b in bands}
    lows = list(range(min(counts), max(counts) + width, width))  # empty bands stay visible as gaps
    return _band_histogram(lows, [counts.get(lo, 0) for lo in lows], width, theme.ACCENT,
                           "%{customdata} cycles: %{y} batteries<extra></extra>", "charge cycles", title, large)


def distance_calendar(days: list[dict], today: date, weeks: int = 12, title: str = "Fleet km per day",
                      large: bool = False) -> go.Figure:
    """A calendar heat map: a column per week (Monday first), a row per weekday, from the first week
    with any km (at most ``weeks`` back) to this week, so empty weeks do not squeeze the rest."""
    km = {d["day"]: float(d["km"] or 0) for d in days}
    this_monday = today - timedelta(days=today.weekday())
    oldest_monday = this_monday - timedelta(weeks=weeks - 1)
    driven = [day for day, value in km.items() if value > 0 and oldest_monday <= day <= today]
    if not driven:
        return empty_figure(title, f"No trips recorded in the last {weeks} weeks", large)
    # Days outside the summarised span (before the first, or today before its trips are summarised
    # after midnight) are blank: "0 km" there would be a number that is not true.
    summarised = [day for day in km if oldest_monday <= day <= today]
    first_day, last_day = min(summarised), max(summarised)
    first_monday = min(driven) - timedelta(days=min(driven).weekday())
    mondays = [first_monday + timedelta(weeks=w) for w in range((this_monday - first_monday).days // 7 + 1)]
    z = [[None] * len(mondays) for _ in WEEKDAYS]
    text = [[""] * len(mondays) for _ in WEEKDAYS]
    for w, monday in enumerate(mondays):
        for wd in range(7):
            day = monday + timedelta(days=wd)
            if first_day <= day <= last_day:
                z[wd][w] = km.get(day, 0.0)
                text[wd][w] = f"{day:%a} {day.day} {day:%b}: {km.get(day, 0.0):,.0f} km"
    columns = [f"{monday.day} {monday:%b}" for monday in mondays]
    # Zero km is a dim cell (the calendar stays legible), any km at all is clearly blue.
    scale = [[0, theme.GRID], [0.001, "#0c4a6e"], [1, theme.ACCENT]]
    fig = go.Figure(go.Heatmap(z=z, x=columns, y=WEEKDAYS, text=text, hoverinfo="text", xgap=3, ygap=3, zmin=0,
                               # Plotly keeps zmin only beside a zmax: without it the least-driven day takes 0's colour.
                               zmax=max(max(cell for row in z for cell in row if cell is not None), 1),
                               colorscale=scale, colorbar=dict(title=dict(text="km"), thickness=16 if large else 10,
                                                               tickformat=",d", outlinewidth=0)))
    # Every week column carries its Monday's date; Plotly turns them upright only when they would overlap.
    return _layout(fig, title, large, modebar_remove=READ_ONLY_MODEBAR,
                   xaxis=dict(showgrid=False, tickmode="array", tickvals=columns, ticktext=columns,
                              autotickangles=[0, 90], type="category"),
                   yaxis=dict(autorange="reversed", showgrid=False, type="category"))


# The telemetry and the session timeline share one left edge, so a moment lines up in both.
BATTERY_LEFT_MARGIN = 84
SERIES = (("soc", "SOC %", theme.OK), ("voltage", "Voltage V", theme.ACCENT), ("current", "Current A", theme.WARNING),
          ("temperature", "Temperature °C", theme.CRITICAL))


def battery_series(frame, resolution: str, revision: str) -> go.Figure:
    """SOC, voltage, current and temperature stacked on one shared, zoomable time axis.

    ``revision`` keeps the user's zoom across the page's 10 s refreshes until the range changes.
    """
    fig = make_subplots(rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.05,
                        subplot_titles=[label for _, label, _ in SERIES])
    # Each panel's name at its top left, clear of the lines that cross the middle.
    fig.update_annotations(x=0, xanchor="left", font=dict(size=13, color=theme.MUTED))
    mode = "lines" if resolution == "raw" else "lines+markers"
    for row, (column, label, colour) in enumerate(SERIES, start=1):
        fig.add_trace(go.Scatter(x=frame["time"], y=frame[column], name=label, mode=mode, line=dict(color=colour),
                                 marker=dict(size=3), connectgaps=False), row=row, col=1)
        if frame[column].isna().all():
            fig.add_annotation(text=f"no {label.split()[0].lower()} reported in this range", showarrow=False,
                               xref="x domain", yref="y domain", x=0.5, y=0.5, row=row, col=1,
                               font=dict(color=theme.MUTED))
    note = {"raw": "every reading", "hour": "hourly averages", "day": "daily averages"}[resolution]
    fig.update_xaxes(tickformatstops=TIME_TICKS)
    return _layout(fig, f"Telemetry ({note})", False, height=720, showlegend=False, uirevision=revision,
                   margin=dict(t=72, l=BATTERY_LEFT_MARGIN), hovermode="x unified")


SESSION_KINDS = {"charge": theme.OK, "discharge": theme.WARNING, "rest": theme.OFFLINE}


def session_timeline(blocks: list[dict], revision: str) -> go.Figure:
    """One row per kind, always all three and in this order, so a range with no charging still
    reads as "no charging" rather than as a chart with a row missing."""
    title = "Charge / discharge sessions"
    if not blocks:
        return empty_figure(title, "No current readings in this range")
    fig = go.Figure()
    for kind, colour in SESSION_KINDS.items():
        mine = [b for b in blocks if b["kind"] == kind]
        if not mine:
            continue
        fig.add_trace(go.Bar(
            base=[b["start"] for b in mine], x=[(b["end"] - b["start"]).total_seconds() * 1000 for b in mine],
            y=[kind] * len(mine), orientation="h", marker_color=colour, name=kind,
            customdata=[[f"{b['start']:%d %b %H:%M}", f"{b['end']:%H:%M}"] for b in mine],
            hovertemplate=kind + " %{customdata[0]}–%{customdata[1]}<extra></extra>"))
    kinds = list(SESSION_KINDS)
    return _layout(fig, title, False, height=220, barmode="overlay", showlegend=False, uirevision=revision,
                   margin=dict(l=BATTERY_LEFT_MARGIN),
                   xaxis=dict(type="date", tickformatstops=TIME_TICKS),
                   yaxis=dict(type="category", categoryorder="array", categoryarray=kinds,
                              range=[len(kinds) - 0.5, -0.5], fixedrange=True, showgrid=False))


def gauge(value, title: str, unit: str, lo: float, hi: float, bands: list[tuple[float, float, str]]) -> go.Figure:
    fig = go.Figure(go.Indicator(
        mode="gauge+number", value=value, number=dict(suffix=f" {unit}", valueformat=".1f"),
        title=dict(text=title), gauge=dict(axis=dict(range=[lo, hi], nticks=6, tickfont=dict(size=12)),
                                           bar=dict(color=theme.TEXT),
                                           steps=[dict(range=[a, b], color=c) for a, b, c in bands])))
    if value is None:
        fig.add_annotation(text="no reading", showarrow=False, font=dict(color=theme.MUTED, size=14), y=0.1)
    # Side margins wide enough for the end labels ("-100", "100") on a phone's half-width card.
    fig.update_layout(template=theme.TEMPLATE, height=200, margin=dict(l=34, r=34, t=48, b=8))
    return fig
