"""The health ledger end to end on a real database: simulated readings stored by the real writer,
charge sessions found as they arrive, the daily refresh (SOH source, estimate, forecast, warranty),
claim drafts, the daily report job with a real SMTP server, and the honest answers for bad data.
"""
from __future__ import annotations

import email
import email.policy
from datetime import date, datetime, timedelta, timezone

import pytest

import config
from conftest import DB_SUFFIX, _fresh_database, free_port
from data import demo, health_reports, health_store, storage, telemetry
from data import db as database
from ingest import health, history, report_jobs
from ingest.readings import IST
from ingest.simulator import ageing
from ingest.simulator.model import Faults

STUCK_FLEET = 30


@pytest.fixture(scope="module")
def stuck_fleet(timescale_available):
    """Packs whose BMS reports SOH stuck at 100, a week of readings at two-minute resolution."""
    url = _fresh_database(f"bfm_test_health{DB_SUFFIX}", storage.POSTGRES)
    db = database.Database(url)
    vehicles = demo.fleet(size=STUCK_FLEET, seed=11)
    demo.seed_registry(db, vehicles)
    now = datetime.now(timezone.utc)
    plan = history.Plan(start=now - timedelta(days=8), now=now, full_hours=1, coarse_minutes=2,
                        faults=Faults(stuck_soh_share=1.0, gap_rate=0.05))
    history.seed(db, vehicles, plan)
    yield db, vehicles, plan
    db.dispose()


def test_estimated_soh_of_stuck_packs_is_within_three_points_of_the_truth(stuck_fleet):
    db, vehicles, plan = stuck_fleet
    rows = {r["device_id"]: r for r in db.query("SELECT * FROM battery_health")}
    judged, close = 0, 0
    misses = []
    for v in vehicles:
        row = rows.get(v.device_id)
        assert row is not None, v.device_id
        assert row["bms_status"] == "stuck" and row["soh_source"] != "measured"
        if row["est_sessions"] < 5:
            assert row["soh_source"] in ("estimated", "not_measured")
            continue
        judged += 1
        truth = ageing.true_soh(v, row["as_of"])
        if abs(row["soh"] - truth) <= 3.0:
            close += 1
        else:
            misses.append((v.device_id, round(row["soh"], 1), round(truth, 1)))
    assert judged >= STUCK_FLEET * 0.6, f"only {judged} packs had 5 qualifying sessions"
    assert close >= 0.9 * judged, misses


def test_a_stuck_pack_is_never_counted_as_measured_or_healthy_without_an_estimate(stuck_fleet):
    db, _, _ = stuck_fleet
    bad = db.query("""SELECT device_id FROM battery_health
                      WHERE soh_source = 'not_measured' AND (soh IS NOT NULL OR warranty_status <> 'unknown')""")
    assert bad == []
    assert db.scalar("SELECT count(*) FROM battery_health_daily WHERE soh_source = 'measured'") == 0


def test_sessions_found_poll_by_poll_equal_those_found_at_once(stuck_fleet):
    """The worker feeds each poll's readings; slicing the week into 50-minute polls changes nothing."""
    db, vehicles, plan = stuck_fleet
    device = next(d for d in telemetry.active_devices(db) if d["device_id"] == vehicles[0].device_id)
    columns = ("start_time, end_time, is_open, round(soc_start::numeric, 2) AS soc_start, "
               "round(soc_end::numeric, 2) AS soc_end, round(ah_in::numeric, 3) AS ah_in, "
               "round(soh_estimate::numeric, 2) AS soh_estimate")
    once = db.query(f"SELECT {columns} FROM telemetry.charge_sessions WHERE device_id = :d ORDER BY start_time",
                    d=device["device_id"])
    assert sum(1 for s in once if s["soh_estimate"] is not None) >= 3
    db.execute("DELETE FROM telemetry.charge_sessions WHERE device_id = :d", d=device["device_id"])
    db.execute("DELETE FROM ingest_cursors WHERE device_id = :d AND stream = 'sessions'", d=device["device_id"])
    t = plan.start
    while t < plan.now:
        t = min(t + timedelta(minutes=50), plan.now)
        health.track_sessions(db, device, t, first=plan.start)
    sliced = db.query(f"SELECT {columns} FROM telemetry.charge_sessions WHERE device_id = :d ORDER BY start_time",
                      d=device["device_id"])
    assert sliced == once


