"""Hourly and daily battery rollups: one way to read them in both storage modes, and the
plain-PostgreSQL refresh that recomputes only the buckets new rows touched.

In TimescaleDB mode ``telemetry.battery_hourly``/``battery_daily`` are continuous aggregates kept
by TimescaleDB's policies (real-time aggregation on); in plain mode they are tables of the same
names and columns that ``refresh_touched`` keeps. Readers never need to know which.

Daily buckets are Indian Standard Time days (Asia/Kolkata midnight, migration 0005), like every
other day the product shows; hourly buckets are clock hours in UTC.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

import pandas as pd
from sqlalchemy.engine import Connection

from data import storage
from data.db import Database, text

# The bucket of ``time`` per rollup. Both equal TimescaleDB's buckets whatever the session's time
# zone: date_bin with a midnight-UTC origin is time_bucket('1 hour', time), and date_trunc in
# Asia/Kolkata is time_bucket('1 day', time, 'Asia/Kolkata').
_HOUR_BUCKET = "date_bin(INTERVAL '1 hour', time, TIMESTAMPTZ '2000-01-03 00:00:00+00')"
_DAY_BUCKET = "date_trunc('day', time, 'Asia/Kolkata')"

# The buckets to recompute come from {touched}: a query yielding (device_id, bucket). LATERAL keeps
# each bucket an index range scan on (device_id, time): a join would let the planner hash the whole
# readings table per batch, which grows with the table.
_HOURLY_REFRESH = """
WITH t AS ({touched})
INSERT INTO telemetry.battery_hourly AS h
SELECT t.bucket, t.device_id, a.*
FROM t CROSS JOIN LATERAL (
  SELECT avg(r.soc), min(r.soc), max(r.soc),
         avg(r.voltage), min(r.voltage), max(r.voltage),
         avg(r.current), avg(r.temperature), max(r.temperature),
         max(r.charge_cycle), avg(r.soh), count(*) AS n
  FROM telemetry.battery_readings r
  WHERE r.device_id = t.device_id AND r.time >= t.bucket AND r.time < t.bucket + INTERVAL '1 hour') a
WHERE a.n > 0
ON CONFLICT (device_id, bucket) DO UPDATE SET
  avg_soc = EXCLUDED.avg_soc, min_soc = EXCLUDED.min_soc, max_soc = EXCLUDED.max_soc,
  avg_voltage = EXCLUDED.avg_voltage, min_voltage = EXCLUDED.min_voltage, max_voltage = EXCLUDED.max_voltage,
  avg_current = EXCLUDED.avg_current, avg_temp = EXCLUDED.avg_temp, max_temp = EXCLUDED.max_temp,
  charge_cycle = EXCLUDED.charge_cycle, avg_soh = EXCLUDED.avg_soh, reading_count = EXCLUDED.reading_count
"""

# An IST day is always 24 hours (India has kept no daylight saving since 1945); '1 day' would be
# added in the session's time zone and could be 23 or 25 hours there.
_DAILY_REFRESH = """
WITH t AS ({touched})
INSERT INTO telemetry.battery_daily AS d
SELECT t.bucket, t.device_id, a.*
FROM t CROSS JOIN LATERAL (
  SELECT avg(r.soc), min(r.soc), max(r.soc),
         avg(r.voltage), avg(r.current),
         avg(r.temperature), max(r.temperature),
         max(r.charge_cycle), min(r.soh), count(*) AS n
  FROM telemetry.battery_readings r
  WHERE r.device_id = t.device_id AND r.time >= t.bucket AND r.time < t.bucket + INTERVAL '24 hours') a
WHERE a.n > 0
ON CONFLICT (device_id, bucket) DO UPDATE SET
  avg_soc = EXCLUDED.avg_soc, min_soc = EXCLUDED.min_soc, max_soc = EXCLUDED.max_soc,
  avg_voltage = EXCLUDED.avg_voltage, avg_current = EXCLUDED.avg_current,
  avg_temp = EXCLUDED.avg_temp, max_temp = EXCLUDED.max_temp,
  charge_cycle = EXCLUDED.charge_cycle, min_soh = EXCLUDED.min_soh, reading_count = EXCLUDED.reading_count
"""

_REFRESHES = ((_HOUR_BUCKET, _HOURLY_REFRESH), (_DAY_BUCKET, _DAILY_REFRESH))


def _touched(source: str, bucket: str) -> str:
    return f"SELECT DISTINCT device_id, {bucket} AS bucket FROM {source}"


def refresh_touched(conn: Connection, readings: Iterable[tuple[str, datetime]]) -> None:
    """Recompute the hourly and daily buckets that the given (device_id, time) pairs fall in.

    Call it in the transaction that wrote the rows. A no-op in TimescaleDB mode, where the
    continuous aggregates are kept by TimescaleDB.
    """
    if storage.current(conn) == storage.TIMESCALEDB:
        return
    pairs = list(readings)
    if not pairs:
        return
    source = "unnest(CAST(:devices AS text[]), CAST(:times AS timestamptz[])) AS n(device_id, time)"
    params = {"devices": [d for d, _ in pairs], "times": [t for _, t in pairs]}
    for bucket, refresh in _REFRESHES:
        conn.execute(text(refresh.format(touched=_touched(source, bucket))), params)


def _timescaledb(cur) -> bool:
    """Whether TimescaleDB keeps the rollups (continuous aggregates), asked on a DB-API cursor."""
    cur.execute("SELECT value FROM app_meta WHERE key = 'storage_mode'")
    row = cur.fetchone()
    return bool(row and row[0] == storage.TIMESCALEDB)


def refresh_from_stage(cur, stage: str) -> None:
    """The same, for the rows of a staging table, on a DB-API cursor inside the writer's transaction."""
    if _timescaledb(cur):
        return
    for bucket, refresh in _REFRESHES:
        cur.execute(refresh.format(touched=_touched(stage, bucket)))


