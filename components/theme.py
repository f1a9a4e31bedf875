"""Colours and the Plotly templates: a dark theme with high contrast, and a larger one for the wall.

The wall is read from across a room, so the same figures take ``WALL_TEMPLATE`` there: only the
type sizes and the room they need change, never the figure code.
"""
from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

BACKGROUND = "#0b1220"
PANEL = "#131c2e"
TEXT = "#e6edf7"
MUTED = "#8fa3bf"
GRID = "#23304a"
ACCENT = "#38bdf8"
OK = "#22c55e"
WARNING = "#facc15"
CRITICAL = "#ef4444"
OFFLINE = "#6b7280"

SEVERITY_COLOURS = {"critical": CRITICAL, "warning": WARNING, "info": ACCENT}

TEMPLATE = "fleet-dark"
WALL_TEMPLATE = "fleet-wall"


def _template(font: int, title: int, top: int) -> go.layout.Template:
    # automargin lets Plotly grow a margin to fit its tick labels and axis title, so neither is
    # clipped at the chart's edge; standoff keeps the axis title clear of the tick labels.
    axis = dict(gridcolor=GRID, zerolinecolor=GRID, automargin=True, tickfont=dict(size=font),
                title=dict(standoff=max(8, font // 2), font=dict(size=font, color=MUTED)))
    return go.layout.Template(layout=go.Layout(
        paper_bgcolor=PANEL,
        plot_bgcolor=PANEL,
        font=dict(color=TEXT, family="Inter, system-ui, sans-serif", size=font),
        title=dict(font=dict(size=title), x=0.02, xanchor="left", y=1, yanchor="top", yref="container",
                   pad=dict(t=font // 2 + 4)),
        colorway=[ACCENT, OK, WARNING, CRITICAL, "#a78bfa", "#f472b6"],
        xaxis=axis,
        yaxis=axis,
        # Room on the right for half of the last x tick label ("100", "1,000"), which Plotly hides
        # rather than push the margin for.
        margin=dict(l=16, r=2 * font, t=top, b=16),
        hoverlabel=dict(font=dict(size=font)),
        # No box or lasso select anywhere: nothing here acts on a selection.
        modebar=dict(bgcolor="rgba(0,0,0,0)", color=MUTED, activecolor=TEXT,
                     remove=["select", "lasso", "toggleSpikelines", "hoverClosestCartesian", "hoverCompareCartesian"]),
    ))


pio.templates[TEMPLATE] = _template(font=14, title=18, top=48)
pio.templates[WALL_TEMPLATE] = _template(font=20, title=28, top=64)


def template(large: bool = False) -> str:
    """The wall's template when ``large``, else the everyday one."""
    return WALL_TEMPLATE if large else TEMPLATE
