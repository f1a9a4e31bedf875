"""The push ingest API over real HTTP (the app served on a port, requests as the client): counts and
reasons per row, replays that store nothing twice, the polymorphic /telemetry, who may push, bad
bodies, and the 24-hour performance figures."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

import pytest
import requests
from werkzeug.serving import make_server

from data import apikeys, demo

API = "/api/v1"
KEYS = {"ingest": ("ingest", None), "engineer": ("engineer", None), "manager": ("manager", None),
        "viewer": ("viewer", None), "dealer": ("dealer", "DEL01")}


@pytest.fixture(scope="module")
def base_url(dash_app):
    server = make_server("127.0.0.1", 0, dash_app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module", autouse=True)
def leave_the_app_database_as_found(app_db):
    """Rows other modules count (rejects on the data-health page, pushed DC in the 24-hour figures,
    meter readings in the reconciliation) go again; the rest is stored where no other test looks."""
    rejected_before = app_db.scalar("SELECT coalesce(max(id), 0) FROM telemetry.rejected_readings")
    meters_before = app_db.scalar("SELECT count(*) FROM telemetry.meter_readings")
    yield
    app_db.execute("DELETE FROM telemetry.rejected_readings WHERE id > :n", n=rejected_before)
    app_db.execute("DELETE FROM telemetry.vehicle_energy")
    app_db.execute("DELETE FROM telemetry.meter_readings WHERE time < now() - interval '5 days' OR "
                   "(time > now() - interval '5 hours' AND time < now() - interval '2 hours' AND kwh_ac = 1.25)")
    assert app_db.scalar("SELECT count(*) FROM telemetry.meter_readings") == meters_before


@pytest.fixture(scope="module")
def keys(app_db):
    made = {name: apikeys.create(app_db, f"test-push-{name}", role, dealer) for name, (role, dealer) in KEYS.items()}
    yield made
    app_db.execute("DELETE FROM api_keys WHERE name LIKE 'test-push-%'")


def _post(base_url, key, path, body, **kw):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": kw.pop("content_type", "application/json")}
    return requests.post(f"{base_url}{API}{path}", data=data, headers=headers, timeout=60)


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _vehicles():
    return demo.fleet(size=40)


def test_a_can_data_batch_is_counted_row_by_row_and_a_replay_stores_nothing(app_db, base_url, keys):
    v0, v1 = _vehicles()[2], _vehicles()[3]
    # Seconds off the simulator's 30 s grid and two days back: new rows, older than each device's state.
    t = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=2, seconds=-7)
    batch = [
        {"device_id": v0.device_id, "time": _ms(t), "soc": 71.5, "voltage": 52.1, "current": -10.2,
         "temperature": 30.5, "soh": 97.1, "charge_cycle": 400},                       # ours, epoch ms
        {"vehicleno": v1.vehicle_number, "time": _iso(t), "soc": "64.0", "battery_voltage": 51.8,
         "current": 3.0, "battery_temp": 29.0},                                         # vendor's, ISO
        {"device_id": v0.device_id, "time": _ms(t), "soc": 71.5, "voltage": 52.1, "current": -10.2},  # same again
        {"device_id": v0.device_id, "time": _ms(t + timedelta(seconds=60)), "soc": "abc", "voltage": 52.0,
         "current": 1.0},                                                               # wrong type
        {"device_id": v0.device_id, "time": _ms(datetime.now(timezone.utc) + timedelta(days=1)), "soc": 50},
        {"device_id": v0.device_id, "time": "2014-06-01T00:00:00Z", "soc": 50},        # before 2015
        {"device_id": "NO-SUCH-DEVICE", "time": _ms(t), "soc": 50},
        {"soc": 50, "time": _ms(t)},                                                     # names no battery
        "not an object",
    ]
    rejects_before = app_db.scalar("SELECT count(*) FROM telemetry.rejected_readings")
    first = _post(base_url, keys["ingest"], "/ingest/can-data", batch)
    assert first.status_code == 200, first.text
    answer = first.json()
    assert (answer["received"], answer["stored"], answer["duplicates"], answer["rejected"]) == (9, 2, 1, 6)
    reasons = {e["index"]: e["reasons"] for e in answer["errors"]}
    assert reasons == {3: ["soc_unreadable"], 4: ["time_in_future"], 5: ["time_before_2015"],
                       6: ["unknown_device"], 7: ["device_missing"], 8: ["not_an_object"]}
    assert all(e["message"] for e in answer["errors"])
    stored = app_db.query("""SELECT device_id, soc, voltage, temperature FROM telemetry.battery_readings
                             WHERE time = :t AND device_id = ANY(:d) ORDER BY device_id""",
                          t=t, d=[v0.device_id, v1.device_id])
    assert [(r["device_id"], r["soc"], r["voltage"], r["temperature"]) for r in stored] == sorted(
        [(v0.device_id, 71.5, pytest.approx(52.1), 30.5), (v1.device_id, 64.0, pytest.approx(51.8), 29.0)])
    kept = app_db.scalar("SELECT count(*) FROM telemetry.rejected_readings") - rejects_before
    assert kept == 6  # every refused row is kept with its reasons, none lost

    replay = _post(base_url, keys["ingest"], "/ingest/can-data", batch).json()
    assert (replay["stored"], replay["duplicates"], replay["rejected"]) == (0, 3, 6)
    assert app_db.scalar("SELECT count(*) FROM telemetry.rejected_readings") - rejects_before == 6
    assert app_db.scalar("""SELECT count(*) FROM telemetry.battery_readings WHERE time = :t
                            AND device_id = ANY(:d)""", t=t, d=[v0.device_id, v1.device_id]) == 2


def test_meter_and_vehicle_readings_on_telemetry_land_in_their_own_tables(app_db, base_url, keys):
    v = _vehicles()[5]
    meter = demo.meter_serial(demo.site_chargers(demo.SITES[0])[0])
    t = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=3, seconds=-11)
    body = [{"meterId": meter, "kwhConsumedAc": 1.25, "voltage": 231.0, "timestamp": _iso(t)},
            {"vehicleId": v.vehicle_number, "soc": 85.5, "kwhDeliveredDc": 1.1, "batteryTemp": 25.0,
             "timestamp": _iso(t)},
            {"something": 1, "timestamp": _iso(t)},
            {"meterId": "NO-SUCH-METER", "kwhConsumedAc": 1, "timestamp": _iso(t)},
            {"meterId": meter, "kwhConsumedAc": -3, "timestamp": _iso(t + timedelta(minutes=1))}]
    answer = _post(base_url, keys["engineer"], "/telemetry", body).json()
    assert (answer["stored"], answer["rejected"]) == (2, 3)
    assert {e["index"]: e["reasons"] for e in answer["errors"]} == {
        2: ["unknown_shape"], 3: ["unknown_meter"], 4: ["kwh_ac_out_of_range"]}
    assert app_db.one("""SELECT r.kwh_ac, r.voltage FROM telemetry.meter_readings r JOIN equipment e ON e.id = r.meter_id
                         WHERE e.serial = :m AND r.time = :t""", m=meter, t=t) == {"kwh_ac": 1.25, "voltage": 231.0}
    assert app_db.one("SELECT soc, kwh_dc, battery_temp FROM telemetry.vehicle_energy WHERE device_id = :d AND time = :t",
                      d=v.device_id, t=t) == {"soc": 85.5, "kwh_dc": pytest.approx(1.1), "battery_temp": 25.0}
    # One object, not an array, is a batch of one; sent again it is a duplicate.
    one = _post(base_url, keys["ingest"], "/telemetry", body[1]).json()
    assert (one["received"], one["stored"], one["duplicates"]) == (1, 0, 1)

    # The vehicle now pushes: its 24-hour figures take the pushed DC.
    perf = requests.get(f"{base_url}{API}/analytics/performance/{v.vehicle_number}",
                        headers={"Authorization": f"Bearer {keys['manager']}"}, timeout=30).json()
    pushed = app_db.scalar("""SELECT sum(kwh_dc) FROM telemetry.vehicle_energy WHERE device_id = :d
                              AND time > now() - interval '24 hours'""", d=v.device_id)
    assert perf["dc_source"] == "pushed" and perf["total_dc"] == pytest.approx(pushed, abs=1e-3)
    assert set(perf) >= {"total_dc", "total_ac", "efficiency", "avg_battery_temp"}


def test_the_other_streams_store_through_the_same_path(app_db, base_url, keys):
    v = _vehicles()[6]
    day = datetime(2026, 1, 10, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    # Ten days back: outside the site page's 48 hours, which a browser test compares with the database.
    t = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=10, seconds=-13)
    cases = {
        "/ingest/gps-data": ([{"device_id": v.device_id, "time": _ms(t), "latitude": 26.85, "longitude": 80.95,
                               "speed": 12.0},
                              {"device_id": v.device_id, "commtime": _ms(t), "lat": 0, "lng": 0}],
                             "SELECT count(*) FROM telemetry.gps_readings WHERE device_id = :d AND time = :t"),
        "/ingest/trips": ([{"device_id": v.device_id, "start_time": day.isoformat(),
                            "end_time": (day + timedelta(days=1)).isoformat(), "distance_km": 84.2},
                           {"device_id": v.device_id, "start_time": day.isoformat(),
                            "end_time": (day + timedelta(days=1)).isoformat(), "distance_km": "far"}],
                          "SELECT count(*) FROM telemetry.trips WHERE device_id = :d AND start_time = :day"),
        "/ingest/energy": ([{"vehicleno": v.vehicle_number, "starttime": _ms(day), "endtime": _ms(day + timedelta(days=1)),
                             "fuelused": 6.1, "startfl": 100, "endfl": 31},
                            {"vehicleno": v.vehicle_number, "start_time": _ms(day + timedelta(days=1)),
                             "end_time": _ms(day)}],
                           "SELECT count(*) FROM telemetry.energy_consumption WHERE device_id = :d AND start_time = :day"),
        "/ingest/site-power": ([{"siteId": "LKO01-HUB", "timestamp": _iso(t), "solarPowerKw": 18.5, "gridPowerKw": -2.5,
                                 "loadPowerKw": 16.0, "inverter1PowerKw": 9, "inverter2PowerKw": 9.1},
                                {"siteId": "NOWHERE", "timestamp": _iso(t), "solarPowerKw": 1}],
                               """SELECT count(*) FROM telemetry.site_power p JOIN sites s ON s.id = p.site_id
                                  WHERE s.code = 'LKO01-HUB' AND p.time = :t AND abs(p.inverter_kw - 18.1) < 0.001"""),
    }
    expected_reason = {"/ingest/gps-data": ["position_out_of_range"], "/ingest/trips": ["distance_km_unreadable"],
                       "/ingest/energy": ["window_invalid"], "/ingest/site-power": ["unknown_site"]}
    for path, (rows, check) in cases.items():
        answer = _post(base_url, keys["ingest"], path, rows).json()
        assert (answer["stored"], answer["rejected"]) == (1, 1), (path, answer)
        assert answer["errors"][0]["index"] == 1 and answer["errors"][0]["reasons"] == expected_reason[path], path
        assert app_db.scalar(check, d=v.device_id, t=t, day=day) == 1, path
        again = _post(base_url, keys["ingest"], path, rows).json()
        assert (again["stored"], again["duplicates"]) == (0, 1), (path, again)


def test_only_ingest_rights_push_and_an_ingest_key_reads_nothing(base_url, keys):
    row = {"device_id": "NO-SUCH-DEVICE", "soc": 5, "time": 1}
    for name in ("manager", "viewer", "dealer"):
        refused = _post(base_url, keys[name], "/ingest/can-data", [row])
        assert refused.status_code == 403 and "may not push" in refused.json()["error"], name
        assert _post(base_url, keys[name], "/telemetry", row).status_code == 403, name
    assert _post(base_url, keys["ingest"], "/ingest/can-data", [row]).status_code == 200
    for path in ("/alerts", "/alerts/config", "/openapi.json", "/analytics/performance/x"):
        answer = requests.get(f"{base_url}{API}{path}", headers={"Authorization": f"Bearer {keys['ingest']}"},
                              timeout=30)
        assert answer.status_code == 403 and "only push" in answer.json()["error"], path
    assert requests.post(f"{base_url}{API}/ingest/can-data", json=[row], timeout=30).status_code == 401


@pytest.mark.parametrize("body, content_type, status, words", [
    ("{", "application/json", 400, "not valid JSON"),
    ("", "application/json", 400, "empty"),
    ("42", "application/json", 400, "object or an array"),
    ('[{"soc": NaN}]', "application/json", 400, "not valid JSON"),
    ("[]", "text/plain", 415, "Content-Type"),
    (json.dumps([{}] * 10_001), "application/json", 413, "at most 10,000"),
    ("[" + "1," * (9 * 1024 * 1024) + "1]", "application/json", 413, "larger than 16 MB"),
])
def test_bad_bodies_get_a_clear_answer_and_never_a_500(base_url, keys, body, content_type, status, words):
    answer = _post(base_url, keys["ingest"], "/ingest/meter", body, content_type=content_type)
    assert answer.status_code == status and words in answer.json()["error"], answer.text[:200]


def test_a_full_batch_of_10000_rows_is_taken(app_db, base_url, keys):
    meter = demo.meter_serial(demo.site_chargers(demo.SITES[1])[0])
    start = datetime(2025, 3, 1, tzinfo=timezone.utc)
    rows = [{"meterId": meter, "kwhConsumedAc": 0.5, "timestamp": _iso(start + timedelta(minutes=i))}
            for i in range(10_000)]
    answer = _post(base_url, keys["ingest"], "/ingest/meter", rows).json()
    assert (answer["received"], answer["stored"], answer["rejected"]) == (10_000, 10_000, 0)
    assert app_db.scalar("""SELECT count(*) FROM telemetry.meter_readings r JOIN equipment e ON e.id = r.meter_id
                            WHERE e.serial = :m AND r.time >= :s AND r.time < :s + interval '10000 minutes'""",
                         m=meter, s=start) == 10_000


def test_performance_is_scoped(base_url, keys, app_db):
    lucknow = next(v for v in _vehicles() if v.dealer_code == "LKO01")
    delhi = next(v for v in _vehicles() if v.dealer_code == "DEL01")
    headers = {"Authorization": f"Bearer {keys['dealer']}"}  # a DEL01 key
    assert requests.get(f"{base_url}{API}/analytics/performance/{lucknow.vehicle_number}", headers=headers,
                        timeout=30).status_code == 404
    own = requests.get(f"{base_url}{API}/analytics/performance/{delhi.device_id}", headers=headers, timeout=30)
    assert own.status_code == 200 and own.json()["device_id"] == delhi.device_id
