"""AC against DC: charge sessions reconciled with their meters, efficiency flags and alerts, the
24-hour performance figures and the site-power rollups, on a real database.

The simulated fleet of the app database (three days, forty vehicles) has one faulty charger and
one mis-mapped meter (data/demo.py): both must be flagged, and no healthy charger.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import config
from data import demo, energy
from data.scope import Scope
from ingest import efficiency

FLEET = Scope(role="manager")


def _window():
    now = datetime.now(timezone.utc)
    return now - timedelta(days=5), now + timedelta(hours=1)


def test_the_faulty_charger_and_the_mismapped_meter_are_flagged_and_no_healthy_charger(app_db):
    start, end = _window()
    flagged = app_db.query(
        """SELECT cs.device_id, cs.efficiency_flag, ch.serial AS charger, m.serial AS meter, cs.efficiency
           FROM telemetry.charge_sessions cs LEFT JOIN equipment ch ON ch.id = cs.charger_id
           LEFT JOIN equipment m ON m.id = cs.meter_id WHERE cs.efficiency_flag IS NOT NULL""")
    low = [r for r in flagged if r["efficiency_flag"] == "low"]
    high = [r for r in flagged if r["efficiency_flag"] == "high"]
    assert low and {r["charger"] for r in low} == {demo.faulty_charger()}
    assert all(0.65 < r["efficiency"] < 0.8 for r in low)

    mismapped_site = next(s for s in demo.SITES if s.code == demo.MISMAPPED_SITE)
    spare_charger = demo.site_chargers(mismapped_site)[-1]
    spare = demo.meter_serial(spare_charger)
    plan = demo.charging_plan(demo.fleet(size=40))
    mismapped = [d for d, p in plan.items() if p.charger != p.mapped]
    assert high and {r["meter"] for r in high} == {spare} and {r["device_id"] for r in high} == set(mismapped)

    by_charger = energy.efficiency_by(app_db, FLEET, "charger", start, end, tariff=8.0)
    metered = by_charger[by_charger["metered"] > 0]
    healthy = metered[~metered["name"].isin([demo.faulty_charger(), spare_charger])]
    assert len(healthy) >= 10
    assert healthy["efficiency"].between(0.85, 1.0).all(), healthy[["name", "efficiency"]]
    assert (healthy["low"] == 0).all() and (healthy["high"] == 0).all()

    # The real charger of the mis-mapped vehicle counts energy that no assigned vehicle explains.
    loose = energy.unattributed(app_db, FLEET, start, end)
    assert demo.meter_serial(demo.site_chargers(mismapped_site)[0]) in set(loose["meter"])


def test_flags_raise_efficiency_alerts_on_the_right_vehicles_only(app_db):
    plan = demo.charging_plan(demo.fleet(size=40))
    on_faulty = {d for d, p in plan.items() if p.charger == demo.faulty_charger()}
    mismapped = {d for d, p in plan.items() if p.charger != p.mapped}
    alerts = app_db.query("""SELECT device_id, alert_type, reading_value, message FROM alerts
                             WHERE alert_type IN ('charging_loss', 'meter_mismatch')""")
    loss = {a["device_id"] for a in alerts if a["alert_type"] == "charging_loss"}
    mismatch = {a["device_id"] for a in alerts if a["alert_type"] == "meter_mismatch"}
    assert loss and loss <= on_faulty
    assert mismatch == mismapped
    assert all(demo.faulty_charger() in a["message"] for a in alerts if a["alert_type"] == "charging_loss")
    assert app_db.scalar("""SELECT count(*) FROM telemetry.charge_sessions
                            WHERE NOT is_open AND NOT judged AND end_time < now() - interval '1 hour'""") == 0


def test_totals_and_dealer_scope(app_db):
    start, end = _window()
    whole = energy.totals(app_db, FLEET, start, end, tariff=10.0)
    raw = app_db.one("""SELECT sum(ac_kwh) AS ac, sum(energy_kwh) FILTER (WHERE ac_kwh IS NOT NULL) AS dc
                        FROM telemetry.charge_sessions WHERE NOT is_open AND start_time >= :s AND start_time < :e""",
                     s=start, e=end)
    assert whole["ac_kwh"] == pytest.approx(raw["ac"]) and whole["dc_kwh"] == pytest.approx(raw["dc"])
    assert whole["loss_inr"] == pytest.approx(max(raw["ac"] - raw["dc"], 0) * 10.0)
    lko = app_db.scalar("SELECT id FROM dealers WHERE code = 'LKO01'")
    dealer = Scope(role="dealer", dealer_id=lko)
    rows = energy.sessions(app_db, dealer, start, end, limit=10_000)
    assert len(rows) and set(rows["dealer"]) == {"Lucknow E-Mobility"}
    # A dealer asking for another dealer's site gets nothing of it.
    delhi_site = app_db.scalar("SELECT id FROM sites WHERE code = 'DEL01-HUB'")
    assert energy.sessions(app_db, dealer, start, end, site_id=delhi_site).empty
    assert set(energy.efficiency_by(app_db, dealer, "site", start, end, tariff=8.0)["name"]) <= {
        s.name for s in demo.SITES if s.dealer_code == "LKO01"} | {"No site"}


def test_performance_24h(app_db):
    now = datetime.now(timezone.utc)
    device = app_db.one("""SELECT cs.device_id, d.vehicle_number FROM telemetry.charge_sessions cs
                           JOIN devices d USING (device_id)
                           WHERE cs.end_time > :since AND cs.ac_kwh IS NOT NULL AND cs.efficiency_flag IS NULL
                           ORDER BY cs.end_time DESC LIMIT 1""", since=now - timedelta(hours=20))
    figures = energy.performance(app_db, FLEET, device["vehicle_number"], now)
    expected = app_db.one("""SELECT sum(energy_kwh) AS dc, sum(ac_kwh) AS ac FROM telemetry.charge_sessions
                             WHERE device_id = :d AND end_time > :s AND start_time <= :n""",
                          d=device["device_id"], s=now - timedelta(hours=24), n=now)
    assert figures["dc_source"] == "sessions"
    assert figures["total_dc"] == pytest.approx(expected["dc"], abs=1e-3)
    assert figures["total_ac"] == pytest.approx(expected["ac"], abs=1e-3)
    assert 0.85 < figures["efficiency"] < 1.0
    assert energy.performance(app_db, Scope(role="dealer", dealer_id=-1), device["vehicle_number"], now) is None
    assert energy.performance(app_db, FLEET, "NO-SUCH-VEHICLE", now) is None


def test_site_power_rollups_equal_the_raw_readings(app_db):
    site = app_db.one("SELECT id, code FROM sites WHERE code = 'LKO01-HUB'")
    raw = app_db.one("""SELECT sum(solar_kwh) AS solar, sum(greatest(grid_kwh, 0)) AS import,
                               sum(greatest(-grid_kwh, 0)) AS export, count(*) AS n
                        FROM telemetry.site_power WHERE site_id = :s""", s=site["id"])
    assert raw["n"] > 100 and raw["solar"] > 0
    for table in ("site_power_hourly", "site_power_daily"):
        rolled = app_db.one(f"""SELECT sum(solar_kwh) AS solar, sum(grid_import_kwh) AS import,
                                       sum(grid_export_kwh) AS export, sum(readings) AS n
                                FROM telemetry.{table} WHERE site_id = :s""", s=site["id"])
        assert rolled["n"] == raw["n"], table
        for k in ("solar", "import", "export"):
            assert rolled[k] == pytest.approx(raw[k], rel=1e-4), (table, k)
    start, end = _window()
    series = energy.site_power(app_db, FLEET, site["id"], end - timedelta(days=2), end)
    assert len(series) and {"solar_kw", "grid_kw", "load_kw", "storage_kw"} <= set(series.columns)
    other = Scope(role="dealer", dealer_id=app_db.scalar("SELECT id FROM dealers WHERE code = 'DEL01'"))
    assert energy.site_power(app_db, other, site["id"], start, end).empty


# -- the reconciliation on a small made-up site ---------------------------------------------------
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def _setup_site(db):
    db.execute("INSERT INTO dealers (code, name, city) VALUES ('T01', 'Test dealer', 'Lucknow')")
    dealer = db.scalar("SELECT id FROM dealers WHERE code = 'T01'")
    db.execute("""INSERT INTO sites (code, name, kind, dealer_id, city, latitude, longitude, climate_zone)
                  VALUES ('T01-DEPOT', 'Test depot', 'depot', :d, 'Lucknow', 26.80, 80.90, 'composite')""", d=dealer)
    site = db.scalar("SELECT id FROM sites WHERE code = 'T01-DEPOT'")
    db.execute("""INSERT INTO equipment (site_id, kind, make, model, serial) VALUES
                  (:s, 'charger', 'X', 'Y', 'CH-1')""", s=site)
    charger = db.scalar("SELECT id FROM equipment WHERE serial = 'CH-1'")
    db.execute("""INSERT INTO equipment (site_id, kind, make, model, serial, measures_id) VALUES
                  (:s, 'energy_meter', 'X', 'Y', 'M-1', :c)""", s=site, c=charger)
    for n in ("A", "B", "C"):
        db.execute("INSERT INTO devices (device_id, vehicle_number, dealer_id) VALUES (:d, :d, :dl)",
                   d=f"DEV-{n}", dl=dealer)
    for n in ("A", "B"):
        energy.assign(db, Scope(role="engineer", actor="test"), "M-1", f"DEV-{n}", T0 - timedelta(days=30))
    return site, charger


def _readings(db, device, from_h, to_h, charging: list[tuple[float, float]]):
    """A reading every 5 minutes: 40 A at 50 V (2 kW) and a rising SOC inside ``charging`` spans."""
    soc, rows = 30.0, []
    for k in range(int((to_h - from_h) * 12) + 1):
        h = from_h + k / 12
        on = any(a <= h <= b for a, b in charging)
        soc += 1.5 if on else 0.0
        rows.append({"t": T0 + timedelta(hours=h), "d": device, "soc": min(soc, 100.0), "i": 40.0 if on else 0.0})
    with db.transaction() as conn:
        from data.db import text
        conn.execute(text("""INSERT INTO telemetry.battery_readings (time, device_id, soc, current, voltage)
                             VALUES (:t, :d, :soc, :i, 50.0)"""), rows)


def _session(db, device, start_h, end_h, kwh, lat=None, lng=None):
    db.execute("""INSERT INTO telemetry.charge_sessions (device_id, start_time, end_time, energy_kwh, latitude,
                                                         longitude, readings)
                  VALUES (:d, :s, :e, :k, :lat, :lng, 10)""",
               d=device, s=T0 + timedelta(hours=start_h), e=T0 + timedelta(hours=end_h), k=kwh, lat=lat, lng=lng)


def test_a_shared_meter_is_split_by_charging_power_and_a_good_session_resolves(plain_db):
    db = plain_db
    site, charger = _setup_site(db)
    meter = db.scalar("SELECT id FROM equipment WHERE serial = 'M-1'")
    # A charges 0-2 h at 2 kW, B 1-3 h at 2 kW, through a charger that converts 90 %.
    _session(db, "DEV-A", 0, 2, 4.0)
    _session(db, "DEV-B", 1, 3, 4.0)
    _readings(db, "DEV-A", -1, 60, [(0, 2), (24, 26), (48, 50)])
    _readings(db, "DEV-B", -1, 60, [(1, 3)])
    # C, with no meter, charged 100 m from the depot: its site comes from its position.
    _session(db, "DEV-C", 0, 2, 4.0, lat=26.8009, lng=80.9)
    for q in range(1, 13):
        t = T0 + timedelta(minutes=15 * q)
        charging = (t <= T0 + timedelta(hours=2)) + (t > T0 + timedelta(hours=1))
        db.execute("INSERT INTO telemetry.meter_readings (time, meter_id, kwh_ac) VALUES (:t, :m, :k)",
                   t=t, m=meter, k=charging * 2.0 * 0.25 / 0.9)
    settings = config.get()
    efficiency.run(db, settings, T0 + timedelta(hours=5), since=T0 - timedelta(hours=1))
    rows = {r["device_id"]: r for r in db.query(
        "SELECT device_id, ac_kwh, efficiency, site_id, charger_id, meter_id, judged FROM telemetry.charge_sessions")}
    for d in ("DEV-A", "DEV-B"):
        assert rows[d]["ac_kwh"] == pytest.approx(4.0 / 0.9, rel=1e-6)
        assert rows[d]["efficiency"] == pytest.approx(0.9, rel=1e-5)
        assert (rows[d]["site_id"], rows[d]["charger_id"], rows[d]["meter_id"]) == (site, charger, meter)
        assert rows[d]["judged"]
    assert rows["DEV-C"]["site_id"] == site and rows["DEV-C"]["ac_kwh"] is None and rows["DEV-C"]["charger_id"] is None
    assert db.scalar("SELECT count(*) FROM alerts") == 0

    # The charger fails: A's next session draws 5.6 kWh for 4 kWh (0.71), an alert opens; then it
    # is repaired and the one after resolves it.
    _session(db, "DEV-A", 24, 26, 4.0)
    for q in range(1, 9):
        db.execute("INSERT INTO telemetry.meter_readings (time, meter_id, kwh_ac) VALUES (:t, :m, :k)",
                   t=T0 + timedelta(hours=24, minutes=15 * q), m=meter, k=2.0 * 0.25 / 0.71)
    efficiency.run(db, settings, T0 + timedelta(hours=27), since=T0 + timedelta(hours=20))
    alert = db.one("SELECT alert_type, reading_value, resolved_at, message FROM alerts WHERE device_id = 'DEV-A'")
    assert alert["alert_type"] == "charging_loss" and alert["reading_value"] == pytest.approx(0.71, abs=0.005)
    assert "CH-1" in alert["message"] and alert["resolved_at"] is None
    _session(db, "DEV-A", 48, 50, 4.0)
    for q in range(1, 9):
        db.execute("INSERT INTO telemetry.meter_readings (time, meter_id, kwh_ac) VALUES (:t, :m, :k)",
                   t=T0 + timedelta(hours=48, minutes=15 * q), m=meter, k=2.0 * 0.25 / 0.92)
    efficiency.run(db, settings, T0 + timedelta(hours=51), since=T0 + timedelta(hours=44))
    assert db.scalar("SELECT resolved_at FROM alerts WHERE device_id = 'DEV-A'") is not None
    # Judged once: another pass changes nothing.
    before = db.query("SELECT id, occurrence_count, resolved_at FROM alerts ORDER BY id")
    efficiency.run(db, settings, T0 + timedelta(hours=52), since=T0)
    assert db.query("SELECT id, occurrence_count, resolved_at FROM alerts ORDER BY id") == before
