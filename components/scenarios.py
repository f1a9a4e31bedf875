"""The scenario panel (demo mode): the injection form, what each scenario should open, and what
happened next (scenarios, alerts, notifications, escalations). Pure: rows in, components out."""
from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timezone

import pandas as pd
from dash import dcc, html

from components.alerts import create_severity_badge
from components.empty import create_empty_state
from components.export import create_export_buttons
from ingest.readings import IST

WINDOWS = {"last": "since the last injection", "6h": "last 6 hours", "24h": "last 24 hours"}


def _ist(t: datetime | None, seconds: bool = False) -> str:
    if t is None:
        return "—"
    aware = t if t.tzinfo else t.replace(tzinfo=timezone.utc)
    return f"{aware.astimezone(IST):%d %b %H:%M{':%S' if seconds else ''}}"


def _stamp(t: datetime | None) -> str | None:
    """A time for a file: IST as text (spreadsheets have no time zones; the header says IST)."""
    if t is None:
        return None
    aware = t if t.tzinfo else t.replace(tzinfo=timezone.utc)
    return f"{aware.astimezone(IST):%Y-%m-%d %H:%M:%S}"


def _table(header: list[str], rows: list, table_id: str) -> html.Table:
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in header])), html.Tbody(rows)],
                      className="data-table", id=table_id)


def _battery_label(b: dict) -> str:
    parts = [b["vehicle_number"], b.get("dealer_code"), b.get("city")]
    text = " · ".join(p for p in parts if p)
    return text if b.get("reports_temperature") else f"{text} · no temperature"


def create_expectations(scenarios: dict, rules: dict) -> html.Table:
    """``scenarios``: key -> PanelScenario; ``rules``: alert type -> rule row."""
    rows = []
    for s in scenarios.values():
        rule = rules.get(s.rule) or {}
        duration = rule.get("duration_minutes", 0)
        state = "" if rule.get("enabled", True) else " (rule disabled: nothing will open)"
        rows.append(html.Tr([
            html.Td(s.label), html.Td(s.effect), html.Td([html.Code(s.rule), state]),
            html.Td(create_severity_badge(rule["severity"]) if rule.get("severity") else "—"),
            html.Td(f"{duration} min"), html.Td(f"{s.minutes(duration)} min"),
        ]))
    return _table(["Scenario", "What the simulator does", "Should open", "Severity", "Rule's minimum",
                   "Default length"], rows, "scenario-expectations")


def create_scenario_form(scenarios: dict, batteries: list[dict], flood_size: int, max_chosen: int) -> html.Div:
    return html.Div(className="scenario-form", children=[
        html.Div(className="scenario-field", children=[
            html.Label("Scenario", htmlFor="scenario-kind", className="rule-label"),
            dcc.RadioItems(id="scenario-kind", value="overheating", className="scenario-kinds",
                           options=[{"label": s.label, "value": key} for key, s in scenarios.items()]),
        ]),
        html.Div(className="scenario-field scenario-batteries", children=[
            html.Label(f"Batteries (up to {max_chosen})", htmlFor="scenario-batteries", className="rule-label"),
            dcc.Dropdown(id="scenario-batteries", multi=True, placeholder="Search vehicle numbers…",
                         options=[{"label": _battery_label(b), "value": b["device_id"]} for b in batteries],
                         className="scenario-select"),
            html.Div("The flood ignores this list and takes batteries that report a temperature.",
                     className="rule-hint"),
        ]),
        html.Div(className="scenario-row", children=[
            html.Div(className="scenario-field", children=[
                html.Label("Flood size", htmlFor="scenario-flood-size", className="rule-label"),
                dcc.Input(id="scenario-flood-size", type="number", value=flood_size, step=1, className="rule-input"),
                html.Div("batteries, flood only", className="rule-hint"),
            ]),
            html.Div(className="scenario-field", children=[
                html.Label("Length", htmlFor="scenario-minutes", className="rule-label"),
                html.Div(className="rule-control", children=[
                    dcc.Input(id="scenario-minutes", type="number", placeholder="auto", step=1,
                              className="rule-input"),
                    html.Span("min", className="rule-unit")]),
                html.Div("empty: the default length below", className="rule-hint"),
            ]),
            html.Div(className="scenario-field scenario-go", children=[
                html.Button("Inject now", id="scenario-inject", n_clicks=0, className="rule-save"),
            ]),
        ]),
        html.Div(id="scenario-status", className="rule-status", role="status"),
    ])


