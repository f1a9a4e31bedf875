"""Demo data that makes sense (issue #8 item 10): daily km and energy follow the simulated duty
cycle, the energy answer's SOC agrees with the readings, and every page counts a trip under the
same Indian Standard Time day. On a real database, through the real parser and writer."""
from __future__ import annotations

import statistics
from datetime import date, datetime, timedelta, timezone

import pytest

from components.battery import create_trip_table
from data import battery, demo, fleet
from data.scope import Scope
from ingest import history
from ingest.intellicar import IntellicarClient
from ingest.readings import IST
from ingest.simulator import duty
from ingest.simulator.model import STEP_SECONDS, Faults, simulate_day
from ingest.worker import Worker
from ingest_support import MockIntellicar, worker_settings

WHOLE = Scope("manager", 1)
# Fixed past weeks, so what is asserted does not depend on the day the suite runs: a week of the
# monsoon and a week of the festive season, each with a Sunday (16 Aug and 15 Nov 2026).
MONSOON_WEEK = datetime(2026, 8, 10, tzinfo=IST)
FESTIVE_WEEK = datetime(2026, 11, 9, tzinfo=IST)
VEHICLES = 6
WORKER_CYCLES = (datetime(2026, 11, 18, 0, 40, tzinfo=IST), datetime(2026, 11, 19, 0, 40, tzinfo=IST))


@pytest.fixture(scope="module")
def vehicles():
    """Vehicles already sold by the first week (before its sale a vehicle stands at the dealer's)."""
    return [v for v in demo.fleet(60) if v.sold_at < MONSOON_WEEK.date()][:VEHICLES]


@pytest.fixture
def seeded(plain_db, vehicles):
    """Two weeks of clean history (no faults: every reading the model makes is stored)."""
    demo.seed_registry(plain_db, vehicles)
    for monday in (MONSOON_WEEK, FESTIVE_WEEK):
        plan = history.Plan(start=monday.astimezone(timezone.utc),
                            now=(monday + timedelta(days=7, hours=1)).astimezone(timezone.utc),
                            full_hours=1, coarse_minutes=15, faults=Faults.none())
        history.seed(plain_db, vehicles, plan, processes=1)
    return plain_db


def _model_steps(vehicle, start: datetime, end: datetime, faults: Faults):
    """Every simulated 30 s step with start < t <= end, straight from the model's arrays (from the
    day before: whatever hour a simulated day starts at, it covers the window's start)."""
    day = start.astimezone(IST).date() - timedelta(days=1)
    while True:
        sim = simulate_day(vehicle, day, (), faults)
        if sim.start > end:
            return
        for i in range(len(sim.speed)):
            t = sim.start + timedelta(seconds=i * STEP_SECONDS)
            if start < t <= end:
                yield sim, i
        day += timedelta(days=1)


def _speed_integral_km(vehicle, start, end, faults=Faults.none()) -> float:
    return sum(sim.speed[i] for sim, i in _model_steps(vehicle, start, end, faults)) * STEP_SECONDS / 3600


def _discharge_kwh(vehicle, start, end, faults=Faults.none()) -> float:
    return sum(-sim.current[i] * sim.voltage[i] for sim, i in _model_steps(vehicle, start, end, faults)
               if sim.current[i] < 0) * STEP_SECONDS / 3600 / 1000


def _trips(db) -> list[dict]:
    return db.query("""SELECT device_id, start_time, end_time, distance_km, start_odometer, end_odometer
                       FROM telemetry.trips ORDER BY device_id, start_time""")


