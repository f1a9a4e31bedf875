"""AC against DC: what each charge session drew at the meter, what reached the pack, and the gap.

Operators pay for AC energy at the meter; the pack receives DC. The gap is charger loss, leakage or
theft. Each closed session of the charge-session detector (``telemetry.charge_sessions``, one
detector) is reconciled here against the meter readings of the meters its vehicle was assigned to
at the time (``meter_assignments``):

- A meter reading covers the interval since the meter's previous reading. The sessions charging on
  the meter in that interval share it by the DC power each drew there (from its own battery
  readings), so a charger bank serving several vehicles at once is split fairly.
- efficiency = DC into the pack / AC at the meter, over the intervals wholly inside the session
  (the meter and the pack then cover the same stretch of time; the detector sees a charge begin and
  end only at a reading). Below the ``charging_loss`` rule's threshold (0.85) is a charger fault or
  leakage, above ``meter_mismatch``'s (1.0) a meter or mapping error.
- Site and charger: the meter's (the one that gave the session most energy); with no meter, the
  site whose position is within ``SITE_RADIUS_KM`` of where the session started.

Readers are scoped like every other query: a dealer sees its own vehicles' sessions and its own
sites' meters.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from data import audit
from data.db import Database, text
from data.scope import Scope

SITE_RADIUS_KM = 0.3
SETTLE = timedelta(minutes=30)  # meter readings arrive late: a session is judged this long after it ended
MIN_JUDGED_KWH = 0.5  # a top-up this small is all boundary error

_RECONCILE = """
WITH s AS (
    SELECT cs.id, cs.device_id, cs.start_time, cs.end_time, cs.energy_kwh, cs.latitude, cs.longitude
    FROM telemetry.charge_sessions cs
    WHERE NOT cs.is_open AND NOT cs.judged AND cs.end_time >= :since
),
assigned AS (
    SELECT DISTINCT ma.meter_id FROM s
    JOIN meter_assignments ma ON ma.device_id = s.device_id AND ma.valid_from < s.end_time
                             AND (ma.valid_to IS NULL OR ma.valid_to > s.start_time)
),
mr AS (
    SELECT m.meter_id, m.time, m.kwh_ac,
           least(coalesce(m.time - lag(m.time) OVER (PARTITION BY m.meter_id ORDER BY m.time),
                          INTERVAL '15 minutes'), INTERVAL '1 hour') AS span
    FROM telemetry.meter_readings m
    WHERE m.meter_id IN (SELECT meter_id FROM assigned)
      AND m.time > (SELECT min(start_time) FROM s) - INTERVAL '1 hour'
      AND m.time < (SELECT max(end_time) FROM s) + INTERVAL '2 hours'
),
claims AS (
    -- every session (of any vehicle assigned to the meter) in each reading's interval, with the
    -- part of the interval it covers and its DC power there, from its own battery readings
    SELECT mr.meter_id, mr.time, mr.kwh_ac, mr.span, cs.id AS session_id,
           greatest(0, extract(epoch FROM least(mr.time, cs.end_time) - greatest(mr.time - mr.span, cs.start_time)))
             / extract(epoch FROM mr.span) AS overlap,
           coalesce(p.kw, cs.energy_kwh / greatest(extract(epoch FROM cs.end_time - cs.start_time) / 3600.0, 0.05))
             AS power_kw
    FROM mr
    JOIN meter_assignments ma ON ma.meter_id = mr.meter_id AND ma.valid_from < mr.time
                             AND (ma.valid_to IS NULL OR ma.valid_to >= mr.time)
    JOIN telemetry.charge_sessions cs ON cs.device_id = ma.device_id AND cs.start_time < mr.time
                                     AND cs.end_time > mr.time - mr.span AND cs.energy_kwh > 0
    LEFT JOIN LATERAL (
        SELECT avg(abs(r.current) * r.voltage) / 1000.0 AS kw FROM telemetry.battery_readings r
        WHERE r.device_id = cs.device_id AND r.time >= greatest(mr.time - mr.span, cs.start_time)
          AND r.time <= least(mr.time, cs.end_time)) p ON true
),
blind AS (
    -- Intervals in which a vehicle assigned to the meter may have charged unseen: it sent no
    -- reading, or its SOC rose with no session of its own there (a communication gap hid the
    -- start). The meter's count there explains nothing about anyone's efficiency.
    SELECT DISTINCT c.meter_id, c.time
    FROM (SELECT DISTINCT meter_id, time, span FROM claims WHERE overlap >= 0.999) c
    JOIN meter_assignments ma ON ma.meter_id = c.meter_id AND ma.valid_from < c.time
                             AND (ma.valid_to IS NULL OR ma.valid_to >= c.time)
    LEFT JOIN LATERAL (SELECT r.time, r.soc FROM telemetry.battery_readings r
                       WHERE r.device_id = ma.device_id AND r.time <= c.time
                       ORDER BY r.time DESC LIMIT 1) now_ ON true
    LEFT JOIN LATERAL (SELECT r.soc FROM telemetry.battery_readings r
                       WHERE r.device_id = ma.device_id AND r.time <= c.time - c.span
                       ORDER BY r.time DESC LIMIT 1) before_ ON true
    WHERE now_.time IS NULL OR now_.time < c.time - c.span
       OR (now_.soc > before_.soc + 0.1 AND NOT EXISTS (
            SELECT 1 FROM telemetry.charge_sessions o WHERE o.device_id = ma.device_id
              AND o.start_time < c.time AND o.end_time > c.time - c.span))
),
shares AS (
    SELECT session_id, claims.meter_id, overlap,
           overlap >= 0.999 AND NOT EXISTS (SELECT 1 FROM blind b WHERE b.meter_id = claims.meter_id
                                                                   AND b.time = claims.time) AS inside,
           power_kw * overlap * extract(epoch FROM span) / 3600.0 AS dc,
           kwh_ac * power_kw * overlap / nullif(sum(power_kw * overlap) OVER (PARTITION BY meter_id, time), 0) AS ac
    FROM claims WHERE overlap > 0
),
per_session AS (
    -- Efficiency from the intervals wholly inside the session, and seen by every vehicle on the
    -- meter, only: there the meter and the packs saw the same stretch of time. An edge interval
    -- holds charging the detector places a reading later or earlier than it began or ended; its
    -- share still counts toward the session's AC.
    SELECT session_id, sum(ac) AS ac_all,
           sum(ac) FILTER (WHERE inside) AS ac_inside, sum(dc) FILTER (WHERE inside) AS dc_inside,
           (array_agg(meter_id ORDER BY ac DESC NULLS LAST))[1] AS meter_id
    FROM shares WHERE session_id IN (SELECT id FROM s) GROUP BY session_id
),
placed AS (
    SELECT s.id, p.meter_id, e.measures_id AS charger_id, coalesce(e.site_id, near.id) AS site_id,
           CASE WHEN p.ac_inside > 0 THEN p.dc_inside / p.ac_inside END AS efficiency,
           -- the session's AC: its DC at the efficiency measured inside it (the meter's share when too short)
           CASE WHEN p.ac_inside > 0 AND p.dc_inside > 0 THEN s.energy_kwh * p.ac_inside / p.dc_inside
                ELSE p.ac_all END AS ac_kwh
    FROM s
    LEFT JOIN per_session p ON p.session_id = s.id
    LEFT JOIN equipment e ON e.id = p.meter_id
    LEFT JOIN LATERAL (
        SELECT st.id FROM sites st
        WHERE s.latitude IS NOT NULL AND st.latitude IS NOT NULL
          AND ((st.latitude - s.latitude) * 111.0) ^ 2
              + ((st.longitude - s.longitude) * 111.0 * cos(radians(s.latitude))) ^ 2 <= :radius ^ 2
        ORDER BY ((st.latitude - s.latitude) ^ 2 + (st.longitude - s.longitude) ^ 2) LIMIT 1) near ON true
)
UPDATE telemetry.charge_sessions cs SET
    ac_kwh = placed.ac_kwh, meter_id = placed.meter_id, charger_id = placed.charger_id, site_id = placed.site_id,
    efficiency = placed.efficiency,
    efficiency_flag = CASE WHEN cs.energy_kwh < :min_kwh OR placed.efficiency IS NULL THEN NULL
                           WHEN placed.efficiency < :low THEN 'low' WHEN placed.efficiency > :high THEN 'high' END,
    reconciled_at = now()