def create_scenario_page(form, expectations, interval_ms: int) -> html.Div:
    return html.Div(className="scenario-page", children=[
        html.H1("Scenario panel", className="page-title"),
        html.P("Demo mode: inject the simulator's faults into chosen batteries and watch them flow through the "
               "worker's next cycles into alerts, notifications and escalations.", className="rule-intro"),
        dcc.Store(id="scenario-injected"),
        dcc.Interval(id="scenario-refresh", interval=interval_ms),
        html.Section(className="panel", children=[html.H2("Inject", className="panel-title"), form]),
        html.Section(className="panel", children=[
            html.H2("What each scenario should open", className="panel-title"),
            html.Div(expectations, className="table-scroll")]),
        html.Section(className="panel", children=[
            html.Div(className="panel-head", children=[
                html.H2("What happened", className="panel-title"),
                dcc.RadioItems(id="scenario-window", value="last", className="scenario-window",
                               options=[{"label": label, "value": key} for key, label in WINDOWS.items()]),
            ]),
            html.Div(id="scenario-summary", className="scenario-summary"),
            html.H3("Injected scenarios", className="scenario-subtitle"),
            html.Div(id="scenario-truth", className="table-scroll"),
            html.Div(className="panel-head", children=[
                html.H3("Alerts opened", className="scenario-subtitle"), create_export_buttons("scenario-alerts")]),
            html.Div(id="scenario-alerts", className="table-scroll"),
            html.Div(className="panel-head", children=[
                html.H3("Notifications", className="scenario-subtitle"),
                create_export_buttons("scenario-notifications")]),
            html.Div(id="scenario-notifications", className="table-scroll"),
            html.H3("Escalations", className="scenario-subtitle"),
            html.Div(id="scenario-escalations", className="table-scroll"),
        ]),
    ])


def batches(scenarios: list[dict]) -> list[dict]:
    """Scenarios injected together (same kind and window) as one row, newest first."""
    groups: OrderedDict = OrderedDict()
    for s in sorted(scenarios, key=lambda s: s["start"], reverse=True):
        key = (s["kind"], s["start"], s["end"])
        groups.setdefault(key, []).append(s["vehicle"])
    return [{"kind": k, "start": start, "end": end, "vehicles": v} for (k, start, end), v in groups.items()]


def _state(start: datetime, end: datetime, now: datetime) -> str:
    return "upcoming" if now < start else "running" if now < end else "ended"


def create_truth(scenario_batches: list[dict], now: datetime, error: str | None = None, limit: int = 20):
    if error:
        return create_empty_state("The simulator is not reachable", error)
    if not scenario_batches:
        return create_empty_state("No scenarios injected yet", "Inject one above; it shows here at once.")
    rows = []
    for b in scenario_batches[:limit]:
        vehicles = b["vehicles"]
        shown = ", ".join(vehicles[:3]) + (f" and {len(vehicles) - 3} more" if len(vehicles) > 3 else "")
        state = _state(b["start"], b["end"], now)
        rows.append(html.Tr([html.Td(b["kind"].replace("_", " ")), html.Td(len(vehicles)),
                             html.Td(shown, className="wrap-cell"), html.Td(_ist(b["start"])), html.Td(_ist(b["end"])),
                             html.Td(html.Span(state, className=f"scenario-state state-{state}"))]))
    return _table(["Scenario", "Batteries", "Vehicles", "From (IST)", "To (IST)", "Now"], rows, "scenario-truth-table")


def create_alerts(alerts: list[dict]):
    if not alerts:
        return create_empty_state("No alerts opened in this window yet",
                                  "The worker reads new readings every cycle; an alert opens once the condition "
                                  "has lasted the rule's minimum duration.")
    rows = [html.Tr([
        html.Td(_ist(a["first_seen_at"])), html.Td(create_severity_badge(a["severity"])),
        html.Td(a["alert_type"].replace("_", " ")),
        html.Td(dcc.Link(a["vehicle_number"] or a["device_id"], href=f"/alerts?id={a['id']}")
                if a.get("device_id") else dcc.Link("whole fleet", href=f"/alerts?id={a['id']}")),
        html.Td(a["status"]), html.Td(a["occurrence_count"]),
        html.Td(a["notifications"] or "none", className="wrap-cell"),
        html.Td(_ist(a["escalated_at"]) if a.get("escalated_at") else "—"),
    ]) for a in alerts]
    return _table(["Opened (IST)", "Severity", "Type", "Vehicle", "Status", "Readings", "Notifications", "Escalated"],
                  rows, "scenario-alerts-table")


