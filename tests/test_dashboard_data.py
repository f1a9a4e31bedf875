"""The dashboard's queries (data/fleet.py, data/battery.py) on a real database, in both storage modes:
scope, filters, the status rules, stuck SOH, and the empty cases the pages must explain."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from data import battery, demo, fleet, rollups
from data.fleet import FleetFilter
from data.scope import Scope
from ingest import history

WHOLE = Scope("manager", 1)


def pins(db, scope, filt=FleetFilter()) -> dict[str, dict]:
    """The map's pins by device id, from the columns the map gets."""
    cols = fleet.map_pins(db, scope, filt)
    return {device: {k: cols[k][i] for k in cols} for i, device in enumerate(cols["id"])}


def _dealer_scope(db, code: str) -> Scope:
    return Scope("dealer", 2, db.scalar("SELECT id FROM dealers WHERE code = :c", c=code))


@pytest.fixture
def seeded(any_db):
    vehicles = demo.fleet(size=8)
    demo.seed_registry(any_db, vehicles)
    plan = history.demo_plan(1, full_hours=1)
    history.seed(any_db, vehicles, plan, processes=1)
    rollups.refresh_range(any_db, plan.start - timedelta(days=1), plan.now + timedelta(hours=1))
    return any_db, vehicles


def test_empty_fleet_answers_empty_not_errors(any_db):
    demo.seed_registry(any_db, [])
    k = fleet.kpis(any_db, WHOLE)
    assert k["batteries"] == 0 and k["avg_soh"] is None and k["charging"] == 0
    assert pins(any_db, WHOLE) == {}
    assert fleet.alert_feed(any_db, WHOLE) == []
    assert fleet.soc_distribution(any_db, WHOLE) == []
    assert fleet.daily_distance(any_db, WHOLE) == []
    assert fleet.data_as_of(any_db, WHOLE)["newest_reading"] is None


def test_device_without_readings(any_db):
    demo.seed_registry(any_db, demo.fleet(size=1))
    device = any_db.scalar("SELECT device_id FROM devices")
    info = battery.find(any_db, WHOLE, device)
    assert info is not None and info["reading_time"] is None and not battery.is_online(info)
    frame, resolution = battery.series(any_db, WHOLE, device, "24h", datetime.now(timezone.utc))
    assert frame.empty and resolution == "raw"
    assert battery.sessions(frame) == []
    assert battery.trail(any_db, WHOLE, device, "24h", datetime.now(timezone.utc)) == []
    assert battery.trips(any_db, WHOLE, device) == []
    assert pins(any_db, WHOLE) == {}  # no position yet: no pin
    assert fleet.kpis(any_db, WHOLE)["offline"] == 1


def test_dealer_sees_only_its_devices_even_when_asking_for_others(seeded):
    db, vehicles = seeded
    lucknow, delhi = _dealer_scope(db, "LKO01"), _dealer_scope(db, "DEL01")
    own = {v.device_id for v in vehicles if v.dealer_code == "LKO01"}
    other = next(v.device_id for v in vehicles if v.dealer_code == "DEL01")
    assert set(pins(db, lucknow)) == own
    assert fleet.kpis(db, lucknow)["batteries"] == len(own)
    # A filter naming the other dealer narrows the scope to nothing; it never widens it.
    assert pins(db, lucknow, FleetFilter(dealer_id=delhi.dealer_id)) == {}
    assert pins(db, lucknow, FleetFilter(city="Delhi")) == {}
    assert fleet.daily_distance(db, lucknow, FleetFilter(dealer_id=delhi.dealer_id)) == []
    assert fleet.alert_feed(db, lucknow, FleetFilter(dealer_id=delhi.dealer_id)) == []
    assert battery.find(db, lucknow, other) is None
    now = datetime.now(timezone.utc)
    assert battery.series(db, lucknow, other, "24h", now)[0].empty
    assert battery.trail(db, lucknow, other, "24h", now) == []
    assert battery.trips(db, lucknow, other) == []
    assert battery.find(db, delhi, other) is not None
    assert not battery.series(db, delhi, other, "24h", now)[0].empty
    assert battery.trail(db, delhi, other, "24h", now)


def test_series_uses_raw_for_short_ranges_and_rollups_for_long(seeded):
    db, vehicles = seeded
    now = datetime.now(timezone.utc)
    raw, resolution = battery.series(db, WHOLE, vehicles[0].device_id, "1h", now)
    assert resolution == "raw" and len(raw) > 60  # full 30 s resolution in the last hour
    hourly, resolution = battery.series(db, WHOLE, vehicles[0].device_id, "7d", now)
    assert resolution == "hour" and 20 <= len(hourly) <= 26
    assert hourly["soc"].between(0, 100).all()
    empty, _ = battery.series(db, WHOLE, vehicles[0].device_id, "1h", now - timedelta(days=60))
    assert empty.empty


def test_sessions_follow_the_sign_of_the_current():
    t0 = pd.Timestamp("2026-11-01T08:00Z")
    frame = pd.DataFrame({"time": [t0 + pd.Timedelta(minutes=m) for m in range(6)],
                          "current": [-20.0, -18.0, 0.2, 30.0, 31.0, 30.5]})
    blocks = battery.sessions(frame)
    assert [b["kind"] for b in blocks] == ["discharge", "rest", "charge"]
    assert blocks[0]["start"] == t0 and blocks[-1]["end"] == t0 + pd.Timedelta(minutes=5)


