"""What the overview and the wall callbacks both compute (Dash does not load ``_`` modules as pages)."""
from __future__ import annotations

from datetime import datetime

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
