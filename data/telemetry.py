"""Storing telemetry: one transaction per batch, idempotent, cursors moving with their rows.

Rows go through COPY into a temporary staging table and then ``INSERT ... ON CONFLICT DO
NOTHING`` into the readings tables, so polling twice, a retry or a replay stores nothing twice.
In the same transaction: rejected readings, the latest state per device, the ingest cursors, and
(in plain PostgreSQL) the rollup buckets the batch touched. A crash anywhere leaves all or none.
"""
from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from datetime import datetime

from psycopg2.extras import execute_values

from data import rollups
from data.db import Database

BATTERY_COLUMNS = ("time", "device_id", "battery_id", "soc", "soh", "voltage", "current", "charge_cycle",
                   "temperature", "power_watts")
GPS_COLUMNS = ("time", "device_id", "latitude", "longitude", "altitude", "speed", "heading", "device_battery",
               "vehicle_battery", "ignition_on", "is_moving", "immobilized")
METER_COLUMNS = ("time", "meter_id", "kwh_ac", "voltage")
VEHICLE_ENERGY_COLUMNS = ("time", "device_id", "soc", "kwh_dc", "battery_temp")
SITE_POWER_COLUMNS = ("time", "site_id", "solar_kw", "solar_kwh", "inverter_kw", "inverter_efficiency",
                      "inverter_temp", "grid_kw", "grid_kwh", "grid_voltage", "grid_frequency", "load_kw", "load_kwh",
                      "storage_kw", "storage_soc")


@dataclass
class StoreResult:
    battery_stored: int = 0
    gps_stored: int = 0
    rejected_stored: int = 0
    trips_stored: int = 0
    energy_stored: int = 0
    meter_stored: int = 0
    vehicle_energy_stored: int = 0
    site_power_stored: int = 0

    @property
    def rows(self) -> int:
        return self.battery_stored + self.gps_stored


def copy_text(rows: list[dict], columns: tuple[str, ...]) -> io.StringIO:
    """COPY's text format: tab-separated, \\N for null."""
    buf = io.StringIO()
    write = buf.write
    for r in rows:
        fields = []
        for c in columns:
            v = r.get(c)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                fields.append("\\N")
            elif isinstance(v, datetime):
                fields.append(v.isoformat())
            elif isinstance(v, bool):
                fields.append("t" if v else "f")
            else:
                fields.append(str(v))
        write("\t".join(fields))
        write("\n")
    buf.seek(0)
    return buf


# Readings newly stored lower their device's evaluation mark in the same statement, so the alert
# engine sees every stored reading once (duplicates, which store nothing, move nothing).
_MARK_PENDING = """
, marked AS (
  INSERT INTO alert_marks AS m (device_id, pending_from, version)
  SELECT i.device_id, min(i.time), 1 FROM inserted i JOIN devices d ON d.device_id = i.device_id GROUP BY i.device_id
  ON CONFLICT (device_id) DO UPDATE SET pending_from = least(m.pending_from, EXCLUDED.pending_from),
                                        version = m.version + 1
)
"""


def _stage_and_insert(cur, table: str, columns: tuple[str, ...], rows: list[dict], mark_pending: bool = False,
                      key: str = "device_id, time") -> int:
    stage = f"stage_{table.split('.')[-1]}"
    cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
    cols = ", ".join(columns)
    cur.copy_expert(f"COPY {stage} ({cols}) FROM STDIN", copy_text(rows, columns))
    insert = f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} ON CONFLICT ({key}) DO NOTHING"
    if not mark_pending:
        cur.execute(insert)
        return cur.rowcount
    cur.execute(f"WITH inserted AS ({insert} RETURNING device_id, time) {_MARK_PENDING} SELECT count(*) FROM inserted")
    return cur.fetchone()[0]


_BATTERY_STATE = """
INSERT INTO device_state AS s (device_id, reading_time, soc, soh, voltage, current, temperature, charge_cycle,
                               power_watts, is_charging, updated_at)
SELECT DISTINCT ON (device_id) device_id, time, soc, soh, voltage, current, temperature, charge_cycle,
       power_watts, current > 0.5, now()
FROM stage_battery_readings ORDER BY device_id, time DESC
ON CONFLICT (device_id) DO UPDATE SET
  reading_time = EXCLUDED.reading_time, soc = EXCLUDED.soc, soh = EXCLUDED.soh, voltage = EXCLUDED.voltage,
  current = EXCLUDED.current, temperature = EXCLUDED.temperature, charge_cycle = EXCLUDED.charge_cycle,
  power_watts = EXCLUDED.power_watts, is_charging = EXCLUDED.is_charging, updated_at = now()
WHERE s.reading_time IS NULL OR EXCLUDED.reading_time > s.reading_time
"""

