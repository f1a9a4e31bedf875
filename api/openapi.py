"""``/api/v1/openapi.json``: the OpenAPI 3.1 description of the API, written by hand.

It is served to signed-in callers only (a session or any valid key), like everything under /api/.
A test walks the app's /api/ routes and fails when one is missing here.
"""
from __future__ import annotations

from flask import Blueprint, jsonify

from api.alerts import DEFAULT_LIMIT, MAX_LIMIT
from auth import current_scope
from data.alert_actions import MAX_COMMENT
from data.alert_config import LIMITS, SEVERITIES
from data.alert_views import ALERT_TYPES, STATUSES
from ingest.push import MAX_ROWS as MAX_PUSH_ROWS

bp = Blueprint("openapi", __name__)


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json(_ref("Error"), description)


def _csv_of(values, description: str) -> dict:
    return {"type": "string", "description": f"{description} Comma-separated, any of: {', '.join(values)}.",
            "examples": [values[0]]}


TIME = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time", "description": "ISO 8601, UTC"}
NUMBER_OR_NULL = {"type": ["number", "null"]}
TEXT_OR_NULL = {"type": ["string", "null"]}

ALERT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "type": {"type": "string", "enum": list(ALERT_TYPES)},
        "severity": {"type": "string", "enum": list(SEVERITIES)},
        "status": {"type": "string", "enum": list(STATUSES)},
        "device_id": dict(TEXT_OR_NULL, description="null for fleet-wide alerts (feed silence)"),
        "vehicle_number": TEXT_OR_NULL, "battery_serial": TEXT_OR_NULL,
        "dealer_code": TEXT_OR_NULL, "dealer": TEXT_OR_NULL, "city": TEXT_OR_NULL,
        "message": {"type": "string"},
        "reading_value": NUMBER_OR_NULL, "threshold_value": NUMBER_OR_NULL,
        "first_seen_at": TIME, "last_seen_at": TIME,
        "occurrence_count": {"type": "integer"},
        "owner": dict(TEXT_OR_NULL, description="username of the assigned owner"),
        "acknowledged_at": NULLABLE_TIME, "resolved_at": NULLABLE_TIME, "escalated_at": NULLABLE_TIME,
        "reopened_from": {"type": ["integer", "null"],
                          "description": "the alert resolved by hand while its condition was still present"},
    },
    "required": ["id", "type", "severity", "status", "first_seen_at", "last_seen_at"],
}

EVENT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "at": TIME,
        "event": {"type": "string", "enum": ["opened", "repeated", "acknowledged", "assigned", "escalated",
                                             "reminded", "resolved", "reopened"]},
        "actor": {"type": "string", "description": "a username, key:<name> for an API key, or system"},
        "comment": TEXT_OR_NULL,
        "details": {"type": "object"},
    },
}

ALERT_DETAIL = {
    "allOf": [_ref("Alert"), {
        "type": "object",
        "properties": {
            "battery": {"type": "object", "properties": {
                "model": TEXT_OR_NULL, "nominal_voltage": NUMBER_OR_NULL, "customer": TEXT_OR_NULL,
                "soc": NUMBER_OR_NULL, "soh": NUMBER_OR_NULL, "voltage": NUMBER_OR_NULL,
                "temperature": NUMBER_OR_NULL, "reading_time": NULLABLE_TIME}},
            "rule": {"type": "object", "properties": {"description": TEXT_OR_NULL,
                                                      "clear_threshold": NUMBER_OR_NULL}},
            "allowed_actions": {"type": "array", "items": {"type": "string",
                                                           "enum": ["acknowledge", "assign", "resolve"]},
                                "description": "what the caller may do to this alert"},
            "events": {"type": "array", "items": _ref("Event"), "description": "oldest first"},
        },
    }],
}

ACTION_RESULT = {
    "type": "object",
    "properties": {
        "alert_id": {"type": "integer"},
        "changed": {"type": "boolean", "description": "false when the alert already was in that state"},
        "status": {"type": "string"},
        "message": {"type": "string"},
        "alert": {"anyOf": [_ref("Alert"), {"type": "null"}]},
    },
    "required": ["alert_id", "changed", "status", "message"],
}

COMMENT = {"type": ["string", "null"], "maxLength": MAX_COMMENT}

