"""Pieces of the battery page: the header and the trip table. Pure: rows in, components out."""
from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
from dash import html

from components.alerts import ago
from ingest.readings import IST
from components.empty import create_empty_state


def _fact(label: str, value) -> html.Div:
    return html.Div(className="fact", children=[html.Span(label, className="fact-label"),
                                                html.Span("—" if value in (None, "") else str(value),
                                                          className="fact-value")])


def create_battery_header(info: dict, online: bool) -> html.Div:
    state = html.Span("online" if online else "offline", className=f"online-state {'on' if online else 'off'}",
                      id="battery-online")
    return html.Div(className="battery-header", children=[
        html.Div(className="battery-title", children=[
            html.H1(info["vehicle_number"] or info["device_id"], className="page-title"), state]),
        html.Div(className="facts", children=[
            _fact("Device", info["device_id"]),
            _fact("Battery serial", info["battery_serial"]),
            _fact("Model", info.get("model")),
            _fact("Vehicle", info["vehicle_number"]),
            _fact("Customer", info["customer_name"]),
            _fact("Dealer", info["dealer_name"]),
            _fact("City", info["city"]),
            _fact("Last seen", ago(info["reading_time"], info["now"])),
            _fact("Charge cycles", info["charge_cycle"]),
            _fact("SOH", f"{info['soh']:.1f} %" if info.get("soh") is not None else None),
        ]),
    ])


def _ist(t: datetime) -> datetime:
    """Trips are summarised per IST day, as the km calendar counts them; the database hands the
    window's start back as a UTC instant, which for an IST midnight (18:30 UTC) is the evening before."""
    aware = t if t.tzinfo else t.replace(tzinfo=timezone.utc)  # timestamptz without a zone is UTC
    return aware.astimezone(IST)


def _fleet_day(t: datetime) -> str:
    return f"{_ist(t):%a %d %b %Y}"


def create_trip_table(trips: list[dict]) -> html.Div:
    if not trips:
        return create_empty_state("No trips recorded yet", "Trips are summarised once a day, after midnight IST.")
    # The vendor's SOC ends are at the day's IST midnights, after the night's charge: both read near
    # full even when the pack ran low that afternoon, so the day's lowest SOC stands beside them.
    header = html.Tr([html.Th(h) for h in ("Day", "Distance km", "Energy kWh", "km per kWh", "SOC 00:00 → 24:00",
                                           "Lowest SOC")])
    rows = [html.Tr([
        html.Td(_fleet_day(t["start_time"])),
        html.Td(f"{t['distance_km']:,.1f}" if t["distance_km"] is not None else "—"),
        html.Td(f"{t['energy_used_kwh']:,.2f}" if t["energy_used_kwh"] is not None else "—"),
        html.Td(f"{t['km_per_kwh']:,.1f}" if t["km_per_kwh"] is not None else "—"),
        html.Td(f"{t['start_soc']:.0f} → {t['end_soc']:.0f} %" if t["start_soc"] is not None
                and t["end_soc"] is not None else "—"),
        html.Td(f"{t['lowest_soc']:.0f} %" if t.get("lowest_soc") is not None else "—"),
    ]) for t in trips]
    return html.Table([html.Thead(header), html.Tbody(rows)], className="data-table", id="battery-trip-table")


def trip_frame(trips: list[dict]) -> pd.DataFrame:
    """The trip table as a file: the same rows and columns as on screen, numbers left as numbers."""
    return pd.DataFrame([{
        "Day (IST)": f"{_ist(t['start_time']):%Y-%m-%d}",
        "Distance km": t["distance_km"], "Energy kWh": t["energy_used_kwh"], "km per kWh": t["km_per_kwh"],
        "SOC at 00:00 %": t["start_soc"], "SOC at 24:00 %": t["end_soc"], "Lowest SOC %": t.get("lowest_soc"),
    } for t in trips], columns=["Day (IST)", "Distance km", "Energy kWh", "km per kWh", "SOC at 00:00 %",
                                "SOC at 24:00 %", "Lowest SOC %"])