_GPS_STATE = """
INSERT INTO device_state AS s (device_id, gps_time, latitude, longitude, speed, ignition_on, updated_at)
SELECT DISTINCT ON (device_id) device_id, time, latitude, longitude, speed, ignition_on, now()
FROM stage_gps_readings ORDER BY device_id, time DESC
ON CONFLICT (device_id) DO UPDATE SET
  gps_time = EXCLUDED.gps_time, latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude,
  speed = EXCLUDED.speed, ignition_on = EXCLUDED.ignition_on, updated_at = now()
WHERE s.gps_time IS NULL OR EXCLUDED.gps_time > s.gps_time
"""

# A reject without a time cannot hit the unique index: the same payload seen before is the same
# reject (a replayed push, a window polled twice), so it is not stored again.
_REJECTED = """
INSERT INTO telemetry.rejected_readings (device_id, stream, time, reasons, payload)
SELECT v.device_id, v.stream, v.time, v.reasons, v.payload
FROM (VALUES %s) AS v(device_id, stream, time, reasons, payload)
WHERE v.time IS NOT NULL OR NOT EXISTS (
    SELECT 1 FROM telemetry.rejected_readings x
    WHERE x.time IS NULL AND x.device_id IS NOT DISTINCT FROM v.device_id AND x.stream = v.stream
      AND x.payload = v.payload)
ON CONFLICT (device_id, stream, time) WHERE time IS NOT NULL DO NOTHING
"""
_REJECTED_ROW = "(%s, %s, CAST(%s AS timestamptz), CAST(%s AS text[]), CAST(%s AS jsonb))"

# A new trip adds its km to the fleet's day (dealer, city): the overview's calendar reads this.
_DISTANCE_DAILY = """
INSERT INTO telemetry.fleet_distance_daily AS f (day, dealer_id, city, km, trips)
SELECT (CAST(%(start_time)s AS timestamptz) AT TIME ZONE 'Asia/Kolkata')::date, coalesce(d.dealer_id, 0),
       coalesce(d.city, ''), coalesce(%(distance_km)s, 0), 1
FROM devices d WHERE d.device_id = %(device_id)s
ON CONFLICT (day, dealer_id, city) DO UPDATE SET km = f.km + EXCLUDED.km, trips = f.trips + 1
"""

_CURSOR = """
INSERT INTO ingest_cursors AS c (device_id, stream, high_water) VALUES %s
ON CONFLICT (device_id, stream) DO UPDATE SET high_water = greatest(c.high_water, EXCLUDED.high_water),
                                              updated_at = now()
"""


def store(db: Database, *, battery: list[dict] = (), gps: list[dict] = (), rejected: list[dict] = (),
          cursors: dict[tuple[str, str], datetime] | None = None, trips: list[dict] = (),
          energy: list[dict] = (), meter: list[dict] = (), vehicle_energy: list[dict] = (),
          site_power: list[dict] = ()) -> StoreResult:
    """Store one batch (any devices, any streams) in one transaction and move its cursors."""
    result = StoreResult()
    with db.raw() as conn:
        with conn.cursor() as cur:
            # Only devices we know: a reading for an unregistered device would break device_state's key.
            if battery:
                result.battery_stored = _stage_and_insert(cur, "telemetry.battery_readings", BATTERY_COLUMNS, battery,
                                                         mark_pending=True)
                cur.execute(_BATTERY_STATE)
                rollups.refresh_from_stage(cur, "stage_battery_readings")
            if gps:
                result.gps_stored = _stage_and_insert(cur, "telemetry.gps_readings", GPS_COLUMNS, gps)
                cur.execute(_GPS_STATE)
            if meter:
                result.meter_stored = _stage_and_insert(cur, "telemetry.meter_readings", METER_COLUMNS, meter,
                                                        key="meter_id, time")
            if vehicle_energy:
                result.vehicle_energy_stored = _stage_and_insert(cur, "telemetry.vehicle_energy",
                                                                 VEHICLE_ENERGY_COLUMNS, vehicle_energy)
            if site_power:
                result.site_power_stored = _stage_and_insert(cur, "telemetry.site_power", SITE_POWER_COLUMNS,
                                                             site_power, key="site_id, time")
                rollups.refresh_site_power_from_stage(cur, "stage_site_power")
            if rejected:
                # One statement (page_size above the row count), so rowcount is the whole batch's.
                execute_values(cur, _REJECTED, [
                    (r["device_id"], r["stream"], r["time"], list(r["reasons"]), json.dumps(r["payload"], default=str))
                    for r in rejected], template=_REJECTED_ROW, page_size=len(rejected) + 1)
                result.rejected_stored = cur.rowcount
            for row in trips:
                cur.execute(
                    """INSERT INTO telemetry.trips (device_id, start_time, end_time, start_odometer, end_odometer,
                           distance_km, start_latitude, start_longitude, end_latitude, end_longitude, last_ign_on,
                           last_ign_off)
                       VALUES (%(device_id)s, %(start_time)s, %(end_time)s, %(start_odometer)s, %(end_odometer)s,
                           %(distance_km)s, %(start_latitude)s, %(start_longitude)s, %(end_latitude)s,
                           %(end_longitude)s, %(last_ign_on)s, %(last_ign_off)s)
                       ON CONFLICT (device_id, start_time, end_time) DO NOTHING""", row)
                if cur.rowcount:
                    cur.execute(_DISTANCE_DAILY, row)
                result.trips_stored += cur.rowcount
            for row in energy:
                cur.execute(
                    """INSERT INTO telemetry.energy_consumption (device_id, start_time, end_time, energy_used_kwh,
                           start_soc, end_soc, last_ign_on, last_ign_off, charging_events)
                       VALUES (%(device_id)s, %(start_time)s, %(end_time)s, %(energy_used_kwh)s, %(start_soc)s,
                           %(end_soc)s, %(last_ign_on)s, %(last_ign_off)s, %(events)s)
                       ON CONFLICT (device_id, start_time, end_time) DO NOTHING""",
                    dict(row, events=json.dumps(row["charging_events"], default=str)))
                result.energy_stored += cur.rowcount
            if cursors:
                execute_values(cur, _CURSOR, [(d, s, t) for (d, s), t in cursors.items() if t is not None])
    return result


