"""The fleet health page's parts: filters, KPI cards, tables and their files, report links. Pure:
rows in (from data.fleet_health and data.health_reports), components out."""
from __future__ import annotations


import pandas as pd
from dash import dcc, html

from analytics.score import PARTS
from components.charts import READ_ONLY_MODEBAR
from components.empty import create_empty_state
from components.export import create_export_buttons
from components.kpi import create_kpi_card, format_count

SHOWN = 50
RISK_SHOWN = 20
SOURCE_WORDS = {"measured": "measured", "estimated": "estimated from charging", "not_measured": "not measured"}
WARRANTY_WORDS = {"below_floor": "under the floor", "at_risk": "projected under the floor", "ok": "ok",
                  "expired": "expired", "unknown": "unknown (SOH not measured)"}
RUL_WORDS = {"not_enough_data": "not enough data yet", "reached": "reached"}
SOC_WORDS = {"calibration": "SOC calibration", "ok": "ok", "not_checked": "not checked", None: "not checked"}
GRAPH_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": READ_ONLY_MODEBAR}
PART_TITLES = {"avg_soh": "Avg SOH %", "fade_per_month": "Fade /month", "misuse_per_1000": "Misuse /1,000 d",
               "alerts_per_1000": "Alerts /1,000 d", "uptime_pct": "Uptime %"}


def number(v, digits: int = 1, suffix: str = "") -> str:
    return "—" if v is None or pd.isna(v) else f"{float(v):,.{digits}f}{suffix}"


def day(v) -> str:
    return "—" if v is None or pd.isna(v) else f"{pd.Timestamp(v):%d %b %Y}"


def create_health_filters(dealers: list[dict], models: list[dict], show_dealer: bool) -> html.Div:
    dealer = dcc.Dropdown(id="health-dealer", placeholder="All dealers", clearable=True, options=dealers,
                          className="filter", persistence=True, persistence_type="session")
    return html.Div(className="filter-bar", children=[
        html.Div(dealer, style=None if show_dealer else {"display": "none"}),
        dcc.Dropdown(id="health-model", placeholder="All models", clearable=True, options=models,
                     className="filter", persistence=True, persistence_type="session"),
    ])


def create_health_kpis(s: dict) -> list[html.Div]:
    batteries = s.get("batteries") or 0
    if not batteries:
        return [create_empty_state("No batteries match", "Clear the filters.")]
    median = s.get("median_soh")
    apart = s.get("not_measured") or 0
    return [
        create_kpi_card("health-kpi-soh", "Median SOH", "—" if median is None else f"{median:.1f} %",
                        f"{format_count(s.get('measured'))} measured · {format_count(s.get('estimated'))} "
                        f"estimated · {apart:,} not measured (counted apart)",
                        tone="warning" if median is not None and median < 85 else "neutral"),
        create_kpi_card("health-kpi-floor", "Under warranty floor", format_count(s.get("below_floor")),
                        f"of {batteries:,} batteries", tone="critical" if s.get("below_floor") else "neutral"),
        create_kpi_card("health-kpi-risk", "Projected under floor", format_count(s.get("at_risk")),
                        "before their warranty ends", tone="warning" if s.get("at_risk") else "neutral"),
        create_kpi_card("health-kpi-fade", "Median fade",
                        "—" if s.get("median_fade") is None else f"{s['median_fade']:.2f}",
                        f"SOH points per month · {format_count(s.get('forecasts'))} with an end-of-life date"),
        create_kpi_card("health-kpi-soc", "SOC calibration", format_count(s.get("soc_calibration")),
                        "BMS SOC off our model by over 10 points",
                        tone="warning" if s.get("soc_calibration") else "neutral"),
    ]


def create_table_card(prefix: str, title: str, hint: str, body_id: str) -> html.Div:
    return html.Div(className="panel", children=[
        html.Div(className="panel-head", children=[
            html.H2(title, className="panel-title"),
            create_export_buttons(prefix)]),
        html.P(hint, className="panel-hint"),
        html.Div(id=body_id, className="table-scroll"),
    ])


