"""The battery page's state-of-health panel: the SOH history (BMS, our estimate with its band, the
warranty curve), the end-of-life forecast with its band, and the facts beside it. Pure."""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import plotly.graph_objects as go
from dash import html

from components import charts, theme

SOURCE_LABELS = {"measured": "Measured (BMS)", "estimated": "Estimated from charging", "not_measured": "Not measured"}
BMS_LABELS = {"reported": "reports SOH", "stuck": "SOH stuck (always the same value)", "absent": "reports no SOH"}
FORECAST = "#a78bfa"


def _fact(label: str, value, note: str | None = None) -> html.Div:
    return html.Div(className="fact", children=[
        html.Span(label, className="fact-label"),
        html.Span("—" if value in (None, "") else str(value), className="fact-value"),
        *([html.Span(note, className="fact-note")] if note else [])])


def _d(value) -> str:
    return f"{value:%d %b %Y}" if value else "—"


def create_health_facts(row: dict | None) -> html.Div:
    if row is None:
        return html.Div(className="facts", id="battery-health-facts", children=[
            _fact("SOH", "Not measured", "No health ledger for this battery yet: it is computed once a day.")])
    soh = (f"{row['soh']:.1f} %" if row["soh"] is not None else "Not measured")
    band = (f"80 % band {row['soh_low']:.1f}–{row['soh_high']:.1f}"
            if row.get("soh_low") is not None and row.get("soh_high") is not None else None)
    if row["rul_status"] == "forecast":
        eol = _d(row["eol_p50"])
        eol_note = f"pessimistic {_d(row['eol_p10'])}, optimistic {_d(row['eol_p90'])}"
    elif row["rul_status"] == "reached":
        eol, eol_note = "Reached", row["rul_reason"]
    else:
        eol, eol_note = "Not enough data yet", row["rul_reason"]
    soc = {"calibration": "SOC calibration needed", "ok": "Agrees with our model",
           "not_checked": "Not checked"}.get(row.get("soc_check"), "Not checked")
    soc_note = (f"BMS SOC and the model differ by {row['soc_diff']:.1f} points on average"
                if row.get("soc_diff") is not None else None)
    warranty = {"ok": "Inside warranty", "at_risk": "At risk", "below_floor": "Under the floor",
                "expired": "Expired", "unknown": "Unknown (SOH not measured)"}[row["warranty_status"]]
    return html.Div(className="facts health-facts", id="battery-health-facts", children=[
        _fact("SOH", soh, band),
        _fact("Source", SOURCE_LABELS[row["soh_source"]],
              f"BMS {BMS_LABELS.get(row['bms_status'], row['bms_status'])}; {row['est_sessions']} charge sessions "
              "behind the estimate"),
        _fact("Fade per month", f"{row['fade_per_month']:.2f} points" if row.get("fade_per_month") is not None else None),
        _fact("Fade per 100 cycles",
              f"{row['fade_per_100_cycles']:.2f} points" if row.get("fade_per_100_cycles") is not None else None),
        _fact(f"End of life ({row.get('eol_soh', 80):g} %)", eol, eol_note),
        _fact("Warranty", warranty, f"to {_d(row['warranty_end'])}, floor {row['warranty_floor']:g} %"
              if row.get("warranty_end") and row.get("warranty_floor") is not None else None),
        html.Div(className=f"fact soc-check {row.get('soc_check') or 'not_checked'}", children=[
            html.Span("SOC cross-check", className="fact-label"),
            html.Span(soc, className="fact-value", id="battery-soc-check"),
            *([html.Span(soc_note, className="fact-note")] if soc_note else [])]),
        html.Div(className="fact", children=[
            html.Span("Warranty claim", className="fact-label"),
            html.A("Evidence pack (PDF)", href=f"/download/evidence/{row['device_id']}.pdf", className="link-button",
                   id="battery-evidence-link")]),
    ])


