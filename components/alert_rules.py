"""The thresholds form (one card per alert rule, every field with its message slot) and the history
of rule changes. Pure: rules and changes in, components out; ids come from ``field_id``."""
from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
from dash import dcc, html

from components.empty import create_empty_state
from components.export import create_export_buttons
from ingest.readings import IST

LABELS = {"low_soc": "Low SOC", "deep_discharge": "Deep discharge", "high_temp": "High temperature",
          "soh_degradation": "SOH degradation", "overcurrent": "Over-current", "overvoltage": "Over-voltage",
          "undervoltage": "Under-voltage", "no_communication": "No communication", "rapid_soh_drop": "Rapid SOH drop",
          "excessive_cycles": "Excessive cycles", "feed_silence": "Feed silence",
          "charging_loss": "Charging loss", "meter_mismatch": "Meter mismatch"}
FIELD_LABELS = {"enabled": "enabled", "threshold": "threshold", "clear_threshold": "clear threshold",
                "duration_minutes": "minimum duration", "severity": "severity", "notify": "notify"}
THRESHOLD_FIELDS = ("threshold", "clear_threshold")
ON = "on"  # a checklist's value when its box is ticked


def label(alert_type: str) -> str:
    return LABELS.get(alert_type, alert_type.replace("_", " "))


def field_id(alert_type: str, name: str) -> str:
    """``rule-high_temp-threshold``, ``rule-high_temp-threshold-error``, ``rule-high_temp-save``..."""
    return f"rule-{alert_type}-{name}"


def form_fields(rule: dict) -> tuple[str, ...]:
    """The fields a rule's form has: rules without a threshold (no communication, feed silence)
    are about time alone."""
    base = ("enabled", "duration_minutes", "severity", "notify")
    return base if rule.get("low") is None else ("enabled", "threshold", "clear_threshold", *base[1:])


def _number(value) -> str | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(float(value), 3)


def form_values(rule: dict) -> dict:
    """What each input shows for ``rule`` (a row of alert_config.rules or update)."""
    return {"enabled": [ON] if rule["enabled"] else [], "notify": [ON] if rule["notify"] else [],
            "threshold": _number(rule.get("threshold")), "clear_threshold": _number(rule.get("clear_threshold")),
            "duration_minutes": rule["duration_minutes"], "severity": rule["severity"]}


def _field(alert_type: str, name: str, title: str, control, unit: str = "", hint: str = "") -> html.Div:
    return html.Div(className=f"rule-field rule-field-{name}", children=[
        html.Label(title, htmlFor=field_id(alert_type, name), className="rule-label"),
        html.Div(className="rule-control", children=[control, html.Span(unit, className="rule-unit") if unit else None]),
        html.Div(hint, className="rule-hint") if hint else None,
        html.Div(id=field_id(alert_type, f"{name}-error"), className="field-error", role="alert"),
    ])


def _number_input(alert_type: str, name: str, value, step="any") -> dcc.Input:
    # No min/max on the input: the browser would blank an out-of-range value, and the person would
    # not learn why. The server checks the range and says it next to the field.
    return dcc.Input(id=field_id(alert_type, name), type="number", value=value, step=step, inputMode="decimal",
                     className="rule-input", debounce=False)


def _check(alert_type: str, name: str, text: str, value) -> dcc.Checklist:
    return dcc.Checklist(id=field_id(alert_type, name), options=[{"label": text, "value": ON}], value=value,
                         className="rule-check", inputClassName="rule-checkbox")


def create_rule_card(rule: dict) -> html.Div:
    t, values = rule["alert_type"], form_values(rule)
    unit = rule.get("unit") or ""
    has_threshold = rule.get("low") is not None
    direction = None
    if has_threshold:
        range_hint = f"{rule['low']:g} to {rule['high']:g} {unit}".rstrip()
        direction = ("fires above the threshold, clears at or below the clear threshold" if rule["fires_above"]
                     else "fires below the threshold, clears at or above the clear threshold")
    fields = []
    if has_threshold:
        fields += [
            _field(t, "threshold", "Threshold", _number_input(t, "threshold", values["threshold"]), unit, range_hint),
            _field(t, "clear_threshold", "Clear at", _number_input(t, "clear_threshold", values["clear_threshold"]),
                   unit, "empty: clears at the threshold"),
        ]
    fields += [
        _field(t, "duration_minutes", "Minimum duration",
               _number_input(t, "duration_minutes", values["duration_minutes"], step=1), "min",
               "how long the condition must last" if has_threshold else "silence that opens the alert"),
        _field(t, "severity", "Severity", dcc.Dropdown(
            id=field_id(t, "severity"), options=["critical", "warning", "info"], value=values["severity"],
            clearable=False, searchable=False, className="rule-select")),
        html.Div(className="rule-field rule-flags", children=[
            html.Span("Switches", className="rule-label"),
            _check(t, "enabled", "Enabled", values["enabled"]),
            html.Div(id=field_id(t, "enabled-error"), className="field-error", role="alert"),
            _check(t, "notify", "Notify", values["notify"]),
            html.Div(id=field_id(t, "notify-error"), className="field-error", role="alert"),
        ]),
    ]
    return html.Div(id=field_id(t, "card"), className="rule-card", children=[
        html.Div(className="rule-head", children=[
            html.H3(label(t), className="rule-name"),
            html.Code(t, className="rule-type"),
            html.Div(rule.get("description") or "", className="rule-desc"),
            html.Div(direction, className="rule-direction") if direction else None,
        ]),
        html.Div(className="rule-fields", children=fields),
        html.Div(className="rule-actions", children=[
            html.Button("Save", id=field_id(t, "save"), n_clicks=0, className="rule-save"),
            html.Div(id=field_id(t, "status"), className="rule-status", role="status"),
            dcc.Store(id=field_id(t, "saved")),
        ]),
    ])


