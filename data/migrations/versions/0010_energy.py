"""Meters, charging efficiency, site power and ingest-only API keys.

- ``equipment.measures_id``: the charger an energy meter measures (NULL: the site's own grid meter).
- ``meter_assignments``: which vehicle charged on which meter, and when (time-bounded; a vehicle may
  use several chargers, a charger bank serves several vehicles).
- ``telemetry.meter_readings``: AC energy a meter counted in the interval ending at ``time`` (seeds
  001 and 003, ``kwhConsumedAc``), with its voltage.
- ``telemetry.vehicle_energy``: the seed-001 vehicle stream (SOC, DC energy delivered, battery
  temperature) for chargers and vehicles that push it.
- ``telemetry.charge_sessions`` gains its reconciliation: the AC energy the session drew, its
  efficiency (DC / AC), the site, meter and charger it happened at, and the flag (``low`` below the
  loss threshold, ``high`` above 1.0: a mapping or meter error).
- ``telemetry.site_power``: solar, inverter, grid, load and storage power and energy per site (seed
  004), with hourly and daily rollups (continuous aggregates in TimescaleDB, tables kept on write
  in plain PostgreSQL, as for the battery rollups).
- ``import_progress``: how far a history import got in each file, so a rerun resumes.
- Alert rules ``charging_loss`` and ``meter_mismatch``; API key role ``ingest`` (may only push).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""
from alembic import op

from data import storage

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Shared by the continuous aggregates and the plain tables: one definition of each rollup column.
SITE_POWER_ROLLUP = """avg(solar_kw) AS avg_solar_kw, avg(grid_kw) AS avg_grid_kw, avg(load_kw) AS avg_load_kw,
    avg(storage_kw) AS avg_storage_kw, sum(solar_kwh) AS solar_kwh,
    sum(greatest(grid_kwh, 0)) AS grid_import_kwh, sum(greatest(-grid_kwh, 0)) AS grid_export_kwh,
    sum(load_kwh) AS load_kwh, count(*) AS readings"""


def upgrade() -> None:
    op.execute("""
        ALTER TABLE equipment ADD COLUMN measures_id integer REFERENCES equipment(id);

        CREATE TABLE meter_assignments (
            id          bigserial PRIMARY KEY,
            meter_id    integer      NOT NULL REFERENCES equipment(id),
            device_id   varchar(50)  NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
            valid_from  timestamptz  NOT NULL,
            valid_to    timestamptz,
            created_at  timestamptz  NOT NULL DEFAULT now(),
            created_by  text,
            CONSTRAINT meter_assignment_span CHECK (valid_to IS NULL OR valid_to > valid_from)
        );
        CREATE INDEX meter_assignments_meter ON meter_assignments (meter_id, valid_from);
        CREATE INDEX meter_assignments_device ON meter_assignments (device_id, valid_from);

        CREATE TABLE telemetry.meter_readings (
            time      timestamptz NOT NULL,
            meter_id  integer     NOT NULL,
            kwh_ac    real        NOT NULL,
            voltage   real,
            CONSTRAINT meter_readings_meter_time UNIQUE (meter_id, time)
        );
        CREATE INDEX meter_readings_time ON telemetry.meter_readings (time DESC);

        CREATE TABLE telemetry.vehicle_energy (
            time          timestamptz NOT NULL,
            device_id     varchar(50) NOT NULL,
            soc           real,
            kwh_dc        real,
            battery_temp  real,
            CONSTRAINT vehicle_energy_device_time UNIQUE (device_id, time)
        );

        ALTER TABLE telemetry.charge_sessions
            ADD COLUMN ac_kwh          double precision,
            ADD COLUMN efficiency      real,
            ADD COLUMN efficiency_flag varchar(8) CHECK (efficiency_flag IN ('low', 'high')),
            ADD COLUMN site_id         integer,
            ADD COLUMN meter_id        integer,
            ADD COLUMN charger_id      integer,
            ADD COLUMN reconciled_at   timestamptz,
            ADD COLUMN judged          boolean NOT NULL DEFAULT false;
        CREATE INDEX charge_sessions_site ON telemetry.charge_sessions (site_id, start_time DESC);
        CREATE INDEX charge_sessions_unjudged ON telemetry.charge_sessions (end_time) WHERE NOT judged AND NOT is_open;

        CREATE TABLE telemetry.site_power (
            time                timestamptz NOT NULL,
            site_id             integer     NOT NULL,
            solar_kw            real,
            solar_kwh           real,
            inverter_kw         real,
            inverter_efficiency real,
            inverter_temp       real,
            grid_kw             real,
            grid_kwh            real,
            grid_voltage        real,
            grid_frequency      real,
            load_kw             real,
            load_kwh            real,
            storage_kw          real,
            storage_soc         real,
            CONSTRAINT site_power_site_time UNIQUE (site_id, time)
        );

        -- how far a history import (flask telemetry import) got in each file: a rerun resumes there
        CREATE TABLE import_progress (
            file_key    varchar(64) PRIMARY KEY,
            path        text        NOT NULL,
            rows_done   bigint      NOT NULL DEFAULT 0,
            finished    boolean     NOT NULL DEFAULT false,
            updated_at  timestamptz NOT NULL DEFAULT now()
        );

        INSERT INTO alert_rules (alert_type, description, severity, threshold, clear_threshold, duration_minutes)
        VALUES ('charging_loss', 'Charging efficiency low (charger fault or leakage)', 'warning', 0.85, 0.85, 0),
               ('meter_mismatch', 'Charging efficiency above 100 % (meter or mapping error)', 'warning', 1.0, 1.0, 0);

        ALTER TABLE api_keys DROP CONSTRAINT api_keys_role_check;
        ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check
            CHECK (role IN ('admin', 'manager', 'engineer', 'dealer', 'viewer', 'ingest'));
    """)
    if storage.current(op.get_bind()) == storage.TIMESCALEDB:
        for table in ("meter_readings", "vehicle_energy", "site_power"):
            op.execute(f"SELECT create_hypertable('telemetry.{table}', by_range('time', INTERVAL '7 days'), "
                       "migrate_data => true)")
        with op.get_context().autocommit_block():
            for name, width in (("site_power_hourly", "1 hour"), ("site_power_daily", "1 day")):
                zone = ", 'Asia/Kolkata'" if width == "1 day" else ""
                op.execute(f"""CREATE MATERIALIZED VIEW telemetry.{name}
                               WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
                               SELECT time_bucket(INTERVAL '{width}', time{zone}) AS bucket, site_id,
                                      {SITE_POWER_ROLLUP}
                               FROM telemetry.site_power GROUP BY 1, 2 WITH NO DATA""")
        op.execute("""SELECT add_continuous_aggregate_policy('telemetry.site_power_hourly',
            start_offset => INTERVAL '3 hours', end_offset => INTERVAL '30 minutes',
            schedule_interval => INTERVAL '30 minutes')""")
        op.execute("""SELECT add_continuous_aggregate_policy('telemetry.site_power_daily',
            start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour',
            schedule_interval => INTERVAL '1 hour')""")
    else:
        for name in ("site_power_hourly", "site_power_daily"):
            op.execute(f"""
                CREATE TABLE telemetry.{name} (
                    bucket timestamptz NOT NULL, site_id integer NOT NULL,
                    avg_solar_kw double precision, avg_grid_kw double precision, avg_load_kw double precision,
                    avg_storage_kw double precision, solar_kwh double precision, grid_import_kwh double precision,
                    grid_export_kwh double precision, load_kwh double precision, readings bigint NOT NULL,
                    PRIMARY KEY (site_id, bucket)
                )""")


def downgrade() -> None:
    if storage.current(op.get_bind()) == storage.TIMESCALEDB:
        with op.get_context().autocommit_block():
            op.execute("DROP MATERIALIZED VIEW IF EXISTS telemetry.site_power_daily")
            op.execute("DROP MATERIALIZED VIEW IF EXISTS telemetry.site_power_hourly")
    op.execute("""
        DROP TABLE IF EXISTS telemetry.site_power_daily;
        DROP TABLE IF EXISTS telemetry.site_power_hourly;
        DELETE FROM api_keys WHERE role = 'ingest';
        ALTER TABLE api_keys DROP CONSTRAINT api_keys_role_check;
        ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check
            CHECK (role IN ('admin', 'manager', 'engineer', 'dealer', 'viewer'));
        DELETE FROM alert_events WHERE alert_id IN
            (SELECT id FROM alerts WHERE alert_type IN ('charging_loss', 'meter_mismatch'));
        DELETE FROM alerts WHERE alert_type IN ('charging_loss', 'meter_mismatch');
        DELETE FROM alert_rules WHERE alert_type IN ('charging_loss', 'meter_mismatch');
        DROP TABLE import_progress;
        DROP TABLE telemetry.site_power;
        ALTER TABLE telemetry.charge_sessions
            DROP COLUMN ac_kwh, DROP COLUMN efficiency, DROP COLUMN efficiency_flag, DROP COLUMN site_id,
            DROP COLUMN meter_id, DROP COLUMN charger_id, DROP COLUMN reconciled_at, DROP COLUMN judged;
        DROP TABLE telemetry.vehicle_energy;
        DROP TABLE telemetry.meter_readings;
        DROP TABLE meter_assignments;
        ALTER TABLE equipment DROP COLUMN measures_id;
    """)
