"""Warranty (/warranty): the tracker of batteries nearing a limit, claim evidence packs (automatic
drafts and those users make), the terms per battery model, and for admins the terms editor with
every change kept.

Scope is applied in SQL (data.warranty); the editor's callbacks check the admin role on the
server, whatever the browser shows or sends.
"""
from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html

import inputs
from auth import current_scope
from components.export import table_file
from components.warranty_page import (claims_frame, create_changes_table, create_claims_table, create_terms_editor,
                                      create_terms_table, create_tracker_table, create_warranty_layout,
                                      evidence_link, terms_errors, tracker_frame)
from data import fleet_health, warranty
from data.db import get_db

dash.register_page(__name__, path="/warranty", name="Warranty", title="Warranty", nav_order=3)

SAVED = "warranty-saved"   # a store bumped when terms change: the tables below re-read


def _is_admin() -> bool:
    return current_scope().role == "admin"


def layout(**_query):
    return html.Div(className="warranty-page", children=[
        html.Div(className="page-head", children=[html.H1("Warranty", className="page-title")]),
        dcc.Store(id=SAVED, data=0),
        *create_warranty_layout(_is_admin()),
    ])


@callback(Output("warranty-tracker", "children"), Output("warranty-claims", "children"),
          Output("warranty-terms", "children"), Input(SAVED, "data"))
def update_tables(_saved):
    db, scope = get_db(), current_scope()
    return (create_tracker_table(warranty.tracker(db, scope)), create_claims_table(warranty.claim_packs(db, scope)),
            create_terms_table(warranty.terms(db)))


@callback(Output("warranty-find-result", "children"), Input("warranty-find-go", "n_clicks"),
          Input("warranty-find", "value"), prevent_initial_call=True)
def find_battery(_n, key):
    key = inputs.text(key, 60)
    found = fleet_health.find_battery(get_db(), current_scope(), key) if key else None
    return evidence_link(found, key)


def _kind() -> str | None:
    return inputs.choice((dash.ctx.triggered_id or "").rsplit("-", 1)[-1], ("csv", "xlsx"))


@callback(Output("warranty-tracker-download", "data"), Input("warranty-tracker-export-csv", "n_clicks"),
          Input("warranty-tracker-export-xlsx", "n_clicks"), prevent_initial_call=True)
def export_tracker(_csv, _xlsx):
    kind = _kind()
    if kind is None:
        return dash.no_update
    return table_file(tracker_frame(warranty.tracker(get_db(), current_scope())), kind, "warranty-tracker")


@callback(Output("warranty-claims-download", "data"), Input("warranty-claims-export-csv", "n_clicks"),
          Input("warranty-claims-export-xlsx", "n_clicks"), prevent_initial_call=True)
def export_claims(_csv, _xlsx):
    kind = _kind()
    if kind is None:
        return dash.no_update
    return table_file(claims_frame(warranty.claim_packs(get_db(), current_scope())), kind, "claim-evidence-packs")


# -- admins: the terms editor -----------------------------------------------------------------------
@callback(Output("terms-editor", "children"), Output("terms-changes", "children"), Input(SAVED, "data"))
def update_editor(_saved):
    if not _is_admin():
        return None, None
    db = get_db()
    return create_terms_editor([t["model"] for t in warranty.terms(db)]), create_changes_table(warranty.changes(db))


@callback(Output("terms-warranty_months", "value"), Output("terms-warranty_cycles", "value"),
          Output("terms-warranty_soh_floor", "value"), Input("terms-model", "value"), prevent_initial_call=True)
def fill_terms(model):
    model = inputs.text(model, 50)
    if not _is_admin() or model is None:
        return None, None, None
    row = next((t for t in warranty.terms(get_db()) if t["model"] == model), None)
    if row is None:
        return None, None, None
    return row["warranty_months"], row["warranty_cycles"], row["warranty_soh_floor"]


@callback(Output("terms-message", "children"), Output(SAVED, "data"), Input("terms-save", "n_clicks"),
          State("terms-model", "value"), State("terms-warranty_months", "value"),
          State("terms-warranty_cycles", "value"), State("terms-warranty_soh_floor", "value"),
          State(SAVED, "data"), prevent_initial_call=True)
def save_terms(_n, model, months, cycles, floor, saved):
    if not _is_admin():
        return "Only an admin may change warranty terms.", dash.no_update
    model = inputs.text(model, 50)
    if model is None:
        return "Pick a model first.", dash.no_update
    try:
        terms = warranty.validate(model, months, cycles, floor)
    except warranty.TermsError as exc:
        return terms_errors(exc.errors), dash.no_update
    if not warranty.update(get_db(), current_scope(), terms):
        return f"No model “{model}”.", dash.no_update
    return (f"Saved: {model} {terms.warranty_months} months, {terms.warranty_cycles:,} cycles, floor "
            f"{terms.warranty_soh_floor:g} %."), (inputs.integer(saved, 0, 10**6, 0) or 0) + 1
