"""Callbacks of the top bar's battery search (the box itself is in every page's shell)."""
from __future__ import annotations

import dash
from dash import Input, Output, State, callback

import inputs
from auth import current_scope
from components.search import create_search_results
from data import search
from data.db import get_db

MIN_QUERY = 2
MAX_QUERY = 60


def _query(value) -> str | None:
    query = inputs.text(value, MAX_QUERY)
    return query if query and len(query) >= MIN_QUERY else None


@callback(Output("search-results", "children"), Input("search-input", "value"))
def show_matches(value):
    scope = current_scope()
    query = _query(value)
    return create_search_results(search.find_batteries(get_db(), scope, query) if query else [], query)


@callback(Output("search-go", "href"), Input("search-input", "n_submit"), State("search-input", "value"),
          prevent_initial_call=True)
def open_first_match(_n, value):
    """Enter opens the best match, as a person expects of a search box."""
    scope = current_scope()
    query = _query(value)
    rows = search.find_batteries(get_db(), scope, query, limit=1) if query else []
    return f"/battery/{rows[0]['device_id']}" if rows else dash.no_update