# Site power (seed 004): the same two bucket widths, per site. Energies are per reading interval, so
# sums; grid energy is signed (import positive), so import and export are summed apart.
_SITE_POWER_REFRESH = """
WITH t AS (SELECT DISTINCT site_id, {bucket} AS bucket FROM {source})
INSERT INTO telemetry.{table} AS h
SELECT t.bucket, t.site_id, a.*
FROM t CROSS JOIN LATERAL (
  SELECT avg(p.solar_kw), avg(p.grid_kw), avg(p.load_kw), avg(p.storage_kw), sum(p.solar_kwh),
         sum(greatest(p.grid_kwh, 0)), sum(greatest(-p.grid_kwh, 0)), sum(p.load_kwh), count(*) AS n
  FROM telemetry.site_power p
  WHERE p.site_id = t.site_id AND p.time >= t.bucket AND p.time < t.bucket + INTERVAL '{width}') a
WHERE a.n > 0
ON CONFLICT (site_id, bucket) DO UPDATE SET
  avg_solar_kw = EXCLUDED.avg_solar_kw, avg_grid_kw = EXCLUDED.avg_grid_kw, avg_load_kw = EXCLUDED.avg_load_kw,
  avg_storage_kw = EXCLUDED.avg_storage_kw, solar_kwh = EXCLUDED.solar_kwh,
  grid_import_kwh = EXCLUDED.grid_import_kwh, grid_export_kwh = EXCLUDED.grid_export_kwh,
  load_kwh = EXCLUDED.load_kwh, readings = EXCLUDED.readings
"""
_SITE_POWER_ROLLUPS = (("site_power_hourly", _HOUR_BUCKET, "1 hour"), ("site_power_daily", _DAY_BUCKET, "24 hours"))


def refresh_site_power_from_stage(cur, stage: str) -> None:
    """Site power's hourly and daily buckets that a staged batch touched (plain PostgreSQL only)."""
    if _timescaledb(cur):
        return
    for table, bucket, width in _SITE_POWER_ROLLUPS:
        cur.execute(_SITE_POWER_REFRESH.format(bucket=bucket, source=stage, table=table, width=width))


def refresh_range(db: Database, start: datetime, end: datetime) -> None:
    """Recompute every bucket with readings between ``start`` and ``end`` (seeding, repair)."""
    if db.storage_mode == storage.TIMESCALEDB:
        with db.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            for view in ("telemetry.battery_hourly", "telemetry.battery_daily"):
                conn.execute(text(f"CALL refresh_continuous_aggregate('{view}', CAST(:s AS timestamptz), "
                                  "CAST(:e AS timestamptz))"), {"s": start, "e": end})
        return
    source = "(SELECT device_id, time FROM telemetry.battery_readings WHERE time >= :s AND time < :e) AS w"
    with db.transaction() as conn:
        for bucket, refresh in _REFRESHES:
            conn.execute(text(refresh.format(touched=_touched(source, bucket))), {"s": start, "e": end})


# Which relation serves a range: raw readings for short ranges, rollups for long ones.
RESOLUTIONS = {"raw": "telemetry.battery_readings", "hour": "telemetry.battery_hourly",
               "day": "telemetry.battery_daily"}


def resolution_for(span_hours: float) -> str:
    if span_hours <= 24:
        return "raw"
    if span_hours <= 24 * 31:
        return "hour"
    return "day"


def read_series(db: Database, device_ids: list[str], start: datetime, end: datetime,
                resolution: str) -> pd.DataFrame:
    """SOC, voltage, current and temperature of ``device_ids`` between ``start`` and ``end``.

    Columns are the same at every resolution: time, device_id, soc, voltage, current, temperature,
    soh, charge_cycle (rollups give bucket averages). The caller has already scoped ``device_ids``.
    """
    if resolution == "raw":
        sql = """SELECT time, device_id, soc, voltage, current, temperature, soh, charge_cycle
                 FROM telemetry.battery_readings
                 WHERE device_id = ANY(:ids) AND time >= :start AND time < :end ORDER BY device_id, time"""
    else:
        relation = RESOLUTIONS[resolution]
        soh = "avg_soh" if resolution == "hour" else "min_soh"
        sql = f"""SELECT bucket AS time, device_id, avg_soc AS soc, avg_voltage AS voltage,
                         avg_current AS current, avg_temp AS temperature, {soh} AS soh, charge_cycle
                  FROM {relation}
                  WHERE device_id = ANY(:ids) AND bucket >= :start AND bucket < :end
                  ORDER BY device_id, bucket"""
    return db.frame(sql, ids=list(device_ids), start=start, end=end)
