"""Initial schema: fleet registry, users, telemetry, rollups, alerts, ingest bookkeeping.

The storage mode is chosen here (data/storage.py): TimescaleDB gets hypertables, continuous
aggregates and policies; plain PostgreSQL gets ordinary tables with the same names and columns.
This file is frozen once released: later changes go in new revisions.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
from alembic import op

import config
from data import storage

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

REGISTRY = """
CREATE TABLE app_meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE dealers (
    id          serial PRIMARY KEY,
    code        varchar(32)  NOT NULL UNIQUE,
    name        text         NOT NULL,
    city        text         NOT NULL,
    state       text,
    latitude    double precision,
    longitude   double precision,
    contact_email text,
    contact_phone varchar(20),
    created_at  timestamptz  NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            serial PRIMARY KEY,
    username      varchar(64)  NOT NULL UNIQUE,
    display_name  text,
    password_hash text         NOT NULL,
    role          varchar(16)  NOT NULL CHECK (role IN ('admin', 'manager', 'engineer', 'dealer', 'viewer')),
    dealer_id     integer REFERENCES dealers(id),
    is_active     boolean      NOT NULL DEFAULT true,
    is_demo       boolean      NOT NULL DEFAULT false,
    created_at    timestamptz  NOT NULL DEFAULT now(),
    last_login_at timestamptz,
    CONSTRAINT dealer_users_have_a_dealer CHECK ((role = 'dealer') = (dealer_id IS NOT NULL))
);

