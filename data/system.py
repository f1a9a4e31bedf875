"""What the system page (admins) shows: ingest health, per-device lag, the notification backlog, table
sizes, TimescaleDB chunks, compression and background-job failures (when TimescaleDB is there), the
slowest statements (when pg_stat_statements is there) and how far the rollups trail the readings.

Every figure comes from a catalogue view or a small table, never from a scan of the readings: the page
costs the same at 22,000 devices as at 40.
"""
from __future__ import annotations

import sqlalchemy as sa

from data import storage
from data.db import Database

LAG_BUCKETS = (("under 5 min", 300), ("5-15 min", 900), ("15-60 min", 3600), ("1-24 h", 86400))


def ingest_runs(db: Database, limit: int = 30) -> list[dict]:
    return db.query(
        """SELECT started_at, finished_at, extract(epoch FROM finished_at - started_at) AS seconds, devices_polled,
                  rows_stored, rows_rejected, errors, max_lag_seconds, vendor_calls, vendor_retries,
                  vendor_throttled, vendor_reauths, note
           FROM ingest_runs ORDER BY started_at DESC LIMIT :limit""", limit=limit)


def ingest_totals(db: Database, hours: int = 24) -> dict:
    return db.one(
        """SELECT count(*) AS cycles, coalesce(sum(rows_stored), 0) AS rows_stored,
                  coalesce(sum(rows_rejected), 0) AS rows_rejected, coalesce(sum(errors), 0) AS errors,
                  coalesce(sum(vendor_calls), 0) AS vendor_calls, coalesce(sum(vendor_retries), 0) AS vendor_retries,
                  coalesce(sum(vendor_throttled), 0) AS vendor_throttled, max(started_at) AS last_cycle,
                  avg(extract(epoch FROM finished_at - started_at)) AS mean_seconds
           FROM ingest_runs WHERE started_at > now() - make_interval(hours => :hours)""", hours=hours)


def lag_distribution(db: Database) -> list[dict]:
    """Active devices by the age of their newest reading (device_state: one row per device)."""
    cases = " ".join(f"WHEN age < {seconds} THEN '{label}'" for label, seconds in LAG_BUCKETS)
    rows = db.query(
        f"""SELECT bucket, count(*) AS devices FROM (
                SELECT CASE WHEN s.reading_time IS NULL THEN 'never' {cases} ELSE 'over 24 h' END AS bucket
                FROM devices d LEFT JOIN device_state s USING (device_id),
                     LATERAL (SELECT extract(epoch FROM now() - s.reading_time) AS age) a
                WHERE d.is_active) x
            GROUP BY bucket""")
    counts = {r["bucket"]: r["devices"] for r in rows}
    return [{"bucket": label, "devices": counts.get(label, 0)}
            for label in [b for b, _ in LAG_BUCKETS] + ["over 24 h", "never"]]


def outbox(db: Database) -> list[dict]:
    return db.query(
        """SELECT status, count(*) AS messages, min(created_at) AS oldest
           FROM notification_outbox GROUP BY status ORDER BY status""")


def table_sizes(db: Database, limit: int = 15) -> list[dict]:
    """The largest tables with their indexes (hypertables count their chunks)."""
    rows = db.query(
        """SELECT n.nspname || '.' || c.relname AS name, pg_total_relation_size(c.oid) AS bytes,
                  c.reltuples::bigint AS approx_rows
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname IN ('public', 'telemetry')
           ORDER BY pg_total_relation_size(c.oid) DESC""")
    if db.storage_mode == storage.TIMESCALEDB:
        # A hypertable's own relation is empty: its rows live in chunks, which hypertable_size counts.
        sizes = {r["name"]: r for r in db.query(
            """SELECT hypertable_schema || '.' || hypertable_name AS name,
                      hypertable_size(format('%I.%I', hypertable_schema, hypertable_name)::regclass) AS bytes,
                      (SELECT sum(c.reltuples)::bigint FROM timescaledb_information.chunks k
                       JOIN pg_class c ON c.oid = format('%I.%I', k.chunk_schema, k.chunk_name)::regclass
                       WHERE k.hypertable_schema = h.hypertable_schema AND k.hypertable_name = h.hypertable_name
                         AND c.reltuples >= 0) AS approx_rows
               FROM timescaledb_information.hypertables h""")}
        for r in rows:
            if r["name"] in sizes:
                r["bytes"] = sizes[r["name"]]["bytes"]
                r["approx_rows"] = sizes[r["name"]]["approx_rows"] if sizes[r["name"]]["approx_rows"] is not None \
                    else r["approx_rows"]
        rows.sort(key=lambda r: -(r["bytes"] or 0))
    return rows[:limit]


