"""KPI cards: one big number, a title, and a line of context."""
from __future__ import annotations

from dash import html


def create_kpi_card(card_id: str, title: str, value: str, subtext: str = "", tone: str = "neutral") -> html.Div:
    return html.Div(
        className=f"kpi-card kpi-{tone}",
        id=card_id,
        children=[
            html.Div(title, className="kpi-title"),
            html.Div(value, className="kpi-value"),
            html.Div(subtext, className="kpi-subtext"),
        ],
    )


def format_count(value) -> str:
    return "—" if value is None else f"{int(value):,}"


def _soh_change(k: dict) -> str:
    if k.get("avg_soh") is None or k.get("past_soh") is None:
        return "no earlier SOH to compare yet"
    delta = k["avg_soh"] - k["past_soh"]
    arrow = "▼" if delta < -0.05 else "▲" if delta > 0.05 else "="
    return f"{arrow} {abs(delta):.1f} since {k['past_soh_date']:%d %b}"


def create_fleet_kpis(k: dict) -> list[html.Div]:
    """The four headline cards of seed 000 §5.2 from ``data.fleet.kpis``."""
    batteries = k["batteries"] or 0
    alerts = (k["critical_alerts"] or 0) + (k["warning_alerts"] or 0)
    share = f"{100 * k['charging'] / batteries:.1f} % of fleet" if batteries else "no batteries in view"
    apart = k["soh_unmeasured"] or 0
    return [
        create_kpi_card("kpi-active", "Active batteries", format_count(batteries),
                        f"+{k['added_this_week'] or 0} this week · {format_count(k['reporting'])} reporting"),
        create_kpi_card("kpi-soh", "Fleet avg SOH", "—" if k["avg_soh"] is None else f"{k['avg_soh']:.1f} %",
                        f"{_soh_change(k)} · {apart:,} stuck or unmeasured, counted apart",
                        tone="warning" if k["avg_soh"] is not None and k["avg_soh"] < 85 else "neutral"),
        create_kpi_card("kpi-charging", "Charging now", format_count(k["charging"]), share),
        create_kpi_card("kpi-alerts", "Open alerts", format_count(alerts),
                        f"{k['critical_alerts'] or 0} critical, {k['warning_alerts'] or 0} warning",
                        tone="critical" if k["critical_alerts"] else "warning" if alerts else "neutral"),
    ]
