"""What the daily health job reads and writes: the day's readings per device, the daily SOH ledger
(``battery_health_daily``), the current health row per device (``battery_health``), RUL model
versions, and the once-a-day claim on a job (``job_runs``).

The job itself (ingest/health.py) decides when it runs and hands analytics/ the frames read here;
this module stores what comes back.
"""
from __future__ import annotations

import json
import math
from datetime import date, datetime

import pandas as pd

from data.db import Database, text

DAILY_COLUMNS = (
    "device_id", "day", "battery_serial", "readings", "bms_soh", "bms_status", "est_soh", "est_low", "est_high",
    "est_sessions", "soh", "soh_source", "charge_cycles", "age_days", "temp_readings", "mean_temperature",
    "deep_discharge_min", "over_temp_min", "over_current_min", "hot_charge_min", "worst_temperature",
    "worst_current", "lowest_soc", "soc_check", "soc_diff", "unsigned_current")

CURRENT_COLUMNS = (
    "device_id", "battery_serial", "as_of", "soh", "soh_source", "soh_low", "soh_high", "bms_status",
    "est_sessions", "charge_cycles", "age_days", "fade_per_month", "fade_per_100_cycles", "rul_status",
    "rul_reason", "eol_p10", "eol_p50", "eol_p90", "forecast_curve", "model_version", "warranty_end",
    "warranty_floor", "warranty_status", "floor_p50", "soc_check", "soc_diff", "temp_share", "mean_temperature")


def batteries(db: Database, device_ids: list[str] | None = None) -> list[dict]:
    """Every active device with a battery: what the health job needs to know of its pack."""
    return db.query(
        """SELECT d.device_id, d.battery_serial, d.dealer_id, b.model, b.sold_at,
                  coalesce(m.rated_capacity_ah, b.capacity_ah) AS rated_ah,
                  coalesce(m.warranty_months, b.warranty_months) AS warranty_months,
                  coalesce(m.warranty_cycles, b.warranty_cycles) AS warranty_cycles,
                  m.warranty_soh_floor
           FROM devices d JOIN batteries b ON b.serial = d.battery_serial
           LEFT JOIN battery_models m ON m.model = b.model
           WHERE d.is_active AND (CAST(:ids AS text[]) IS NULL OR d.device_id = ANY(CAST(:ids AS text[])))
           ORDER BY d.device_id""", ids=device_ids)


def misuse_thresholds(db: Database) -> dict:
    """The operating window, from the alert rules an admin sets (one definition of "too hot")."""
    rules = {r["alert_type"]: r["threshold"] for r in db.query("SELECT alert_type, threshold FROM alert_rules")}
    return {"deep_soc": rules.get("low_soc") or 10.0, "hot": rules.get("high_temp") or 55.0,
            "current": rules.get("overcurrent") or 100.0}


def last_days(db: Database) -> dict[str, date]:
    """Per device, the newest day already in the ledger."""
    return {r["device_id"]: r["day"] for r in db.query(
        "SELECT device_id, max(day) AS day FROM battery_health_daily GROUP BY device_id")}


def first_readings(db: Database, device_ids: list[str]) -> dict[str, datetime]:
    """Per device, its oldest stored reading (where a ledger may start)."""
    return {r["device_id"]: r["first"] for r in db.query(
        """SELECT d AS device_id,
                  (SELECT min(time) FROM telemetry.battery_readings r WHERE r.device_id = d) AS first
           FROM unnest(CAST(:ids AS text[])) AS d""", ids=list(device_ids)) if r["first"] is not None}


def readings(db: Database, device_ids: list[str], start: datetime, end: datetime) -> pd.DataFrame:
    """Readings of ``device_ids`` in [start, end), ordered by device and time."""
    return db.frame(
        """SELECT device_id, time, soc, soh, voltage, current, temperature, charge_cycle
           FROM telemetry.battery_readings
           WHERE device_id = ANY(:ids) AND time >= :start AND time < :end
           ORDER BY device_id, time""", ids=list(device_ids), start=start, end=end)