def test_sessions_carry_energy_location_and_one_open_at_most(stuck_fleet):
    db, _, _ = stuck_fleet
    stats = db.one("""SELECT count(*) AS n, count(*) FILTER (WHERE latitude IS NOT NULL) AS located,
                             min(ah_in) AS min_ah, min(energy_kwh) AS min_kwh, max(soc_end - soc_start) AS span
                      FROM telemetry.charge_sessions WHERE NOT is_open""")
    assert stats["n"] >= STUCK_FLEET * 5
    assert stats["located"] >= 0.9 * stats["n"]
    assert stats["min_ah"] > 0 and stats["min_kwh"] > 0 and stats["span"] > 40
    assert db.scalar("""SELECT max(c) FROM (SELECT count(*) AS c FROM telemetry.charge_sessions
                        WHERE is_open GROUP BY device_id) x""") in (None, 1)


def test_the_daily_refresh_runs_once_a_day_however_many_workers_ask(stuck_fleet):
    db, _, plan = stuck_fleet
    settings = config.get()
    at = datetime.combine(plan.now.astimezone(IST).date() + timedelta(days=1), datetime.min.time(), IST) \
        + timedelta(hours=1)
    first = health.run_daily(db, settings, at)
    second = health.run_daily(db, settings, at)
    assert first is not None and first.batteries == STUCK_FLEET and second is None
    assert health_store.last_job(db, "health")["finished_at"] is not None
    too_early = datetime.combine(at.date() + timedelta(days=1), datetime.min.time(), IST) + timedelta(minutes=10)
    assert health.run_daily(db, settings, too_early) is None   # before 00:30 IST the night's data is not in


def test_forecasts_are_never_in_the_past(stuck_fleet):
    db, _, _ = stuck_fleet
    past = db.query("""SELECT device_id, eol_p10, as_of FROM battery_health
                       WHERE rul_status = 'forecast' AND (eol_p10 < as_of OR eol_p10 > eol_p50 OR eol_p50 > eol_p90)""")
    assert past == []
    reasons = db.query("SELECT DISTINCT rul_reason FROM battery_health WHERE rul_status <> 'forecast'")
    assert all(r["rul_reason"] for r in reasons)


def test_a_battery_under_its_floor_gets_one_automatic_draft(stuck_fleet):
    db, vehicles, plan = stuck_fleet
    model = vehicles[0].model
    before = db.one("SELECT warranty_soh_floor FROM battery_models WHERE model = :m", m=model)
    try:
        db.execute("UPDATE battery_models SET warranty_soh_floor = 99.9 WHERE model = :m", m=model)
        health.refresh(db, config.get(), now=plan.now)
        under = db.query("""SELECT h.device_id FROM battery_health h JOIN devices d USING (device_id)
                            JOIN batteries b ON b.serial = d.battery_serial
                            WHERE b.model = :m AND h.warranty_status = 'below_floor'""", m=model)
        assert under, "no battery of the model fell under a 99.9 % floor"
        made = report_jobs.draft_claims(db, plan.now)
        assert made == len(under)
        assert report_jobs.draft_claims(db, plan.now) == 0
        pdf = db.scalar("SELECT pdf FROM claim_packs WHERE automatic LIMIT 1")
        assert bytes(pdf).startswith(b"%PDF")
    finally:
        db.execute("UPDATE battery_models SET warranty_soh_floor = :f WHERE model = :m",
                   f=before["warranty_soh_floor"], m=model)
        db.execute("DELETE FROM claim_packs")
        health.refresh(db, config.get(), now=plan.now)


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def test_the_daily_report_goes_to_each_recipient_in_its_own_scope(stuck_fleet):
    from aiosmtpd.controller import Controller
    db, vehicles, plan = stuck_fleet
    assert health_reports.add_recipient(db, "ops@fleet.example", None)
    assert health_reports.add_recipient(db, "lko@dealers.example", "LKO01")
    assert not health_reports.add_recipient(db, "x@y.example", "NOPE")
    inbox = _Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        settings = config.load({"DEMO_MODE": "1", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port)})
        at = datetime.combine(plan.now.astimezone(IST).date() + timedelta(days=2), datetime.min.time(), IST)
        assert report_jobs.daily_report(db, settings, at + timedelta(hours=7, minutes=59)) == 0   # not 08:00 yet
        assert report_jobs.daily_report(db, settings, at + timedelta(hours=8, minutes=1)) == 2
        assert report_jobs.daily_report(db, settings, at + timedelta(hours=9)) == 0   # once a day
    finally:
        smtp.stop()
    by_rcpt = {tuple(m.rcpt_tos): email.message_from_bytes(m.content, policy=email.policy.default)
               for m in inbox.messages}
    assert set(by_rcpt) == {("ops@fleet.example",), ("lko@dealers.example",)}
    for message in by_rcpt.values():
        names = sorted(part.get_filename() for part in message.iter_attachments())
        assert [n.rsplit(".", 1)[1] for n in names] == ["pdf", "xlsx"]
    stored = {r["scope_label"]: r for r in db.query(
        "SELECT scope_label, batteries, sent_to, dealer_id FROM health_reports")}
    lko = sum(1 for v in vehicles if v.dealer_code == "LKO01")
    assert stored["Whole fleet"]["batteries"] == STUCK_FLEET
    assert stored["Lucknow E-Mobility"]["batteries"] == lko
    assert stored["Lucknow E-Mobility"]["sent_to"] == ["lko@dealers.example"]


