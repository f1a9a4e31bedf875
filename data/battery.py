"""One battery (device) for the battery page, always within the caller's scope.

Every query carries the scope condition itself, so a device the user may not see answers exactly
like a device that does not exist: nothing.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

import inputs
from data import rollups
from data.db import Database
from data.scope import Scope

MAX_DEVICE_ID = 50          # devices.device_id is varchar(50)
RANGES = {"1h": 1, "6h": 6, "24h": 24, "7d": 24 * 7, "30d": 24 * 30}
ONLINE_WITHIN = timedelta(minutes=15)
SESSION_AMPS = 1.0          # |current| below this is rest, not charge or discharge


def _visible(scope: Scope) -> str:
    return f"EXISTS (SELECT 1 FROM devices d WHERE d.device_id = :device_id AND {scope.devices('d')})"


def _valid_id(device_id) -> bool:
    return inputs.text(device_id, MAX_DEVICE_ID) == device_id


def find(db: Database, scope: Scope, device_id) -> dict | None:
    """The page header: registry facts and latest state, or None if unknown or out of scope."""
    if not _valid_id(device_id):
        return None
    return db.one(
        f"""SELECT d.device_id, d.battery_serial, d.vehicle_number, d.customer_name, d.city, d.is_active,
                   dl.name AS dealer_name, b.model, b.capacity_ah, b.nominal_voltage, b.sold_at,
                   s.reading_time, s.soc, s.soh, s.voltage, s.current, s.temperature, s.charge_cycle,
                   s.is_charging, s.gps_time, s.latitude, s.longitude, s.speed, now() AS now
            FROM devices d
            LEFT JOIN dealers dl ON dl.id = d.dealer_id
            LEFT JOIN batteries b ON b.serial = d.battery_serial
            LEFT JOIN device_state s ON s.device_id = d.device_id
            WHERE d.device_id = :device_id AND {scope.devices('d')}""",
        device_id=device_id, **scope.params())


def is_online(info: dict) -> bool:
    return info.get("reading_time") is not None and info["now"] - info["reading_time"] <= ONLINE_WITHIN


def series(db: Database, scope: Scope, device_id, range_key: str, end: datetime) -> tuple[pd.DataFrame, str]:
    """SOC, voltage, current, temperature over the range ending at ``end``: raw for short ranges,
    hourly rollups for long ones. Returns the frame and the resolution used."""
    hours = RANGES.get(range_key, 24)
    resolution = rollups.resolution_for(hours)
    if not _valid_id(device_id) or not db.scalar(f"SELECT {_visible(scope)}", device_id=device_id,
                                                  **scope.params()):
        return pd.DataFrame(columns=["time", "soc", "voltage", "current", "temperature"]), resolution
    frame = rollups.read_series(db, [device_id], end - timedelta(hours=hours), end, resolution)
    return frame, resolution


def current_is_unsigned(frame: pd.DataFrame) -> bool:
    """Some BMS models report current as a magnitude: the range has current flowing but never a
    negative value, so its sign cannot tell charge from discharge."""
    current = frame["current"].dropna()
    return bool((current.abs() > SESSION_AMPS).any() and not (current < -SESSION_AMPS).any())


def _kinds_from_soc(data: pd.DataFrame) -> pd.Series:
    """Charge or discharge for an unsigned current, from where SOC is heading: SOC moves in whole
    points, so its change is read over a few readings either side, and a flat stretch keeps the
    direction it had."""
    soc = data["soc"].interpolate(limit_direction="both")
    span = max(1, min(5, len(soc) // 4))
    slope = soc.shift(-span).fillna(soc.iloc[-1]) - soc.shift(span).fillna(soc.iloc[0])
    direction = pd.Series(pd.NA, index=data.index, dtype="object")
    direction[slope > 0] = "charge"
    direction[slope < 0] = "discharge"
    direction = direction.ffill().bfill().fillna("discharge")
    return direction.where(data["current"].abs() > SESSION_AMPS, "rest")


def sessions(frame: pd.DataFrame) -> list[dict]:
    """Charge / discharge / rest blocks, for the session timeline: from the current's sign, or from
    the SOC trend where the BMS reports current without a sign."""
    if frame.empty or frame["current"].isna().all():
        return []
    data = frame.reindex(columns=["time", "current", "soc"]).dropna(subset=["current"])
    if current_is_unsigned(frame) and data["soc"].notna().any():
        kind = _kinds_from_soc(data)
    else:
        kind = data["current"].map(lambda a: "charge" if a > SESSION_AMPS else "discharge" if a < -SESSION_AMPS
                                   else "rest")
    blocks, start, last_kind, last_time = [], None, None, None
    for t, k in zip(data["time"], kind):
        if k != last_kind:
            if last_kind is not None:
                blocks.append({"kind": last_kind, "start": start, "end": t})
            start, last_kind = t, k
        last_time = t
    blocks.append({"kind": last_kind, "start": start, "end": last_time})
    return [b for b in blocks if b["end"] > b["start"]]


def trail(db: Database, scope: Scope, device_id, range_key: str, end: datetime, max_points: int = 1500) -> list[dict]:
    """GPS fixes over the range, thinned evenly to at most ``max_points``."""
    if not _valid_id(device_id):
        return []
    hours = RANGES.get(range_key, 24)
    return db.query(
        f"""SELECT time, latitude AS lat, longitude AS lng FROM (
              SELECT time, latitude, longitude, row_number() OVER (ORDER BY time) AS n, count(*) OVER () AS total
              FROM telemetry.gps_readings
              WHERE device_id = :device_id AND time >= :start AND time < :end AND {_visible(scope)}) g
            WHERE (n - 1) % greatest(ceil(total::numeric / :max_points)::int, 1) = 0 OR n = total
            ORDER BY time""",
        device_id=device_id, start=end - timedelta(hours=hours), end=end, max_points=max_points, **scope.params())


def trail_bounds(db: Database, scope: Scope, device_id, range_key: str, end: datetime) -> dict | None:
    if not _valid_id(device_id):
        return None
    hours = RANGES.get(range_key, 24)
    row = db.one(
        f"""SELECT min(latitude) AS south, max(latitude) AS north, min(longitude) AS west, max(longitude) AS east
            FROM telemetry.gps_readings
            WHERE device_id = :device_id AND time >= :start AND time < :end AND {_visible(scope)}""",
        device_id=device_id, start=end - timedelta(hours=hours), end=end, **scope.params())
    return row if row and row["south"] is not None else None


def trips(db: Database, scope: Scope, device_id, limit: int = 30) -> list[dict]:
    """Recent trips with the energy of the same window, the efficiency both give, and the lowest SOC
    of the trip's IST day (the energy row's SOC ends are at the day's midnights, both near full)."""
    if not _valid_id(device_id):
        return []
    # The daily rollup is filtered by device before the join: in TimescaleDB it is a real-time view,
    # and only a constant on its grouping column keeps its live part to this one battery.
    return db.query(
        f"""SELECT t.start_time, t.end_time, t.distance_km, e.energy_used_kwh,
                   CASE WHEN e.energy_used_kwh > 0 THEN t.distance_km / e.energy_used_kwh END AS km_per_kwh,
                   e.start_soc, e.end_soc, b.min_soc AS lowest_soc
            FROM telemetry.trips t
            LEFT JOIN telemetry.energy_consumption e
              ON e.device_id = t.device_id AND e.start_time = t.start_time AND e.end_time = t.end_time
            LEFT JOIN (SELECT bucket, min_soc FROM telemetry.battery_daily WHERE device_id = :device_id) b
              ON b.bucket = date_trunc('day', t.start_time, 'Asia/Kolkata')
            WHERE t.device_id = :device_id AND {_visible(scope)}
            ORDER BY t.start_time DESC LIMIT :limit""",
        device_id=device_id, limit=limit, **scope.params())
