"""Trip analytics (/trips): fleet kilometres per IST day, week and month, the heaviest users, km per kWh
by battery and by dealer, when batteries are plugged in, and the trip history, paged and filtered.

A trip row is one battery's IST day (the worker stores it once the day has ended); its energy is the
``energy_consumption`` row of the same device and window. Every query takes the caller's ``Scope``
and applies it in SQL: a filter naming another dealer or its batteries narrows to nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from data.db import Database, like_escaped
from data.scope import Scope

IST = ZoneInfo("Asia/Kolkata")
TODAY = "(now() AT TIME ZONE 'Asia/Kolkata')::date"
PERIODS = {"7d": 7, "30d": 30, "90d": 90}   # the period picker: the last N closed IST days
TOP = 10
# Under this distance in the period a battery's km per kWh is noise (a 2 km day over a rounding of
# energy): it is left out of the battery ranking and counted apart.
MIN_EFFICIENCY_KM = 50.0
EXPORT_LIMIT = 100_000

# What a grid column may sort by, mapped to SQL. Nothing else reaches ORDER BY.
SORTS = {"day": "t.start_time", "vehicle_number": "d.vehicle_number", "battery_serial": "d.battery_serial",
         "dealer": "dl.name", "distance_km": "t.distance_km", "energy_kwh": "e.energy_used_kwh",
         "km_per_kwh": "km_per_kwh"}
DEFAULT_SORT = "day"

# The energy of a trip is the energy row of the same device and window (both are the vendor's IST day).
_SAME_WINDOW = "e.device_id = t.device_id AND e.start_time = t.start_time AND e.end_time = t.end_time"
_KM_PER_KWH = "CASE WHEN e.energy_used_kwh > 0 THEN t.distance_km / e.energy_used_kwh END"


def ist_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), IST)


def today(db: Database) -> date:
    """Today's date in India, from the database's clock (the one the queries use)."""
    return db.scalar(f"SELECT {TODAY}")


# -- fleet distance: today, this week, this month ------------------------------------------------------
def distance_summary(db: Database, scope: Scope) -> dict:
    """Kilometres of the scope today, yesterday, this week (since Monday) and this month, IST days,
    from the per-day rollup. A day's trips arrive after its midnight: ``days_week`` and ``days_month``
    count the days already closed, so a Monday's "this week" can say "nothing summarised yet"."""
    return db.one(
        f"""WITH c AS (SELECT {TODAY} AS today,
                              CAST(date_trunc('week', {TODAY}) AS date) AS week_start,
                              CAST(date_trunc('month', {TODAY}) AS date) AS month_start)
            SELECT c.today, c.week_start, c.month_start,
                   c.today - c.week_start AS days_week, c.today - c.month_start AS days_month,
                   sum(f.km) FILTER (WHERE f.day = c.today) AS today_km,
                   sum(f.km) FILTER (WHERE f.day = c.today - 1) AS yesterday_km,
                   coalesce(sum(f.trips) FILTER (WHERE f.day = c.today - 1), 0) AS yesterday_trips,
                   coalesce(sum(f.km) FILTER (WHERE f.day >= c.week_start), 0) AS week_km,
                   coalesce(sum(f.km) FILTER (WHERE f.day >= c.month_start), 0) AS month_km,
                   coalesce(sum(f.trips) FILTER (WHERE f.day >= c.week_start), 0) AS week_trips,
                   coalesce(sum(f.trips) FILTER (WHERE f.day >= c.month_start), 0) AS month_trips
            FROM c LEFT JOIN telemetry.fleet_distance_daily f
              ON f.day >= least(c.week_start, c.month_start, c.today - 1) AND f.day <= c.today
             AND {scope.devices("f")}
            GROUP BY c.today, c.week_start, c.month_start""",
        **scope.params())


