"""Fleet-wide figures for the overview and the wall display, always within the caller's scope.

Every function takes the user's ``Scope`` (built on the server) and a ``FleetFilter`` (what the
user picked in the page). The filter can only narrow what the scope allows: both go into the
same WHERE clause, so a dealer who sends another dealer's id gets an empty answer, not their data.
"""
from __future__ import annotations

from dataclasses import dataclass

import inputs
from data.db import Database
from data.scope import Scope

# Pin and status classes, worst first. "offline" wins: a silent pack's last SOC says nothing now.
STATUSES = ("offline", "critical", "warning", "ok")
STATUS_FILTERS = (*STATUSES, "charging")
OFFLINE_AFTER = "24 hours"
CHARGING_FRESH = "15 minutes"
# An SOH of exactly 100 from a pack in service for over a month is the firmware's stuck value
# (seed data facts), not a measurement: such packs are counted apart, never as healthy.
SOH_STUCK_AFTER = "30 days"


@dataclass(frozen=True)
class FleetFilter:
    dealer_id: int | None = None
    city: str | None = None
    status: str | None = None
    site_id: int | None = None

    @classmethod
    def from_inputs(cls, dealer, city, status) -> "FleetFilter":
        """What a page's dropdowns sent, cleaned: anything unexpected means "no filter"."""
        return cls(inputs.integer(dealer, minimum=1), inputs.text(city), inputs.choice(status, STATUS_FILTERS))

    def params(self) -> dict:
        return {"f_dealer": self.dealer_id, "f_city": self.city, "f_status": self.status, "f_site": self.site_id}


NO_FILTER = FleetFilter()


def fleet_cte(scope: Scope) -> str:
    """A CTE ``f``: one row per device in view with its latest state, worst open alert and status."""
    return f"""
    f AS (
      SELECT * FROM (
        SELECT d.device_id, d.vehicle_number, d.battery_serial, d.dealer_id, d.city, d.customer_name, d.site_id,
               d.activated_at, s.reading_time, s.soc, s.soh, s.voltage, s.current, s.temperature,
               s.charge_cycle, s.latitude, s.longitude,
               coalesce(s.is_charging AND s.reading_time > now() - INTERVAL '{CHARGING_FRESH}', false) AS charging,
               (s.soh IS NOT NULL AND NOT (s.soh >= 99.95 AND d.activated_at < now() - INTERVAL '{SOH_STUCK_AFTER}'))
                 AS soh_measured,
               a.worst_alert,
               CASE WHEN s.reading_time IS NULL OR s.reading_time < now() - INTERVAL '{OFFLINE_AFTER}' THEN 'offline'
                    WHEN s.soc < 20 OR a.worst_alert = 'critical' THEN 'critical'
                    WHEN s.soc <= 50 OR s.soc IS NULL OR a.worst_alert = 'warning' THEN 'warning'
                    ELSE 'ok' END AS status
        FROM devices d
        LEFT JOIN device_state s ON s.device_id = d.device_id
        LEFT JOIN (SELECT device_id,
                          CASE WHEN bool_or(severity = 'critical') THEN 'critical'
                               WHEN bool_or(severity = 'warning') THEN 'warning' ELSE 'info' END AS worst_alert
                   FROM alerts WHERE resolved_at IS NULL GROUP BY device_id) a ON a.device_id = d.device_id
        WHERE d.is_active AND {scope.devices("d")}
          AND (CAST(:f_dealer AS integer) IS NULL OR d.dealer_id = :f_dealer)
          AND (CAST(:f_city AS text) IS NULL OR d.city = :f_city)
          AND (CAST(:f_site AS integer) IS NULL OR d.site_id = :f_site)
      ) x
      WHERE CAST(:f_status AS text) IS NULL OR x.status = :f_status OR (:f_status = 'charging' AND x.charging)
    )"""


def fleet_params(scope: Scope, filt: FleetFilter, **extra) -> dict:
    return {**scope.params(), **filt.params(), **extra}


def kpis(db: Database, scope: Scope, filt: FleetFilter = NO_FILTER) -> dict:
    """The four headline cards: batteries, SOH, charging, open alerts, each with its comparison."""
    return db.one(
        f"""
        WITH {fleet_cte(scope)},
        past AS (  -- the oldest daily SOH within the last month: "change from last month"
          -- Daily buckets are IST midnights, which the session's zone may show as the evening before:
          -- the month starts at an IST midnight, and the day is handed out as its IST date.
          SELECT (b.bucket AT TIME ZONE 'Asia/Kolkata')::date AS bucket, avg(b.min_soh) AS soh
          FROM telemetry.battery_daily b JOIN f ON f.device_id = b.device_id AND f.soh_measured
          WHERE b.bucket = (SELECT min(bucket) FROM telemetry.battery_daily
                            WHERE bucket >= date_trunc('day', now() - INTERVAL '30 days', 'Asia/Kolkata'))
          GROUP BY b.bucket)
        SELECT
          count(*)                                                    AS batteries,
          count(*) FILTER (WHERE activated_at > now() - INTERVAL '7 days') AS added_this_week,
          count(*) FILTER (WHERE status <> 'offline')                 AS reporting,
          count(*) FILTER (WHERE status = 'offline')                  AS offline,
          avg(soh) FILTER (WHERE soh_measured)                        AS avg_soh,
          count(*) FILTER (WHERE NOT soh_measured)                    AS soh_unmeasured,
          (SELECT soh FROM past)                                      AS past_soh,
          (SELECT bucket FROM past)                                   AS past_soh_date,
          count(*) FILTER (WHERE charging)                            AS charging,
          (SELECT count(*) FROM alerts a JOIN f ON f.device_id = a.device_id
             WHERE a.resolved_at IS NULL AND a.severity = 'critical') AS critical_alerts,
          (SELECT count(*) FROM alerts a JOIN f ON f.device_id = a.device_id
             WHERE a.resolved_at IS NULL AND a.severity = 'warning')  AS warning_alerts
        FROM f
        """,
        **fleet_params(scope, filt),
    )


