"""Vendor values the database could not hold (past a real column's range, NUL in a string) are
rejected with a reason or stored as missing, never a refused window that pins the device's cursor."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from data import demo, telemetry
from ingest.readings import parse_battery, parse_energy, parse_gps, parse_trip


def test_hostile_vendor_values_are_stored_as_rejects_or_missing(any_db):
    vehicles = demo.fleet(size=1)
    demo.seed_registry(any_db, vehicles)
    device = vehicles[0].device_id
    t = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(microsecond=0)
    gps = parse_gps(device, [
        {"commtime": t.timestamp() * 1000, "lat": 26.8, "lng": 80.9, "speed": 10, "alti": 1e308, "heading": 5},
        {"commtime": (t + timedelta(seconds=30)).timestamp() * 1000, "lat": 26.8, "lng": 80.9, "speed": 10,
         "heading": 1e39, "note\x00": "a\x00b"},
        {"commtime": (t + timedelta(seconds=60)).timestamp() * 1000, "lat": 26.8, "lng": 80.9, "speed": 10},
    ])
    battery = parse_battery(device, vehicles[0].battery_serial, [
        {"time": t.timestamp() * 1000, "soc": 1e308, "battery_voltage": 52, "current": 3, "firmware": "x\x00"},
    ])
    day = t.replace(hour=0, minute=0, second=0)
    trip = parse_trip(device, {"starttime": day.timestamp() * 1000, "endtime": (day + timedelta(days=1)).timestamp()
                               * 1000, "distance": 1e300, "startodo": 5, "endodo": 1e39})
    energy = parse_energy(device, {"starttime": day.timestamp() * 1000, "endtime": (day + timedelta(days=1)).timestamp()
                                   * 1000, "fuelused": 4.2, "startfl": 1e308, "endfl": 40,
                                   "refueling_events": [{"at\x00": "x\x00"}]})
    assert [r["reasons"] for r in gps.rejected] == [["altitude_out_of_range"], ["heading_out_of_range"]]
    assert battery.rejected[0]["reasons"] == ["soc_out_of_range"]
    assert trip["distance_km"] is None and trip["end_odometer"] is None and trip["start_odometer"] == 5
    assert energy["start_soc"] is None and energy["end_soc"] == 40

    telemetry.store(any_db, battery=battery.valid, gps=gps.valid, rejected=gps.rejected + battery.rejected,
                    trips=[trip], energy=[energy])
    assert any_db.scalar("SELECT count(*) FROM telemetry.gps_readings WHERE device_id = :d", d=device) == 1
    rejects = any_db.query("SELECT reasons, payload FROM telemetry.rejected_readings WHERE device_id = :d "
                           "ORDER BY time", d=device)
    assert len(rejects) == 3
    assert any(r["payload"].get("note\ufffd") == "a\ufffdb" for r in rejects)
    assert any_db.scalar("SELECT count(*) FROM telemetry.trips WHERE device_id = :d AND distance_km IS NULL",
                         d=device) == 1
