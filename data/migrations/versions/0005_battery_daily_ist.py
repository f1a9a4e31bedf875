"""The daily battery rollup buckets by Indian Standard Time day (Asia/Kolkata midnight), not UTC.

Trips, energy and the km calendar already count IST days; a UTC bucket runs 05:30 to 05:30 IST,
so the daily SOC low and SOH never matched the day they were shown beside (issue #8).

TimescaleDB: a continuous aggregate cannot change its bucket, so ``telemetry.battery_daily`` is
dropped and created again with ``time_bucket('1 day', time, 'Asia/Kolkata')`` (real-time on, the
same refresh policy as 0001), then materialized over all readings at hand. Plain PostgreSQL: the
table's rows are recomputed from the readings with IST buckets (data/rollups.py refreshes the same
way from now on). The downgrade does the same back to UTC days.

Both recompute from the raw readings, which retention deletes after RETENTION_DAYS while the
rollups are kept. A stored daily row whose readings are partly gone cannot be recomputed: the
upgrade copies such rows into ``telemetry.battery_daily_utc_archive`` (created only when there are
any) rather than lose them. A plain-mode downgrade puts them back; a continuous aggregate cannot
take rows, so in TimescaleDB mode the archive stays.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""
import logging

from alembic import op

from data import storage
from data.db import text

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)

IST_BUCKET = "time_bucket(INTERVAL '1 day', time, 'Asia/Kolkata')"
UTC_BUCKET = "time_bucket(INTERVAL '1 day', time)"
# The same buckets without TimescaleDB, independent of the session's time zone.
PLAIN_IST_BUCKET = "date_trunc('day', time, 'Asia/Kolkata')"
PLAIN_UTC_BUCKET = "date_trunc('day', time, 'UTC')"

# 0001's daily columns, repeated here: a migration must not change when 0001 is edited.
COLUMNS = ("avg_soc, min_soc, max_soc, avg_voltage, avg_current, avg_temp, max_temp, charge_cycle, min_soh, "
           "reading_count")
DAILY = """
    avg(soc) AS avg_soc, min(soc) AS min_soc, max(soc) AS max_soc,
    avg(voltage) AS avg_voltage, avg(current) AS avg_current,
    avg(temperature) AS avg_temp, max(temperature) AS max_temp,
    max(charge_cycle) AS charge_cycle, min(soh) AS min_soh, count(*) AS reading_count
"""

ARCHIVE = "telemetry.battery_daily_utc_archive"

# Daily rows that hold more readings than the raw table still has for their day. Retention deletes
# oldest first, so only days before the oldest remaining reading can be affected.
LOST = """
SELECT d.bucket, d.device_id, {columns} FROM telemetry.battery_daily d
WHERE d.bucket < (SELECT coalesce(min(time), 'infinity') FROM telemetry.battery_readings)
  AND d.reading_count > (SELECT count(*) FROM telemetry.battery_readings r
                         WHERE r.device_id = d.device_id AND r.time >= d.bucket
                           AND r.time < d.bucket + INTERVAL '24 hours')
