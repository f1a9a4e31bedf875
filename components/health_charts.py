"""Figures of the fleet health page. Pure: rows in (from data.fleet_health), figures out.

Fleet-wide views are aggregates, never one trace per battery: percentile bands per bucket, box
plots per dealer, binned medians per temperature. They stay readable and light at 22,000 packs.
"""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components import theme
from components.charts import _count_axis, _layout, empty_figure

SOURCE_COLOURS = {"measured": theme.ACCENT, "estimated": "#a78bfa", "not_measured": theme.OFFLINE}
SOURCE_NAMES = {"measured": "Measured (BMS)", "estimated": "Estimated from charging", "not_measured": "Not measured"}
MISUSE_NAMES = (("deep_discharge", "Deep discharge", theme.WARNING), ("over_temp", "Over-temperature", theme.CRITICAL),
                ("over_current", "Over-current", "#f472b6"), ("hot_charge", "Charging when hot", "#fb923c"))
TEMP_BIN = 1.0          # °C per temperature bucket
MIN_PER_BIN = 3         # batteries a temperature bucket needs before its median is drawn
EACH_MAX = 300          # up to this many batteries, each is drawn as well as the aggregate
BOX_MIN = 3             # batteries a dealer needs before its box is drawn
LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.18, xanchor="left", x=0)


def soh_distribution(rows: list[dict], width: int) -> go.Figure:
    """Stacked bars per SOH bucket for measured and estimated SOH; not-measured packs in a bar of
    their own beside them, never inside a bucket (they have no SOH to put there)."""
    title = "SOH distribution"
    if not rows:
        return empty_figure(title, "No batteries in view")
    frame = pd.DataFrame(rows)
    frame["batteries"] = frame["batteries"].astype(int)
    apart = int(frame.loc[frame["bucket"].isna(), "batteries"].sum())
    known = frame[frame["bucket"].notna()].copy()
    known["bucket"] = known["bucket"].astype(float)
    fig = make_subplots(rows=1, cols=2, column_widths=[0.84, 0.16], shared_yaxes=True, horizontal_spacing=0.03)
    top = 0
    if not known.empty:
        top = int(known.groupby("bucket")["batteries"].sum().max())
        for source in ("measured", "estimated"):
            part = known[known["source"] == source]
            if part.empty:
                continue
            fig.add_trace(go.Bar(
                x=part["bucket"] + width / 2, y=part["batteries"], width=width * 0.92, name=SOURCE_NAMES[source],
                marker_color=SOURCE_COLOURS[source], customdata=[f"{b:g}–{b + width:g} %" for b in part["bucket"]],
                hovertemplate="%{customdata}: %{y:,d} batteries<extra>" + SOURCE_NAMES[source] + "</extra>"),
                row=1, col=1)
    fig.add_trace(go.Bar(x=["Not<br>measured"], y=[apart], name=SOURCE_NAMES["not_measured"],
                         marker_color=SOURCE_COLOURS["not_measured"], text=[f"{apart:,}"], textposition="outside",
                         cliponaxis=False, hovertemplate="%{y:,d} batteries with no SOH<extra></extra>"),
                  row=1, col=2)
    top = max(top, apart, 1)
    fig.update_layout(barmode="stack", legend=LEGEND_BELOW, bargap=0)
    fig.update_xaxes(title_text="SOH %", row=1, col=1)
    fig.update_yaxes(**_count_axis(top * 1.12, "Batteries"), row=1, col=1)
    return _layout(fig, title, False, margin=dict(b=70))


