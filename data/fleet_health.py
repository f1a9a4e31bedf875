"""Queries behind the fleet health page (/health) and the fleet health report, always within the
user's scope and the page's filters.

Every figure comes from ``battery_health`` (one current row per battery) or the daily ledger
``battery_health_daily``; a battery whose SOH is not measured is shown apart, never as healthy.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from data.db import Database
from data.health_views import MISUSE, MISUSE_DAYS
from data.scope import Scope

SOURCES = ("measured", "estimated", "not_measured")
SOURCE_LABELS = {"measured": "Measured (BMS)", "estimated": "Estimated from charging", "not_measured": "Not measured"}
AXES = {"cycles": ("charge_cycles", 100), "age": ("age_days", 60)}   # bucket widths: 100 cycles, 60 days
MIN_BUCKET = 3   # batteries a percentile band needs in a bucket before it is drawn


@dataclass(frozen=True)
class HealthFilter:
    dealer: str | None = None     # dealer code; ignored for dealer users (their scope decides)
    model: str | None = None

    def sql(self, alias_d: str = "d", alias_b: str = "b") -> str:
        parts = []
        if self.dealer:
            parts.append(f"{alias_d}.dealer_id = (SELECT id FROM dealers WHERE code = :f_dealer)")
        if self.model:
            parts.append(f"{alias_b}.model = :f_model")
        return " AND ".join(parts) or "TRUE"

    def params(self) -> dict:
        return {"f_dealer": self.dealer, "f_model": self.model}


EVERYTHING = HealthFilter()

_BASE = """
FROM battery_health h
JOIN devices d ON d.device_id = h.device_id
LEFT JOIN batteries b ON b.serial = d.battery_serial
LEFT JOIN dealers dl ON dl.id = d.dealer_id
WHERE {scope} AND {filt}
"""


def _base(scope: Scope, filt: HealthFilter) -> str:
    return _BASE.format(scope=scope.devices("d"), filt=filt.sql())


def _params(scope: Scope, filt: HealthFilter, **extra) -> dict:
    return {**scope.params(), **filt.params(), **extra}


def summary(db: Database, scope: Scope, filt: HealthFilter = EVERYTHING) -> dict:
    row = db.one(f"""
        SELECT count(*) AS batteries,
               count(*) FILTER (WHERE h.soh_source = 'measured') AS measured,
               count(*) FILTER (WHERE h.soh_source = 'estimated') AS estimated,
               count(*) FILTER (WHERE h.soh_source = 'not_measured') AS not_measured,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY h.soh) AS median_soh,
               count(*) FILTER (WHERE h.warranty_status = 'below_floor') AS below_floor,
               count(*) FILTER (WHERE h.warranty_status = 'at_risk') AS at_risk,
               count(*) FILTER (WHERE h.soc_check = 'calibration') AS soc_calibration,
               count(*) FILTER (WHERE h.rul_status = 'forecast') AS forecasts,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY h.fade_per_month) AS median_fade,
               avg((h.temp_share > 0)::int) AS temp_reporting_share,
               max(h.as_of) AS as_of
        {_base(scope, filt)}""", **_params(scope, filt))
    return row or {}


def distribution(db: Database, scope: Scope, filt: HealthFilter = EVERYTHING, width: int = 2) -> list[dict]:
    """Batteries per SOH bucket and source; not-measured batteries are one bucket of their own."""
    return db.query(f"""
        SELECT h.soh_source AS source,
               CASE WHEN h.soh IS NULL THEN NULL ELSE floor(h.soh / :width) * :width END AS bucket,
               count(*) AS batteries
        {_base(scope, filt)}
        GROUP BY 1, 2 ORDER BY 2 NULLS LAST, 1""", **_params(scope, filt, width=width))


def bands(db: Database, scope: Scope, axis: str, filt: HealthFilter = EVERYTHING) -> list[dict]:
    """SOH percentiles (10th, 50th, 90th) per cycle or age bucket over the ledger of the scope,
    each battery's latest SOH in a bucket counted once."""
    column, width = AXES[axis]
    return db.query(f"""
        WITH latest AS (
            SELECT DISTINCT ON (l.device_id, floor(l.{column} / :width))
                   floor(l.{column} / :width) * :width AS bucket, l.soh
            FROM battery_health_daily l
            JOIN devices d ON d.device_id = l.device_id
            LEFT JOIN batteries b ON b.serial = d.battery_serial
            WHERE {scope.devices("d")} AND {filt.sql()} AND l.soh IS NOT NULL AND l.{column} IS NOT NULL
            ORDER BY l.device_id, floor(l.{column} / :width), l.day DESC)
        SELECT bucket, count(*) AS batteries,
               percentile_cont(0.1) WITHIN GROUP (ORDER BY soh) AS p10,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY soh) AS p50,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY soh) AS p90
        FROM latest GROUP BY bucket HAVING count(*) >= :min_bucket ORDER BY bucket""",
        **_params(scope, filt, width=width, min_bucket=MIN_BUCKET))


