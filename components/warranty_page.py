"""The warranty page's parts: the tracker, the claim packs, the evidence-pack finder and the
admins' terms editor with its history. Pure: rows in (from data.warranty), components out."""
from __future__ import annotations

import json

import pandas as pd
from dash import dcc, html

from components.empty import create_empty_state
from components.health_page import (SHOWN, SOURCE_WORDS, WARRANTY_WORDS, create_data_table, create_table_card,
                                    day, number)
from components.kpi import format_count

TERM_FIELDS = (("warranty_months", "Months", 1), ("warranty_cycles", "Cycles", 1), ("warranty_soh_floor", "SOH floor %", 0.5))


def create_evidence_finder() -> html.Div:
    return html.Div(className="panel", children=[
        html.H2("Claim evidence pack for any battery", className="panel-title"),
        html.P("Identity, SOH history against the warranty curve, cycles, operating-window violations, alerts "
               "and how much of the period had data, as a PDF. Each pack made is kept below.", className="panel-hint"),
        html.Div(className="form-row", children=[
            dcc.Input(id="warranty-find", type="search", debounce=True, maxLength=60, className="filter text-filter",
                      placeholder="Vehicle number, serial or device"),
            html.Button("Find", id="warranty-find-go", n_clicks=0, className="action-button"),
            html.Span(id="warranty-find-result", role="status"),
        ]),
    ])


def evidence_link(found: dict | None, key: str | None) -> html.Span | str:
    if not key:
        return ""
    if found is None:
        return html.Span("No battery of yours has that vehicle number, serial or device id.", className="muted")
    return html.Span([html.Span(f"{found['label']}: "),
                      html.A("Download evidence pack (PDF)", href=f"/download/evidence/{found['device_id']}.pdf",
                             className="link-button", id="warranty-evidence-link")])


def create_tracker_table(frame: pd.DataFrame) -> html.Div:
    if frame is None or frame.empty:
        return create_empty_state("No battery in warranty is near a limit",
                                  "Listed here: the last 3 months of a warranty, 90 % of its cycles, within 3 points "
                                  "of the SOH floor, or projected under it.")
    rows = [[html.A(r["vehicle_number"] or r["device_id"], href=f"/battery/{r['device_id']}"),
             r["battery_serial"] or "—", r["dealer"] or "—", r["model"] or "—", day(r["warranty_end"]),
             format_count(r["days_left"]), f"{format_count(r['charge_cycles'])} / {format_count(r['warranty_cycles'])}",
             "not measured" if r["soh"] is None or pd.isna(r["soh"]) else
             f"{number(r['soh'])} % ({SOURCE_WORDS.get(r['soh_source'], '')})",
             number(r["warranty_floor"], 0, " %"), r["limits"],
             html.A("PDF", href=f"/download/evidence/{r['device_id']}.pdf", className="link-button")]
            for r in frame.head(SHOWN).to_dict("records")]
    return create_data_table("warranty-tracker-table", ["Vehicle", "Serial", "Dealer", "Model", "Warranty end", "Days left",
                                             "Cycles / limit", "SOH", "Floor", "Near", "Evidence"], rows, len(frame))


def tracker_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns={"device_id": "Device", "battery_serial": "Serial", "vehicle_number": "Vehicle",
                                 "dealer": "Dealer", "model": "Model", "warranty_end": "Warranty end",
                                 "days_left": "Days left", "charge_cycles": "Cycles", "warranty_cycles": "Cycle limit",
                                 "soh": "SOH %", "soh_source": "SOH source", "warranty_floor": "Floor %",
                                 "warranty_status": "Warranty status", "limits": "Near"})


def create_claims_table(frame: pd.DataFrame) -> html.Div:
    if frame is None or frame.empty:
        return create_empty_state("No evidence pack made yet",
                                  "A draft is made automatically when a battery falls under its floor inside warranty.")
    rows = [[day(r["created_at"]), html.A(r["vehicle_number"] or r["device_id"], href=f"/battery/{r['device_id']}"),
             r["battery_serial"] or "—", r["dealer"] or "—", r["created_by"] or "—", r["status"], number(r["soh"], 1, " %"),
             r["reason"], html.A("PDF", href=f"/download/claim/{r['id']}.pdf", className="link-button")]
            for r in frame.head(SHOWN).to_dict("records")]
    return create_data_table("warranty-claims-table", ["Made", "Vehicle", "Serial", "Dealer", "By", "Status", "SOH", "Why",
                                            "File"], rows, len(frame))