# -- per battery over a period ---------------------------------------------------------------------------
def _period(days: int) -> dict:
    """The period starts at the IST midnight ``days`` days before today: the last ``days`` closed days
    (whose trips are in) and today so far."""
    return {"period_days": max(1, min(int(days), 366))}


_PERIOD_START = f"CAST({TODAY} - CAST(:period_days AS integer) AS timestamp) AT TIME ZONE 'Asia/Kolkata'"


def _per_battery(scope: Scope) -> str:
    """CTEs ``km`` (trips), ``energy`` (energy rows) and ``paired`` (days that have both, the only
    ones a km per kWh can come from) per device of the scope over the period."""
    return f"""
        km AS (SELECT t.device_id, sum(t.distance_km) AS km, count(*) AS trip_days
               FROM telemetry.trips t JOIN devices d ON d.device_id = t.device_id
               WHERE t.start_time >= {_PERIOD_START} AND {scope.devices("d")} GROUP BY t.device_id),
        energy AS (SELECT e.device_id, sum(e.energy_used_kwh) AS kwh
                   FROM telemetry.energy_consumption e JOIN devices d ON d.device_id = e.device_id
                   WHERE e.start_time >= {_PERIOD_START} AND {scope.devices("d")} GROUP BY e.device_id),
        paired AS (SELECT t.device_id, sum(t.distance_km) AS km, sum(e.energy_used_kwh) AS kwh
                   FROM telemetry.trips t JOIN telemetry.energy_consumption e ON {_SAME_WINDOW}
                   JOIN devices d ON d.device_id = t.device_id
                   WHERE t.start_time >= {_PERIOD_START} AND e.energy_used_kwh > 0 AND t.distance_km IS NOT NULL
                     AND {scope.devices("d")}
                   GROUP BY t.device_id)"""


_BATTERY_COLUMNS = """d.device_id, d.vehicle_number, d.battery_serial, dl.code AS dealer_code, dl.name AS dealer"""


def top_usage(db: Database, scope: Scope, days: int, limit: int = TOP) -> pd.DataFrame:
    """The ``limit`` batteries with the most kilometres and the ``limit`` with the most energy in the
    period (one list: ``km_rank`` and ``kwh_rank`` say which), with both figures and their km per kWh."""
    return db.frame(
        f"""WITH {_per_battery(scope)},
            ranked AS (
              SELECT coalesce(km.device_id, energy.device_id) AS device_id, coalesce(km.km, 0) AS km,
                     coalesce(energy.kwh, 0) AS kwh, coalesce(km.trip_days, 0) AS trip_days,
                     row_number() OVER (ORDER BY coalesce(km.km, 0) DESC, coalesce(km.device_id, energy.device_id))
                       AS km_rank,
                     row_number() OVER (ORDER BY coalesce(energy.kwh, 0) DESC, coalesce(km.device_id, energy.device_id))
                       AS kwh_rank
              FROM km FULL JOIN energy ON energy.device_id = km.device_id)
            SELECT {_BATTERY_COLUMNS}, r.km, r.kwh, r.trip_days, p.km / p.kwh AS km_per_kwh,
                   CASE WHEN r.km_rank <= :limit AND r.km > 0 THEN r.km_rank END AS km_rank,
                   CASE WHEN r.kwh_rank <= :limit AND r.kwh > 0 THEN r.kwh_rank END AS kwh_rank
            FROM ranked r JOIN devices d ON d.device_id = r.device_id
            LEFT JOIN dealers dl ON dl.id = d.dealer_id
            LEFT JOIN paired p ON p.device_id = r.device_id
            WHERE (r.km_rank <= :limit AND r.km > 0) OR (r.kwh_rank <= :limit AND r.kwh > 0)""",
        limit=limit, **_period(days), **scope.params())


