"""Data health on the app's database, against the simulator's truth: the packs it made with stuck
SOH, no temperature and unsigned current are the ones flagged; a clock running ahead shows from its
rejected readings; a dealer sees only its own devices and rejects."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from data import data_health
from data.scope import Scope
from ingest.simulator.model import Faults, vehicle_trait

WHOLE = Scope(role="manager", actor="manager")


@pytest.fixture(scope="module")
def truth(app_db):
    f = Faults()
    vehicles = {r["vehicle_number"]: r["device_id"] for r in app_db.query(
        "SELECT device_id, vehicle_number FROM devices WHERE is_active")}
    def having(share, name):
        return {d for v, d in vehicles.items() if vehicle_trait(v, share, name)}
    return {"stuck": having(f.stuck_soh_share, "stuck_soh"), "null_temp": having(f.null_temperature_share, "null_temp"),
            "unsigned": having(f.unsigned_current_share, "unsigned"), "all": set(vehicles.values())}


def test_the_flagged_devices_are_the_simulators_faulty_ones(app_db, truth):
    rows = {r["device_id"]: r for r in data_health.devices(app_db, WHOLE, limit=1000)}
    assert set(rows) == truth["all"]
    assert truth["stuck"] and {d for d, r in rows.items() if r["stuck_days"] > 0} == truth["stuck"]
    assert truth["null_temp"] and {d for d, r in rows.items() if (r["null_temp_share"] or 0) >= 0.99} == truth["null_temp"]
    assert all((rows[d]["null_temp_share"] or 0) < 0.5 for d in truth["all"] - truth["null_temp"])
    flagged = {d for d, r in rows.items() if r["unsigned_days"] > 0}
    assert flagged <= truth["unsigned"], "a pack with signed current was called unsigned"
    assert len(flagged) >= 0.5 * len(truth["unsigned"]), (flagged, truth["unsigned"])
    totals = data_health.totals(app_db, WHOLE)
    assert totals["stuck_devices"] == len(truth["stuck"]) and totals["devices"] == len(truth["all"])
    order = [r["device_id"] for r in data_health.devices(app_db, WHOLE, limit=1000)]
    worst = order[:len(truth["stuck"] | truth["null_temp"])]
    assert sum(d in truth["stuck"] | truth["null_temp"] | truth["unsigned"] for d in worst) >= 0.8 * len(worst)


def test_a_clock_ahead_shows_and_its_rejects_can_be_inspected_within_scope(app_db):
    row = app_db.one("""SELECT d.device_id, d.dealer_id FROM devices d JOIN dealers dl ON dl.id = d.dealer_id
                        WHERE dl.code = 'DEL01' ORDER BY d.device_id LIMIT 1""")
    now = datetime.now(timezone.utc)
    ahead = now + timedelta(hours=2)
    payload = {"time": int(ahead.timestamp() * 1000), "soc": 55.0, "battery_voltage": 52.1}
    app_db.execute("""INSERT INTO telemetry.rejected_readings (received_at, device_id, stream, time, reasons, payload)
                      VALUES (:now, :d, 'battery', :t, ARRAY['time_in_future'], CAST(:p AS jsonb))""",
                   now=now, d=row["device_id"], t=ahead, p=json.dumps(payload))
    try:
        found = {r["device_id"]: r for r in data_health.devices(app_db, WHOLE, data_health.DataHealthFilter(problem="clock"))}
        assert list(found) == [row["device_id"]]
        assert abs(found[row["device_id"]]["clock_ahead_s"] - 7200) < 2
        assert found[row["device_id"]]["by_reason"]["time_in_future"] == 1
        rejects = data_health.rejected(app_db, WHOLE, row["device_id"])
        assert rejects[0]["reasons"] == ["time_in_future"] and rejects[0]["payload"]["soc"] == 55.0
        assert data_health.totals(app_db, WHOLE)["by_reason"]["time_in_future"] >= 1

        lucknow = app_db.scalar("SELECT id FROM dealers WHERE code = 'LKO01'")
        dealer = Scope(role="dealer", dealer_id=lucknow, actor="dealer1")
        assert data_health.rejected(app_db, dealer, row["device_id"]) == []
        mine = {r["device_id"] for r in data_health.devices(app_db, dealer, limit=1000)}
        assert mine == {r["device_id"] for r in app_db.query(
            "SELECT device_id FROM devices WHERE dealer_id = :d AND is_active", d=lucknow)}
        assert data_health.totals(app_db, dealer)["by_reason"].get("time_in_future") is None
    finally:
        app_db.execute("DELETE FROM telemetry.rejected_readings WHERE device_id = :d AND time = :t",
                       d=row["device_id"], t=ahead)


def test_current_looks_unsigned_only_when_the_day_can_tell():
    import pandas as pd

    from ingest.health import current_looks_unsigned
    falling = pd.DataFrame({"soc": [90 - i for i in range(20)], "current": [12.0] * 20})
    assert current_looks_unsigned(falling) is True
    assert current_looks_unsigned(falling.assign(current=[-12.0] * 20)) is False
    assert current_looks_unsigned(falling.assign(soc=[90.0] * 20)) is None            # never discharged
    assert current_looks_unsigned(falling.assign(current=[None] * 20)) is None        # no current at all