def soh_bands(rows: list[dict], highlight: list[dict], axis_title: str, highlight_label: str | None,
              eol_soh: float, title: str, each: list[dict] | None = None) -> go.Figure:
    """The fleet's 10th-90th percentile band and median per bucket, the end-of-life line, and one
    dealer, model or battery on top. ``each``: every battery's own point, when they are few."""
    if not rows and not each:
        return empty_figure(title, "No battery with SOH yet")
    frame = pd.DataFrame(rows, columns=["bucket", "batteries", "p10", "p50", "p90"]).astype(
        {"bucket": float, "p10": float, "p50": float, "p90": float})
    fig = go.Figure()
    if each:
        dots = pd.DataFrame(each)
        fig.add_trace(go.Scatter(x=dots["x"].astype(float), y=dots["soh"].astype(float), mode="markers",
                                 name="Each battery", marker=dict(color=theme.MUTED, size=6, opacity=0.7),
                                 text=dots["label"], hovertemplate="%{text}: %{y:.1f} %<extra></extra>"))
    if not frame.empty:
        fig.add_trace(go.Scatter(x=frame["bucket"], y=frame["p90"], mode="lines", line=dict(width=0),
                                 hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scatter(x=frame["bucket"], y=frame["p10"], mode="lines", line=dict(width=0),
                                 fill="tonexty", fillcolor="rgba(56,189,248,0.18)", name="10–90 % of batteries",
                                 customdata=frame[["p90", "batteries"]].to_numpy(),
                                 hovertemplate="10 %: %{y:.1f} · 90 %: %{customdata[0]:.1f} "
                                               "(%{customdata[1]:,d} batteries)<extra></extra>"))
        fig.add_trace(go.Scatter(x=frame["bucket"], y=frame["p50"], mode="lines", name="Median",
                                 line=dict(color=theme.ACCENT, width=2),
                                 hovertemplate="median %{y:.1f} %<extra></extra>"))
    if highlight:
        h = pd.DataFrame(highlight).astype({"bucket": float, "p50": float})
        fig.add_trace(go.Scatter(x=h["bucket"], y=h["p50"], mode="lines+markers", name=highlight_label or "Highlight",
                                 line=dict(color=theme.WARNING, width=3), marker=dict(size=5),
                                 hovertemplate="%{y:.1f} %<extra>" + (highlight_label or "") + "</extra>"))
    fig.add_hline(y=eol_soh, line=dict(color=theme.CRITICAL, dash="dash", width=1),
                  annotation_text=f"end of life {eol_soh:g} %", annotation_position="bottom right",
                  annotation_font_color=theme.CRITICAL)
    lows = [eol_soh, *frame["p10"].tolist(), *([float(d["soh"]) for d in each] if each else [])]
    low = min(lows) - 2
    fig.update_layout(legend=LEGEND_BELOW, hovermode="closest")
    fig.update_xaxes(title_text=axis_title, rangemode="tozero")
    fig.update_yaxes(title_text="SOH %", range=[max(low, 0), 101])
    return _layout(fig, title, False, margin=dict(b=70))


def dealer_boxes(frame: pd.DataFrame) -> go.Figure:
    """SOH and fade rate by dealer, side by side, dealers down the y axis (long names stay whole)."""
    title = "Dealers: SOH and fade rate"
    if frame is None or frame.empty or frame["soh"].notna().sum() == 0:
        return empty_figure(title, "No SOH measured or estimated yet")
    frame = frame.assign(dealer=frame["dealer"].fillna("No dealer"))
    counts = frame.groupby("dealer")["soh"].count()
    dealers = sorted(counts[counts >= BOX_MIN].index, reverse=True)
    if not dealers:
        return empty_figure(title, f"No dealer has {BOX_MIN} batteries with SOH yet")
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=("SOH %", "Fade, points per month"))
    for col, column, colour in ((1, "soh", theme.ACCENT), (2, "fade_per_month", theme.WARNING)):
        part = frame[frame["dealer"].isin(dealers) & frame[column].notna()]
        fig.add_trace(go.Box(x=part[column].astype(float), y=part["dealer"], orientation="h", marker_color=colour,
                             boxpoints=False, showlegend=False, name=column,
                             hovertemplate="%{y}: %{x:.2f}<extra></extra>"), row=1, col=col)
    fig.update_yaxes(categoryorder="array", categoryarray=dealers)
    fig.update_annotations(font=dict(size=13, color=theme.MUTED))
    height = max(320, 60 + 34 * len(dealers))
    return _layout(fig, title, False, height=height, margin=dict(t=72))


