"""``GET /api/v1/analytics/performance/<vehicle_id>``: seed 001's 24-hour figures for one vehicle
(``total_dc``, ``total_ac``, ``efficiency``, ``avg_battery_temp``), in the caller's scope."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, jsonify

from api.wire import ApiError, plain
from auth import current_scope
from data import energy
from data.db import get_db

bp = Blueprint("analytics", __name__)

NOT_FOUND = "vehicle not found"  # one answer for an unknown vehicle and one outside the scope


@bp.get("/analytics/performance/<vehicle_id>")
def performance(vehicle_id: str):
    scope = current_scope()
    if len(vehicle_id) > 100 or not vehicle_id.isprintable():
        raise ApiError(404, NOT_FOUND)
    figures = energy.performance(get_db(), scope, vehicle_id, datetime.now(timezone.utc))
    if figures is None:
        raise ApiError(404, NOT_FOUND)
    return jsonify(plain(figures))