def highlight(db: Database, scope: Scope, axis: str, kind: str, key: str) -> list[dict]:
    """The highlighted group's median SOH per bucket (dealer or model), or one battery's own points."""
    column, width = AXES[axis]
    if kind == "battery":
        return db.query(f"""
            SELECT l.{column} AS bucket, l.soh AS p50, 1 AS batteries FROM battery_health_daily l
            JOIN devices d ON d.device_id = l.device_id
            WHERE {scope.devices("d")} AND l.device_id = :key AND l.soh IS NOT NULL AND l.{column} IS NOT NULL
            ORDER BY l.day""", **scope.params(), key=key)
    filt = HealthFilter(dealer=key) if kind == "dealer" else HealthFilter(model=key)
    rows = bands(db, scope, axis, filt) if (kind != "dealer" or scope.whole_fleet) else bands(db, scope, axis)
    return [{"bucket": r["bucket"], "p50": r["p50"], "batteries": r["batteries"]} for r in rows]


def highlight_options(db: Database, scope: Scope) -> dict:
    """Dealers (whole-fleet roles only), models and batteries the user may highlight."""
    dealers = db.query(f"""SELECT DISTINCT dl.code AS value, dl.name AS label FROM devices d
                           JOIN dealers dl ON dl.id = d.dealer_id WHERE {scope.devices("d")}
                           ORDER BY dl.name""", **scope.params()) if scope.whole_fleet else []
    models = db.query(f"""SELECT DISTINCT b.model AS value, b.model AS label FROM devices d
                          JOIN batteries b ON b.serial = d.battery_serial WHERE {scope.devices("d")}
                          ORDER BY b.model""", **scope.params())
    return {"dealers": dealers, "models": models}


def warranty_risk(db: Database, scope: Scope, filt: HealthFilter = EVERYTHING, limit: int = 5000) -> pd.DataFrame:
    """Batteries under their warranty floor, or expected to cross it before their warranty ends."""
    return db.frame(f"""
        SELECT h.device_id, d.battery_serial, d.vehicle_number, dl.name AS dealer, b.model,
               h.warranty_status, round(h.soh::numeric, 1) AS soh, h.soh_source,
               round(h.soh_low::numeric, 1) AS soh_low, round(h.soh_high::numeric, 1) AS soh_high,
               h.warranty_floor, h.charge_cycles, h.age_days, h.warranty_end, h.floor_p50, h.eol_p50,
               h.est_sessions, round(h.fade_per_month::numeric, 2) AS fade_per_month,
               CASE h.warranty_status
                 WHEN 'below_floor' THEN format('SOH %s %% (%s) under the %s %% floor, warranty to %s',
                                                round(h.soh::numeric, 1), h.soh_source, h.warranty_floor, h.warranty_end)
                 ELSE format('Expected to reach the %s %% floor on %s, before the warranty ends on %s',
                             h.warranty_floor, h.floor_p50, h.warranty_end) END AS evidence
        {_base(scope, filt)} AND h.warranty_status IN ('below_floor', 'at_risk')
        ORDER BY (h.warranty_status = 'below_floor') DESC, h.soh, h.device_id
        LIMIT :limit""", **_params(scope, filt, limit=limit))


def batteries(db: Database, scope: Scope, filt: HealthFilter = EVERYTHING, limit: int = 50000) -> pd.DataFrame:
    """Every battery in scope with its health: the health table and the report's battery list."""
    return db.frame(f"""
        SELECT h.device_id, d.battery_serial, d.vehicle_number, dl.name AS dealer, b.model,
               round(h.soh::numeric, 1) AS soh, h.soh_source, round(h.soh_low::numeric, 1) AS soh_low,
               round(h.soh_high::numeric, 1) AS soh_high, h.bms_status, h.est_sessions, h.charge_cycles, h.age_days,
               round(h.fade_per_month::numeric, 2) AS fade_per_month,
               round(h.fade_per_100_cycles::numeric, 2) AS fade_per_100_cycles,
               h.rul_status, h.eol_p10, h.eol_p50, h.eol_p90, h.rul_reason, h.warranty_status, h.warranty_end,
               h.warranty_floor, h.soc_check, round(h.soc_diff::numeric, 1) AS soc_diff, h.as_of,
               count(*) OVER () AS total_rows
        {_base(scope, filt)}
        ORDER BY h.soh NULLS FIRST, h.device_id LIMIT :limit""", **_params(scope, filt, limit=limit))


