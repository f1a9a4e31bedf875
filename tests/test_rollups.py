"""Hourly and daily rollups read the same in both storage modes."""
from datetime import datetime, timedelta, timezone

import pytest

from data import rollups

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=timezone.utc)


def insert(db, rows):
    with db.transaction() as conn:
        from data.db import text
        conn.execute(text("""INSERT INTO telemetry.battery_readings (time, device_id, soc, voltage, current,
                                                                     temperature, soh, charge_cycle)
                             VALUES (:t, :d, :soc, :v, :i, :temp, :soh, :cyc) ON CONFLICT DO NOTHING"""), rows)
        rollups.refresh_touched(conn, [(r["d"], r["t"]) for r in rows])


def reading(minutes, device="D1", soc=50.0, **kw):
    return dict(t=T0 + timedelta(minutes=minutes), d=device, soc=soc, v=kw.get("v", 52.0), i=kw.get("i", -10.0),
                temp=kw.get("temp", 30.0), soh=kw.get("soh", 98.0), cyc=kw.get("cyc", 100))


def test_hourly_and_daily_values(any_db):
    insert(any_db, [reading(0, soc=40), reading(30, soc=60), reading(70, soc=80, cyc=101),
                    reading(5, device="D2", soc=10)])
    rollups.refresh_range(any_db, T0 - timedelta(days=1), T0 + timedelta(days=1))
    hourly = rollups.read_series(any_db, ["D1"], T0, T0 + timedelta(hours=3), "hour")
    assert list(hourly["soc"].round(3)) == [50.0, 80.0]
    assert list(hourly["charge_cycle"]) == [100, 101]
    daily = rollups.read_series(any_db, ["D1", "D2"], T0 - timedelta(days=1), T0 + timedelta(days=1), "day")
    by_device = daily.set_index("device_id")
    assert by_device.loc["D1", "soc"] == pytest.approx(60.0)
    assert by_device.loc["D2", "soc"] == pytest.approx(10.0)


def test_late_rows_update_their_bucket_and_replays_change_nothing(any_db):
    insert(any_db, [reading(0, soc=40)])
    insert(any_db, [reading(10, soc=60)])            # a late row in the same hour
    insert(any_db, [reading(0, soc=99)])             # a replay of the first timestamp: ignored
    rollups.refresh_range(any_db, T0 - timedelta(days=1), T0 + timedelta(days=1))
    hourly = rollups.read_series(any_db, ["D1"], T0, T0 + timedelta(hours=1), "hour")
    assert hourly["soc"].tolist() == [pytest.approx(50.0)]
    count = any_db.scalar("SELECT reading_count FROM telemetry.battery_hourly WHERE device_id = 'D1'")
    assert count == 2


def test_plain_refresh_touches_only_new_buckets(plain_db):
    insert(plain_db, [reading(0, soc=40), reading(24 * 60, soc=70)])
    # Tamper with yesterday's stored bucket: a refresh for today's rows must leave it alone.
    plain_db.execute("UPDATE telemetry.battery_hourly SET avg_soc = -1 WHERE bucket = :b", b=T0)
    insert(plain_db, [reading(24 * 60 + 5, soc=90)])
    rows = {r["bucket"]: r["avg_soc"] for r in plain_db.query("SELECT bucket, avg_soc FROM telemetry.battery_hourly")}
    assert rows[T0] == -1
    assert rows[T0 + timedelta(days=1)] == pytest.approx(80.0)


def test_raw_series_for_short_ranges(any_db):
    insert(any_db, [reading(m, soc=50 + m) for m in range(0, 30, 5)])
    raw = rollups.read_series(any_db, ["D1"], T0, T0 + timedelta(hours=1), rollups.resolution_for(1))
    assert len(raw) == 6 and raw["soc"].iloc[-1] == 75
    assert rollups.resolution_for(7 * 24) == "hour" and rollups.resolution_for(90 * 24) == "day"