def create_data_table(table_id: str, header: list[str], rows: list[list], total: int) -> html.Div:
    note = (html.P(f"The first {len(rows)} of {total:,}; the export has them all.", className="table-note")
            if total > len(rows) else None)
    return html.Div([html.Table([html.Thead(html.Tr([html.Th(h) for h in header])),
                                 html.Tbody([html.Tr([html.Td(c) for c in r]) for r in rows])],
                                className="data-table", id=table_id), note])


def _battery_link(r: dict):
    return dcc.Link(r["vehicle_number"] or r["device_id"], href=f"/battery/{r['device_id']}")


def create_risk_table(frame: pd.DataFrame) -> html.Div:
    if frame is None or frame.empty:
        return create_empty_state("No battery is under its warranty floor or projected to cross it",
                                  "Batteries whose SOH is not measured cannot be judged and are not listed here.")
    rows = [[_battery_link(r), r["battery_serial"] or "—", r["dealer"] or "—", r["model"] or "—",
             WARRANTY_WORDS.get(r["warranty_status"], r["warranty_status"]),
             f"{number(r['soh'])} % ({SOURCE_WORDS.get(r['soh_source'], '')})", number(r["warranty_floor"], 0, " %"),
             day(r["warranty_end"]), day(r["floor_p50"]) if r["warranty_status"] == "at_risk" else "",
             html.A("PDF", href=f"/download/evidence/{r['device_id']}.pdf", className="link-button",
                    title="Claim evidence pack")]
            for r in frame.head(RISK_SHOWN).to_dict("records")]
    return create_data_table("health-risk-table", ["Vehicle", "Serial", "Dealer", "Model", "Status", "SOH", "Floor",
                                                   "Warranty end", "Expected at floor", "Evidence"], rows, len(frame))


def risk_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns={"device_id": "Device", "battery_serial": "Serial", "vehicle_number": "Vehicle",
                                 "dealer": "Dealer", "model": "Model", "warranty_status": "Status", "soh": "SOH %",
                                 "soh_source": "SOH source", "soh_low": "SOH low %", "soh_high": "SOH high %",
                                 "warranty_floor": "Floor %", "charge_cycles": "Cycles", "age_days": "Age days",
                                 "warranty_end": "Warranty end", "floor_p50": "Expected at floor",
                                 "eol_p50": "Expected end of life", "est_sessions": "Charge sessions (30 d)",
                                 "fade_per_month": "Fade /month", "evidence": "Evidence"})


def create_battery_table(frame: pd.DataFrame) -> html.Div:
    if frame is None or frame.empty:
        return create_empty_state("No batteries match", "Clear the filters.")
    rows = []
    for r in frame.head(SHOWN).to_dict("records"):
        band = (f"{number(r['soh_low'])}–{number(r['soh_high'])}" if r["soh_low"] is not None and not pd.isna(r["soh_low"])
                else "")
        if r["rul_status"] == "forecast":
            rul = f"{day(r['eol_p50'])} ({day(r['eol_p10'])} – {day(r['eol_p90'])})"
        else:
            rul = RUL_WORDS.get(r["rul_status"], r["rul_status"])
        soc = SOC_WORDS.get(r["soc_check"], r["soc_check"])
        rows.append([_battery_link(r), r["dealer"] or "—", r["model"] or "—",
                     "not measured" if r["soh"] is None or pd.isna(r["soh"]) else f"{number(r['soh'])} %",
                     SOURCE_WORDS.get(r["soh_source"], r["soh_source"]), band, number(r["fade_per_month"], 2),
                     number(r["fade_per_100_cycles"], 2), rul,
                     html.Span(soc, className="flag-warning" if r["soc_check"] == "calibration" else None)])
    return create_data_table("health-battery-table", ["Vehicle", "Dealer", "Model", "SOH", "Source", "80 % band",
                                           "Fade /month", "Fade /100 cycles", "End of life (10–90 %)", "SOC check"],
                  rows, int(frame["total_rows"].iloc[0]))


