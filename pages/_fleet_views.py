"""What the overview and the wall callbacks both compute (Dash does not load ``_`` modules as pages)."""
from __future__ import annotations

from datetime import datetime, timedelta

import config
from components import charts
from data import fleet
from data.db import Database
from data.scope import Scope
from ingest.readings import IST


def fleet_figures(db: Database, scope: Scope, filt: fleet.FleetFilter = fleet.NO_FILTER,
                  large: bool = False) -> tuple:
    """SOC distribution, charge-cycle distribution and the km calendar, within scope and filter;
    ``large`` for the wall's type sizes."""
    return (charts.soc_distribution(fleet.soc_distribution(db, scope, filt), large=large),
            charts.cycle_distribution(fleet.cycle_distribution(db, scope, filt), large=large),
            charts.distance_calendar(fleet.daily_distance(db, scope, filt), datetime.now(IST).date(), large=large))


def map_pins(db: Database, scope: Scope, filt: fleet.FleetFilter = fleet.NO_FILTER) -> tuple[dict, str]:
    """The map's pins and the note shown over the map when there are none."""
    pins = fleet.map_pins(db, scope, filt)
    return pins, "" if pins["id"] else "No battery in view has reported a position yet."


MIN_LATE = timedelta(minutes=10)


def late_after() -> timedelta:
    """Data older than this is late: three ingest intervals, ten minutes at least."""
    return max(MIN_LATE, timedelta(seconds=3 * config.get().ingest_interval_seconds))


def data_as_of(db: Database, scope: Scope) -> tuple[str, bool]:
    """"Data as of …" for the newest reading in scope, and whether it is late."""
    asof = fleet.data_as_of(db, scope)
    newest = asof["newest_reading"]
    if newest is None:
        return "No data received yet", True
    late = asof["now"] - newest > late_after()
    return f"Data as of {newest.astimezone(IST):%d %b %H:%M} IST" + (" — ingest is late" if late else ""), late