RULE_CHANGE = {"type": "object", "additionalProperties": False, "properties": {
    "enabled": {"type": "boolean"},
    "threshold": {"type": ["number", "null"], "description": "in the rule's unit; null only for rules without one"},
    "severity": {"type": "string", "enum": list(SEVERITIES)},
    "duration_minutes": {"type": "integer", "minimum": 0},
    "clear_threshold": {"type": ["number", "null"], "description": "hysteresis: where the alert clears"},
    "notify": {"type": "boolean"},
}}

RULE = {"type": "object", "properties": {
    "alert_type": {"type": "string", "enum": list(LIMITS)},
    "description": {"type": "string"},
    **RULE_CHANGE["properties"],
    "window_days": {"type": ["integer", "null"]},
    "updated_at": TIME, "updated_by": TEXT_OR_NULL,
    "unit": {"type": "string"}, "low": NUMBER_OR_NULL, "high": NUMBER_OR_NULL,
    "fires_above": {"type": "boolean"},
}}

ERROR = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}
RULE_ERRORS = {"type": "object", "properties": {
    "error": {"type": "string"},
    "errors": {"type": "object", "description": "per alert type, per field: what is wrong",
               "additionalProperties": {"type": "object", "additionalProperties": {"type": "string"}}},
}, "required": ["error", "errors"]}

ALERT_ID = {"name": "alert_id", "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "format": "int64"}}

UNAUTHORIZED = _error("No session and no API key, or an invalid or revoked key")
FORBIDDEN = _error("The caller's role may not do this")
NOT_FOUND = _error("Unknown alert, or one outside the caller's scope (the same answer for both)")
BAD_REQUEST = _error("Malformed JSON, a body that is not an object, an unknown field or a wrong value")
NOT_JSON = _error("POST and PUT bodies must be sent as Content-Type: application/json")


def _action(summary: str, description: str, body: dict, required: list[str]) -> dict:
    return {"post": {
        "summary": summary, "description": description, "tags": ["alerts"],
        "parameters": [ALERT_ID],
        "requestBody": {"required": False, "content": {"application/json": {"schema": {
            "type": "object", "additionalProperties": False, "properties": body, "required": required}}}},
        "responses": {"200": _json(_ref("ActionResult"), "Done, or already so (changed: false)"),
                      "400": BAD_REQUEST, "401": UNAUTHORIZED, "403": FORBIDDEN, "404": NOT_FOUND,
                      "415": NOT_JSON},
    }}


PUSH_RESULT = {
    "type": "object",
    "properties": {
        "stream": {"type": "string"},
        "received": {"type": "integer"}, "stored": {"type": "integer"},
        "duplicates": {"type": "integer", "description": "valid rows already stored (a replay stores nothing twice)"},
        "rejected": {"type": "integer"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "index": {"type": "integer", "description": "the row's position in the request, from 0"},
            "reasons": {"type": "array", "items": {"type": "string"}},
            "message": {"type": "string"}}}},
    },
    "required": ["received", "stored", "duplicates", "rejected", "errors"],
}
# (summary, description, example row) per push stream.
PUSH_STREAMS = {
    "/ingest/can-data": ("Battery readings (CAN)", "Name the battery by device_id or vehicleno; values by our "
                         "names (soc, soh, voltage, current, charge_cycle, temperature) or the vendor's "
                         "(battery_voltage, battery_temp).",
                         {"vehicleno": "UP32AB1000", "time": 1770740580000, "soc": 72.5, "battery_voltage": 52.1,
                          "current": -12.4, "battery_temp": 31.0, "soh": 97.0, "charge_cycle": 412}),
    "/ingest/gps-data": ("GPS fixes", "lat/lng or latitude/longitude; time or commtime.",
                         {"device_id": "TK-51100-0000", "time": "2026-02-10T16:23:00Z", "lat": 26.85, "lng": 80.95,
                          "speed": 18.5, "ignstatus": "on"}),
    "/ingest/trips": ("Trip summaries", "A trip or a day's distance: start_time, end_time, distance_km (or the "
                      "vendor's starttime, endtime, distance).",
                      {"device_id": "TK-51100-0000", "start_time": "2026-02-10T00:00:00+05:30",
                       "end_time": "2026-02-11T00:00:00+05:30", "distance_km": 84.2}),
    "/ingest/energy": ("Energy consumption", "energy_used_kwh with start_soc/end_soc over a window.",
                       {"device_id": "TK-51100-0000", "start_time": 1770661800000, "end_time": 1770748200000,
                        "energy_used_kwh": 6.1, "start_soc": 100, "end_soc": 31}),
    "/ingest/meter": ("Energy meter readings (AC)", "kwhConsumedAc is the energy counted since the meter's "
                      "previous reading; meterId is the meter's serial.",
                      {"meterId": "MTR-EXI-LKO01-DEPOT-CHA01", "kwhConsumedAc": 0.82, "voltage": 231.0,
                       "timestamp": "2026-02-10T16:30:00Z"}),
    "/ingest/site-power": ("Site power (solar, inverter, grid, load, storage)", "Seed 004's fields; siteId is "
                           "the site code; energies are per reading interval, grid positive when importing.",
                           {"siteId": "LKO01-HUB", "timestamp": "2026-02-10T12:00:00Z", "solarPowerKw": 18.5,
                            "gridPowerKw": -2.5, "loadPowerKw": 16.0, "batteryPowerKw": 0}),
    "/telemetry": ("A meter reading or a vehicle reading", "Told apart by their fields: {meterId, kwhConsumedAc, "
                   "voltage, timestamp} is a meter reading, {vehicleId, soc, kwhDeliveredDc, batteryTemp, "
                   "timestamp} a vehicle reading (vehicleId: vehicle number or device id).",
                   {"vehicleId": "UP32AB1000", "soc": 85.5, "kwhDeliveredDc": 12.3, "batteryTemp": 25.0,
                    "timestamp": "2026-02-10T16:23:00Z"}),
}