FROM placed WHERE cs.id = placed.id
"""


def thresholds(db: Database) -> dict:
    """The efficiency rules as an admin set them: {'low': 0.85, 'high': 1.0, ...enabled, severity, notify}."""
    rows = {r["alert_type"]: r for r in db.query(
        """SELECT alert_type, threshold, severity, enabled, notify, description FROM alert_rules
           WHERE alert_type IN ('charging_loss', 'meter_mismatch')""")}
    low, high = rows.get("charging_loss") or {}, rows.get("meter_mismatch") or {}
    return {"low": low.get("threshold") or 0.85, "high": high.get("threshold") or 1.0,
            "rules": {"low": low or None, "high": high or None}}


def reconcile(db: Database, since: datetime, limits: dict | None = None) -> int:
    """Compute AC, efficiency, site, meter and charger of every closed session not yet judged that
    ended after ``since``. Safe to repeat: late meter readings simply change the figures."""
    limits = limits or thresholds(db)
    return db.execute(_RECONCILE, since=since, radius=SITE_RADIUS_KM, min_kwh=MIN_JUDGED_KWH,
                      low=limits["low"], high=limits["high"])


def to_judge(db: Database, settled_before: datetime, limit: int = 5000) -> list[dict]:
    """Reconciled sessions old enough to judge, oldest first, with what an alert message names."""
    return db.query(
        """SELECT cs.id, cs.device_id, cs.start_time, cs.end_time, cs.energy_kwh, cs.ac_kwh, cs.efficiency,
                  cs.efficiency_flag, ch.serial AS charger, m.serial AS meter, st.name AS site
           FROM telemetry.charge_sessions cs
           LEFT JOIN equipment ch ON ch.id = cs.charger_id
           LEFT JOIN equipment m ON m.id = cs.meter_id
           LEFT JOIN sites st ON st.id = cs.site_id
           WHERE NOT cs.is_open AND NOT cs.judged AND cs.reconciled_at IS NOT NULL AND cs.end_time < :before
           ORDER BY cs.end_time LIMIT :limit""", before=settled_before, limit=limit)


def mark_judged(conn, session_id: int) -> None:
    conn.execute(text("UPDATE telemetry.charge_sessions SET judged = true WHERE id = :id"), {"id": session_id})


def let_go(db: Database, before: datetime) -> int:
    """Sessions that ended before ``before`` and were never judged (the worker was down for days):
    their meter readings are as complete as they will get, but an alert now would be old news."""
    return db.execute("""UPDATE telemetry.charge_sessions SET judged = true
                         WHERE NOT judged AND NOT is_open AND end_time < :before""", before=before)


# -- meters and their vehicles --------------------------------------------------------------------
class AssignmentError(ValueError):
    """A meter assignment that cannot be made; the message says why in one sentence."""


def assign(db: Database, scope: Scope, meter_serial: str, vehicle: str, valid_from: datetime,
           valid_to: datetime | None = None) -> int:
    """Record that ``vehicle`` (device id or vehicle number) charges on the meter from ``valid_from``
    (to ``valid_to``, open-ended if None); refused when it overlaps the same pair's existing span."""
    meter = db.one("SELECT id, serial FROM equipment WHERE serial = :s AND kind = 'energy_meter'", s=meter_serial)
    if meter is None:
        raise AssignmentError(f"no energy meter with serial {meter_serial!r}")
    device = db.one("""SELECT device_id FROM devices WHERE device_id = :v OR vehicle_number = :v
                       ORDER BY (device_id = :v) DESC LIMIT 1""", v=vehicle)
    if device is None:
        raise AssignmentError(f"no battery with device id or vehicle number {vehicle!r}")
    if valid_to is not None and valid_to <= valid_from:
        raise AssignmentError("the end must be after the start")
    clash = db.one("""SELECT id, valid_from, valid_to FROM meter_assignments
                      WHERE meter_id = :m AND device_id = :d AND valid_from < coalesce(CAST(:t AS timestamptz), 'infinity')
                        AND coalesce(valid_to, 'infinity') > :f LIMIT 1""",
                   m=meter["id"], d=device["device_id"], f=valid_from, t=valid_to)
    if clash is not None:
        raise AssignmentError(f"{device['device_id']} is already assigned to {meter_serial} from "
                              f"{clash['valid_from']:%Y-%m-%d %H:%M} (assignment {clash['id']})")
    with db.transaction() as conn:
        new_id = conn.execute(text(
            """INSERT INTO meter_assignments (meter_id, device_id, valid_from, valid_to, created_by)
               VALUES (:m, :d, :f, :t, :by) RETURNING id"""),
            {"m": meter["id"], "d": device["device_id"], "f": valid_from, "t": valid_to,
             "by": scope.actor or scope.role}).scalar()
        audit.record(conn, scope, "meter.assign", "equipment", meter_serial, None,
                     {"assignment": new_id, "device_id": device["device_id"], "from": valid_from, "to": valid_to})
    return new_id


