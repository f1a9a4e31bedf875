"""The system page's figures on the real app database: every active device in one lag bucket, the
readings table among the largest, both rollups measured, TimescaleDB figures only where it runs."""
from __future__ import annotations

from datetime import datetime, timezone

from data import storage, system, telemetry


def test_every_active_device_is_in_one_lag_bucket(app_db):
    buckets = system.lag_distribution(app_db)
    assert [b["bucket"] for b in buckets] == ["under 5 min", "5-15 min", "15-60 min", "1-24 h", "over 24 h", "never"]
    assert sum(b["devices"] for b in buckets) == app_db.scalar("SELECT count(*) FROM devices WHERE is_active")


def test_sizes_rollups_and_the_optional_parts(app_db):
    sizes = {r["name"]: r for r in system.table_sizes(app_db)}
    assert "telemetry.battery_readings" in sizes and sizes["telemetry.battery_readings"]["bytes"] > 0
    assert system.database_size(app_db) >= sum(r["bytes"] for r in sizes.values())
    rollups = {r["rollup"]: r for r in system.rollup_lag(app_db)}
    assert set(rollups) == {"telemetry.battery_hourly", "telemetry.battery_daily"}
    assert rollups["telemetry.battery_hourly"]["behind_seconds"] is not None
    info = system.timescale(app_db)
    assert (info is None) == (app_db.storage_mode == storage.POSTGRES)
    if info is not None:   # TimescaleDB: its catalogue read, the readings a hypertable, its policies listed
        assert info["unreadable"] is None
        assert "telemetry.battery_readings" in {h["name"] for h in info["hypertables"]}
        assert info["jobs"] and all(j["proc_name"] for j in info["jobs"])
    statements = system.slow_statements(app_db)
    assert statements is None or isinstance(statements, list)


def test_ingest_totals_count_the_recorded_cycles(app_db):
    before = system.ingest_totals(app_db)
    now = datetime.now(timezone.utc)
    telemetry.record_run(app_db, {"started_at": now, "devices_polled": 40, "rows_stored": 1200, "rows_rejected": 3,
                                  "alerts_opened": 0, "alerts_resolved": 0, "max_lag_seconds": 65.0, "errors": 0,
                                  "note": None, "vendor_calls": 81, "vendor_retries": 2, "vendor_throttled": 1,
                                  "vendor_reauths": 0})
    try:
        after = system.ingest_totals(app_db)
        assert after["cycles"] == before["cycles"] + 1
        assert (after["rows_stored"] - before["rows_stored"], after["vendor_calls"] - before["vendor_calls"],
                after["vendor_throttled"] - before["vendor_throttled"]) == (1200, 81, 1)
        assert system.ingest_runs(app_db, limit=1)[0]["vendor_retries"] == 2
    finally:
        app_db.execute("DELETE FROM ingest_runs WHERE started_at = :t", t=now)