# -- bad data: what can honestly be said -----------------------------------------------------------------
def _readings(device: str, start: datetime, hours: float, every_min: float = 2, soh=95.0, temp=30.0,
              charge_at: float | None = None):
    rows, t, soc = [], start, 90.0
    end = start + timedelta(hours=hours)
    while t < end:
        hour = (t - start).total_seconds() / 3600
        charging = charge_at is not None and charge_at <= hour % 24 < charge_at + 5
        current = 20.0 if charging else -8.0
        soc = min(100.0, max(5.0, soc + current * every_min / 60))   # a 100 Ah pack: 1 Ah is 1 SOC point
        rows.append({"time": t, "device_id": device, "battery_id": f"B-{device}", "soc": round(soc, 2),
                     "soh": soh, "voltage": 52.0, "current": current, "charge_cycle": 100,
                     "temperature": temp, "power_watts": 52.0 * current})
        t += timedelta(minutes=every_min)
    return rows


@pytest.fixture
def odd_batteries(plain_db):
    db = plain_db
    sold = date.today() - timedelta(days=400)
    with db.transaction() as conn:
        conn.execute(database.text("INSERT INTO dealers (code, name, city) VALUES ('ODD', 'Odd Batteries', 'Agra')"))
        conn.execute(database.text(
            """INSERT INTO battery_models (model, rated_capacity_ah, warranty_months, warranty_cycles, warranty_soh_floor)
               VALUES ('M', 100, 36, 2000, 80)"""))
        for name in ("oneday", "nosoh", "notemp", "stuck", "gap"):
            conn.execute(database.text(
                """INSERT INTO batteries (serial, model, capacity_ah, dealer_id, sold_at)
                   VALUES (:s, 'M', 100, (SELECT id FROM dealers WHERE code = 'ODD'), :sold)"""),
                {"s": f"B-{name}", "sold": sold})
            conn.execute(database.text(
                """INSERT INTO devices (device_id, battery_serial, vehicle_number, dealer_id)
                   VALUES (:d, :s, :d, (SELECT id FROM dealers WHERE code = 'ODD'))"""),
                {"d": name, "s": f"B-{name}"})
    now = datetime.now(timezone.utc)
    yesterday = datetime.combine(now.astimezone(IST).date() - timedelta(days=1), datetime.min.time(), IST)
    battery = (_readings("oneday", yesterday, 20, soh=91.0)
               + _readings("nosoh", yesterday - timedelta(days=3), 90, soh=None)
               + _readings("notemp", yesterday - timedelta(days=3), 90, soh=93.0, temp=None)
               + _readings("stuck", yesterday - timedelta(days=3), 90, soh=100.0)
               + _readings("gap", yesterday - timedelta(days=150), 10, soh=97.0)
               + _readings("gap", yesterday, 20, soh=96.0))
    telemetry.store(db, battery=battery)
    for device in telemetry.active_devices(db):
        health.track_sessions(db, device, now)
    health.refresh(db, config.get(), now=now)
    return {r["device_id"]: r for r in db.query("SELECT * FROM battery_health")}, db


def test_odd_batteries_get_honest_answers(odd_batteries):
    rows, db = odd_batteries
    assert set(rows) == {"oneday", "nosoh", "notemp", "stuck", "gap"}
    assert rows["oneday"]["soh_source"] == "measured" and rows["oneday"]["soh"] == pytest.approx(91.0)
    for name in ("nosoh", "stuck"):   # no BMS SOH to trust and no qualifying charge: nothing to say
        assert rows[name]["soh_source"] == "not_measured", name
        assert rows[name]["soh"] is None and rows[name]["warranty_status"] == "unknown"
        assert rows[name]["rul_status"] == "not_enough_data" and rows[name]["eol_p50"] is None
    assert rows["stuck"]["bms_status"] == "stuck" and rows["nosoh"]["bms_status"] == "absent"
    assert rows["notemp"]["temp_share"] == 0 and rows["notemp"]["mean_temperature"] is None
    assert rows["notemp"]["soh_source"] == "measured"
    for row in rows.values():
        assert row["rul_reason"]
        if row["eol_p10"] is not None:
            assert row["eol_p10"] >= row["as_of"]
    # Months of silence: the ledger catches up CATCH_UP_DAYS at most, so the old day stays out of it
    # and the battery is judged on what is recent.
    assert db.scalar("SELECT count(*) FROM battery_health_daily WHERE device_id = 'gap'") == 1
    assert rows["gap"]["soh_source"] == "measured"