def soh_history_figure(history: pd.DataFrame, row: dict | None, sold_at: date | None, warranty_months: int | None,
                       eol_soh: float) -> go.Figure:
    title = "State of health"
    if history.empty or history["soh"].notna().sum() == 0 and history["est_soh"].notna().sum() == 0:
        return charts.empty_figure(title, "No SOH measured or estimated yet")
    fig = go.Figure()
    days = pd.to_datetime(history["day"])
    est = history[history["est_soh"].notna()]
    if len(est):
        est_days = pd.to_datetime(est["day"])
        fig.add_trace(go.Scatter(x=list(est_days) + list(est_days[::-1]),
                                 y=list(est["est_high"]) + list(est["est_low"][::-1]), fill="toself",
                                 fillcolor="rgba(56,189,248,0.15)", line=dict(width=0), hoverinfo="skip",
                                 name="Estimate band (80 %)"))
        fig.add_trace(go.Scatter(x=est_days, y=est["est_soh"], mode="lines+markers", name="Estimated from charging",
                                 line=dict(color=theme.ACCENT), marker=dict(size=5),
                                 customdata=est["est_sessions"],
                                 hovertemplate="%{x|%d %b %Y}: %{y:.1f} % (%{customdata} sessions)<extra></extra>"))
    bms = history[(history["bms_status"] == "reported") & history["bms_soh"].notna()]
    if len(bms):
        fig.add_trace(go.Scatter(x=pd.to_datetime(bms["day"]), y=bms["bms_soh"], mode="markers", name="BMS",
                                 marker=dict(color=theme.OK, size=6),
                                 hovertemplate="%{x|%d %b %Y}: BMS %{y:.1f} %<extra></extra>"))
    end = days.max()
    if row and row.get("forecast_curve"):
        curve = pd.DataFrame(row["forecast_curve"], columns=["day", "p10", "p50", "p90"])
        curve["day"] = pd.to_datetime(curve["day"])
        fig.add_trace(go.Scatter(x=list(curve["day"]) + list(curve["day"][::-1]),
                                 y=list(curve["p90"]) + list(curve["p10"][::-1]), fill="toself",
                                 fillcolor="rgba(167,139,250,0.18)", line=dict(width=0), hoverinfo="skip",
                                 name="Forecast band (10–90 %)"))
        fig.add_trace(go.Scatter(x=curve["day"], y=curve["p50"], mode="lines", name="Forecast",
                                 line=dict(color=FORECAST, dash="dash"),
                                 hovertemplate="%{x|%b %Y}: %{y:.1f} % expected<extra></extra>"))
        end = max(end, curve["day"].max())
    if sold_at and warranty_months and row and row.get("warranty_floor") is not None:
        w_end = sold_at + timedelta(days=round(warranty_months * 30.44))
        fig.add_trace(go.Scatter(x=[pd.Timestamp(sold_at), pd.Timestamp(w_end)], y=[100, row["warranty_floor"]],
                                 mode="lines", name="Warranty curve", line=dict(color=theme.WARNING, dash="dot"),
                                 hovertemplate="Warranty: %{y:.0f} % by %{x|%d %b %Y}<extra></extra>"))
    fig.add_hline(y=eol_soh, line=dict(color=theme.CRITICAL, width=1, dash="dot"),
                  annotation_text=f"end of life {eol_soh:g} %", annotation_position="bottom left",
                  annotation_font_color=theme.CRITICAL)
    start = pd.Timestamp(sold_at) if sold_at else days.min()
    fig.update_layout(template=theme.TEMPLATE, title_text=title, height=420,
                      legend=dict(orientation="h", yanchor="top", y=-0.15, x=0),
                      yaxis=dict(title_text="SOH %", range=[min(70, eol_soh - 5), 102]),
                      xaxis=dict(range=[start - pd.Timedelta(days=10), end + pd.Timedelta(days=20)],
                                 tickformatstops=charts.TIME_TICKS))
    return fig
