"""Battery health: charge sessions, a daily SOH ledger, the current health of every battery, RUL
model versions, warranty terms per model, claim evidence packs and fleet health reports.

- ``telemetry.charge_sessions``: one row per charge found in the readings as they arrive (an open
  one is updated while the charge goes on), with the ampere-hours and energy into the pack; a
  session spanning enough SOC carries its own capacity estimate. Trips and energy build on it.
- ``battery_health_daily``: per device and IST day, the BMS SOH and whether it is reported, stuck
  or absent, our estimate from charging with its band, the SOH we show and its source, misuse
  minutes (deep discharge, over-temperature, over-current, charging when hot), temperature
  reporting, and the EKF SOC cross-check.
- ``battery_health``: one current row per device (the health page and the battery page read it).
- ``rul_models``: every fade-model version with when and on what it was trained and its error.
- ``battery_models``: warranty terms (months, cycles, SOH floor) per model, edited by admins, with
  ``battery_model_changes`` keeping who changed what.
- ``claim_packs``: warranty claim evidence packs (PDF), drafts made automatically.
- ``health_reports`` / ``report_recipients``: the daily fleet health report and who gets it.
- ``dealer_scores``: the dealer league table of each day (score and its parts).
- ``job_runs``: once-a-day jobs claim their day here, so two workers never run one twice.

Plain tables in both storage modes: a row per device per day (or per charge) is small next to
the readings.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE battery_models (
            model              text PRIMARY KEY,
            rated_capacity_ah  real        NOT NULL CHECK (rated_capacity_ah > 0),
            warranty_months    integer     NOT NULL CHECK (warranty_months BETWEEN 1 AND 240),
            warranty_cycles    integer     NOT NULL CHECK (warranty_cycles BETWEEN 1 AND 20000),
            warranty_soh_floor real        NOT NULL CHECK (warranty_soh_floor BETWEEN 50 AND 100),
            updated_at         timestamptz NOT NULL DEFAULT now(),
            updated_by         text
        );
        INSERT INTO battery_models (model, rated_capacity_ah, warranty_months, warranty_cycles, warranty_soh_floor)
        SELECT model, max(capacity_ah), max(warranty_months), max(warranty_cycles), 80
        FROM batteries GROUP BY model;

        CREATE TABLE battery_model_changes (
            id         bigserial PRIMARY KEY,
            model      text        NOT NULL,
            changed_at timestamptz NOT NULL DEFAULT now(),
            changed_by text        NOT NULL,
            before     jsonb,
            after      jsonb       NOT NULL
        );
        CREATE INDEX battery_model_changes_at ON battery_model_changes (changed_at DESC);

        CREATE TABLE telemetry.charge_sessions (
            id               bigserial PRIMARY KEY,
            device_id        varchar(50)  NOT NULL,
            battery_serial   varchar(100),
            start_time       timestamptz  NOT NULL,
            end_time         timestamptz  NOT NULL,
            is_open          boolean      NOT NULL DEFAULT false,
            soc_start        real,
            soc_end          real,
            ah_in            double precision,
            energy_kwh       double precision,
            peak_current     real,
            peak_temperature real,
            mean_temperature real,
            latitude         double precision,
            longitude        double precision,
            readings         integer      NOT NULL DEFAULT 0,
            max_gap_s        real,
            soh_estimate     real,
            -- an open session's last reading and temperature count: the next poll carries on from them
            last_current     real,
            last_voltage     real,
            temperature_readings integer NOT NULL DEFAULT 0,
            updated_at       timestamptz  NOT NULL DEFAULT now(),
            CONSTRAINT charge_sessions_device_start UNIQUE (device_id, start_time)
        );
        CREATE INDEX charge_sessions_device_end ON telemetry.charge_sessions (device_id, end_time DESC);
        CREATE INDEX charge_sessions_start ON telemetry.charge_sessions (start_time DESC);
        CREATE UNIQUE INDEX charge_sessions_one_open ON telemetry.charge_sessions (device_id) WHERE is_open;

        CREATE TABLE battery_health_daily (
            device_id          varchar(50) NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
            day                date        NOT NULL,
            battery_serial     varchar(100),
            readings           integer     NOT NULL DEFAULT 0,
            bms_soh            real,
            bms_status         varchar(12) NOT NULL CHECK (bms_status IN ('reported', 'stuck', 'absent')),
            est_soh            real,
            est_low            real,
            est_high           real,
            est_sessions       integer     NOT NULL DEFAULT 0,
            soh                real,
            soh_source         varchar(16) NOT NULL CHECK (soh_source IN ('measured', 'estimated', 'not_measured')),
            charge_cycles      integer,
            age_days           integer,
            temp_readings      integer     NOT NULL DEFAULT 0,
            mean_temperature   real,
            deep_discharge_min real        NOT NULL DEFAULT 0,
            over_temp_min      real        NOT NULL DEFAULT 0,
            over_current_min   real        NOT NULL DEFAULT 0,
            hot_charge_min     real        NOT NULL DEFAULT 0,
            worst_temperature  real,
            worst_current      real,
            lowest_soc         real,
            soc_check          varchar(12) CHECK (soc_check IN ('ok', 'calibration', 'not_checked')),
            soc_diff           real,
            computed_at        timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (device_id, day)
        );
        CREATE INDEX battery_health_daily_day ON battery_health_daily (day);

        CREATE TABLE rul_models (
            id          serial PRIMARY KEY,
            version     text        NOT NULL UNIQUE,
            kind        text        NOT NULL,
            trained_at  timestamptz NOT NULL DEFAULT now(),
            trained_on  text        NOT NULL,
            params      jsonb       NOT NULL,
            error       jsonb       NOT NULL DEFAULT '{}',
            is_active   boolean     NOT NULL DEFAULT false
        );
        CREATE UNIQUE INDEX rul_models_one_active ON rul_models (is_active) WHERE is_active;

        CREATE TABLE battery_health (
            device_id           varchar(50) PRIMARY KEY REFERENCES devices(device_id) ON DELETE CASCADE,
            battery_serial      varchar(100),
            as_of               date        NOT NULL,
            soh                 real,
            soh_source          varchar(16) NOT NULL CHECK (soh_source IN ('measured', 'estimated', 'not_measured')),
            soh_low             real,
            soh_high            real,
            bms_status          varchar(12) NOT NULL,
            est_sessions        integer     NOT NULL DEFAULT 0,
            charge_cycles       integer,
            age_days            integer,
            fade_per_month      real,
            fade_per_100_cycles real,
            rul_status          varchar(16) NOT NULL CHECK (rul_status IN ('forecast', 'not_enough_data', 'reached')),
            rul_reason          text        NOT NULL,
            eol_p10             date,
            eol_p50             date,
            eol_p90             date,
            forecast_curve      jsonb,
            model_version       text,
            warranty_end        date,
            warranty_floor      real,
            warranty_status     varchar(16) NOT NULL
                CHECK (warranty_status IN ('ok', 'at_risk', 'below_floor', 'expired', 'unknown')),
            floor_p50           date,
            soc_check           varchar(12),
            soc_diff            real,
            temp_share          real,
            mean_temperature    real,
            updated_at          timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX battery_health_warranty ON battery_health (warranty_status);

        CREATE TABLE claim_packs (
            id             bigserial PRIMARY KEY,
            device_id      varchar(50)  NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
            battery_serial varchar(100),
            created_at     timestamptz  NOT NULL DEFAULT now(),
            created_by     integer REFERENCES users(id),
            automatic      boolean      NOT NULL DEFAULT false,
            status         varchar(12)  NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'submitted', 'closed')),
            reason         text         NOT NULL,
            soh            real,
            pdf            bytea        NOT NULL
        );
        CREATE INDEX claim_packs_device ON claim_packs (device_id, created_at DESC);
        CREATE UNIQUE INDEX claim_packs_one_automatic ON claim_packs (device_id) WHERE automatic;

        CREATE TABLE report_recipients (
            id         serial PRIMARY KEY,
            email      text        NOT NULL,
            dealer_id  integer REFERENCES dealers(id) ON DELETE CASCADE,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT report_recipients_once UNIQUE NULLS NOT DISTINCT (email, dealer_id)
        );

        CREATE TABLE health_reports (
            id          bigserial PRIMARY KEY,
            as_of       date        NOT NULL,
            dealer_id   integer REFERENCES dealers(id) ON DELETE CASCADE,
            scope_label text        NOT NULL,
            created_at  timestamptz NOT NULL DEFAULT now(),
            batteries   integer     NOT NULL,
            pdf         bytea       NOT NULL,
            xlsx        bytea       NOT NULL,
            sent_to     text[]      NOT NULL DEFAULT '{}',
            send_error  text
        );
        CREATE UNIQUE INDEX health_reports_once ON health_reports (as_of, coalesce(dealer_id, 0));

        CREATE TABLE dealer_scores (
            day              date    NOT NULL,
            dealer_id        integer NOT NULL REFERENCES dealers(id) ON DELETE CASCADE,
            batteries        integer NOT NULL,
            avg_soh          real,
            fade_per_month   real,
            misuse_per_1000  real,
            alerts_per_1000  real,
            uptime_pct       real,
            score            real,
            components       jsonb   NOT NULL DEFAULT '{}',
            PRIMARY KEY (day, dealer_id)
        );

        CREATE TABLE job_runs (
            job         varchar(32) NOT NULL,
            period      date        NOT NULL,
            started_at  timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz,
            detail      text,
            PRIMARY KEY (job, period)
        );
    """)


def downgrade() -> None:
    op.execute("""
        DROP TABLE job_runs;
        DROP TABLE dealer_scores;
        DROP TABLE health_reports;
        DROP TABLE report_recipients;
        DROP TABLE claim_packs;
        DROP TABLE battery_health;
        DROP TABLE rul_models;
        DROP TABLE battery_health_daily;
        DROP TABLE telemetry.charge_sessions;
        DROP TABLE battery_model_changes;
        DROP TABLE battery_models;
    """)