def end_assignment(db: Database, scope: Scope, assignment_id: int, at: datetime) -> None:
    row = db.one("""SELECT a.id, a.valid_from, a.valid_to, a.device_id, m.serial FROM meter_assignments a
                    JOIN equipment m ON m.id = a.meter_id WHERE a.id = :id""", id=assignment_id)
    if row is None:
        raise AssignmentError(f"no meter assignment {assignment_id}")
    if at <= row["valid_from"]:
        raise AssignmentError(f"assignment {assignment_id} starts {row['valid_from']:%Y-%m-%d %H:%M}: end it after that")
    with db.transaction() as conn:
        conn.execute(text("UPDATE meter_assignments SET valid_to = :t WHERE id = :id"), {"t": at, "id": assignment_id})
        audit.record(conn, scope, "meter.unassign", "equipment", row["serial"], {"valid_to": row["valid_to"]},
                     {"assignment": assignment_id, "device_id": row["device_id"], "valid_to": at})


def assignments(db: Database, meter_serial: str | None = None, vehicle: str | None = None) -> list[dict]:
    return db.query(
        """SELECT a.id, m.serial AS meter, ch.serial AS charger, st.code AS site, a.device_id, d.vehicle_number,
                  a.valid_from, a.valid_to
           FROM meter_assignments a JOIN equipment m ON m.id = a.meter_id
           LEFT JOIN equipment ch ON ch.id = m.measures_id JOIN sites st ON st.id = m.site_id
           JOIN devices d ON d.device_id = a.device_id
           WHERE (CAST(:meter AS text) IS NULL OR m.serial = :meter)
             AND (CAST(:vehicle AS text) IS NULL OR a.device_id = :vehicle OR d.vehicle_number = :vehicle)
           ORDER BY m.serial, a.valid_from, a.id""", meter=meter_serial, vehicle=vehicle)


