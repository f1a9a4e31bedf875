"""The battery page's charge-session table and its file. Pure: a frame in, components out."""
from __future__ import annotations

import pandas as pd
from dash import html

from components.empty import create_empty_state
from ingest.readings import IST

COLUMNS = (("start_time", "Start (IST)"), ("end_time", "End (IST)"), ("soc_start", "SOC start %"),
           ("soc_end", "SOC end %"), ("ah_in", "Ah in"), ("energy_kwh", "kWh in"), ("peak_current", "Peak A"),
           ("peak_temperature", "Peak °C"), ("soh_estimate", "SOH estimate %"), ("site", "Site"),
           ("charger", "Charger"), ("ac_kwh", "AC kWh"), ("efficiency", "Efficiency"))
FLAG_TITLES = {"low": "Below the charging-loss threshold: charger fault or leakage",
               "high": "Above 100 %: meter or mapping error"}
SHOWN = 30


def _local(t) -> str:
    return f"{pd.Timestamp(t).tz_convert(IST):%d %b %H:%M}" if t is not None and not pd.isna(t) else "—"


def _cell(v, digits: int = 1) -> str:
    return "—" if v is None or pd.isna(v) else f"{float(v):,.{digits}f}"


def _text(v) -> str:
    return "—" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)


def _efficiency(v, flag) -> html.Span | str:
    if v is None or pd.isna(v):
        return html.Span("no meter", className="muted", title="No meter reading was mapped to this session")
    text = f"{float(v) * 100:.0f} %"
    if isinstance(flag, str) and flag in FLAG_TITLES:
        return html.Span(text, className=f"efficiency-flag efficiency-{flag}", title=FLAG_TITLES[flag])
    return text


def create_charge_table(frame: pd.DataFrame | None) -> html.Div:
    if frame is None or frame.empty:
        return create_empty_state("No charge sessions found yet",
                                  "A session is recorded when the readings show the pack charging.")
    rows = []
    for r in frame.head(SHOWN).to_dict("records"):
        rows.append(html.Tr([
            html.Td(_local(r["start_time"])),
            html.Td("charging now" if r["is_open"] else _local(r["end_time"])),
            html.Td(_cell(r["soc_start"], 0)), html.Td(_cell(r["soc_end"], 0)), html.Td(_cell(r["ah_in"])),
            html.Td(_cell(r["energy_kwh"], 2)), html.Td(_cell(r["peak_current"])),
            html.Td(_cell(r["peak_temperature"])),
            html.Td(_cell(r["soh_estimate"]) if r["soh_estimate"] is not None and not pd.isna(r["soh_estimate"])
                    else html.Span("does not qualify", className="muted",
                                   title="Only a charge over 40 SOC points or more, without gaps, gives an estimate")),
            html.Td(_text(r.get("site"))), html.Td(_text(r.get("charger"))), html.Td(_cell(r.get("ac_kwh"), 2)),
            html.Td(_efficiency(r.get("efficiency"), r.get("efficiency_flag"))),
        ]))
    header = html.Tr([html.Th(label) for _, label in COLUMNS])
    note = (html.P(f"The latest {SHOWN} of {len(frame):,}; the export has them all.", className="table-note")
            if len(frame) > SHOWN else None)
    return html.Div([html.Table([html.Thead(header), html.Tbody(rows)], className="data-table",
                                id="battery-charge-table"), note])


def charge_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The sessions as a file: times in IST without a zone (spreadsheets take them as they are)."""
    out = frame.copy()
    for column in ("start_time", "end_time"):
        out[column] = pd.to_datetime(out[column], utc=True).dt.tz_convert(IST).dt.tz_localize(None)
    out = out.rename(columns={**dict(COLUMNS), "is_open": "Still charging", "latitude": "Latitude",
                              "longitude": "Longitude", "efficiency_flag": "Efficiency flag"})
    return out