def test_status_rules_and_stuck_soh(seeded):
    db, vehicles = seeded
    a, b, c, d = (v.device_id for v in vehicles[:4])
    db.execute("UPDATE device_state SET soc = 10 WHERE device_id = :d", d=a)
    db.execute("UPDATE device_state SET soc = 35 WHERE device_id = :d", d=b)
    db.execute("UPDATE device_state SET reading_time = now() - INTERVAL '3 days', soc = 90 WHERE device_id = :d", d=c)
    db.execute("UPDATE device_state SET soc = 90, soh = 100 WHERE device_id = :d", d=d)
    db.execute("UPDATE devices SET activated_at = now() - INTERVAL '400 days' WHERE device_id = :d", d=d)
    colour = {device: p["c"] for device, p in pins(db, WHOLE).items()}
    assert (colour[a], colour[b], colour[c]) == ("r", "y", "o")
    assert set(pins(db, WHOLE, FleetFilter(status="offline"))) == {c}
    assert pins(db, WHOLE)[d]["h"] is None  # stuck SOH: the popup says "not measured"
    k = fleet.kpis(db, WHOLE)
    measured = db.scalar(
        """SELECT avg(s.soh) FROM device_state s JOIN devices v USING (device_id)
           WHERE s.soh IS NOT NULL AND NOT (s.soh >= 99.95 AND v.activated_at < now() - INTERVAL '30 days')""")
    assert k["avg_soh"] == pytest.approx(measured)
    assert k["soh_unmeasured"] >= 1


def test_filter_inputs_are_cleaned():
    assert FleetFilter.from_inputs("3", "Delhi", "critical") == FleetFilter(3, "Delhi", "critical")
    assert FleetFilter.from_inputs("1 OR 1=1", ["x"], "DROP") == FleetFilter()
    assert FleetFilter.from_inputs(None, "x" * 500, None) == FleetFilter()


def test_distance_calendar_rollup_matches_the_trips_and_counts_each_trip_once(seeded):
    db, vehicles = seeded
    direct = {r["day"]: r["km"] for r in db.query(
        """SELECT (start_time AT TIME ZONE 'Asia/Kolkata')::date AS day, sum(distance_km) AS km
           FROM telemetry.trips GROUP BY 1""")}
    assert direct
    history.seed(db, vehicles, history.demo_plan(1, full_hours=1), processes=1)  # the same trips again
    rolled = {r["day"]: r["km"] for r in fleet.daily_distance(db, WHOLE)}
    assert rolled.keys() == direct.keys()
    assert all(rolled[d] == pytest.approx(direct[d], rel=1e-5) for d in direct)
    # With a status filter the calendar comes from the trips themselves, and agrees.
    everyone = FleetFilter(status="ok")
    assert {r["day"] for r in fleet.daily_distance(db, WHOLE, everyone)} <= set(direct)


def _day_frame(signed: bool) -> pd.DataFrame:
    """A day in 10-minute readings: rest, driving (SOC falls), rest, charging (SOC rises), rest."""
    times = pd.date_range("2026-11-20 00:00", periods=144, freq="10min", tz="UTC")
    soc, current = [], []
    level = 100.0
    for i in range(144):
        if 48 <= i < 90:
            a, level = 15.0 if i % 3 else 0.0, level - 1.2 * (i % 3 > 0)
            current.append(-a if signed else a)
        elif 100 <= i < 120:
            a, level = 25.0, min(100.0, level + 3)
            current.append(a)
        else:
            current.append(0.0)
        soc.append(round(level))
    return pd.DataFrame({"time": times, "soc": soc, "current": current})


@pytest.mark.parametrize("signed", [True, False])
def test_sessions_tell_charge_from_discharge_even_without_a_current_sign(signed):
    frame = _day_frame(signed)
    assert battery.current_is_unsigned(frame) is (not signed)
    blocks = battery.sessions(frame)
    minutes = {k: sum((b["end"] - b["start"]).total_seconds() / 60 for b in blocks if b["kind"] == k)
               for k in ("charge", "discharge", "rest")}
    assert 150 <= minutes["charge"] <= 220, minutes      # the 20 readings of charging
    assert 250 <= minutes["discharge"] <= 440, minutes   # the driving, rests of 10 min inside it aside
    driving = [b for b in blocks if b["start"] < frame["time"][90] and b["end"] > frame["time"][48]
               and b["kind"] != "rest"]
    assert driving and all(b["kind"] == "discharge" for b in driving)


def test_distance_calendar_leaves_days_outside_the_data_blank():
    """Before the first summarised day, and today before its trips are summarised, there is no
    figure: a cell saying 0 km would not be true. A day in between without trips is a real 0."""
    from datetime import date

    from components.charts import distance_calendar

    today = date(2026, 11, 24)  # a Tuesday
    days = [{"day": date(2026, 11, 21), "km": 500.0}, {"day": date(2026, 11, 22), "km": 0.0},
            {"day": date(2026, 11, 23), "km": 700.0}]
    heatmap = distance_calendar(days, today).data[0]
    by_cell = {(row, col): heatmap.z[r][c] for r, row in enumerate(heatmap.y) for c, col in enumerate(heatmap.x)}
    assert list(heatmap.x) == ["16 Nov", "23 Nov"]
    assert by_cell[("Fri", "16 Nov")] is None and by_cell[("Tue", "23 Nov")] is None
    assert by_cell[("Sat", "16 Nov")] == 500.0 and by_cell[("Sun", "16 Nov")] == 0.0
    assert by_cell[("Mon", "23 Nov")] == 700.0
    assert (heatmap.zmin, heatmap.zmax) == (0, 700.0)  # the colour scale starts at 0 km, not at the least day