# -- what the pages and the API read --------------------------------------------------------------
_SCOPED_SESSIONS = """
    FROM telemetry.charge_sessions cs
    JOIN devices d ON d.device_id = cs.device_id
    LEFT JOIN dealers dl ON dl.id = d.dealer_id
    LEFT JOIN sites st ON st.id = cs.site_id
    LEFT JOIN equipment ch ON ch.id = cs.charger_id
    LEFT JOIN equipment m ON m.id = cs.meter_id
    WHERE {scope} AND NOT cs.is_open AND cs.start_time >= :start AND cs.start_time < :end
"""
GROUPS = {"site": ("st.id", "coalesce(st.name, 'No site')"),
          "charger": ("cs.charger_id", "coalesce(ch.serial, m.serial, 'No meter')"),
          "vehicle": ("d.device_id", "coalesce(d.vehicle_number, d.device_id)"),
          "dealer": ("dl.id", "coalesce(dl.name, 'Unassigned')")}


def _where(scope: Scope, site_id: int | None, flag: str | None, device: str | None) -> tuple[str, dict]:
    sql, params = scope.devices("d"), dict(scope.params())
    if site_id is not None:
        sql += " AND cs.site_id = :site_id"
        params["site_id"] = site_id
    if flag in ("low", "high"):
        sql += " AND cs.efficiency_flag = :flag"
        params["flag"] = flag
    elif flag == "flagged":
        sql += " AND cs.efficiency_flag IS NOT NULL"
    elif flag == "unmetered":
        sql += " AND cs.ac_kwh IS NULL"
    if device:
        sql += " AND (d.device_id ILIKE :device OR d.vehicle_number ILIKE :device OR d.battery_serial ILIKE :device)"
        params["device"] = f"%{device}%"
    return sql, params