def cursors(db: Database, stream: str) -> dict[str, datetime]:
    return {r["device_id"]: r["high_water"] for r in db.query(
        "SELECT device_id, high_water FROM ingest_cursors WHERE stream = :s", s=stream)}


def sessions_behind(db: Database) -> list[str]:
    """Devices with readings newer than the charge-session detector has judged (pushed readings:
    the poller judges its own as it stores them)."""
    return [r["device_id"] for r in db.query(
        """SELECT s.device_id FROM device_state s
           LEFT JOIN ingest_cursors c ON c.device_id = s.device_id AND c.stream = 'sessions'
           WHERE s.reading_time IS NOT NULL AND (c.high_water IS NULL OR s.reading_time > c.high_water)""")]


def register_devices(db: Database, vehicle_numbers: list[str]) -> int:
    """Vehicles the vendor lists that we do not know yet become devices (unassigned to a dealer).

    The demo and most fleets use the vehicle number as the device id; a mapping imported later
    (device management) can attach battery, dealer and customer.
    """
    if not vehicle_numbers:
        return 0
    return db.execute(
        """INSERT INTO devices (device_id, vehicle_number)
           SELECT v, v FROM unnest(CAST(:v AS text[])) AS v
           WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE d.vehicle_number = v OR d.device_id = v)""",
        v=list(vehicle_numbers))


def active_devices(db: Database) -> list[dict]:
    """Devices to poll, with what validation needs to know of their pack."""
    return db.query(
        """SELECT d.device_id, d.vehicle_number, d.battery_serial, coalesce(b.nominal_voltage, 51.2) AS nominal_voltage,
                  coalesce(m.rated_capacity_ah, b.capacity_ah) AS capacity_ah
           FROM devices d LEFT JOIN batteries b ON b.serial = d.battery_serial
           LEFT JOIN battery_models m ON m.model = b.model
           WHERE d.is_active AND d.vehicle_number IS NOT NULL ORDER BY d.device_id""")


def record_run(db: Database, figures: dict) -> None:
    """One ingest cycle's figures; the vendor call counts are optional (a client that keeps none)."""
    vendor = {k: figures.get(k) for k in ("vendor_calls", "vendor_retries", "vendor_throttled", "vendor_reauths")}
    db.execute(
        """INSERT INTO ingest_runs (started_at, finished_at, devices_polled, rows_stored, rows_rejected,
                                    alerts_opened, alerts_resolved, max_lag_seconds, errors, note, vendor_calls,
                                    vendor_retries, vendor_throttled, vendor_reauths)
           VALUES (:started_at, now(), :devices_polled, :rows_stored, :rows_rejected, :alerts_opened,
                   :alerts_resolved, :max_lag_seconds, :errors, :note, :vendor_calls, :vendor_retries,
                   :vendor_throttled, :vendor_reauths)""", **{**figures, **vendor})


def sensor_health(db: Database, device_ids: list[str] | None = None, days: int = 7) -> list[dict]:
    """Per device: share of readings with no temperature, whether SOH is stuck, rejects in ``days``."""
    return db.query(
        """SELECT d.device_id,
                  avg((r.temperature IS NULL)::int) AS null_temperature_share,
                  (count(r.soh) > 0 AND min(r.soh) = max(r.soh)) AS soh_stuck,
                  (SELECT count(*) FROM telemetry.rejected_readings x
                    WHERE x.device_id = d.device_id AND x.received_at > now() - make_interval(days => :days))
                    AS rejected
           FROM devices d LEFT JOIN telemetry.battery_readings r
             ON r.device_id = d.device_id AND r.time > now() - make_interval(days => :days)
           WHERE CAST(:ids AS text[]) IS NULL OR d.device_id = ANY(CAST(:ids AS text[]))
           GROUP BY d.device_id ORDER BY d.device_id""", ids=device_ids, days=days)
