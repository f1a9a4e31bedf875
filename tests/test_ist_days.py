"""The daily battery rollup counts Indian Standard Time days (issue #8), in both storage modes:
its buckets, migration 0005 up and down, the KPI that compares against a month ago, and the trip
table's lowest SOC of the day."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

import config
from components.battery import create_trip_table
from data import battery, demo, fleet, migrate, rollups, storage, telemetry
from data.db import text
from data.scope import Scope

IST = ZoneInfo("Asia/Kolkata")
WHOLE = Scope("manager", 1)
# 18:00 UTC is 23:30 IST on 2 Nov; 19:00 UTC is 00:30 IST on 3 Nov: one UTC day, two IST days.
BEFORE_IST_MIDNIGHT = datetime(2026, 11, 2, 18, 0, tzinfo=timezone.utc)
AFTER_IST_MIDNIGHT = datetime(2026, 11, 2, 19, 0, tzinfo=timezone.utc)


def _device(db) -> str:
    vehicle = demo.fleet(size=1)[0]
    demo.seed_registry(db, [vehicle])
    return vehicle.device_id


def _reading(device: str, at: datetime, soc: float, soh: float = 95.0) -> dict:
    return {"time": at, "device_id": device, "battery_id": None, "soc": soc, "soh": soh, "voltage": 52.0,
            "current": -10.0, "charge_cycle": 300, "temperature": 31.0, "power_watts": None}


def _store(db, readings: list[dict]) -> None:
    """Through the ingest writer, which refreshes the plain rollups; TimescaleDB's are materialized
    here, as its refresh policy would do later."""
    telemetry.store(db, battery=readings)
    if db.storage_mode == storage.TIMESCALEDB:
        times = [r["time"] for r in readings]
        rollups.refresh_range(db, min(times) - timedelta(days=2), max(times) + timedelta(days=2))


def _daily(db) -> dict[datetime, dict]:
    return {r["bucket"]: r for r in db.query(
        "SELECT bucket, min_soc, max_soc, reading_count FROM telemetry.battery_daily ORDER BY bucket")}


def _ist_midnight(day: int) -> datetime:
    return datetime(2026, 11, day, tzinfo=IST).astimezone(timezone.utc)


def test_readings_either_side_of_ist_midnight_land_in_two_ist_day_buckets(any_db):
    device = _device(any_db)
    telemetry.store(any_db, battery=[_reading(device, BEFORE_IST_MIDNIGHT, 40),
                                     _reading(device, AFTER_IST_MIDNIGHT, 70)])
    # TimescaleDB answers before any refresh too (real-time aggregation), and must agree.
    states = ["written"] + (["materialized"] if any_db.storage_mode == storage.TIMESCALEDB else [])
    for state in states:
        if state == "materialized":
            rollups.refresh_range(any_db, BEFORE_IST_MIDNIGHT - timedelta(days=2),
                                  AFTER_IST_MIDNIGHT + timedelta(days=2))
        daily = _daily(any_db)
        assert list(daily) == [_ist_midnight(2), _ist_midnight(3)], (state, daily)
        assert [(r["min_soc"], r["reading_count"]) for r in daily.values()] == [(40, 1), (70, 1)], state
        # Midnight in Asia/Kolkata, told by the database itself, whatever the session's zone.
        assert any_db.scalar("""SELECT bool_and((bucket AT TIME ZONE 'Asia/Kolkata')::time = '00:00')
                                FROM telemetry.battery_daily""")
    series = rollups.read_series(any_db, [device], _ist_midnight(1), _ist_midnight(4), "day")
    assert [t.astimezone(IST).date().day for t in series["time"]] == [2, 3]


def test_plain_refresh_buckets_by_ist_day_in_any_session_time_zone(plain_db):
    device = _device(plain_db)
    with plain_db.transaction() as conn:
        conn.execute(text("SET LOCAL TimeZone = 'America/New_York'"))
        conn.execute(text("""INSERT INTO telemetry.battery_readings (time, device_id, soc)
                             VALUES (:a, :d, 40), (:b, :d, 70)"""),
                     {"a": BEFORE_IST_MIDNIGHT, "b": AFTER_IST_MIDNIGHT, "d": device})
        rollups.refresh_touched(conn, [(device, BEFORE_IST_MIDNIGHT), (device, AFTER_IST_MIDNIGHT)])
    daily = _daily(plain_db)
    assert list(daily) == [_ist_midnight(2), _ist_midnight(3)]
    assert [r["min_soc"] for r in daily.values()] == [40, 70]


def _migrate(db, revision: str, up: bool, monkeypatch) -> None:
    monkeypatch.setenv("STORAGE_MODE", db.storage_mode)
    config.reset()
    (migrate.upgrade if up else migrate.downgrade)(db.url, revision)
    config.reset()
    db.dispose()  # pooled sessions planned against the relation that was replaced


def _timescale_daily(db) -> dict:
    """What 0001 promised of the continuous aggregate: real-time on and a refresh policy."""
    return {"materialized_only": db.scalar("""SELECT materialized_only
                                              FROM timescaledb_information.continuous_aggregates
                                              WHERE view_name = 'battery_daily'"""),
            "policies": db.scalar("""SELECT count(*) FROM timescaledb_information.jobs
                                     WHERE proc_name = 'policy_refresh_continuous_aggregate'
                                       AND hypertable_name = 'battery_daily'""")}


def test_migration_0005_down_to_utc_days_and_up_again(any_db, monkeypatch):
    device = _device(any_db)
    _store(any_db, [_reading(device, BEFORE_IST_MIDNIGHT, 40), _reading(device, AFTER_IST_MIDNIGHT, 70)])
    assert list(_daily(any_db)) == [_ist_midnight(2), _ist_midnight(3)]

    _migrate(any_db, "0004", False, monkeypatch)
    assert any_db.scalar("SELECT version_num FROM alembic_version") == "0004"
    daily = _daily(any_db)
    assert list(daily) == [datetime(2026, 11, 2, tzinfo=timezone.utc)]
    assert daily[datetime(2026, 11, 2, tzinfo=timezone.utc)]["reading_count"] == 2
    if any_db.storage_mode == storage.TIMESCALEDB:
        assert _timescale_daily(any_db) == {"materialized_only": False, "policies": 1}

    _migrate(any_db, "head", True, monkeypatch)
    assert any_db.scalar("SELECT version_num FROM alembic_version") >= "0005"  # and the ones after it
    daily = _daily(any_db)
    assert list(daily) == [_ist_midnight(2), _ist_midnight(3)]
    assert [r["min_soc"] for r in daily.values()] == [40, 70]
    if any_db.storage_mode == storage.TIMESCALEDB:
        assert _timescale_daily(any_db) == {"materialized_only": False, "policies": 1}
    # New readings after the migration go on landing in IST days.
    _store(any_db, [_reading(device, AFTER_IST_MIDNIGHT + timedelta(hours=1), 20)])
    assert _daily(any_db)[_ist_midnight(3)]["min_soc"] == 20


def test_after_the_migration_todays_new_readings_still_count(any_db, monkeypatch):
    """TimescaleDB: the migration must not materialize today, or later readings would not show in
    today's bucket until the day is over (the refresh policy leaves a day it has not finished)."""
    device = _device(any_db)
    now = datetime.now(timezone.utc)
    telemetry.store(any_db, battery=[_reading(device, now - timedelta(minutes=2), 60)])
    _migrate(any_db, "0004", False, monkeypatch)
    _migrate(any_db, "head", True, monkeypatch)
    telemetry.store(any_db, battery=[_reading(device, now - timedelta(minutes=1), 7)])
    today = any_db.one("""SELECT min_soc, reading_count FROM telemetry.battery_daily
                          WHERE bucket = date_trunc('day', CAST(:t AS timestamptz), 'Asia/Kolkata')""",
                       t=now - timedelta(minutes=1))
    assert today is not None and today["min_soc"] == 7