def efficiency_by(db: Database, scope: Scope, group: str, start: datetime, end: datetime,
                  tariff: float) -> pd.DataFrame:
    """Per site, charger, vehicle or dealer: sessions, AC and DC kWh, efficiency, flagged sessions and
    the loss in kWh and money. Only metered sessions count toward efficiency."""
    key, name = GROUPS[group]
    where, params = _where(scope, None, None, None)
    return db.frame(
        f"""SELECT {key} AS key, {name} AS name, count(*) AS sessions,
                   count(cs.ac_kwh) AS metered, sum(cs.ac_kwh) AS ac_kwh,
                   sum(cs.energy_kwh) FILTER (WHERE cs.ac_kwh IS NOT NULL) AS dc_kwh,
                   sum(cs.energy_kwh) FILTER (WHERE cs.ac_kwh IS NOT NULL) / nullif(sum(cs.ac_kwh), 0) AS efficiency,
                   count(*) FILTER (WHERE cs.efficiency_flag = 'low') AS low,
                   count(*) FILTER (WHERE cs.efficiency_flag = 'high') AS high,
                   greatest(sum(cs.ac_kwh) - sum(cs.energy_kwh) FILTER (WHERE cs.ac_kwh IS NOT NULL), 0) AS loss_kwh,
                   greatest(sum(cs.ac_kwh) - sum(cs.energy_kwh) FILTER (WHERE cs.ac_kwh IS NOT NULL), 0) * :tariff
                     AS loss_inr
            {_SCOPED_SESSIONS.format(scope=where)}
            GROUP BY 1, 2 ORDER BY efficiency NULLS LAST, sessions DESC""",
        start=start, end=end, tariff=tariff, **params)


def daily_efficiency(db: Database, scope: Scope, group: str, start: datetime, end: datetime,
                     keys: list | None = None) -> pd.DataFrame:
    """Efficiency per IST day and group (site, charger or vehicle): the page's chart over time."""
    key, name = GROUPS[group]
    where, params = _where(scope, None, None, None)
    extra = f" AND {key} = ANY(:keys)" if keys else ""
    return db.frame(
        f"""SELECT (cs.start_time AT TIME ZONE 'Asia/Kolkata')::date AS day, {key} AS key, {name} AS name,
                   sum(cs.energy_kwh) / nullif(sum(cs.ac_kwh), 0) AS efficiency, sum(cs.ac_kwh) AS ac_kwh
            {_SCOPED_SESSIONS.format(scope=where)} AND cs.ac_kwh IS NOT NULL{extra}
            GROUP BY 1, 2, 3 ORDER BY 1, 3""",
        start=start, end=end, keys=list(keys or []), **params)