"""


def _lost_rows() -> str:
    return LOST.format(columns=", ".join(f"d.{c}" for c in COLUMNS.split(", ")))


def _archive_unrecomputable() -> None:
    bind = op.get_bind()
    lost = bind.execute(text(f"SELECT count(*) FROM ({_lost_rows()}) x")).scalar()
    if not lost:
        return
    op.execute(f"""
        CREATE TABLE IF NOT EXISTS {ARCHIVE} (
            bucket timestamptz NOT NULL, device_id varchar(50) NOT NULL,
            avg_soc double precision, min_soc real, max_soc real,
            avg_voltage double precision, avg_current double precision,
            avg_temp double precision, max_temp real,
            charge_cycle integer, min_soh real, reading_count bigint NOT NULL,
            PRIMARY KEY (device_id, bucket)
        );
        INSERT INTO {ARCHIVE} (bucket, device_id, {COLUMNS}) {_lost_rows()}
        ON CONFLICT (device_id, bucket) DO NOTHING;
    """)
    log.warning("battery_daily: %d UTC-day rows have readings past retention and cannot be recomputed "
                "by IST day; kept in %s", lost, ARCHIVE)


def _warn_lost_on_downgrade() -> None:
    lost = op.get_bind().execute(text(f"SELECT count(*) FROM ({_lost_rows()}) x")).scalar()
    if lost:
        log.warning("battery_daily: %d IST-day rows have readings past retention; their UTC days are "
                    "recomputed from the readings that remain", lost)


def _replace_aggregate(bucket: str) -> None:
    """Drop and create the continuous aggregate with ``bucket``, as 0001 made it, and materialize it."""
    # Continuous aggregates cannot be created or refreshed inside a transaction. No CASCADE: a view
    # built on this one must stop the migration, not vanish.
    with op.get_context().autocommit_block():
        op.execute("DROP MATERIALIZED VIEW telemetry.battery_daily")
        op.execute(f"""CREATE MATERIALIZED VIEW telemetry.battery_daily
                       WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
                       SELECT {bucket} AS bucket, device_id, {DAILY}
                       FROM telemetry.battery_readings GROUP BY 1, 2 WITH NO DATA""")
        # The policy refreshes only the last 3 days: everything older must be materialized now, or
        # it would drop out of the view once the policy moves the watermark past it. Not today, as
        # the policy's end_offset: a materialized partial day hides later readings (real-time
        # aggregation starts at the watermark) and the policy never refreshes a bucket its window
        # does not wholly hold, so today would stay frozen until tomorrow.
        op.execute("CALL refresh_continuous_aggregate('telemetry.battery_daily', NULL, now() - INTERVAL '1 hour')")
        op.execute("""SELECT add_continuous_aggregate_policy('telemetry.battery_daily',
            start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour',
            schedule_interval => INTERVAL '1 hour')""")


def _recompute_table(bucket: str) -> None:
    op.execute(f"""
        TRUNCATE telemetry.battery_daily;
        INSERT INTO telemetry.battery_daily (bucket, device_id, {COLUMNS})
        SELECT {bucket}, device_id, {DAILY} FROM telemetry.battery_readings GROUP BY 1, 2;
    """)


def upgrade() -> None:
    _archive_unrecomputable()
    if storage.current(op.get_bind()) == storage.TIMESCALEDB:
        _replace_aggregate(IST_BUCKET)
    else:
        _recompute_table(PLAIN_IST_BUCKET)


def downgrade() -> None:
    bind = op.get_bind()
    _warn_lost_on_downgrade()
    if storage.current(bind) == storage.TIMESCALEDB:
        _replace_aggregate(UTC_BUCKET)
        if bind.execute(text(f"SELECT to_regclass('{ARCHIVE}') IS NOT NULL")).scalar():
            log.warning("battery_daily: a continuous aggregate cannot take back the rows in %s; it stays", ARCHIVE)
        return
    _recompute_table(PLAIN_UTC_BUCKET)
    if bind.execute(text(f"SELECT to_regclass('{ARCHIVE}') IS NOT NULL")).scalar():
        # The archived rows are the complete days; what the readings still give for them is partial.
        op.execute(f"""
            INSERT INTO telemetry.battery_daily (bucket, device_id, {COLUMNS})
            SELECT bucket, device_id, {COLUMNS} FROM {ARCHIVE}
            ON CONFLICT (device_id, bucket) DO UPDATE SET
              avg_soc = EXCLUDED.avg_soc, min_soc = EXCLUDED.min_soc, max_soc = EXCLUDED.max_soc,
              avg_voltage = EXCLUDED.avg_voltage, avg_current = EXCLUDED.avg_current,
              avg_temp = EXCLUDED.avg_temp, max_temp = EXCLUDED.max_temp, charge_cycle = EXCLUDED.charge_cycle,
              min_soh = EXCLUDED.min_soh, reading_count = EXCLUDED.reading_count;
            DROP TABLE {ARCHIVE};
        """)