CREATE TABLE login_failures (
    id          bigserial PRIMARY KEY,
    username    varchar(64),
    remote_addr varchar(64),
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_username_at ON login_failures (username, at DESC);
CREATE INDEX login_failures_addr_at ON login_failures (remote_addr, at DESC);

CREATE TABLE batteries (
    serial           varchar(100) PRIMARY KEY,
    model            text         NOT NULL,
    chemistry        varchar(16)  NOT NULL DEFAULT 'LFP',
    nominal_voltage  real         NOT NULL DEFAULT 51.2 CHECK (nominal_voltage > 0),
    capacity_ah      real         NOT NULL DEFAULT 105 CHECK (capacity_ah > 0),
    warranty_months  integer      NOT NULL DEFAULT 36,
    warranty_cycles  integer      NOT NULL DEFAULT 2000,
    dealer_id        integer REFERENCES dealers(id),
    manufactured_at  date,
    sold_at          date,
    created_at       timestamptz  NOT NULL DEFAULT now()
);
CREATE INDEX batteries_dealer ON batteries (dealer_id);

-- device <-> battery serial <-> vehicle <-> dealer <-> customer (seed 000, device_battery_map)
CREATE TABLE devices (
    device_id       varchar(50)  PRIMARY KEY,
    battery_serial  varchar(100) UNIQUE REFERENCES batteries(serial),
    vehicle_number  varchar(50)  UNIQUE,
    dealer_id       integer REFERENCES dealers(id),
    customer_name   text,
    customer_phone  varchar(20),
    city            text,
    activated_at    timestamptz  DEFAULT now(),
    is_active       boolean      NOT NULL DEFAULT true,
    created_at      timestamptz  NOT NULL DEFAULT now(),
    updated_at      timestamptz  NOT NULL DEFAULT now()
);
CREATE INDEX devices_dealer ON devices (dealer_id);
CREATE INDEX devices_battery_serial ON devices (battery_serial);

-- latest known state per device, upserted on ingest: the dashboard's "now"
CREATE TABLE device_state (
    device_id        varchar(50) PRIMARY KEY REFERENCES devices(device_id) ON DELETE CASCADE,
    reading_time     timestamptz,
    soc              real,
    soh              real,
    voltage          real,
    current          real,
    temperature      real,
    charge_cycle     integer,
    power_watts      real,
    is_charging      boolean,
    gps_time         timestamptz,
    latitude         double precision,
    longitude        double precision,
    speed            real,
    ignition_on      boolean,
    odometer_km      double precision,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
"""

TELEMETRY = """
CREATE SCHEMA IF NOT EXISTS telemetry;

CREATE TABLE telemetry.battery_readings (
    time         timestamptz  NOT NULL,
    device_id    varchar(50)  NOT NULL,
    battery_id   varchar(100),
    soc          real,
    soh          real,
    voltage      real,
    current      real,
    charge_cycle integer,
    temperature  real,
    power_watts  real,
    CONSTRAINT battery_readings_device_time UNIQUE (device_id, time)
);
CREATE INDEX battery_readings_time ON telemetry.battery_readings (time DESC);

CREATE TABLE telemetry.gps_readings (
    time            timestamptz      NOT NULL,
    device_id       varchar(50)      NOT NULL,
    latitude        double precision NOT NULL,
    longitude       double precision NOT NULL,
    altitude        real,
    speed           real,
    heading         real,
    device_battery  real,
    vehicle_battery real,
    ignition_on     boolean,
    is_moving       boolean,
    immobilized     boolean,
    CONSTRAINT gps_readings_device_time UNIQUE (device_id, time)
);
CREATE INDEX gps_readings_time ON telemetry.gps_readings (time DESC);

CREATE TABLE telemetry.trips (
    id              bigserial PRIMARY KEY,
    device_id       varchar(50)  NOT NULL,
    start_time      timestamptz  NOT NULL,
    end_time        timestamptz  NOT NULL,
    start_odometer  double precision,
    end_odometer    double precision,
    distance_km     real,
    start_latitude  double precision,
    start_longitude double precision,
    end_latitude    double precision,
    end_longitude   double precision,
    last_ign_on     timestamptz,
    last_ign_off    timestamptz,
    created_at      timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT trips_device_window UNIQUE (device_id, start_time, end_time)
);
CREATE INDEX trips_device_start ON telemetry.trips (device_id, start_time DESC);

CREATE TABLE telemetry.energy_consumption (
    id              bigserial PRIMARY KEY,
    device_id       varchar(50)  NOT NULL,
    start_time      timestamptz  NOT NULL,
    end_time        timestamptz  NOT NULL,
    energy_used_kwh real,
    start_soc       real,
    end_soc         real,
    last_ign_on     timestamptz,
    last_ign_off    timestamptz,
    charging_events jsonb        NOT NULL DEFAULT '[]',
    created_at      timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT energy_device_window UNIQUE (device_id, start_time, end_time)
);

-- every reading that failed validation, with its reasons and the payload as received
CREATE TABLE telemetry.rejected_readings (
    id          bigserial PRIMARY KEY,
    received_at timestamptz  NOT NULL DEFAULT now(),
    device_id   varchar(50),
    stream      varchar(32)  NOT NULL,
    time        timestamptz,
    reasons     text[]       NOT NULL,
    payload     jsonb        NOT NULL
);
CREATE INDEX rejected_readings_device ON telemetry.rejected_readings (device_id, received_at DESC);
CREATE UNIQUE INDEX rejected_readings_once
    ON telemetry.rejected_readings (device_id, stream, time) WHERE time IS NOT NULL;
"""

ALERTS_AND_INGEST = """
CREATE TABLE alert_rules (
    alert_type        varchar(32) PRIMARY KEY,
    description       text        NOT NULL,
    severity          varchar(16) NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
    threshold         real,
    clear_threshold   real,
    duration_minutes  integer     NOT NULL DEFAULT 0,
    window_days       integer,
    enabled           boolean     NOT NULL DEFAULT true,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    updated_by        text
);

-- one open alert per (device, type): repeats bump occurrence_count and last_seen_at
CREATE TABLE alerts (
    id               bigserial PRIMARY KEY,
    device_id        varchar(50) NOT NULL REFERENCES devices(device_id),
    alert_type       varchar(32) NOT NULL REFERENCES alert_rules(alert_type),
    severity         varchar(16) NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
    message          text        NOT NULL,
    reading_value    real,
    threshold_value  real,
    first_seen_at    timestamptz NOT NULL,
    last_seen_at     timestamptz NOT NULL,
    occurrence_count integer     NOT NULL DEFAULT 1,
    acknowledged_at  timestamptz,
    acknowledged_by  integer REFERENCES users(id),
    resolved_at      timestamptz,
    resolved_by      integer REFERENCES users(id),
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX alerts_one_open ON alerts (device_id, alert_type) WHERE resolved_at IS NULL;
CREATE INDEX alerts_device_created ON alerts (device_id, created_at DESC);
CREATE INDEX alerts_open_severity ON alerts (severity, last_seen_at DESC) WHERE resolved_at IS NULL;

-- every transition of every alert, for audit
CREATE TABLE alert_events (
    id        bigserial PRIMARY KEY,
    alert_id  bigint      NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    at        timestamptz NOT NULL DEFAULT now(),
    event     varchar(16) NOT NULL CHECK (event IN ('opened', 'repeated', 'acknowledged', 'resolved', 'escalated')),
    user_id   integer REFERENCES users(id),
    details   jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, at);

-- high-water mark per device and stream; moves in the same transaction as the rows
CREATE TABLE ingest_cursors (
    device_id   varchar(50) NOT NULL,
    stream      varchar(32) NOT NULL,
    high_water  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, stream)
);

-- one row per worker cycle: the figures the app shows about ingest health
CREATE TABLE ingest_runs (
    id               bigserial PRIMARY KEY,
    started_at       timestamptz NOT NULL,
    finished_at      timestamptz,
    devices_polled   integer NOT NULL DEFAULT 0,
    rows_stored      integer NOT NULL DEFAULT 0,
    rows_rejected    integer NOT NULL DEFAULT 0,
    alerts_opened    integer NOT NULL DEFAULT 0,
    alerts_resolved  integer NOT NULL DEFAULT 0,
    max_lag_seconds  double precision,
    errors           integer NOT NULL DEFAULT 0,
    note             text
);
CREATE INDEX ingest_runs_started ON ingest_runs (started_at DESC);

CREATE TABLE notification_outbox (
    id               bigserial PRIMARY KEY,
    alert_id         bigint      NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    channel          varchar(16) NOT NULL CHECK (channel IN ('webhook', 'email')),
    idempotency_key  text        NOT NULL UNIQUE,
    payload          jsonb       NOT NULL,
    status           varchar(16) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz
);
CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at) WHERE status = 'pending';
"""

DEFAULT_RULES = """
INSERT INTO alert_rules (alert_type, description, severity, threshold, clear_threshold, duration_minutes, window_days) VALUES
 ('low_soc',          'SOC below threshold (%)',                     'critical', 10,    15,    0,   NULL),
 ('deep_discharge',   'SOC at or below threshold (%) for duration',  'critical', 0,     5,     30,  NULL),
 ('high_temp',        'Temperature above threshold (degC)',          'critical', 55,    50,    0,   NULL),
 ('soh_degradation',  'SOH below threshold (%)',                     'warning',  80,    81,    0,   NULL),
 ('overcurrent',      'Current magnitude above threshold (A)',       'warning',  100,   90,    0,   NULL),
 ('overvoltage',      'Voltage above threshold (V, 51.2 V pack)',    'warning',  58.4,  57.6,  0,   NULL),
 ('undervoltage',     'Voltage below threshold (V, 51.2 V pack)',    'critical', 42,    44,    0,   NULL),
 ('no_communication', 'No data for longer than duration',            'warning',  NULL,  NULL,  360, NULL),
 ('rapid_soh_drop',   'SOH drop above threshold (points) in window', 'critical', 5,     NULL,  0,   30),
 ('excessive_cycles', 'Charge cycles above threshold',               'info',     1500,  NULL,  0,   NULL);
"""

# Column expressions of seed 000 section 3.2; plain mode keeps tables of the same shape.
HOURLY = """
    avg(soc) AS avg_soc, min(soc) AS min_soc, max(soc) AS max_soc,
    avg(voltage) AS avg_voltage, min(voltage) AS min_voltage, max(voltage) AS max_voltage,
    avg(current) AS avg_current, avg(temperature) AS avg_temp, max(temperature) AS max_temp,
    max(charge_cycle) AS charge_cycle, avg(soh) AS avg_soh, count(*) AS reading_count
"""
DAILY = """
    avg(soc) AS avg_soc, min(soc) AS min_soc, max(soc) AS max_soc,
    avg(voltage) AS avg_voltage, avg(current) AS avg_current,
    avg(temperature) AS avg_temp, max(temperature) AS max_temp,
    max(charge_cycle) AS charge_cycle, min(soh) AS min_soh, count(*) AS reading_count
"""

PLAIN_ROLLUPS = """
CREATE TABLE telemetry.battery_hourly (
    bucket timestamptz NOT NULL, device_id varchar(50) NOT NULL,
    avg_soc double precision, min_soc real, max_soc real,
    avg_voltage double precision, min_voltage real, max_voltage real,
    avg_current double precision, avg_temp double precision, max_temp real,
    charge_cycle integer, avg_soh double precision, reading_count bigint NOT NULL,
    PRIMARY KEY (device_id, bucket)
);
CREATE INDEX battery_hourly_bucket ON telemetry.battery_hourly (bucket);
CREATE TABLE telemetry.battery_daily (
    bucket timestamptz NOT NULL, device_id varchar(50) NOT NULL,
    avg_soc double precision, min_soc real, max_soc real,
    avg_voltage double precision, avg_current double precision,
    avg_temp double precision, max_temp real,
    charge_cycle integer, min_soh real, reading_count bigint NOT NULL,
    PRIMARY KEY (device_id, bucket)
);
CREATE INDEX battery_daily_bucket ON telemetry.battery_daily (bucket);
"""


def _timescale_upgrade(retention_days: int) -> None:
    for table in ("battery_readings", "gps_readings"):
        op.execute(
            f"SELECT create_hypertable('telemetry.{table}', by_range('time', INTERVAL '1 day'), migrate_data => true)"
        )
    # Continuous aggregates cannot be created inside a transaction.
    with op.get_context().autocommit_block():
        for name, columns in (("battery_hourly", HOURLY), ("battery_daily", DAILY)):
            width = "1 hour" if name == "battery_hourly" else "1 day"
            op.execute(
                f"""CREATE MATERIALIZED VIEW telemetry.{name}
                    WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
                    SELECT time_bucket(INTERVAL '{width}', time) AS bucket, device_id, {columns}
                    FROM telemetry.battery_readings GROUP BY 1, 2 WITH NO DATA"""
            )
    op.execute("""SELECT add_continuous_aggregate_policy('telemetry.battery_hourly',
        start_offset => INTERVAL '3 hours', end_offset => INTERVAL '30 minutes',
        schedule_interval => INTERVAL '30 minutes')""")
    op.execute("""SELECT add_continuous_aggregate_policy('telemetry.battery_daily',
        start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour',
        schedule_interval => INTERVAL '1 hour')""")
    for table in ("battery_readings", "gps_readings"):
        op.execute(f"""ALTER TABLE telemetry.{table} SET (timescaledb.compress,
            timescaledb.compress_segmentby = 'device_id', timescaledb.compress_orderby = 'time DESC')""")
        op.execute(f"SELECT add_compression_policy('telemetry.{table}', INTERVAL '7 days')")
        op.execute(f"SELECT add_retention_policy('telemetry.{table}', INTERVAL '{int(retention_days)} days')")


def upgrade() -> None:
    settings = config.get()
    op.execute(REGISTRY)
    op.execute(TELEMETRY)
    op.execute(ALERTS_AND_INGEST)
    op.execute(DEFAULT_RULES)
    mode = storage.choose(op.get_bind(), settings.storage_mode)
    if mode == storage.TIMESCALEDB:
        _timescale_upgrade(settings.retention_days)
    else:
        op.execute(PLAIN_ROLLUPS)
    op.execute(
        f"INSERT INTO app_meta (key, value) VALUES ('storage_mode', '{mode}'), "
        f"('retention_days', '{int(settings.retention_days)}')"
    )


def downgrade() -> None:
    mode = storage.current(op.get_bind())
    if mode == storage.TIMESCALEDB:
        with op.get_context().autocommit_block():
            op.execute("DROP MATERIALIZED VIEW IF EXISTS telemetry.battery_daily")
            op.execute("DROP MATERIALIZED VIEW IF EXISTS telemetry.battery_hourly")
    op.execute("""
        DROP SCHEMA telemetry CASCADE;
        DROP TABLE notification_outbox, ingest_runs, ingest_cursors, alert_events, alerts, alert_rules,
                   device_state, devices, batteries, login_failures, users, dealers, app_meta;
    """)
    if mode == storage.TIMESCALEDB:
        op.execute("DROP EXTENSION IF EXISTS timescaledb")