def battery_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["total_rows"]).rename(columns={"device_id": "Device", "battery_serial": "Serial", "vehicle_number": "Vehicle",
                                 "dealer": "Dealer", "model": "Model", "soh": "SOH %", "soh_source": "SOH source",
                                 "soh_low": "SOH low %", "soh_high": "SOH high %", "bms_status": "BMS SOH",
                                 "est_sessions": "Charge sessions (30 d)", "charge_cycles": "Cycles",
                                 "age_days": "Age days", "fade_per_month": "Fade /month",
                                 "fade_per_100_cycles": "Fade /100 cycles", "rul_status": "End of life",
                                 "eol_p10": "EOL pessimistic", "eol_p50": "EOL expected", "eol_p90": "EOL optimistic",
                                 "rul_reason": "Forecast note", "warranty_status": "Warranty",
                                 "warranty_end": "Warranty end", "warranty_floor": "Floor %", "soc_check": "SOC check",
                                 "soc_diff": "SOC diff points", "as_of": "As of"})


def league_frame(league: dict, whole_fleet: bool) -> pd.DataFrame:
    """The league as a table: every dealer for whole-fleet roles; a dealer's own row and the fleet
    median otherwise."""
    columns = ["rank", "dealer", "batteries", *PART_TITLES, "score"]
    rows = [{c: r.get(c) for c in columns} for r in league["rows"]]
    if not whole_fleet and league["median"]:
        rows.append({"rank": None, "dealer": "Fleet median", **{c: league["median"].get(c) for c in columns[2:]}})
    frame = pd.DataFrame(rows, columns=columns)
    return frame.rename(columns={"rank": "Rank", "dealer": "Dealer", "batteries": "Batteries", **PART_TITLES,
                                 "score": "Score"})


def create_league_table(league: dict, whole_fleet: bool) -> html.Div:
    if not league["rows"]:
        return create_empty_state("No dealer scores yet", "Scores are computed once a day with the health ledger.")
    frame = league_frame(league, whole_fleet)
    dealers = league["rows"][0].get("dealers")
    rows = []
    for r in frame.to_dict("records"):
        rank = "" if r["Rank"] is None or pd.isna(r["Rank"]) else (
            f"{int(r['Rank'])}" + ("" if whole_fleet else f" of {int(dealers)}"))
        rows.append([rank, r["Dealer"], format_count(r["Batteries"]), number(r["Avg SOH %"]), number(r["Fade /month"], 2),
                     number(r["Misuse /1,000 d"], 0), number(r["Alerts /1,000 d"], 0), number(r["Uptime %"], 0),
                     html.B(number(r["Score"], 0))])
    weights = ", ".join(f"{PART_TITLES[c].split(' /')[0].split(' %')[0].lower()} {w}" for c, w, *_ in PARTS)
    table = create_data_table("health-league-table", ["Rank", "Dealer", "Batteries", *PART_TITLES.values(), "Score"],
                   rows, len(rows))
    return html.Div([table, html.P(f"Score 0–100 from fixed anchors, weights: {weights}. As of {day(league['day'])}.",
                                   className="table-note")])


def create_report_links(past: pd.DataFrame) -> html.Div:
    now = html.Div(className="report-now", children=[
        html.Span("Fleet health report for your batteries, made now:", className="export-label"),
        html.A("PDF", href="/download/health-report.pdf", className="link-button", id="health-report-pdf"),
        html.A("XLSX", href="/download/health-report.xlsx", className="link-button", id="health-report-xlsx"),
    ])
    if past is None or past.empty:
        listing = html.P("No daily report has been made yet: one is made every day at the report time (IST).",
                         className="panel-hint")
    else:
        rows = [[day(r["as_of"]), r["scope_label"], format_count(r["batteries"]),
                 r["sent_to"] or (r["send_error"] or "not e-mailed"),
                 html.Span([html.A("PDF", href=f"/download/report/{r['id']}.pdf", className="link-button"),
                            html.A("XLSX", href=f"/download/report/{r['id']}.xlsx", className="link-button")])]
                for r in past.head(30).to_dict("records")]
        listing = create_data_table("health-past-reports", ["As of", "Scope", "Batteries", "Sent to", "Files"], rows, len(past))
    return html.Div([now, listing])
