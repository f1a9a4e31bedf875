"""Charge sessions found in the readings as they arrive (``telemetry.charge_sessions``).

The worker feeds each device's new readings to ``analytics.charging.advance`` and stores what it
returns here: closed sessions, the one still open (at most one per device, updated in place while
the charge goes on), and the ``sessions`` cursor (the newest reading judged) in one transaction,
so a crash repeats nothing and skips nothing. Sessions arrive as dicts with the fields of
``analytics.charging.Session``; this module does not import analytics.
"""
from __future__ import annotations

from datetime import datetime

import pandas as pd

from data import health_store
from data.db import Database, text

CURSOR = "sessions"
FIELDS = ("start_time", "end_time", "soc_start", "soc_end", "ah_in", "energy_kwh", "peak_current",
          "peak_temperature", "mean_temperature", "readings", "max_gap_s", "last_current", "last_voltage",
          "temperature_readings")

_UPSERT = """
INSERT INTO telemetry.charge_sessions AS s
    (device_id, battery_serial, start_time, end_time, is_open, soc_start, soc_end, ah_in, energy_kwh,
     peak_current, peak_temperature, mean_temperature, readings, max_gap_s, soh_estimate, last_current,
     last_voltage, temperature_readings, latitude, longitude)
SELECT :device_id, :battery_serial, :start_time, :end_time, :is_open, :soc_start, :soc_end, :ah_in, :energy_kwh,
       :peak_current, :peak_temperature, :mean_temperature, :readings, :max_gap_s, :soh_estimate, :last_current,
       :last_voltage, :temperature_readings, g.latitude, g.longitude
FROM (SELECT 1) one
LEFT JOIN LATERAL (SELECT latitude, longitude FROM telemetry.gps_readings
                   WHERE device_id = :device_id AND time <= :start_time + INTERVAL '5 minutes'
                     AND time > :start_time - INTERVAL '1 day'
                   ORDER BY time DESC LIMIT 1) g ON true
ON CONFLICT (device_id, start_time) DO UPDATE SET
    end_time = EXCLUDED.end_time, is_open = EXCLUDED.is_open, soc_end = EXCLUDED.soc_end,
    ah_in = EXCLUDED.ah_in, energy_kwh = EXCLUDED.energy_kwh, peak_current = EXCLUDED.peak_current,
    peak_temperature = EXCLUDED.peak_temperature, mean_temperature = EXCLUDED.mean_temperature,
    readings = EXCLUDED.readings, max_gap_s = EXCLUDED.max_gap_s, soh_estimate = EXCLUDED.soh_estimate,
    last_current = EXCLUDED.last_current, last_voltage = EXCLUDED.last_voltage,
    temperature_readings = EXCLUDED.temperature_readings,
    latitude = coalesce(s.latitude, EXCLUDED.latitude), longitude = coalesce(s.longitude, EXCLUDED.longitude),
    updated_at = now()
"""


def pending(db: Database, device_ids: list[str]) -> dict[str, dict]:
    """Per device: its open session (or None) and the newest reading already judged (or None)."""
    rows = db.query(
        """SELECT d.device_id, c.high_water AS judged_until, to_jsonb(s) AS open_session
           FROM unnest(CAST(:ids AS text[])) AS d(device_id)
           LEFT JOIN ingest_cursors c ON c.device_id = d.device_id AND c.stream = :stream
           LEFT JOIN telemetry.charge_sessions s ON s.device_id = d.device_id AND s.is_open""",
        ids=list(device_ids), stream=CURSOR)
    out = {}
    for r in rows:
        session = r["open_session"]
        if session:
            session = {k: session.get(k) for k in FIELDS}
            for k in ("start_time", "end_time"):
                session[k] = pd.Timestamp(session[k]).to_pydatetime()
        out[r["device_id"]] = {"judged_until": r["judged_until"], "open": session}
    return out


def readings_after(db: Database, device_id: str, after: datetime | None, until: datetime) -> pd.DataFrame:
    """The readings a session detector has not judged yet, oldest first, led by the last one it
    judged (at ``after``), which the detector needs to judge the first new step."""
    return db.frame(
        """SELECT time, soc, current, voltage, temperature FROM telemetry.battery_readings
           WHERE device_id = :device_id AND time >= coalesce(CAST(:after AS timestamptz), '-infinity')
             AND time <= :until
           ORDER BY time""",
        device_id=device_id, after=after, until=until)


def save(db: Database, device_id: str, battery_serial: str | None, closed: list[dict], still_open: dict | None,
         judged_until: datetime) -> int:
    """Store a device's sessions and move its cursor to ``judged_until``, all or nothing. A closed
    session may carry ``soh_estimate``, its own capacity estimate (SOH %)."""
    rows = [dict({k: s.get(k) for k in FIELDS}, device_id=device_id, battery_serial=battery_serial,
                 is_open=False, soh_estimate=s.get("soh_estimate")) for s in closed]
    if still_open:
        rows.append(dict({k: still_open.get(k) for k in FIELDS}, device_id=device_id,
                         battery_serial=battery_serial, is_open=True, soh_estimate=None))
    with db.transaction() as conn:
        # The open session of the last call either closed and was kept (it is in ``closed``), goes
        # on (it is ``still_open``), or closed as noise (too short to keep): its row goes in every
        # case and the first two write it again, so noise never lingers as a closed session.
        conn.execute(text("""DELETE FROM telemetry.charge_sessions
                             WHERE device_id = :device_id AND is_open"""), {"device_id": device_id})
        for row in rows:
            conn.execute(text(_UPSERT), {k: health_store.plain(v) for k, v in row.items()})
        conn.execute(text(
            """INSERT INTO ingest_cursors (device_id, stream, high_water) VALUES (:device_id, :stream, :t)
               ON CONFLICT (device_id, stream) DO UPDATE SET high_water = greatest(ingest_cursors.high_water,
                                                                                   EXCLUDED.high_water),
                                                             updated_at = now()"""),
            {"device_id": device_id, "stream": CURSOR, "t": judged_until})
    return len(closed)


def qualifying(db: Database, device_ids: list[str], since: datetime, until: datetime) -> pd.DataFrame:
    """Closed sessions with a capacity estimate that ended in [since, until), per device."""
    return db.frame(
        """SELECT device_id, end_time, soh_estimate FROM telemetry.charge_sessions
           WHERE device_id = ANY(:ids) AND NOT is_open AND soh_estimate IS NOT NULL
             AND end_time >= :since AND end_time < :until
           ORDER BY device_id, end_time""",
        ids=list(device_ids), since=since, until=until)


def hot_charging(db: Database, device_ids: list[str], since: datetime, until: datetime, hot: float) -> pd.DataFrame:
    """Sessions charged above ``hot`` degC, per device and start time."""
    return db.frame(
        """SELECT device_id, start_time, end_time, peak_temperature FROM telemetry.charge_sessions
           WHERE device_id = ANY(:ids) AND start_time >= :since AND start_time < :until
             AND peak_temperature > :hot
           ORDER BY device_id, start_time""",
        ids=list(device_ids), since=since, until=until, hot=hot)