def test_daily_km_are_the_integral_of_the_simulated_speed(seeded, vehicles):
    by_device = {v.device_id: v for v in vehicles}
    trips = _trips(seeded)
    assert len(trips) >= len(vehicles) * 12  # 14 days each, a rare day off aside
    for t in trips:
        local = t["start_time"].astimezone(IST)  # the seeding asks for whole IST days
        assert (local.hour, local.minute) == (0, 0) and t["end_time"] - t["start_time"] == timedelta(days=1)
        truth = _speed_integral_km(by_device[t["device_id"]], t["start_time"], t["end_time"])
        assert t["distance_km"] == pytest.approx(truth, abs=0.05), t
        # The odometer runs on from day to day and agrees with the distance.
        assert t["end_odometer"] - t["start_odometer"] == pytest.approx(t["distance_km"], abs=0.05)
    for device in by_device:
        mine = [t for t in trips if t["device_id"] == device]
        assert all(a["end_odometer"] == pytest.approx(b["start_odometer"], abs=0.02)
                   for a, b in zip(mine, mine[1:]) if a["end_time"] == b["start_time"])


def test_daily_km_vary_by_vehicle_weekday_and_season(seeded, vehicles):
    trips = _trips(seeded)
    km = {(t["device_id"], t["start_time"].astimezone(IST).date()): t["distance_km"] for t in trips}
    days = sorted({d for _, d in km})
    # No two vehicles drive the same on a day, and no vehicle drives the same every day.
    for day in days:
        that_day = [k for (_, d), k in km.items() if d == day]
        assert len(set(that_day)) == len(that_day) > 1, day
    for v in vehicles:
        own = [k for (device, _), k in km.items() if device == v.device_id]
        assert len(set(own)) == len(own) > 10 and max(own) - min(own) > 10, v.device_id
    # Lighter Sundays (a day off counts as 0 km).
    per_weekday = {w: [km.get((v.device_id, d), 0.0) for v in vehicles for d in days if d.weekday() == w]
                   for w in range(7)}
    workdays = statistics.mean(k for w in range(5) for k in per_weekday[w])
    assert statistics.mean(per_weekday[6]) < 0.8 * workdays
    # The monsoon week is lighter than the festive week, vehicle by vehicle.
    monsoon = {v.device_id: sum(k for (d, day), k in km.items() if d == v.device_id and day.month == 8)
               for v in vehicles}
    festive = {v.device_id: sum(k for (d, day), k in km.items() if d == v.device_id and day.month == 11)
               for v in vehicles}
    assert sum(monsoon.values()) < 0.9 * sum(festive.values())
    assert sum(monsoon[d] < festive[d] for d in monsoon) >= len(vehicles) - 1


def test_energy_is_the_discharge_integral_and_its_soc_matches_the_readings(seeded, vehicles):
    by_device = {v.device_id: v for v in vehicles}
    rows = seeded.query(
        """SELECT e.device_id, e.start_time, e.end_time, e.energy_used_kwh, e.start_soc, e.end_soc,
                  s.soc AS soc_at_start, f.soc AS soc_at_end
           FROM telemetry.energy_consumption e
           LEFT JOIN telemetry.battery_readings s ON s.device_id = e.device_id AND s.time = e.start_time
           LEFT JOIN telemetry.battery_readings f ON f.device_id = e.device_id AND f.time = e.end_time
           ORDER BY e.device_id, e.start_time""")
    assert len(rows) == len(vehicles) * 14
    for r in rows:
        assert r["soc_at_start"] is not None and r["soc_at_end"] is not None, r
        assert r["start_soc"] == pytest.approx(r["soc_at_start"], abs=1.0), r
        assert r["end_soc"] == pytest.approx(r["soc_at_end"], abs=1.0), r
        truth = _discharge_kwh(by_device[r["device_id"]], r["start_time"], r["end_time"])
        assert r["energy_used_kwh"] == pytest.approx(truth, rel=0.01, abs=0.005), r
    # At midnight some packs are still on their overnight charge: not every day reads "100 -> 100".
    assert any(r["start_soc"] < 95 or r["end_soc"] < 95 for r in rows)
    # And energy follows distance: a day's kWh per km stays in an e-rickshaw's range.
    km = {(t["device_id"], t["start_time"]): t["distance_km"] for t in _trips(seeded)}
    per_km = [r["energy_used_kwh"] / km[(r["device_id"], r["start_time"])] for r in rows
              if km.get((r["device_id"], r["start_time"]), 0) > 20]
    assert per_km and all(0.03 < x < 0.07 for x in per_km)


