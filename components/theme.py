"""Colours and the Plotly template: a dark theme with high contrast, made for a wall display."""
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

pio.templates[TEMPLATE] = go.layout.Template(
    layout=go.Layout(
        paper_bgcolor=PANEL,
        plot_bgcolor=PANEL,
        font=dict(color=TEXT, family="Inter, system-ui, sans-serif", size=14),
        colorway=[ACCENT, OK, WARNING, CRITICAL, "#a78bfa", "#f472b6"],
        xaxis=dict(gridcolor=GRID, zerolinecolor=GRID),
        yaxis=dict(gridcolor=GRID, zerolinecolor=GRID),
        margin=dict(l=48, r=16, t=40, b=40),
    )
)
