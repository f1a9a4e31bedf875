"""The audit log page (/audit, admins): filters, the list and its export. Pure layout."""
from __future__ import annotations

import json

import pandas as pd
from dash import dcc, html

from components.empty import create_empty_state
from components.export import create_export_buttons
from components.health_page import create_data_table
from ingest.readings import IST

SHOWN = 200
KIND_WORDS = {"user": "Users", "device": "Devices", "threshold": "Alert thresholds", "warranty": "Warranty terms",
              "alert": "Alerts", "site": "Sites", "equipment": "Equipment"}


def create_audit_filters() -> html.Div:
    return html.Div(className="filter-bar audit-filters", children=[
        dcc.Dropdown(id="audit-kind", options=[{"label": v, "value": k} for k, v in KIND_WORDS.items()],
                     placeholder="Everything", className="filter"),
        dcc.Input(id="audit-actor", type="text", placeholder="Who", debounce=True, maxLength=64,
                  className="filter-input"),
        dcc.Input(id="audit-target", type="text", placeholder="What (user, device, …)", debounce=True, maxLength=100,
                  className="filter-input"),
        dcc.DatePickerRange(id="audit-dates", display_format="DD MMM YYYY", clearable=True, className="audit-dates",
                            start_date_placeholder_text="From (IST)", end_date_placeholder_text="To (IST)"),
    ])


def create_audit_layout() -> list:
    return [
        create_audit_filters(),
        html.Div(className="panel", children=[
            html.Div(className="panel-head", children=[html.H2("Changes", className="panel-title"),
                                                         create_export_buttons("audit")]),
            html.P("Every change made in the app, newest first: who, when, from which address, the values before "
                   "and after.", className="panel-hint"),
            html.Div(id="audit-table", className="table-scroll"),
        ]),
    ]


def _word(x) -> str:
    return "—" if x is None else ("yes" if x else "no") if isinstance(x, bool) else str(x)


def changed_values(v) -> str:
    """An audit line's before or after, as words: "city Kanpur, active no"."""
    v = json.loads(v) if isinstance(v, str) else v
    if not v:
        return ""
    return ", ".join(f"{k} {_word(x)}" for k, x in sorted(v.items()))


def _when(t) -> str:
    return pd.Timestamp(t).tz_convert(IST).strftime("%d %b %Y %H:%M:%S")


def create_audit_table(rows: list[dict]) -> html.Div:
    if not rows:
        return create_empty_state("No change matches", "Clear a filter, or widen the dates.")
    body = [[_when(r["at"]), r["actor"], r["remote_addr"] or "—", r["action"], r["target"],
             changed_values(r["before"]), changed_values(r["after"]), r["note"] or ""] for r in rows[:SHOWN]]
    return create_data_table("audit-list", ["When (IST)", "Who", "From", "What", "Of", "Before", "After", "Note"],
                             body, len(rows))


def audit_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{
        "When (IST)": pd.Timestamp(r["at"]).tz_convert(IST).tz_localize(None), "Who": r["actor"],
        "From": r["remote_addr"], "What": r["action"], "Kind": r["target_kind"], "Of": r["target"],
        "Before": changed_values(r["before"]), "After": changed_values(r["after"]), "Note": r["note"],
    } for r in rows], columns=["When (IST)", "Who", "From", "What", "Kind", "Of", "Before", "After", "Note"])