def per_battery(db: Database, scope: Scope, filt: HealthFilter = EVERYTHING) -> pd.DataFrame:
    """Dealer, SOH, fade and temperature per battery: the box plots and the temperature chart."""
    return db.frame(f"""
        SELECT h.device_id, dl.name AS dealer, b.model, h.soh, h.soh_source, h.fade_per_month,
               h.mean_temperature, h.temp_share
        {_base(scope, filt)}""", **_params(scope, filt))


def misuse(db: Database, scope: Scope, filt: HealthFilter = EVERYTHING, days: int = MISUSE_DAYS,
           today: date | None = None) -> list[dict]:
    """Per dealer: battery-days with each misuse pattern, per 1,000 battery-days of data."""
    since = (today or date.today()) - timedelta(days=days)
    counts = ", ".join(f"count(*) FILTER (WHERE l.{col} > 0) AS {col.removesuffix('_min')}" for col, _ in MISUSE)
    return db.query(f"""
        SELECT dl.name AS dealer, count(*) AS battery_days, {counts}
        FROM battery_health_daily l
        JOIN devices d ON d.device_id = l.device_id
        LEFT JOIN batteries b ON b.serial = d.battery_serial
        LEFT JOIN dealers dl ON dl.id = d.dealer_id
        WHERE {scope.devices("d")} AND {filt.sql()} AND l.day >= :since AND l.readings > 0
        GROUP BY dl.name ORDER BY dl.name NULLS LAST""", **_params(scope, filt, since=since))


def league(db: Database, scope: Scope) -> dict:
    """The latest dealer league table: every row for whole-fleet roles; a dealer gets its own row
    (with its rank among all dealers) and the fleet median of each column, never another dealer's row."""
    day = db.scalar("SELECT max(day) FROM dealer_scores")
    if day is None:
        return {"day": None, "rows": [], "median": None}
    cols = ("batteries", "avg_soh", "fade_per_month", "misuse_per_1000", "alerts_per_1000", "uptime_pct", "score")
    median = db.one(f"""SELECT {", ".join(f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {c}) AS {c}" for c in cols)}
                        FROM dealer_scores WHERE day = :day""", day=day)
    rows = db.query(f"""
        WITH ranked AS (
            SELECT s.*, rank() OVER (ORDER BY s.score DESC NULLS LAST) AS rank, count(*) OVER () AS dealers
            FROM dealer_scores s WHERE s.day = :day)
        SELECT dl.code, dl.name AS dealer, {", ".join(f"r.{c}" for c in cols)}, r.components, r.rank, r.dealers
        FROM ranked r JOIN dealers dl ON dl.id = r.dealer_id
        WHERE {"TRUE" if scope.whole_fleet else "r.dealer_id = :scope_dealer_id"}
        ORDER BY r.score DESC NULLS LAST, dl.name""", day=day, **scope.params())
    return {"day": day, "rows": rows, "median": median}


def find_battery(db: Database, scope: Scope, key: str) -> dict | None:
    """A battery in scope by device id, vehicle number or serial (exact, case-insensitive)."""
    return db.one(f"""SELECT d.device_id, coalesce(d.vehicle_number, d.device_id) AS label FROM devices d
                      WHERE {scope.devices("d")} AND (upper(d.device_id) = upper(:key)
                            OR upper(d.vehicle_number) = upper(:key) OR upper(d.battery_serial) = upper(:key))
                      ORDER BY d.device_id LIMIT 1""", key=key, **scope.params())


def points(db: Database, scope: Scope, axis: str, filt: HealthFilter = EVERYTHING, limit: int = 300) -> list[dict]:
    """Each battery's SOH now against its cycles or age, when there are at most ``limit`` of them
    (a few batteries are better shown one by one than as bands); else nothing."""
    column, _ = AXES[axis]
    rows = db.query(f"""
        SELECT h.{column} AS x, h.soh, coalesce(d.vehicle_number, d.device_id) AS label
        {_base(scope, filt)} AND h.soh IS NOT NULL AND h.{column} IS NOT NULL
        ORDER BY h.device_id LIMIT :over""", **_params(scope, filt, over=limit + 1))
    return rows if len(rows) <= limit else []
