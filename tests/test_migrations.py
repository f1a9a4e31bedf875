"""`alembic upgrade head` builds every relation in both storage modes; `downgrade base` removes them."""
import subprocess
import sys

import pytest

from conftest import ROOT
import config
from data import migrate

TABLES = {"dealers", "users", "batteries", "devices", "device_state", "alert_rules", "alerts", "alert_events",
          "ingest_cursors", "ingest_runs", "notification_outbox", "login_failures", "app_meta", "alert_marks",
          "alert_rule_changes", "api_keys", "user_sessions", "sites", "equipment", "meter_assignments",
          "import_progress"}
TELEMETRY = {"battery_readings", "gps_readings", "trips", "energy_consumption", "rejected_readings",
             "fleet_distance_daily", "meter_readings", "vehicle_energy", "site_power", "charge_sessions"}
ROLLUPS = {"battery_hourly", "battery_daily", "site_power_hourly", "site_power_daily"}


def relations(db, schema):
    return {r["name"] for r in db.query(
        """SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = :s AND c.relkind IN ('r', 'v', 'm', 'p')""", s=schema)}


def test_every_relation_exists(any_db):
    assert TABLES <= relations(any_db, "public")
    assert TELEMETRY | ROLLUPS <= relations(any_db, "telemetry")
    # The ten rules of seed 000 section 6, the fleet-wide feed silence and the two charging-efficiency rules.
    assert any_db.scalar("SELECT count(*) FROM alert_rules") == 13


def test_readings_unique_on_device_and_time(any_db):
    any_db.execute("INSERT INTO telemetry.battery_readings (time, device_id, soc) VALUES ('2026-01-01', 'D1', 50)")
    with pytest.raises(Exception, match="battery_readings_device_time"):
        any_db.execute("INSERT INTO telemetry.battery_readings (time, device_id, soc) VALUES ('2026-01-01', 'D1', 51)")


def test_plain_mode_has_rollup_tables(plain_db):
    kinds = dict((r["relname"], r["relkind"]) for r in plain_db.query(
        "SELECT relname, relkind FROM pg_class WHERE relname IN ('battery_hourly', 'battery_daily')"))
    assert kinds == {"battery_hourly": "r", "battery_daily": "r"}


@pytest.mark.timescaledb
def test_timescale_mode_objects(timescale_db):
    db = timescale_db
    hypertables = {r["hypertable_name"]: r for r in db.query(
        "SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables")}
    assert set(hypertables) == {"battery_readings", "gps_readings", "meter_readings", "vehicle_energy", "site_power"}
    assert hypertables["battery_readings"]["compression_enabled"] and hypertables["gps_readings"]["compression_enabled"]
    chunk = db.scalar("""SELECT time_interval FROM timescaledb_information.dimensions
                         WHERE hypertable_name = 'battery_readings'""")
    assert chunk.days == 1
    caggs = {r["view_name"]: r["materialized_only"] for r in db.query(
        "SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates")}
    assert caggs == {"battery_hourly": False, "battery_daily": False,  # real-time aggregation on
                     "site_power_hourly": False, "site_power_daily": False}
    jobs = {(r["proc_name"], r["hypertable_name"]) for r in db.query(
        "SELECT proc_name, hypertable_name FROM timescaledb_information.jobs WHERE job_id >= 1000")}
    assert {("policy_compression", "battery_readings"), ("policy_compression", "gps_readings"),
            ("policy_retention", "battery_readings"), ("policy_retention", "gps_readings"),
            ("policy_refresh_continuous_aggregate", "battery_hourly"),
            ("policy_refresh_continuous_aggregate", "battery_daily"),
            ("policy_refresh_continuous_aggregate", "site_power_hourly"),
            ("policy_refresh_continuous_aggregate", "site_power_daily")} <= jobs
    retention = db.scalar("""SELECT config->>'drop_after' FROM timescaledb_information.jobs
                             WHERE proc_name = 'policy_retention' AND hypertable_name = 'battery_readings'""")
    assert retention == "180 days"


def test_downgrade_base_then_upgrade_again(any_db, monkeypatch):
    mode = any_db.storage_mode
    migrate.downgrade(any_db.url)
    any_db.dispose()  # see below: sessions that saw the extension dropped must reconnect
    assert not relations(any_db, "telemetry")
    assert not (TABLES & relations(any_db, "public"))
    monkeypatch.setenv("STORAGE_MODE", mode)
    config.reset()
    migrate.upgrade(any_db.url)
    config.reset()
    # Sessions that saw the timescaledb extension dropped or re-created keep stale state:
    # reconnect, as a restarted app would.
    any_db.dispose()
    any_db._storage_mode = None
    assert any_db.storage_mode == mode
    assert TELEMETRY | ROLLUPS <= relations(any_db, "telemetry")


def test_alembic_command_line(plain_db):
    """What an operator types: the alembic CLI with DATABASE_URL."""
    env = {"DATABASE_URL": plain_db.url, "PATH": "/usr/bin:/bin"}
    alembic = [sys.executable, "-m", "alembic"]
    down = subprocess.run([*alembic, "downgrade", "base"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert down.returncode == 0, down.stderr
    up = subprocess.run([*alembic, "upgrade", "head"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert up.returncode == 0, up.stderr
    newest = max(p.name.split("_", 1)[0] for p in (ROOT / "data" / "migrations" / "versions").glob("0*.py"))
    assert plain_db.scalar("SELECT version_num FROM alembic_version") == newest