def battery_efficiency(db: Database, scope: Scope, days: int, limit: int = TOP,
                       min_km: float = MIN_EFFICIENCY_KM) -> dict:
    """km per kWh per battery over the days with both distance and energy: the ``limit`` best and
    worst of those with at least ``min_km`` such kilometres, how many were ranked and how many fell
    short, and the scope's own km per kWh (all its paired days)."""
    frame = db.frame(
        f"""WITH {_per_battery(scope)},
            totals AS (SELECT count(*) FILTER (WHERE km >= :min_km) AS ranked,
                              count(*) FILTER (WHERE km < :min_km) AS short,
                              sum(km) / nullif(sum(kwh), 0) AS scope_km_per_kwh FROM paired),
            ranked AS (
              SELECT p.device_id, p.km, p.kwh, p.km / p.kwh AS km_per_kwh,
                     row_number() OVER (ORDER BY p.km / p.kwh DESC, p.device_id) AS best_rank,
                     row_number() OVER (ORDER BY p.km / p.kwh ASC, p.device_id) AS worst_rank
              FROM paired p WHERE p.km >= :min_km)
            SELECT totals.*, {_BATTERY_COLUMNS}, r.km, r.kwh, r.km_per_kwh, r.best_rank, r.worst_rank
            FROM totals
            LEFT JOIN (ranked r JOIN devices d ON d.device_id = r.device_id LEFT JOIN dealers dl ON dl.id = d.dealer_id)
              ON r.best_rank <= :limit OR r.worst_rank <= :limit""",
        min_km=min_km, limit=limit, **_period(days), **scope.params())
    rows = frame[frame["device_id"].notna()]
    first = frame.iloc[0] if len(frame) else {}
    return {"best": rows[rows["best_rank"] <= limit].sort_values("best_rank").reset_index(drop=True),
            "worst": rows[rows["worst_rank"] <= limit].sort_values("worst_rank").reset_index(drop=True),
            "ranked": int(first.get("ranked") or 0), "short": int(first.get("short") or 0),
            "km_per_kwh": first.get("scope_km_per_kwh"), "min_km": min_km}


def dealer_efficiency(db: Database, scope: Scope, days: int) -> pd.DataFrame:
    """km per kWh per dealer over its batteries' paired days, best first. A dealer's scope holds its
    own batteries only, so it gets its own row and nobody else's."""
    return db.frame(
        f"""WITH {_per_battery(scope)}
            SELECT dl.code AS dealer_code, coalesce(dl.name, 'No dealer') AS dealer, count(*) AS batteries,
                   sum(p.km) AS km, sum(p.kwh) AS kwh, sum(p.km) / sum(p.kwh) AS km_per_kwh
            FROM paired p JOIN devices d ON d.device_id = p.device_id
            LEFT JOIN dealers dl ON dl.id = d.dealer_id
            GROUP BY dl.code, dl.name
            ORDER BY km_per_kwh DESC, dealer""",
        **_period(days), **scope.params())


# -- when batteries are plugged in ----------------------------------------------------------------------
def charging_by_hour(db: Database, scope: Scope, days: int) -> pd.DataFrame:
    """Charge sessions started per IST hour of day over the period, and the mean depth of discharge at
    plug-in (100 − SOC at the start) of those with a starting SOC (one missing or off the scale says
    nothing about the depth: it is left out, not read as empty)."""
    return db.frame(
        f"""SELECT CAST(extract(hour FROM s.start_time AT TIME ZONE 'Asia/Kolkata') AS integer) AS hour,
                   count(*) AS sessions, count(*) FILTER (WHERE s.soc_start BETWEEN 0 AND 100) AS with_soc,
                   avg(100 - s.soc_start) FILTER (WHERE s.soc_start BETWEEN 0 AND 100) AS mean_dod
            FROM telemetry.charge_sessions s JOIN devices d ON d.device_id = s.device_id
            WHERE s.start_time >= {_PERIOD_START} AND {scope.devices("d")}
            GROUP BY 1 ORDER BY 1""",
        **_period(days), **scope.params())