def test_migration_keeps_daily_rows_whose_readings_retention_deleted(any_db, monkeypatch):
    device = _device(any_db)
    utc_day = datetime(2026, 11, 2, tzinfo=timezone.utc)
    _store(any_db, [_reading(device, utc_day + timedelta(hours=h), 30 + h) for h in range(0, 24, 2)])
    _migrate(any_db, "0004", False, monkeypatch)  # the UTC-day rollup that 0005 starts from
    # Retention takes the oldest readings; the UTC day's rollup row still counts all twelve.
    any_db.execute("DELETE FROM telemetry.battery_readings WHERE time < :t", t=utc_day + timedelta(hours=12))

    _migrate(any_db, "head", True, monkeypatch)
    archived = any_db.query("SELECT bucket, min_soc, reading_count FROM telemetry.battery_daily_utc_archive")
    assert archived == [{"bucket": utc_day, "min_soc": 30, "reading_count": 12}]
    # What the readings left still gives: 12:00-18:00 UTC on IST 2 Nov, 20:00 and 22:00 on IST 3 Nov.
    assert [(r["min_soc"], r["reading_count"]) for r in _daily(any_db).values()] == [(42, 4), (50, 2)]

    _migrate(any_db, "0004", False, monkeypatch)
    if any_db.storage_mode == storage.POSTGRES:
        assert [(b, r["reading_count"]) for b, r in _daily(any_db).items()] == [(utc_day, 12)]
        assert any_db.scalar("SELECT to_regclass('telemetry.battery_daily_utc_archive')") is None
    else:  # a continuous aggregate cannot take rows back: the archive stays, and a new upgrade keeps it
        assert any_db.scalar("SELECT count(*) FROM telemetry.battery_daily_utc_archive") == 1
        _migrate(any_db, "head", True, monkeypatch)
        assert any_db.scalar("SELECT count(*) FROM telemetry.battery_daily_utc_archive") == 1