def create_rules_form(rules: list[dict]) -> html.Div:
    if not rules:
        return create_empty_state("No alert rules", "Run the migrations: they create the rules.")
    return html.Div([create_rule_card(r) for r in rules], className="rule-list")


def create_rules_section(rules: list[dict]) -> html.Section:
    return html.Section(id="alert-rules", className="panel alert-rules", children=[
        html.H2("Thresholds", className="panel-title"),
        html.P("Each rule applies on the worker's next cycle. Thresholds are for a 51.2 V pack where the unit is "
               "volts; the engine scales them to each pack. A condition must last the minimum duration before it "
               "opens an alert (at the vendor's 30 s cadence, 2 minutes is 5 readings in a row).",
               className="rule-intro"),
        create_rules_form(rules),
        html.Div(className="panel-head rule-history-head", children=[
            html.H2("Changes", className="panel-title"), create_export_buttons("alert-rules-history")]),
        html.Div(id="alert-rules-history", className="table-scroll"),
    ])


def _shown(value, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (int, float)):
        return f"{value:g} {unit}".rstrip()
    return str(value)


def _pair(before, after, unit: str) -> str:
    """"55 → 58 °C": the unit once when both sides have it."""
    if unit and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (before, after)):
        return f"{before:g} → {after:g} {unit}"
    return f"{_shown(before, unit)} → {_shown(after, unit)}"


def _units(alert_type: str, units: dict) -> dict:
    unit = units.get(alert_type, "")
    return {"threshold": unit, "clear_threshold": unit, "duration_minutes": "min"}


def changed_fields(change: dict) -> list[str]:
    before, after = change.get("before") or {}, change.get("after") or {}
    return [f for f in FIELD_LABELS if before.get(f) != after.get(f)]


def saved_message(alert_type: str, before: dict, after: dict, unit: str) -> str:
    """"Saved: threshold 55 → 58 °C, notify on → off." for the fields that changed."""
    u = _units(alert_type, {alert_type: unit})
    changed = changed_fields({"before": before, "after": after})
    if not changed:
        return "Nothing changed."
    parts = [f"{FIELD_LABELS[f]} {_pair(before.get(f), after.get(f), u.get(f, ''))}" for f in changed]
    return "Saved: " + ", ".join(parts) + ". The worker uses it from its next cycle."


def _when(t: datetime) -> str:
    aware = t if t.tzinfo else t.replace(tzinfo=timezone.utc)
    return f"{aware.astimezone(IST):%d %b %Y %H:%M} IST"


def create_rules_history(changes: list[dict], units: dict) -> html.Div:
    """``units``: alert type -> the threshold's unit."""
    if not changes:
        return create_empty_state("No changes yet", "Every saved change appears here with who made it and when.")
    header = html.Tr([html.Th(h) for h in ("When", "Who", "Rule", "Change")])
    rows = []
    for c in changes:
        u = _units(c["alert_type"], units)
        lines = [html.Div([html.Span(FIELD_LABELS[f], className="change-field"), " ",
                           _pair((c["before"] or {}).get(f), (c["after"] or {}).get(f), u.get(f, ""))])
                 for f in changed_fields(c)]
        rows.append(html.Tr([html.Td(_when(c["changed_at"])), html.Td(c["changed_by"]), html.Td(label(c["alert_type"])),
                             html.Td(lines, className="change-cell")]))
    return html.Table([html.Thead(header), html.Tbody(rows)], className="data-table rule-history",
                      id="alert-rules-history-table")


def history_frame(changes: list[dict]) -> pd.DataFrame:
    """The history as a file: one row per changed field, values as stored."""
    columns = ["Changed at (IST)", "Changed by", "Rule", "Field", "Before", "After"]
    rows = []
    for c in changes:
        aware = c["changed_at"] if c["changed_at"].tzinfo else c["changed_at"].replace(tzinfo=timezone.utc)
        for f in changed_fields(c):
            rows.append({"Changed at (IST)": f"{aware.astimezone(IST):%Y-%m-%d %H:%M:%S}", "Changed by": c["changed_by"],
                         "Rule": c["alert_type"], "Field": f, "Before": _shown((c["before"] or {}).get(f)),
                         "After": _shown((c["after"] or {}).get(f))})
    return pd.DataFrame(rows, columns=columns)
