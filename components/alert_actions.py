"""Acting on alerts: the comment box and the Acknowledge / Assign / Resolve buttons of one alert,
the battery page's list of alerts with them, and the parts every page with buttons carries.

Pure builders. The buttons and fields carry pattern-matching ids per alert, so one page can hold
several alerts' buttons (the battery page). A click never reaches the server through those ids: the
browser bridge (assets/alerts.js) turns it into one plain request store (``REQUEST``), and the one
server callback (pages/_alert_actions.py) reads that, checks role and scope again, acts, and writes
``DONE`` so the page refreshes what shows the alert. Which buttons show is only a courtesy; the
server decides.
"""
from __future__ import annotations

from dash import dcc, html

from components.alert_detail import create_status_pill, ist, type_label
from components.alerts import create_severity_badge

REQUEST = "alert-action-request"
DONE = "alert-action-done"
MESSAGE = "alert-action-message"
MAX_COMMENT = 1000
BUTTON_LABELS = {"acknowledge": "Acknowledge", "assign": "Assign", "resolve": "Resolve"}


def act_id(alert_id: int, action: str) -> dict:
    return {"type": "alert-act", "alert": alert_id, "action": action}


def comment_id(alert_id: int) -> dict:
    return {"type": "alert-comment", "alert": alert_id}


def assignee_id(alert_id: int) -> dict:
    return {"type": "alert-assignee", "alert": alert_id}


def create_action_parts() -> html.Div:
    """The request and done stores and the message line: once per page that shows buttons."""
    return html.Div(className="alert-action-parts", children=[
        dcc.Store(id=REQUEST),
        dcc.Store(id=DONE),
        html.Div(id=MESSAGE, className="action-message", role="status", **{"aria-live": "polite"}),
    ])


def shown_actions(alert: dict, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """Of what the role may do, what makes sense now: nothing more to do to a resolved alert, and an
    acknowledged one needs no second acknowledge."""
    status = alert.get("status")
    if status == "resolved":
        return ()
    return tuple(a for a in allowed if not (a == "acknowledge" and status != "open"))


def _user_options(users: list[dict]) -> list[dict]:
    return [{"label": f"{u['name']} ({u['role']})", "value": u["username"]} for u in users]


def create_action_bar(alert: dict, allowed: tuple[str, ...], users: list[dict] | None = None,
                      compact: bool = False) -> html.Div | None:
    """The comment box and the buttons ``allowed`` (``alert_actions.allowed_actions``) for one alert;
    None when there is nothing the user may do. ``users``: who the alert may be assigned to."""
    actions = shown_actions(alert, allowed)
    if not actions:
        return None
    alert_id = alert["id"]
    buttons = []
    for action in ("acknowledge", "resolve"):
        if action in actions:
            buttons.append(html.Button(BUTTON_LABELS[action], id=act_id(alert_id, action), n_clicks=0,
                                       className=f"action-button action-{action}"))
    assign = None
    if "assign" in actions and users:
        assign = html.Div(className="action-assign", children=[
            dcc.Dropdown(id=assignee_id(alert_id), options=_user_options(users), value=alert.get("owner"),
                         placeholder="Owner", clearable=False, searchable=True, className="action-owner"),
            html.Button(BUTTON_LABELS["assign"], id=act_id(alert_id, "assign"), n_clicks=0,
                        className="action-button action-assign-button"),
        ])
    return html.Div(className="action-bar action-bar-compact" if compact else "action-bar", children=[
        dcc.Textarea(id=comment_id(alert_id), maxLength=MAX_COMMENT, rows=2 if compact else 3,
                     placeholder=f"Comment (optional, up to {MAX_COMMENT:,} characters)", className="action-comment"),
        html.Div(className="action-buttons", children=[*buttons, assign]),
    ])


def create_actionable_alert_list(alerts: list[dict], allowed: dict[int, tuple[str, ...]],
                                 users: dict[int, list[dict]], empty) -> html.Ul:
    """The battery page's open alerts, each with its status, owner, link to its history and the
    buttons the user may press. ``empty``: what to show when there are none. Times are absolute
    (IST), not "5 min ago": the list is redrawn only when an alert changes."""
    if not alerts:
        return empty
    items = []
    for a in alerts:
        repeats = f" · ×{a['occurrence_count']}" if (a.get("occurrence_count") or 1) > 1 else ""
        owner = f" · owner {a['owner']}" if a.get("owner") else ""
        items.append(html.Li(className=f"alert-item alert-{a['severity']} alert-actionable",
                             id=f"battery-alert-{a['id']}", children=[
            create_severity_badge(a["severity"]),
            html.Div(className="alert-body", children=[
                html.Div([html.Span(type_label(a["alert_type"]), className="alert-device"),
                          create_status_pill(a["status"])]),
                html.Div(a["message"], className="alert-message"),
                html.Div(className="alert-when", children=[
                    f"last seen {ist(a['last_seen_at'])} IST{repeats}{owner} · ",
                    dcc.Link("history", href=f"/alerts?id={a['id']}", className="alert-history-link")]),
                create_action_bar(a, allowed.get(a["id"], ()), users.get(a["id"]), compact=True),
            ]),
        ]))
    return html.Ul(items, className="alert-feed")