def alerts_frame(alerts: list[dict]) -> pd.DataFrame:
    columns = ["Alert id", "Opened (IST)", "Severity", "Type", "Vehicle", "Device", "Dealer", "Status", "Readings",
               "Value", "Threshold", "Notifications", "Escalated (IST)", "Escalations"]
    return pd.DataFrame([{
        "Alert id": a["id"], "Opened (IST)": _stamp(a["first_seen_at"]), "Severity": a["severity"], "Type": a["alert_type"],
        "Vehicle": a["vehicle_number"], "Device": a["device_id"], "Dealer": a["dealer_code"], "Status": a["status"],
        "Readings": a["occurrence_count"], "Value": a["reading_value"], "Threshold": a["threshold_value"],
        "Notifications": a["notifications"], "Escalated (IST)": _stamp(a["escalated_at"]), "Escalations": a["escalations"],
    } for a in alerts], columns=columns)


def create_notifications(rows: list[dict]):
    if not rows:
        return create_empty_state("No notifications queued in this window",
                                  "Alerts with notify on queue a webhook or e-mail per configured contact; a flood "
                                  "of one type sends one digest.")
    body = [html.Tr([
        html.Td(_ist(n["created_at"], seconds=True)), html.Td(n["kind"]), html.Td(n["channel"]), html.Td(n["audience"]),
        html.Td(html.Span(n["status"], className=f"outbox-status status-{n['status']}")),
        html.Td(f"{n['alert_type'].replace('_', ' ')} · {n['vehicle_number'] or 'fleet'}" if n.get("alert_id")
                else "digest"),
        html.Td(n["attempts"]), html.Td((n["last_error"] or "")[:80], className="wrap-cell"),
    ]) for n in rows]
    return _table(["Queued (IST)", "Kind", "Channel", "To", "Status", "About", "Attempts", "Last error"], body,
                  "scenario-notifications-table")


def notifications_frame(rows: list[dict]) -> pd.DataFrame:
    columns = ["Id", "Queued (IST)", "Alert id", "Type", "Vehicle", "Channel", "Kind", "Audience", "Status", "Attempts",
               "Delivered (IST)", "Last error"]
    return pd.DataFrame([{
        "Id": n["id"], "Queued (IST)": _stamp(n["created_at"]), "Alert id": n["alert_id"], "Type": n["alert_type"],
        "Vehicle": n["vehicle_number"], "Channel": n["channel"], "Kind": n["kind"], "Audience": n["audience"],
        "Status": n["status"], "Attempts": n["attempts"], "Delivered (IST)": _stamp(n["delivered_at"]), "Last error": n["last_error"],
    } for n in rows], columns=columns)


def create_escalations(rows: list[dict]):
    if not rows:
        return create_empty_state("No escalations in this window",
                                  "A critical alert nobody acknowledges in time is escalated, then reminded.")
    body = [html.Tr([html.Td(_ist(e["at"], seconds=True)), html.Td(e["event"]),
                     html.Td(e["alert_type"].replace("_", " ")), html.Td(e["vehicle_number"] or "fleet")]) for e in rows]
    return _table(["At (IST)", "Event", "Alert", "Vehicle"], body, "scenario-escalations-table")


def create_summary(scenario_batches: list[dict], alerts: list[dict], notifications: list[dict],
                   escalations: list[dict], since: datetime, now: datetime) -> html.Div:
    running = sum(len(b["vehicles"]) for b in scenario_batches if _state(b["start"], b["end"], now) == "running")
    critical = sum(1 for a in alerts if a["severity"] == "critical")
    by_status: dict[str, int] = {}
    for n in notifications:
        by_status[n["status"]] = by_status.get(n["status"], 0) + 1
    digests = sum(1 for n in notifications if n["kind"] == "digest")

    def chip(value, text, cls=""):
        return html.Div(className=f"scenario-chip {cls}", children=[html.Span(value, className="chip-value"),
                                                                      html.Span(text, className="chip-label")])

    return html.Div(children=[
        html.Div(f"Since {_ist(since)} IST", className="rule-hint"),
        html.Div(className="scenario-chips", children=[
            chip(running, "batteries in a running scenario"),
            chip(len(alerts), f"alerts opened ({critical} critical)", "chip-crit" if critical else ""),
            chip(len(notifications), ", ".join(f"{k} {v}" for k, v in sorted(by_status.items())) or "notifications"),
            chip(digests, "digests (flood control)"),
            chip(len(escalations), "escalation events"),
        ]),
    ])