def plain(value):
    """A value psycopg2 can bind: numpy scalars become Python numbers, NaN becomes NULL."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def save_daily(db: Database, rows: list[dict]) -> int:
    if not rows:
        return 0
    cols = ", ".join(DAILY_COLUMNS)
    values = ", ".join(f":{c}" for c in DAILY_COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in DAILY_COLUMNS if c not in ("device_id", "day"))
    with db.transaction() as conn:
        conn.execute(text(f"""INSERT INTO battery_health_daily ({cols}) VALUES ({values})
                              ON CONFLICT (device_id, day) DO UPDATE SET {updates}, computed_at = now()"""),
                     [{c: plain(r.get(c)) for c in DAILY_COLUMNS} for r in rows])
    return len(rows)


def ledger(db: Database, device_ids: list[str]) -> pd.DataFrame:
    """The daily ledger of ``device_ids``, oldest first: what the fade model is fitted on."""
    return db.frame(
        """SELECT device_id, day, soh, soh_source, bms_soh, bms_status, est_soh, est_low, est_high, est_sessions,
                  charge_cycles, age_days, readings, temp_readings, mean_temperature, soc_check, soc_diff
           FROM battery_health_daily WHERE device_id = ANY(:ids) ORDER BY device_id, day""",
        ids=list(device_ids))


def save_current(db: Database, rows: list[dict]) -> int:
    if not rows:
        return 0
    cols = ", ".join(CURRENT_COLUMNS)
    values = ", ".join(f"CAST(:{c} AS jsonb)" if c == "forecast_curve" else f":{c}" for c in CURRENT_COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in CURRENT_COLUMNS if c != "device_id")
    payload = [{c: (json.dumps(r.get(c)) if c == "forecast_curve" and r.get(c) is not None else plain(r.get(c)))
                for c in CURRENT_COLUMNS} for r in rows]
    with db.transaction() as conn:
        conn.execute(text(f"""INSERT INTO battery_health ({cols}) VALUES ({values})
                              ON CONFLICT (device_id) DO UPDATE SET {updates}, updated_at = now()"""), payload)
    return len(rows)


# -- RUL model versions ------------------------------------------------------------------------
def active_model(db: Database) -> dict | None:
    return db.one("SELECT version, kind, trained_at, trained_on, params, error FROM rul_models WHERE is_active")


def save_model(db: Database, version: str, kind: str, trained_on: str, params: dict, error: dict,
               activate: bool = True) -> None:
    """Record a model version (once per version) and make it the one forecasts use."""
    with db.transaction() as conn:
        if activate:
            conn.execute(text("UPDATE rul_models SET is_active = false WHERE is_active AND version <> :v"),
                         {"v": version})
        conn.execute(text(
            """INSERT INTO rul_models (version, kind, trained_on, params, error, is_active)
               VALUES (:version, :kind, :trained_on, CAST(:params AS jsonb), CAST(:error AS jsonb), :active)
               ON CONFLICT (version) DO UPDATE SET is_active = EXCLUDED.is_active OR rul_models.is_active"""),
            {"version": version, "kind": kind, "trained_on": trained_on, "params": json.dumps(params),
             "error": json.dumps(error), "active": activate})


def models(db: Database) -> list[dict]:
    return db.query("""SELECT version, kind, trained_at, trained_on, error, is_active FROM rul_models
                       ORDER BY trained_at DESC""")


# -- once-a-day jobs ---------------------------------------------------------------------------
def claim_job(db: Database, job: str, period: date) -> bool:
    """True for the one caller that gets to run ``job`` for ``period``. A claim left unfinished for
    two hours (its worker was killed) may be taken over."""
    with db.transaction() as conn:
        return conn.execute(text(
            """INSERT INTO job_runs AS j (job, period) VALUES (:job, :period)
               ON CONFLICT (job, period) DO UPDATE SET started_at = now()
                 WHERE j.finished_at IS NULL AND j.started_at < now() - INTERVAL '2 hours'
               RETURNING true"""), {"job": job, "period": period}).scalar() is True


def finish_job(db: Database, job: str, period: date, detail: str) -> None:
    db.execute("UPDATE job_runs SET finished_at = now(), detail = :detail WHERE job = :job AND period = :period",
               job=job, period=period, detail=detail)


def release_job(db: Database, job: str, period: date) -> None:
    """A run that failed gives its day back, so the next cycle tries again."""
    db.execute("DELETE FROM job_runs WHERE job = :job AND period = :period AND finished_at IS NULL",
               job=job, period=period)


def last_job(db: Database, job: str) -> dict | None:
    return db.one("""SELECT period, started_at, finished_at, detail FROM job_runs WHERE job = :job
                     ORDER BY period DESC LIMIT 1""", job=job)
