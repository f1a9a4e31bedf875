"""Live toasts on every open page: a new critical alert the user may see shows within seconds.

Each open page polls one cheap number (the newest critical alert id in the user's scope) every
few seconds; only when it grew does it read the new alerts, so open screens never re-run the fleet
queries. The first poll of a page load only remembers the number: opening a page never floods it
with old alerts. The id the browser sends back is only a "since": the query is scoped on the server.
"""
from __future__ import annotations

from dash import Input, Output, Patch, State, callback, no_update

import inputs
from auth import current_scope
from components.toasts import create_more_toast, create_toast, register_live_clientside
from data import alert_views
from data.db import get_db

MAX_TOASTS = 5  # at once; beyond that one "N more" toast points to the alerts page
KEEP = 20  # toasts kept in the page (faded ones included) before the container starts afresh
MAX_ID = 2**63 - 1

register_live_clientside()


def _memo(data) -> tuple[int | None, int]:
    """(last seen id, toasts in the container) from what the browser kept; anything odd is a first load."""
    if not isinstance(data, dict):
        return None, 0
    return inputs.integer(data.get("id"), 0, MAX_ID), inputs.integer(data.get("kept"), 0, 10_000, default=0)


@callback(Output("live-toasts", "children"), Output("live-last", "data"), Output("live-beep", "data"),
          Output("live-toasts", "className"), Input("live-poll", "n_intervals"), State("live-last", "data"))
def poll_critical(_n, last):
    db, scope = get_db(), current_scope()
    latest = alert_views.latest_critical_id(db, scope)
    seen, kept = _memo(last)
    if seen is None:
        return no_update, {"id": latest, "kept": 0}, no_update, "live-toasts live-ready"
    if latest <= seen:
        return no_update, no_update, no_update, no_update
    alerts = alert_views.critical_since(db, scope, seen, limit=MAX_TOASTS + 1)
    toasts = [create_toast(a) for a in reversed(alerts[:MAX_TOASTS])]  # oldest first: the newest ends on top
    if len(alerts) > MAX_TOASTS:  # a flood: five toasts and a count, never two hundred toasts
        more = alert_views.count_critical_since(db, scope, seen) - MAX_TOASTS
        toasts.append(create_more_toast(latest, max(more, 1)))
    memo = {"id": latest, "kept": kept + len(toasts)}
    if not toasts:  # the new ones are already acknowledged or resolved
        return no_update, memo, no_update, no_update
    if memo["kept"] > KEEP:
        children, memo["kept"] = toasts, len(toasts)
    else:
        children = Patch()
        children.extend(toasts)
    return children, memo, {"n": len(toasts), "id": latest}, no_update
