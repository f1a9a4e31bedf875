"""``/api/v1/ingest/<stream>`` and ``/api/v1/telemetry``: rows pushed by chargers, meters, n8n flows
and vendors, through the worker's own parse, validate and write path (``ingest.push``).

Who may push: admins, engineers and ``ingest`` keys (keys made for a pusher, which may do nothing
else). The answer is 200 whenever the batch was judged, with the rows stored, the duplicates (a
replay stores nothing twice) and each rejected row's index and reasons.
"""
from __future__ import annotations

from flask import Blueprint, jsonify

from api.wire import ApiError, json_rows
from auth import current_scope
from data.db import get_db
from ingest import push

bp = Blueprint("ingest", __name__)

INGEST_ROLES = ("admin", "engineer", "ingest")
STREAMS = ("can-data", "gps-data", "trips", "energy", "meter", "site-power")


def require_ingest() -> None:
    if current_scope().role not in INGEST_ROLES:
        raise ApiError(403, "this key or user may not push data; use an ingest key "
                            "(flask --app app apikeys create NAME --role ingest) or an engineer's")


def _push(stream: str):
    require_ingest()
    rows = json_rows(push.MAX_ROWS)
    return jsonify(push.ingest(get_db(), stream, rows).body(stream))


def _route(stream: str):
    def view():
        return _push(stream)
    view.__name__ = f"ingest_{stream.replace('-', '_')}"
    return view


for _stream in STREAMS:
    bp.add_url_rule(f"/ingest/{_stream}", view_func=_route(_stream), methods=["POST"])


@bp.post("/telemetry")
def telemetry():
    """Seeds 001/003: a meter reading or a vehicle reading, told apart by their fields."""
    return _push("telemetry")