def _push_path(summary: str, description: str, example: dict) -> dict:
    rows = {"oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"},
                                           "maxItems": MAX_PUSH_ROWS}]}
    return {"post": {
        "summary": summary,
        "description": (f"{description} One object or an array of up to {MAX_PUSH_ROWS:,}. Times: epoch seconds "
                        "or milliseconds, or ISO 8601. Each row is judged on its own: the valid ones are stored "
                        "and each rejected one is answered with its index and reasons (and kept for review). "
                        "Admins, engineers and ingest keys only."),
        "tags": ["ingest"],
        "requestBody": {"required": True, "content": {"application/json": {"schema": rows, "examples": [example]}}},
        "responses": {"200": _json(_ref("PushResult"), "The batch was judged"),
                      "400": BAD_REQUEST, "401": UNAUTHORIZED, "403": FORBIDDEN,
                      "413": _error(f"Over {MAX_PUSH_ROWS:,} rows or 16 MB"), "415": NOT_JSON},
    }}


PERFORMANCE = {"get": {
    "summary": "A vehicle's last 24 hours: DC, AC, efficiency, battery temperature", "tags": ["analytics"],
    "parameters": [{"name": "vehicle_id", "in": "path", "required": True,
                    "description": "vehicle number or device id", "schema": {"type": "string", "maxLength": 100}}],
    "responses": {"200": _json({"type": "object", "properties": {
        "vehicle_id": {"type": "string"}, "device_id": {"type": "string"},
        "window_start": TIME, "window_end": TIME,
        "total_dc": dict(NUMBER_OR_NULL, description="kWh into the pack"),
        "total_ac": dict(NUMBER_OR_NULL, description="kWh at the meter"),
        "efficiency": dict(NUMBER_OR_NULL, description="total_dc / total_ac"),
        "avg_battery_temp": dict(NUMBER_OR_NULL, description="degC"),
        "dc_source": {"type": "string", "enum": ["pushed", "sessions"]}}}, "The figures"),
        "401": UNAUTHORIZED, "403": FORBIDDEN, "404": NOT_FOUND},
}}


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Battery Fleet Monitor API",
            "version": "1",
            "description": ("Alerts of the battery fleet, in the caller's scope: a dealer's key or user sees and "
                            "acts on its own dealer's alerts only. Roles as on the alerts page: admins and "
                            "engineers acknowledge, assign and resolve; managers acknowledge; dealers "
                            "acknowledge their own alerts; viewers only read. Times are ISO 8601 in UTC. "
                            "Pushers (chargers, meters, n8n flows) send readings to the ingest endpoints with "
                            "an ingest key, which may do nothing else."),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "tags": [{"name": "alerts"}, {"name": "rules"}, {"name": "ingest"}, {"name": "analytics"},
                 {"name": "meta"}],
        "paths": {
            "/alerts": {"get": {
                "summary": "List alerts, newest first",
                "description": "Keyset paging: pass next_cursor back as cursor until it is null.",
                "tags": ["alerts"],
                "parameters": [
                    {"name": "status", "in": "query", "schema": _csv_of(STATUSES, "Alert status.")},
                    {"name": "severity", "in": "query", "schema": _csv_of(SEVERITIES, "Severity.")},
                    {"name": "type", "in": "query", "schema": _csv_of(ALERT_TYPES, "Alert type.")},
                    {"name": "device_id", "in": "query", "schema": {"type": "string", "maxLength": 50}},
                    {"name": "limit", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
                    {"name": "cursor", "in": "query", "description": "continue with alerts whose id is below this",
                     "schema": {"type": "integer", "minimum": 1, "format": "int64"}},
                ],
                "responses": {
                    "200": _json({"type": "object", "properties": {
                        "alerts": {"type": "array", "items": _ref("Alert")},
                        "next_cursor": {"type": ["integer", "null"]}},
                        "required": ["alerts", "next_cursor"]}, "One page of alerts"),
                    "400": BAD_REQUEST, "401": UNAUTHORIZED},
            }},
            "/alerts/{alert_id}": {"get": {
                "summary": "One alert with its history", "tags": ["alerts"], "parameters": [ALERT_ID],
                "responses": {"200": _json(_ref("AlertDetail"), "The alert"),
                              "401": UNAUTHORIZED, "404": NOT_FOUND},
            }},
            "/alerts/{alert_id}/acknowledge": _action(
                "Acknowledge an alert", "A second acknowledge changes nothing and answers changed: false.",
                {"comment": COMMENT}, []),
            "/alerts/{alert_id}/resolve": _action(
                "Resolve an alert by hand",
                "If the condition is still present, the next evaluation opens a new alert linked to this one.",
                {"comment": COMMENT}, []),
            "/alerts/{alert_id}/assign": _action(
                "Assign an owner", "The owner is an active engineer or admin, or a user of the alert's dealer.",
                {"user": {"type": ["string", "integer"], "description": "username or user id"},
                 "comment": COMMENT}, ["user"]),
            "/alerts/config": {
                "get": {"summary": "The alert rules and their recent changes (admin)", "tags": ["rules"],
                        "responses": {"200": _json({"type": "object", "properties": {
                            "rules": {"type": "array", "items": _ref("Rule")},
                            "changes": {"type": "array", "items": _ref("RuleChangeRecord")}}}, "The rules"),
                            "401": UNAUTHORIZED, "403": FORBIDDEN}},
                "put": {"summary": "Change alert rules (admin)",
                        "description": ("Every change is validated before any is applied: one wrong field "
                                        "changes nothing. The worker uses the new values on its next cycle."),
                        "tags": ["rules"],
                        "requestBody": {"required": True, "content": {"application/json": {"schema": {
                            "type": "object", "propertyNames": {"enum": list(LIMITS)},
                            "additionalProperties": _ref("RuleChange")},
                            "examples": [{"high_temp": {"threshold": 58, "duration_minutes": 3}}]}}},
                        "responses": {"200": _json({"type": "object", "properties": {
                            "changed": {"type": "array", "items": {"type": "string"}},
                            "rules": {"type": "array", "items": _ref("Rule")}}}, "Applied"),
                            "400": _json(_ref("RuleErrors"), "Nothing changed; errors per rule and field"),
                            "401": UNAUTHORIZED, "403": FORBIDDEN,
                            "409": _json(_ref("RuleErrors"), "A rule changed while the request was applied"),
                            "415": NOT_JSON}},
            },
            **{path: _push_path(*spec) for path, spec in PUSH_STREAMS.items()},
            "/analytics/performance/{vehicle_id}": PERFORMANCE,
            "/openapi.json": {"get": {
                "summary": "This document", "tags": ["meta"],
                "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1"), "401": UNAUTHORIZED},
            }},
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "An API key from `flask --app app apikeys create NAME --role ROLE`"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session",
                                  "description": "The web app's sign-in session"},
            },
            "schemas": {
                "Alert": ALERT, "AlertDetail": ALERT_DETAIL, "Event": EVENT, "ActionResult": ACTION_RESULT,
                "Rule": RULE, "RuleChange": RULE_CHANGE, "Error": ERROR, "RuleErrors": RULE_ERRORS,
                "PushResult": PUSH_RESULT,
                "RuleChangeRecord": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "alert_type": {"type": "string"}, "changed_at": TIME,
                    "changed_by": {"type": "string"}, "before": _ref("RuleChange"), "after": _ref("RuleChange")}},
            },
        },
    }


@bp.get("/openapi.json")
def openapi_json():
    current_scope()  # the guard has checked already; this keeps the route's contract explicit
    return jsonify(document())