# -- the trip history ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class TripFilter:
    """The history's filters, already cleaned by the page."""
    text: str | None = None          # part of a vehicle number, device id or battery serial
    dealer_code: str | None = None   # the page sends it for whole-fleet roles only; the scope decides anyway
    since: date | None = None        # IST days, inclusive
    until: date | None = None


NO_FILTER = TripFilter()

_FROM = f"""FROM telemetry.trips t JOIN devices d ON d.device_id = t.device_id
            LEFT JOIN dealers dl ON dl.id = d.dealer_id
            LEFT JOIN telemetry.energy_consumption e ON {_SAME_WINDOW}"""


def _where(scope: Scope, filt: TripFilter) -> tuple[str, dict]:
    clauses, params = [scope.devices("d")], dict(scope.params())
    if filt.text:
        # Vehicle numbers are typed with or without their spaces and dashes ("UP32 AB 1234").
        plate = re.sub(r"[\s-]", "", filt.text).upper()
        matches = ["d.device_id ILIKE :like", "d.battery_serial ILIKE :like"]
        if plate:
            matches.append("upper(replace(replace(d.vehicle_number, ' ', ''), '-', '')) LIKE :plate")
            params["plate"] = f"%{like_escaped(plate)}%"
        clauses.append(f"({' OR '.join(matches)})")
        params["like"] = f"%{like_escaped(filt.text)}%"
    if filt.dealer_code:
        clauses.append("dl.code = :dealer_code")
        params["dealer_code"] = filt.dealer_code
    if filt.since:
        clauses.append("t.start_time >= :since")
        params["since"] = ist_midnight(filt.since)
    if filt.until:
        clauses.append("t.start_time < :until")
        params["until"] = ist_midnight(filt.until + timedelta(days=1))
    return " AND ".join(clauses), params


def history(db: Database, scope: Scope, filt: TripFilter = NO_FILTER, *, offset: int = 0, limit: int = 100,
            sort: str = DEFAULT_SORT, descending: bool = True) -> list[dict]:
    """One page of trips in scope matching ``filt``, newest day first unless ``sort`` says otherwise."""
    where, params = _where(scope, filt)
    order = SORTS.get(sort, SORTS[DEFAULT_SORT])
    direction = "DESC" if descending else "ASC"
    return db.query(
        f"""SELECT t.id, t.device_id, d.vehicle_number, d.battery_serial, dl.code AS dealer_code, dl.name AS dealer,
                   CAST(t.start_time AT TIME ZONE 'Asia/Kolkata' AS date) AS day, t.start_time, t.end_time,
                   t.distance_km, e.energy_used_kwh AS energy_kwh, {_KM_PER_KWH} AS km_per_kwh
            {_FROM} WHERE {where}
            ORDER BY {order} {direction} NULLS LAST, t.id {direction}
            OFFSET :offset LIMIT :limit""",
        offset=max(0, offset), limit=max(1, min(limit, EXPORT_LIMIT)), **params)


def history_totals(db: Database, scope: Scope, filt: TripFilter = NO_FILTER) -> dict:
    """How many trips match, their kilometres and energy, and how many batteries they are from."""
    where, params = _where(scope, filt)
    return db.one(
        f"""SELECT count(*) AS trips, coalesce(sum(t.distance_km), 0) AS km,
                   coalesce(sum(e.energy_used_kwh), 0) AS kwh, count(DISTINCT t.device_id) AS batteries
            {_FROM} WHERE {where}""", **params)


def export_history(db: Database, scope: Scope, filt: TripFilter = NO_FILTER, *, sort: str = DEFAULT_SORT,
                   descending: bool = True) -> list[dict]:
    """Every matching trip (up to ``EXPORT_LIMIT``) in the table's order, for the CSV and XLSX files."""
    return history(db, scope, filt, offset=0, limit=EXPORT_LIMIT, sort=sort, descending=descending)

