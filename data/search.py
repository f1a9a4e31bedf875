"""Finding a battery from what a person types: device id, vehicle number, battery serial or customer.

Prefix, case-insensitive, within the user's scope, at most ``limit`` answers: exact matches first.
"""
from __future__ import annotations

import re

from data.db import Database, like_escaped
from data.scope import Scope

PLATE_SQL = "upper(replace(replace(d.vehicle_number, ' ', ''), '-', ''))"


def normalise_plate(text: str) -> str:
    """How vehicle numbers are compared: "up 32-ab 1000" is UP32AB1000."""
    return re.sub(r"[\s-]", "", text).upper()


def _like_prefix(text: str) -> str:
    return like_escaped(text) + "%"


def find_batteries(db: Database, scope: Scope, query: str, limit: int = 10) -> list[dict]:
    """Batteries whose device id, vehicle number, serial or customer name (any word) starts with ``query``."""
    lowered, plate = query.strip().lower(), normalise_plate(query)
    if not lowered:
        return []
    return db.query(
        f"""SELECT d.device_id, d.vehicle_number, d.battery_serial, d.customer_name, d.city, dl.name AS dealer_name,
                   CASE WHEN lower(d.device_id) LIKE :q THEN 'device'
                        WHEN {PLATE_SQL} LIKE :plate THEN 'vehicle'
                        WHEN lower(d.battery_serial) LIKE :q THEN 'serial'
                        ELSE 'customer' END AS matched
            FROM devices d LEFT JOIN dealers dl ON dl.id = d.dealer_id
            WHERE {scope.devices('d')}
              AND (lower(d.device_id) LIKE :q OR {PLATE_SQL} LIKE :plate OR lower(d.battery_serial) LIKE :q
                   OR lower(d.customer_name) LIKE :q OR lower(d.customer_name) LIKE :word)
            ORDER BY (lower(d.device_id) = :exact OR {PLATE_SQL} = :plate_exact
                      OR lower(d.battery_serial) = :exact) DESC,
                     d.is_active DESC, d.vehicle_number NULLS LAST, d.device_id
            LIMIT :limit""",
        # A query of only spaces or dashes has no plate part: "-%" can never match a normalised plate.
        q=_like_prefix(lowered), plate=_like_prefix(plate or "-"), word="% " + _like_prefix(lowered),
        exact=lowered, plate_exact=plate, limit=limit, **scope.params())


def resolve(db: Database, scope: Scope, reference: str) -> str | None:
    """The device id a URL names, by device id or by vehicle number, within scope; device ids win."""
    return db.scalar(
        f"""SELECT d.device_id FROM devices d
            WHERE (d.device_id = :ref OR {PLATE_SQL} = :plate) AND {scope.devices('d')}
            ORDER BY d.device_id = :ref DESC LIMIT 1""",
        ref=reference, plate=normalise_plate(reference), **scope.params())