def test_trip_table_shows_the_ist_days_lowest_soc_beside_the_midnight_socs(any_db):
    device = _device(any_db)
    start, end = _ist_midnight(2), _ist_midnight(3)
    # A working day: full at both midnights, down to 35 % in the afternoon. Lower readings just
    # outside the IST day (23:30 IST the night before, 00:30 IST after) belong to other days.
    day = [_reading(device, start + timedelta(minutes=m), 100 - 65 * (1 - abs(m - 900) / 900))
           for m in range(0, 24 * 60, 30)]
    outside = [_reading(device, start - timedelta(minutes=30), 12), _reading(device, end + timedelta(minutes=30), 9)]
    _store(any_db, day + outside)
    telemetry.store(any_db, trips=[{
        "device_id": device, "start_time": start, "end_time": end, "start_odometer": 1000.0,
        "end_odometer": 1082.0, "distance_km": 82.0, "start_latitude": None, "start_longitude": None,
        "end_latitude": None, "end_longitude": None, "last_ign_on": None, "last_ign_off": None}],
        energy=[{"device_id": device, "start_time": start, "end_time": end, "energy_used_kwh": 3.7,
                 "start_soc": 100.0, "end_soc": 99.0, "last_ign_on": None, "last_ign_off": None,
                 "charging_events": []}])

    [trip] = battery.trips(any_db, WHOLE, device)
    lowest = min(r["soc"] for r in day)
    assert lowest == pytest.approx(35.0)
    assert trip["lowest_soc"] == pytest.approx(lowest)

    table = create_trip_table([trip])
    header = [th.children for th in table.children[0].children.children]
    assert header == ["Day", "Distance km", "Energy kWh", "km per kWh", "SOC 00:00 → 24:00", "Lowest SOC"]
    cells = [td.children for td in table.children[1].children[0].children]
    assert cells[0] == "Mon 02 Nov 2026"
    assert cells[4] == "100 → 99 %" and cells[5] == "35 %"
    # Out of scope the row, its lowest SOC included, is not there at all.
    other_dealer = any_db.scalar("SELECT id FROM dealers WHERE id <> (SELECT dealer_id FROM devices) LIMIT 1")
    assert battery.trips(any_db, Scope("dealer", 2, other_dealer), device) == []


def test_month_ago_soh_is_the_first_ist_day_of_the_last_30(any_db):
    device = _device(any_db)
    now_ist = datetime.now(IST)
    first_day = (now_ist - timedelta(days=30)).date()
    first_midnight = datetime.combine(first_day, datetime.min.time(), IST)
    _store(any_db, [
        _reading(device, first_midnight - timedelta(minutes=20), 50, soh=91.0),  # the day before: too old
        _reading(device, first_midnight + timedelta(minutes=10), 50, soh=96.0),
        _reading(device, datetime.now(timezone.utc) - timedelta(minutes=5), 80, soh=94.0)])
    k = fleet.kpis(any_db, WHOLE)
    assert k["past_soh_date"] == first_day
    assert k["past_soh"] == pytest.approx(96.0)