# One column per property, short names (the browser's assets/fleet_map.js turns them into GeoJSON
# features): at 22,000 devices this is a quarter of the bytes of GeoJSON built here and far faster.
_PIN_COLUMNS = """device_id AS id, vehicle_number AS v, round(latitude * 1e5) / 1e5 AS lat,
    round(longitude * 1e5) / 1e5 AS lng, CAST(round(soc) AS integer) AS s,
    CASE WHEN soh_measured THEN round(soh * 10) / 10 END AS h, round(voltage * 10) / 10 AS u,
    CAST(extract(epoch FROM now() - reading_time) / 60 AS integer) AS m,
    CASE status WHEN 'ok' THEN 'g' WHEN 'warning' THEN 'y' WHEN 'critical' THEN 'r' ELSE 'o' END AS c,
    CASE WHEN charging THEN 1 ELSE 0 END AS ch"""


def map_pins(db: Database, scope: Scope, filt: FleetFilter = NO_FILTER) -> dict[str, list]:
    """Every device in view that has a position, column-wise: what its pin and popup show."""
    return db.columns(
        f"""WITH {fleet_cte(scope)} SELECT {_PIN_COLUMNS} FROM f
            WHERE latitude IS NOT NULL AND longitude IS NOT NULL""",
        **fleet_params(scope, filt))


def alert_feed(db: Database, scope: Scope, filt: FleetFilter = NO_FILTER, limit: int = 30) -> list[dict]:
    """Newest open alerts in view, critical first among equals."""
    return db.query(
        f"""WITH {fleet_cte(scope)}
        SELECT a.id, a.device_id, f.vehicle_number, a.alert_type, a.severity, a.message, a.last_seen_at,
               a.first_seen_at, a.occurrence_count
        FROM alerts a JOIN f ON f.device_id = a.device_id
        WHERE a.resolved_at IS NULL
        ORDER BY a.last_seen_at DESC, (a.severity = 'critical') DESC, a.id DESC
        LIMIT :limit""",
        **fleet_params(scope, filt, limit=limit),
    )


def soc_distribution(db: Database, scope: Scope, filt: FleetFilter = NO_FILTER) -> list[dict]:
    """Reporting devices per 10 % SOC band (0-10 … 90-100)."""
    return db.query(
        f"""WITH {fleet_cte(scope)}
        SELECT least(floor(soc / 10), 9)::int * 10 AS band, count(*) AS devices
        FROM f WHERE status <> 'offline' AND soc IS NOT NULL GROUP BY 1 ORDER BY 1""",
        **fleet_params(scope, filt),
    )


def cycle_distribution(db: Database, scope: Scope, filt: FleetFilter = NO_FILTER, width: int = 100) -> list[dict]:
    """Devices per band of ``width`` charge cycles."""
    return db.query(
        f"""WITH {fleet_cte(scope)}
        SELECT (charge_cycle / :width) * :width AS band, count(*) AS devices
        FROM f WHERE charge_cycle IS NOT NULL GROUP BY 1 ORDER BY 1""",
        **fleet_params(scope, filt, width=width),
    )


def daily_distance(db: Database, scope: Scope, filt: FleetFilter = NO_FILTER, days: int = 84) -> list[dict]:
    """Fleet kilometres per local (IST) day over the last ``days`` days.

    From the per-(day, dealer, city) rollup; a status filter (which depends on each battery's state
    now) has to go through the trips themselves.
    """
    if filt.status is None:
        return db.query(
            f"""SELECT f.day, sum(f.km) AS km FROM telemetry.fleet_distance_daily f
                WHERE f.day >= (now() AT TIME ZONE 'Asia/Kolkata')::date - :days AND {scope.devices("f")}
                  AND (CAST(:f_dealer AS integer) IS NULL OR f.dealer_id = :f_dealer)
                  AND (CAST(:f_city AS text) IS NULL OR f.city = :f_city)
                GROUP BY 1 ORDER BY 1""",
            **fleet_params(scope, filt, days=days))
    return db.query(
        f"""WITH {fleet_cte(scope)}
        SELECT (t.start_time AT TIME ZONE 'Asia/Kolkata')::date AS day, sum(t.distance_km) AS km
        FROM telemetry.trips t
        WHERE t.start_time >= now() - make_interval(days => :days)
          AND t.device_id IN (SELECT device_id FROM f)
        GROUP BY 1 ORDER BY 1""",
        **fleet_params(scope, filt, days=days),
    )


def filter_options(db: Database, scope: Scope) -> dict:
    """The dealers and cities the user may filter by: only those inside the scope."""
    where = scope.devices("d")
    dealers = db.query(
        f"""SELECT DISTINCT dl.id, dl.name, dl.city FROM devices d JOIN dealers dl ON dl.id = d.dealer_id
            WHERE {where} ORDER BY dl.name""", **scope.params())
    cities = [r["city"] for r in db.query(
        f"SELECT DISTINCT d.city FROM devices d WHERE {where} AND d.city IS NOT NULL ORDER BY 1", **scope.params())]
    return {"dealers": dealers, "cities": cities}


def data_as_of(db: Database, scope: Scope) -> dict:
    """The newest reading in view: the wall's "data as of"."""
    return db.one(
        f"""SELECT (SELECT max(s.reading_time) FROM device_state s JOIN devices d ON d.device_id = s.device_id
                    WHERE {scope.devices("d")}) AS newest_reading,
                   now() AS now""",
        **scope.params(),
    )