def temperature_impact(frame: pd.DataFrame) -> go.Figure:
    """Median fade rate (with its 10-90 % spread) per operating-temperature bucket, and the share of
    batteries that report temperature at all."""
    title = "Fade against temperature"
    total = 0 if frame is None else len(frame)
    if not total:
        return empty_figure(title, "No batteries in view")
    reporting = frame["temp_share"].fillna(0) > 0
    share = 100.0 * reporting.sum() / total
    note = f"{share:.0f} % of {total:,} batteries report temperature"
    usable = frame[reporting & frame["mean_temperature"].notna() & frame["fade_per_month"].notna()].copy()
    if usable.empty:
        return empty_figure(title, f"{note}; none has a fade rate yet")
    usable["bin"] = (usable["mean_temperature"].astype(float) / TEMP_BIN).apply(math.floor) * TEMP_BIN
    stats = usable.groupby("bin")["fade_per_month"].agg(
        p10=lambda s: s.quantile(0.1), p50="median", p90=lambda s: s.quantile(0.9), n="count").reset_index()
    stats = stats[stats["n"] >= MIN_PER_BIN]
    few = len(usable) <= EACH_MAX
    if stats.empty and not few:
        return empty_figure(title, f"{note}; too few per temperature bucket yet")
    fig = go.Figure()
    if few:   # a few batteries are shown one by one as well
        fig.add_trace(go.Scatter(x=usable["mean_temperature"].astype(float), y=usable["fade_per_month"].astype(float),
                                 mode="markers", name="Each battery", marker=dict(color=theme.MUTED, size=6, opacity=0.7),
                                 hovertemplate="%{x:.1f} °C: %{y:.2f} points/month<extra></extra>"))
    if not stats.empty:
        fig.add_trace(go.Scatter(
            x=stats["bin"] + TEMP_BIN / 2, y=stats["p50"], mode="lines+markers", name="Median fade",
            line=dict(color=theme.WARNING, width=2),
            error_y=dict(type="data", symmetric=False, array=stats["p90"] - stats["p50"],
                         arrayminus=stats["p50"] - stats["p10"], color=theme.MUTED, thickness=1),
            customdata=stats[["n", "p10", "p90"]].to_numpy(),
            hovertemplate="%{x:.1f} °C: median %{y:.2f} points/month (10–90 %: %{customdata[1]:.2f}–"
                          "%{customdata[2]:.2f}), %{customdata[0]:,d} batteries<extra></extra>"))
    fig.update_layout(legend=LEGEND_BELOW)
    fig.add_annotation(text=note, xref="paper", yref="paper", x=0, y=1.02, xanchor="left", yanchor="bottom",
                       showarrow=False, font=dict(color=theme.MUTED, size=13))
    fig.update_xaxes(title_text="Mean operating temperature °C")
    fig.update_yaxes(title_text="Fade, SOH points per month", rangemode="tozero")
    return _layout(fig, title, False, margin=dict(t=72, b=70))


def misuse_bars(rows: list[dict]) -> go.Figure:
    """Battery-days with each misuse pattern per 1,000 battery-days, by dealer."""
    title = "Misuse per 1,000 battery-days (90 days)"
    rows = [r for r in rows if r.get("battery_days")]
    if not rows:
        return empty_figure(title, "No days of data in view yet")
    frame = pd.DataFrame(rows)
    frame["dealer"] = frame["dealer"].fillna("No dealer")
    frame = frame.sort_values("dealer", ascending=False)
    fig = go.Figure()
    for column, name, colour in MISUSE_NAMES:
        rate = 1000.0 * frame[column].astype(float) / frame["battery_days"].astype(float)
        fig.add_trace(go.Bar(y=frame["dealer"], x=rate, name=name, orientation="h", marker_color=colour,
                             customdata=frame[[column, "battery_days"]].to_numpy(),
                             hovertemplate="%{y}: %{x:.1f} per 1,000 (%{customdata[0]:,d} of "
                                           "%{customdata[1]:,d} battery-days)<extra>" + name + "</extra>"))
    height = max(320, 110 + 4 * 14 * len(frame))
    fig.update_layout(barmode="group", legend=LEGEND_BELOW, height=height)
    fig.update_xaxes(title_text="Battery-days per 1,000", rangemode="tozero")
    return _layout(fig, title, False, margin=dict(b=80))