def totals(db: Database, scope: Scope, start: datetime, end: datetime, tariff: float) -> dict:
    where, params = _where(scope, None, None, None)
    row = db.one(
        f"""SELECT count(*) AS sessions, count(cs.ac_kwh) AS metered, sum(cs.ac_kwh) AS ac_kwh,
                   sum(cs.energy_kwh) FILTER (WHERE cs.ac_kwh IS NOT NULL) AS dc_kwh,
                   count(*) FILTER (WHERE cs.efficiency_flag = 'low') AS low,
                   count(*) FILTER (WHERE cs.efficiency_flag = 'high') AS high
            {_SCOPED_SESSIONS.format(scope=where)}""", start=start, end=end, **params)
    ac, dc = row["ac_kwh"] or 0.0, row["dc_kwh"] or 0.0
    return dict(row, efficiency=dc / ac if ac else None, loss_kwh=max(ac - dc, 0.0),
                loss_inr=max(ac - dc, 0.0) * tariff)


def sessions(db: Database, scope: Scope, start: datetime, end: datetime, *, site_id: int | None = None,
             flag: str | None = None, device: str | None = None, limit: int = 500) -> pd.DataFrame:
    """Charge sessions with where they happened and their efficiency: the charging view and its file."""
    where, params = _where(scope, site_id, flag, device)
    return db.frame(
        f"""SELECT cs.start_time, cs.end_time, d.device_id, d.vehicle_number, dl.name AS dealer,
                   st.code AS site_code, st.name AS site, ch.serial AS charger, m.serial AS meter,
                   cs.soc_start, cs.soc_end, cs.energy_kwh AS dc_kwh, cs.ac_kwh, cs.efficiency,
                   cs.efficiency_flag, cs.mean_temperature, cs.peak_temperature
            {_SCOPED_SESSIONS.format(scope=where)}
            ORDER BY cs.start_time DESC LIMIT :limit""", start=start, end=end, limit=limit, **params)


def unattributed(db: Database, scope: Scope, start: datetime, end: datetime) -> pd.DataFrame:
    """Meters that counted energy with no assigned vehicle charging: a vehicle missing from the
    mapping, or a load on the charger circuit that should not be there."""
    return db.frame(
        f"""SELECT m.serial AS meter, st.name AS site, sum(r.kwh_ac) AS kwh_ac, count(*) AS readings
            FROM telemetry.meter_readings r JOIN equipment m ON m.id = r.meter_id
            JOIN sites st ON st.id = m.site_id
            WHERE {scope.sites('st')} AND r.time >= :start AND r.time < :end AND r.kwh_ac > 0.05
              AND NOT EXISTS (
                SELECT 1 FROM meter_assignments ma JOIN telemetry.charge_sessions cs ON cs.device_id = ma.device_id
                WHERE ma.meter_id = r.meter_id AND ma.valid_from < r.time AND (ma.valid_to IS NULL OR ma.valid_to >= r.time)
                  AND cs.start_time < r.time AND cs.end_time > r.time - INTERVAL '1 hour')
            GROUP BY 1, 2 HAVING sum(r.kwh_ac) > 1 ORDER BY 3 DESC""",
        start=start, end=end, **scope.params())


