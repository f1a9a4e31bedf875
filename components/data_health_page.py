"""The data health page (/data-health): totals, rejects by reason, devices worst first and one
device's rejected readings with their payloads. Pure layout."""
from __future__ import annotations

import json

import pandas as pd
from dash import dcc, html

from components.empty import create_empty_state
from components.export import create_export_buttons
from components.health_page import create_data_table
from components.formats import count, devices, duration, share
from components.kpi import create_kpi_card
from ingest.readings import IST

PROBLEMS = {"null_temp": "No temperature (half or more)", "stuck_soh": "SOH stuck at 100", "unsigned": "Unsigned current",
            "rejected": "Rejected readings", "clock": "Clock ahead"}
REASON_WORDS = {"time_missing": "no timestamp", "time_in_future": "stamped in the future",
                "no_measurements": "no measurement at all", "position_missing": "no position",
                "position_out_of_range": "position out of range", "speed_out_of_range": "speed out of range"}


def reason_words(code: str) -> str:
    if code in REASON_WORDS:
        return REASON_WORDS[code]
    for suffix, words in (("_unreadable", "unreadable"), ("_out_of_range", "out of range")):
        if code.endswith(suffix):
            return f"{code[:-len(suffix)].replace('_', ' ')} {words}"
    return code.replace("_", " ")


def create_filters(dealers: list[dict], show_dealer: bool) -> html.Div:
    return html.Div(className="filter-bar data-health-filters", children=[
        dcc.Dropdown(id="data-health-dealer", options=[{"label": d["name"], "value": d["code"]} for d in dealers],
                     placeholder="All dealers", className="filter", style=None if show_dealer else {"display": "none"}),
        dcc.Dropdown(id="data-health-problem", options=[{"label": v, "value": k} for k, v in PROBLEMS.items()],
                     placeholder="Every device", className="filter"),
    ])


def create_totals(t: dict, days: int) -> html.Div:
    return html.Div(className="kpi-row", children=[
        create_kpi_card("dh-devices", f"Devices ({days} days)", count(t["devices"]),
                        f"{count(t['readings'])} readings; {count(t['silent_devices'])} sent none"),
        create_kpi_card("dh-temp", "Readings without temperature", share(t["null_temp_share"]),
                        f"{devices(t['null_temp_devices'])} mostly without", "warning" if t["null_temp_devices"]
                        else "neutral"),
        create_kpi_card("dh-stuck", "SOH stuck at 100", count(t["stuck_devices"]),
                        f"{count(t['soh_absent_devices'])} send no SOH", "warning" if t["stuck_devices"] else "neutral"),
        create_kpi_card("dh-unsigned", "Unsigned current", count(t["unsigned_devices"]),
                        "devices whose current has no sign"),
        create_kpi_card("dh-rejected", "Rejected readings", count(t["rejected"]),
                        f"{devices(t['clock_devices'])} with a clock ahead",
                        "critical" if t["clock_devices"] else "neutral"),
    ])


def create_reasons_table(by_reason: dict) -> html.Div:
    if not by_reason:
        return html.P("No reading was rejected in this period.", className="panel-hint")
    return create_data_table("data-health-reasons", ["Reason", "Readings"],
                             [[reason_words(k), count(v)] for k, v in by_reason.items()], len(by_reason))


def _reasons_cell(by_reason) -> str:
    by_reason = json.loads(by_reason) if isinstance(by_reason, str) else (by_reason or {})
    return ", ".join(f"{reason_words(k)} {v:,}" for k, v in sorted(by_reason.items(), key=lambda kv: -kv[1]))


def create_devices_table(rows: list[dict], total: int) -> html.Div:
    if not rows:
        return create_empty_state("No device matches", "Clear the problem filter.")
    body = [[dcc.Link(r["vehicle_number"] or r["device_id"], href=f"/data-health?device={r['device_id']}"),
             r["dealer"] or "—", share(r["null_temp_share"]), f"{r['stuck_days']} of {r['days']}",
             f"{r['unsigned_days']} of {r['days']}", count(r["rejected"]), _reasons_cell(r["by_reason"]),
             duration(r["clock_ahead_s"]), duration(r["arrival_delay_s"])] for r in rows]
    return create_data_table("data-health-table", ["Vehicle", "Dealer", "No temperature", "SOH stuck (days)",
                                                   "Unsigned current (days)", "Rejected", "Why rejected",
                                                   "Clock ahead", "Arrival delay"], body, total)


def devices_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{
        "Device": r["device_id"], "Vehicle": r["vehicle_number"], "Dealer": r["dealer"], "City": r["city"],
        "Readings": r["readings"], "Days with data": r["days"],
        "No temperature (share)": None if r["null_temp_share"] is None else round(float(r["null_temp_share"]), 3),
        "SOH stuck (days)": r["stuck_days"], "SOH absent (days)": r["soh_absent_days"],
        "Unsigned current (days)": r["unsigned_days"], "Rejected": r["rejected"], "Why rejected": _reasons_cell(r["by_reason"]),
        "Clock ahead (s)": r["clock_ahead_s"], "Newest reading arrived after (s)": r["arrival_delay_s"],
    } for r in rows], columns=["Device", "Vehicle", "Dealer", "City", "Readings", "Days with data",
                               "No temperature (share)", "SOH stuck (days)", "SOH absent (days)",
                               "Unsigned current (days)", "Rejected", "Why rejected", "Clock ahead (s)",
                               "Newest reading arrived after (s)"])


def create_rejects_panel(device_id: str | None, rows: list[dict] | None) -> html.Div | None:
    if device_id is None:
        return None
    if rows is None:
        return html.Div(className="panel", id="data-health-rejects", children=[
            create_empty_state("Device not found", "There is no such device among those you can see.")])
    items = [html.Details(className="reject", children=[
        html.Summary([html.Span(pd.Timestamp(r["received_at"]).tz_convert(IST).strftime("%d %b %H:%M:%S"),
                                className="reject-when"),
                      html.Span(r["stream"], className="reject-stream"),
                      html.Span(", ".join(reason_words(x) for x in r["reasons"]), className="reject-why")]),
        html.Pre(json.dumps(r["payload"] if not isinstance(r["payload"], str) else json.loads(r["payload"]),
                            indent=2, sort_keys=True, default=str), className="reject-payload"),
    ]) for r in rows]
    return html.Div(className="panel", id="data-health-rejects", children=[
        html.Div(className="panel-head", children=[
            html.H2(f"Rejected readings of {device_id}", className="panel-title"),
            dcc.Link("Battery page", href=f"/battery/{device_id}", className="link-button")]),
        html.P("The newest first, each with its reasons; open one to see the payload exactly as the vendor sent it.",
               className="panel-hint"),
        html.Div(items) if items else html.P("None in the kept history.", className="panel-hint"),
    ])


def create_data_health_layout(filters, rejects) -> list:
    return [
        filters,
        html.Div(id="data-health-totals"),
        rejects,
        html.Div(className="panel", children=[
            html.Div(className="panel-head", children=[html.H2("Devices, worst data first", className="panel-title"),
                                                         create_export_buttons("data-health")]),
            html.P("The last 7 days. Clock ahead: the furthest into the future a reading was stamped; arrival "
                   "delay: how long after its timestamp the newest reading was stored. Open a vehicle to inspect its "
                   "rejected readings.", className="panel-hint"),
            html.Div(id="data-health-devices", className="table-scroll"),
        ]),
        html.Div(className="panel", children=[
            html.H2("Rejected readings by reason", className="panel-title"),
            html.Div(id="data-health-reasons-box", className="table-scroll"),
        ]),
    ]
