"""Health read back: the battery page's SOH panel (always within the user's scope) and the
dealer league table's inputs and store.

Every figure comes from ``battery_health`` (one current row per battery) or the daily ledger
``battery_health_daily``; a battery whose SOH is not measured is shown apart, never as healthy.
"""
from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd

from data.db import Database, text
from data.scope import Scope

MISUSE = (("deep_discharge_min", "Deep discharge"), ("over_temp_min", "Over-temperature"),
          ("over_current_min", "Over-current"), ("hot_charge_min", "Charging when hot"))
MISUSE_DAYS = 90


def league_inputs(db: Database, day: date, days: int = MISUSE_DAYS) -> pd.DataFrame:
    """Per dealer, the figures the dealer score is made of (the daily job scores and stores them)."""
    since = day - timedelta(days=days)
    misuse_any = " OR ".join(f"l.{col} > 0" for col, _ in MISUSE)
    return db.frame(f"""
        WITH fleet AS (
            SELECT d.dealer_id, count(*) AS batteries, avg(h.soh) AS avg_soh,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY h.fade_per_month) AS fade_per_month
            FROM battery_health h JOIN devices d ON d.device_id = h.device_id
            WHERE d.dealer_id IS NOT NULL GROUP BY d.dealer_id),
        days AS (
            SELECT d.dealer_id, count(*) FILTER (WHERE l.readings > 0) AS days_with_data,
                   count(*) FILTER (WHERE l.readings > 0 AND ({misuse_any})) AS misuse_days
            FROM battery_health_daily l JOIN devices d ON d.device_id = l.device_id
            WHERE l.day > :since AND l.day <= :day AND d.dealer_id IS NOT NULL GROUP BY d.dealer_id),
        alerts AS (
            SELECT d.dealer_id, count(*) AS alerts FROM alerts a JOIN devices d ON d.device_id = a.device_id
            WHERE a.first_seen_at >= CAST(:since AS date) AND d.dealer_id IS NOT NULL GROUP BY d.dealer_id)
        SELECT f.dealer_id, dl.name AS dealer, f.batteries, f.avg_soh, f.fade_per_month,
               1000.0 * coalesce(x.misuse_days, 0) / nullif(x.days_with_data, 0) AS misuse_per_1000,
               1000.0 * coalesce(a.alerts, 0) / nullif(x.days_with_data, 0) AS alerts_per_1000,
               100.0 * x.days_with_data / nullif(f.batteries * least(:days,
                   greatest((:day - (SELECT min(day) FROM battery_health_daily)) + 1, 1)), 0) AS uptime_pct
        FROM fleet f JOIN dealers dl ON dl.id = f.dealer_id
        LEFT JOIN days x ON x.dealer_id = f.dealer_id
        LEFT JOIN alerts a ON a.dealer_id = f.dealer_id
        ORDER BY dl.name""", day=day, since=since, days=days)


def save_league(db: Database, day: date, frame: pd.DataFrame) -> int:
    if frame.empty:
        return 0
    rows = []
    for r in frame.to_dict("records"):
        comps = {k: (None if pd.isna(v) else float(v)) for k, v in r.items() if k.startswith("points_")}
        rows.append({k: (None if isinstance(r.get(k), float) and pd.isna(r.get(k)) else r.get(k)) for k in
                     ("dealer_id", "batteries", "avg_soh", "fade_per_month", "misuse_per_1000", "alerts_per_1000",
                      "uptime_pct", "score")} | {"day": day, "components": json.dumps(comps)})
    with db.transaction() as conn:
        conn.execute(text("DELETE FROM dealer_scores WHERE day = :day"), {"day": day})
        conn.execute(text(
            """INSERT INTO dealer_scores (day, dealer_id, batteries, avg_soh, fade_per_month, misuse_per_1000,
                                          alerts_per_1000, uptime_pct, score, components)
               VALUES (:day, :dealer_id, :batteries, :avg_soh, :fade_per_month, :misuse_per_1000,
                       :alerts_per_1000, :uptime_pct, :score, CAST(:components AS jsonb))"""), rows)
    return len(rows)


# -- one battery ---------------------------------------------------------------------------------
def battery(db: Database, scope: Scope, device_id: str) -> dict | None:
    """The battery's current health row, or None when unknown or outside scope."""
    return db.one(f"""
        SELECT h.*, b.model, b.sold_at, d.vehicle_number
        FROM battery_health h JOIN devices d ON d.device_id = h.device_id
        LEFT JOIN batteries b ON b.serial = d.battery_serial
        WHERE h.device_id = :device_id AND {scope.devices("d")}""", device_id=device_id, **scope.params())


def history(db: Database, scope: Scope, device_id: str) -> pd.DataFrame:
    """The battery's daily ledger, oldest first."""
    return db.frame(f"""
        SELECT l.day, l.soh, l.soh_source, l.bms_soh, l.bms_status, l.est_soh, l.est_low, l.est_high,
               l.est_sessions, l.charge_cycles, l.age_days, l.readings, l.soc_check, l.soc_diff,
               l.deep_discharge_min, l.over_temp_min, l.over_current_min, l.hot_charge_min,
               l.worst_temperature, l.worst_current, l.lowest_soc
        FROM battery_health_daily l JOIN devices d ON d.device_id = l.device_id
        WHERE l.device_id = :device_id AND {scope.devices("d")} ORDER BY l.day""",
        device_id=device_id, **scope.params())


def sessions(db: Database, scope: Scope, device_id: str, limit: int = 200) -> pd.DataFrame:
    """The battery's charge sessions, newest first, with where they happened (site, charger) and
    what they drew at the meter (data/energy.py reconciles them)."""
    return db.frame(f"""
        SELECT s.start_time, s.end_time, s.is_open, round(s.soc_start::numeric, 1) AS soc_start,
               round(s.soc_end::numeric, 1) AS soc_end, round(s.ah_in::numeric, 1) AS ah_in,
               round(s.energy_kwh::numeric, 2) AS energy_kwh, round(s.peak_current::numeric, 1) AS peak_current,
               s.peak_temperature, round(s.soh_estimate::numeric, 1) AS soh_estimate, s.latitude, s.longitude,
               st.name AS site, ch.serial AS charger, round(s.ac_kwh::numeric, 2) AS ac_kwh,
               round(s.efficiency::numeric, 3) AS efficiency, s.efficiency_flag
        FROM telemetry.charge_sessions s JOIN devices d ON d.device_id = s.device_id
        LEFT JOIN sites st ON st.id = s.site_id LEFT JOIN equipment ch ON ch.id = s.charger_id
        WHERE s.device_id = :device_id AND {scope.devices("d")}
        ORDER BY s.start_time DESC LIMIT :limit""", device_id=device_id, limit=limit, **scope.params())


def warranty_terms(db: Database, device_id: str) -> dict | None:
    """The warranty terms that apply to a device's battery (the caller has checked the scope)."""
    return db.one("""SELECT coalesce(m.warranty_months, b.warranty_months) AS warranty_months,
                            coalesce(m.warranty_cycles, b.warranty_cycles) AS warranty_cycles,
                            m.warranty_soh_floor
                     FROM devices d JOIN batteries b ON b.serial = d.battery_serial
                     LEFT JOIN battery_models m ON m.model = b.model WHERE d.device_id = :id""", id=device_id)