def database_size(db: Database) -> int:
    return db.scalar("SELECT pg_database_size(current_database())")


def timescale(db: Database) -> dict | None:
    """Chunks and compression per hypertable and failing background jobs; None on plain PostgreSQL.
    A catalogue this version of TimescaleDB lays out differently is reported, not raised: the rest
    of the page still shows."""
    if db.storage_mode != storage.TIMESCALEDB:
        return None
    try:
        return _timescale(db)
    except sa.exc.SQLAlchemyError as exc:
        return {"hypertables": [], "jobs": [], "errors": [], "unreadable": str(getattr(exc, "orig", None) or exc).splitlines()[0]}


def _timescale(db: Database) -> dict:
    hypertables = db.query(
        """SELECT h.hypertable_schema || '.' || h.hypertable_name AS name, h.num_chunks AS chunks,
                  h.compression_enabled AS compression,
                  (SELECT count(*) FROM timescaledb_information.chunks c
                    WHERE c.hypertable_schema = h.hypertable_schema AND c.hypertable_name = h.hypertable_name
                      AND c.is_compressed) AS compressed_chunks
           FROM timescaledb_information.hypertables h ORDER BY 1""")
    jobs = db.query(
        """SELECT j.job_id, j.proc_name, coalesce(j.hypertable_name, '') AS hypertable, s.last_run_status,
                  s.last_run_started_at, s.total_failures, s.total_runs, s.next_start
           FROM timescaledb_information.jobs j LEFT JOIN timescaledb_information.job_stats s USING (job_id)
           WHERE j.job_id >= 1000 ORDER BY (s.last_run_status = 'Failed') DESC NULLS LAST, j.job_id""")
    errors = db.query(
        """SELECT job_id, proc_name, start_time, err_message FROM timescaledb_information.job_errors
           ORDER BY start_time DESC LIMIT 10""") if _has_view(db, "timescaledb_information", "job_errors") else []
    return {"hypertables": hypertables, "jobs": jobs, "errors": errors, "unreadable": None}


def _has_view(db: Database, schema: str, name: str) -> bool:
    return bool(db.scalar("SELECT 1 FROM information_schema.views WHERE table_schema = :s AND table_name = :n",
                          s=schema, n=name))


def slow_statements(db: Database, limit: int = 10) -> list[dict] | None:
    """The statements with the most total time, or None when pg_stat_statements is not installed here."""
    if not db.scalar("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'"):
        return None
    try:
        return db.query(
            """SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 200) AS query, calls,
                      round(mean_exec_time::numeric, 1) AS mean_ms, round(total_exec_time::numeric) AS total_ms
               FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
               ORDER BY total_exec_time DESC LIMIT :limit""", limit=limit)
    except sa.exc.SQLAlchemyError:  # the extension exists but is not in shared_preload_libraries
        return None


def rollup_lag(db: Database) -> list[dict]:
    """Per rollup, its newest bucket against the newest reading: how far the rollups trail."""
    newest = db.scalar("SELECT max(reading_time) FROM device_state")
    out = []
    for name, width in (("telemetry.battery_hourly", "1 hour"), ("telemetry.battery_daily", "1 day")):
        bucket = db.scalar(f"SELECT max(bucket) FROM {name}")
        lag = db.scalar("SELECT extract(epoch FROM CAST(:n AS timestamptz) - (CAST(:b AS timestamptz) + "
                        "CAST(:w AS interval)))", n=newest, b=bucket, w=width) if bucket and newest else None
        out.append({"rollup": name, "newest_bucket": bucket, "newest_reading": newest,
                    "behind_seconds": max(lag, 0) if lag is not None else None})
    return out