def performance(db: Database, scope: Scope, vehicle: str, now: datetime) -> dict | None:
    """Seed 001's 24-hour figures for one vehicle (vehicle number or device id), in scope; None if
    the vehicle is unknown or outside the scope.

    DC: what the vehicle pushed (``kwhDeliveredDc``) if it pushes, else what its charge sessions put
    into the pack. AC: its sessions' share of their meters, or (a vehicle that only pushes) the
    readings of the meters assigned to it. Temperature: pushed, else its battery readings."""
    device = db.one(
        f"""SELECT d.device_id, d.vehicle_number FROM devices d
            WHERE {scope.devices('d')} AND (d.device_id = :v OR d.vehicle_number = :v)
            ORDER BY (d.device_id = :v) DESC LIMIT 1""", v=vehicle, **scope.params())
    if device is None:
        return None
    start = now - timedelta(hours=24)
    args = {"d": device["device_id"], "start": start, "now": now}
    pushed = db.one("""SELECT sum(kwh_dc) AS dc, avg(battery_temp) AS temp, count(*) AS n
                       FROM telemetry.vehicle_energy WHERE device_id = :d AND time > :start AND time <= :now""",
                    **args)
    sessions_row = db.one("""SELECT sum(energy_kwh) AS dc, sum(ac_kwh) AS ac, count(*) AS n
                             FROM telemetry.charge_sessions WHERE device_id = :d AND end_time > :start
                               AND start_time <= :now""", **args)
    if pushed["n"]:
        dc, source = pushed["dc"], "pushed"
    else:
        dc, source = sessions_row["dc"], "sessions"
    ac = sessions_row["ac"]
    if ac is None or source == "pushed":
        ac = db.scalar("""SELECT sum(r.kwh_ac) FROM telemetry.meter_readings r
                          JOIN meter_assignments ma ON ma.meter_id = r.meter_id AND ma.device_id = :d
                           AND ma.valid_from < r.time AND (ma.valid_to IS NULL OR ma.valid_to >= r.time)
                          WHERE r.time > :start AND r.time <= :now""", **args)
    temp = pushed["temp"] if pushed["n"] else db.scalar(
        """SELECT avg(temperature) FROM telemetry.battery_readings WHERE device_id = :d AND time > :start
           AND time <= :now""", **args)

    def r(x, digits):
        return round(float(x), digits) if x is not None else None

    return {"vehicle_id": device["vehicle_number"] or device["device_id"], "device_id": device["device_id"],
            "window_start": start, "window_end": now, "total_dc": r(dc, 3), "total_ac": r(ac, 3),
            "efficiency": r(dc / ac, 4) if dc is not None and ac else None,
            "avg_battery_temp": r(temp, 2), "dc_source": source}


# -- site power (seed 004) -----------------------------------------------------------------------
def site_power(db: Database, scope: Scope, site_id: int, start: datetime, end: datetime) -> pd.DataFrame:
    """Solar, grid, load and storage power over time: raw readings up to two days, hourly beyond."""
    span = end - start
    if span <= timedelta(days=2):
        sql = """SELECT p.time, p.solar_kw, p.grid_kw, p.load_kw, p.storage_kw, p.storage_soc
                 FROM telemetry.site_power p"""
        when = "p.time"
    else:
        sql = """SELECT p.bucket AS time, p.avg_solar_kw AS solar_kw, p.avg_grid_kw AS grid_kw,
                        p.avg_load_kw AS load_kw, p.avg_storage_kw AS storage_kw, NULL::real AS storage_soc
                 FROM telemetry.site_power_hourly p"""
        when = "p.bucket"
    return db.frame(
        f"""{sql} JOIN sites st ON st.id = p.site_id
            WHERE {scope.sites('st')} AND p.site_id = :site_id AND {when} >= :start AND {when} < :end
            ORDER BY 1""", site_id=site_id, start=start, end=end, **scope.params())


def site_power_days(db: Database, scope: Scope, site_id: int, start: datetime, end: datetime) -> pd.DataFrame:
    return db.frame(
        f"""SELECT p.bucket AS day, p.solar_kwh, p.grid_import_kwh, p.grid_export_kwh, p.load_kwh
            FROM telemetry.site_power_daily p JOIN sites st ON st.id = p.site_id
            WHERE {scope.sites('st')} AND p.site_id = :site_id AND p.bucket >= :start AND p.bucket < :end
            ORDER BY 1""", site_id=site_id, start=start, end=end, **scope.params())