@pytest.fixture
def mock():
    server = MockIntellicar(vehicles=1)  # default faults: what the demo serves
    yield server
    server.close()


def test_worker_trip_day_is_the_calendar_day_and_its_soc_the_readings(plain_db, mock):
    """Through the worker over HTTP: the battery page's trip table names the IST day the overview's
    km calendar counts the trip under, and the day's SOC ends are what the readings say."""
    demo.seed_registry(plain_db, mock.vehicles)
    settings = worker_settings(mock, INGEST_LOOKBACK_HOURS=26, INTELLICAR_HISTORY_WINDOW_HOURS=12)
    worker = Worker(plain_db, IntellicarClient.from_settings(settings), settings)
    # Two cycles just after IST midnight (fixed past moments: the same days whenever the suite runs);
    # each asks for the IST day that has just ended.
    for now in WORKER_CYCLES:
        assert worker.run_cycle(now=now.astimezone(timezone.utc)).errors == 0
    device = mock.vehicles[0].device_id

    trips = battery.trips(plain_db, WHOLE, device)
    assert len(trips) == len(WORKER_CYCLES)
    table = create_trip_table(trips)
    shown = [row.children[0].children for row in table.children[1].children]
    calendar = {f"{r['day']:%a %d %b %Y}": r["km"] for r in fleet.daily_distance(plain_db, WHOLE)}
    for day, trip in zip(shown, trips):
        assert day == f"{trip['start_time'].astimezone(IST):%a %d %b %Y}"
        assert day in calendar, (day, calendar)
        assert calendar[day] == pytest.approx(trip["distance_km"], abs=0.01)
        truth = _speed_integral_km(mock.vehicles[0], trip["start_time"], trip["end_time"], mock.fleet.faults)
        assert trip["distance_km"] == pytest.approx(truth, abs=0.05)

    # The worker asked for whole IST days.
    for t in trips:
        local = t["start_time"].astimezone(IST)
        assert (local.hour, local.minute) == (0, 0) and t["end_time"] - t["start_time"] == timedelta(days=1)

    # Readings at full resolution: each energy row's SOC ends against the readings at those times
    # (the nearest valid one: a reading can be rejected garbage or lost in a gap).
    for e in plain_db.query("SELECT start_time, end_time, start_soc, end_soc FROM telemetry.energy_consumption"):
        for at, soc in ((e["start_time"], e["start_soc"]), (e["end_time"], e["end_soc"])):
            nearest = plain_db.one(
                """SELECT soc, abs(extract(epoch FROM time - :t)) AS off FROM telemetry.battery_readings
                   WHERE device_id = :d AND time BETWEEN :t - interval '5 minutes' AND :t + interval '5 minutes'
                   ORDER BY abs(extract(epoch FROM time - :t)) LIMIT 1""", d=device, t=at)
            assert nearest is not None, at
            assert soc == pytest.approx(nearest["soc"], abs=1.0), (at, soc, nearest)


def test_simulated_days_are_deterministic(vehicles):
    """The same (vehicle, day) gives the same day, whether the odometer is summed on from the day
    before (the shortcut history and polling take) or from the sale."""
    v, day = vehicles[0], date(2026, 11, 11)
    for earlier in range(5, 0, -1):
        simulate_day(v, day - timedelta(days=earlier), (), Faults())
    simulate_day.cache_clear()
    first = simulate_day(v, day, (), Faults())
    simulate_day.cache_clear()
    duty._odometer.clear()
    again = simulate_day(v, day, (), Faults())
    assert first is not again
    assert (first.speed, first.soc, first.odometer) == (again.speed, again.soc, again.odometer)
