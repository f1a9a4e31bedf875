"""Data health: how trustworthy each device's readings are, worst first, within the user's scope.

Per device over the last ``days`` days: the share of readings without temperature, the days its BMS
reported SOH stuck at 100, the days its current looked unsigned (from ``battery_health_daily``, made
once a day, so the page never scans the readings), rejected readings by reason, how far ahead its
clock ran (readings stamped in the future, from the rejects) and how late its newest reading arrived.
"""
from __future__ import annotations

from dataclasses import dataclass

from data.db import Database
from data.scope import Scope

DAYS = 7
SHOWN = 200
SORTS = ("badness", "null_temp_share", "stuck_days", "unsigned_days", "rejected", "clock_ahead_s", "device_id")


@dataclass(frozen=True)
class DataHealthFilter:
    dealer_code: str | None = None
    problem: str | None = None   # null_temp, stuck_soh, unsigned, rejected, clock


_PROBLEMS = {
    "null_temp": "null_temp_share >= 0.5", "stuck_soh": "stuck_days > 0", "unsigned": "unsigned_days > 0",
    "rejected": "rejected > 0", "clock": "clock_ahead_s > 0",
}

_PER_DEVICE = """
WITH scoped AS (
    SELECT d.device_id, d.vehicle_number, dl.name AS dealer, d.city
    FROM devices d LEFT JOIN dealers dl ON dl.id = d.dealer_id
    WHERE d.is_active AND {scope} AND (CAST(:dealer AS text) IS NULL OR dl.code = :dealer)
), days AS (
    SELECT h.device_id, sum(h.readings) AS readings, sum(h.temp_readings) AS temp_readings,
           count(*) FILTER (WHERE h.bms_status = 'stuck') AS stuck_days,
           count(*) FILTER (WHERE h.bms_status = 'absent' AND h.readings > 0) AS soh_absent_days,
           count(*) FILTER (WHERE h.unsigned_current) AS unsigned_days, count(*) AS days
    FROM battery_health_daily h JOIN scoped USING (device_id)
    WHERE h.day > CAST(now() AT TIME ZONE 'Asia/Kolkata' AS date) - :days
    GROUP BY h.device_id
), rejects AS (
    SELECT x.device_id, count(*) AS rejected,
           max(extract(epoch FROM x.time - x.received_at)) FILTER (WHERE 'time_in_future' = ANY(x.reasons))
               AS clock_ahead_s
    FROM telemetry.rejected_readings x JOIN scoped USING (device_id)
    WHERE x.received_at > now() - make_interval(days => :days)
    GROUP BY x.device_id
), reasons AS (
    SELECT x.device_id, jsonb_object_agg(reason, n) AS by_reason FROM (
        SELECT x.device_id, unnest(x.reasons) AS reason, count(*) AS n
        FROM telemetry.rejected_readings x JOIN scoped USING (device_id)
        WHERE x.received_at > now() - make_interval(days => :days) GROUP BY 1, 2) x
    GROUP BY x.device_id
), rows AS (
    SELECT s.device_id, s.vehicle_number, s.dealer, s.city, coalesce(dy.readings, 0) AS readings,
           CASE WHEN dy.readings > 0 THEN 1 - dy.temp_readings::float / dy.readings END AS null_temp_share,
           coalesce(dy.stuck_days, 0) AS stuck_days, coalesce(dy.soh_absent_days, 0) AS soh_absent_days,
           coalesce(dy.unsigned_days, 0) AS unsigned_days, coalesce(dy.days, 0) AS days,
           coalesce(r.rejected, 0) AS rejected, CASE WHEN r.clock_ahead_s > 0 THEN r.clock_ahead_s END AS clock_ahead_s,
           coalesce(rs.by_reason, '{{}}'::jsonb) AS by_reason,
           extract(epoch FROM st.updated_at - st.reading_time) AS arrival_delay_s
    FROM scoped s LEFT JOIN days dy USING (device_id) LEFT JOIN rejects r USING (device_id)
    LEFT JOIN reasons rs USING (device_id) LEFT JOIN device_state st USING (device_id)
)
SELECT *, coalesce(null_temp_share, 1) + least(stuck_days, 1) + least(unsigned_days, 1)
          + least(rejected / 100.0, 1) + (CASE WHEN clock_ahead_s > 0 THEN 1 ELSE 0 END)
          + (CASE WHEN days = 0 THEN 1 ELSE 0 END) AS badness
FROM rows
"""


def devices(db: Database, scope: Scope, filt: DataHealthFilter = DataHealthFilter(), *, days: int = DAYS,
            limit: int = SHOWN, sort: str = "badness") -> list[dict]:
    """Devices worst first (or by ``sort``, largest first), at most ``limit``."""
    where = _PROBLEMS.get(filt.problem or "", "TRUE")
    order = sort if sort in SORTS else "badness"
    direction = "ASC" if order == "device_id" else "DESC NULLS LAST"
    return db.query(f"SELECT * FROM ({_PER_DEVICE.format(scope=scope.devices('d'))}) q WHERE {where} "
                    f"ORDER BY {order} {direction}, device_id LIMIT :limit",
                    dealer=filt.dealer_code, days=days, limit=limit, **scope.params())


def totals(db: Database, scope: Scope, filt: DataHealthFilter = DataHealthFilter(), *, days: int = DAYS) -> dict:
    """Fleet totals over the same rows."""
    row = db.one(
        f"""SELECT count(*) AS devices, coalesce(sum(readings), 0) AS readings,
                   sum(readings * coalesce(null_temp_share, 0)) / nullif(sum(readings), 0) AS null_temp_share,
                   count(*) FILTER (WHERE null_temp_share >= 0.5) AS null_temp_devices,
                   count(*) FILTER (WHERE stuck_days > 0) AS stuck_devices,
                   count(*) FILTER (WHERE soh_absent_days > 0) AS soh_absent_devices,
                   count(*) FILTER (WHERE unsigned_days > 0) AS unsigned_devices,
                   coalesce(sum(rejected), 0) AS rejected, count(*) FILTER (WHERE clock_ahead_s > 0) AS clock_devices,
                   count(*) FILTER (WHERE days = 0) AS silent_devices
            FROM ({_PER_DEVICE.format(scope=scope.devices('d'))}) q""",
        dealer=filt.dealer_code, days=days, **scope.params())
    row["by_reason"] = {r["reason"]: r["n"] for r in db.query(
        f"""SELECT unnest(x.reasons) AS reason, count(*) AS n FROM telemetry.rejected_readings x
            JOIN devices d ON d.device_id = x.device_id LEFT JOIN dealers dl ON dl.id = d.dealer_id
            WHERE x.received_at > now() - make_interval(days => :days) AND {scope.devices('d')}
              AND (CAST(:dealer AS text) IS NULL OR dl.code = :dealer)
            GROUP BY 1 ORDER BY 2 DESC""", dealer=filt.dealer_code, days=days, **scope.params())}
    return row


def rejected(db: Database, scope: Scope, device_id: str, limit: int = 50) -> list[dict]:
    """A device's newest rejected readings with their reasons and the payload as received; nothing
    for a device outside the scope."""
    return db.query(
        f"""SELECT x.received_at, x.stream, x.time, x.reasons, x.payload FROM telemetry.rejected_readings x
            JOIN devices d ON d.device_id = x.device_id
            WHERE x.device_id = :device AND {scope.devices('d')}
            ORDER BY x.received_at DESC, x.id DESC LIMIT :limit""",
        device=device_id, limit=limit, **scope.params())