def claims_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["bytes"], errors="ignore").rename(columns={
        "id": "Pack", "device_id": "Device", "battery_serial": "Serial", "vehicle_number": "Vehicle",
        "dealer": "Dealer", "created_at": "Made", "created_by": "By", "status": "Status", "reason": "Why",
        "soh": "SOH %"})


def create_terms_table(terms: list[dict]) -> html.Div:
    if not terms:
        return create_empty_state("No battery models registered yet")
    rows = [[t["model"], number(t["rated_capacity_ah"], 0, " Ah"), format_count(t["warranty_months"]),
             format_count(t["warranty_cycles"]), number(t["warranty_soh_floor"], 1, " %"), format_count(t["batteries"]),
             f"{day(t['updated_at'])} by {t['updated_by']}" if t["updated_by"] else "as registered"]
            for t in terms]
    return create_data_table("warranty-terms-table", ["Model", "Rated", "Months", "Cycles", "SOH floor", "Batteries",
                                           "Last change"], rows, len(rows))


def create_terms_editor(models: list[str]) -> html.Div:
    """Admins only: pick a model, change its terms, save. Every change is kept below."""
    return html.Div(className="terms-editor", children=[
        html.Div(className="form-row", children=[
            dcc.Dropdown(id="terms-model", options=models, placeholder="Model", clearable=False,
                         className="filter"),
            *[html.Label([label, dcc.Input(id=f"terms-{name}", type="number", step=step, className="terms-input",
                                           debounce=False)], className="terms-field")
              for name, label, step in TERM_FIELDS],
            html.Button("Save terms", id="terms-save", n_clicks=0, className="action-button"),
        ]),
        html.Div(id="terms-message", role="status"),
    ])


def terms_errors(errors: dict[str, str]) -> html.Ul:
    return html.Ul([html.Li(message) for message in errors.values()], className="terms-errors")


def create_changes_table(frame: pd.DataFrame) -> html.Div:
    if frame is None or frame.empty:
        return html.P("No change to the terms yet.", className="panel-hint")

    def show(v) -> str:
        v = json.loads(v) if isinstance(v, str) else (v or {})
        return ", ".join(f"{k.replace('warranty_', '').replace('_', ' ')} {v[k]:g}" for k in sorted(v))
    rows = [[f"{pd.Timestamp(r['changed_at']):%d %b %Y %H:%M}", r["model"], r["changed_by"], show(r["before"]),
             show(r["after"])] for r in frame.head(SHOWN).to_dict("records")]
    return create_data_table("warranty-changes-table", ["When (UTC)", "Model", "By", "Before", "After"], rows, len(frame))


def create_warranty_layout(is_admin: bool) -> list:
    admin = [html.Div(className="panel", children=[
        html.H2("Change terms (admins)", className="panel-title"),
        html.P("Months, cycles and the SOH floor of a model. Warranty statuses follow at the next health refresh "
               "(daily, or `flask --app app rul refresh`).", className="panel-hint"),
        html.Div(id="terms-editor"),
        html.H2("Changes", className="panel-title"),
        html.Div(id="terms-changes", className="table-scroll"),
    ])] if is_admin else []
    return [
        create_evidence_finder(),
        create_table_card("warranty-tracker", "Tracker: batteries nearing a limit",
                          "Inside warranty, with the limit each is near. Status words: "
                          + ", ".join(WARRANTY_WORDS.values()) + ".", "warranty-tracker"),
        create_table_card("warranty-claims", "Claim evidence packs",
                          "Automatic drafts and packs made by users, newest first.", "warranty-claims"),
        html.Div(className="panel", children=[html.H2("Warranty terms per model", className="panel-title"),
                                              html.Div(id="warranty-terms", className="table-scroll")]),
        *admin,
    ]
