"""The worker against the mock Intellicar API over real HTTP and a real database."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from conftest import ROOT
from data import demo
from ingest.intellicar import IntellicarClient, IntellicarError
from ingest.simulator.model import Faults
from ingest.worker import Worker
from ingest_support import MockIntellicar, WebhookReceiver, env_for, worker_settings


@pytest.fixture
def mock():
    # Every vehicle reports temperature and a real SOH, so each scenario has something to trip on;
    # garbage, duplicates, gaps, strings and second-resolution times stay on.
    server = MockIntellicar(vehicles=6, faults=Faults(null_temperature_share=0, stuck_soh_share=0))
    yield server
    server.close()


@pytest.fixture
def fleet_db(any_db, mock):
    demo.seed_registry(any_db, mock.vehicles)
    return any_db


def stored_times(db, device: str, start: datetime, end: datetime) -> list:
    return [r["time"] for r in db.query(
        """SELECT time FROM telemetry.battery_readings WHERE device_id = :d AND time >= :s AND time <= :e
           ORDER BY time""", d=device, s=start, e=end)]


def assert_complete(db, mock, start: datetime, end: datetime):
    """Every valid reading the API reports for [start, end] is stored once; every rejected one is kept."""
    for v in mock.vehicles:
        valid, rejected = mock.expected_battery(v.vehicle_number, start, end)
        times = stored_times(db, v.device_id, start, end)
        assert len(times) == len(set(times)) == len(valid), v.device_id
        assert set(times) == valid
        kept = {r["time"] for r in db.query(
            "SELECT time FROM telemetry.rejected_readings WHERE device_id = :d AND stream = 'battery'",
            d=v.device_id)}
        assert rejected <= kept
        assert not (rejected & set(times))


def test_two_once_runs_store_each_reading_once(fleet_db, mock):
    settings = worker_settings(mock, INGEST_LOOKBACK_HOURS=3)
    env = env_for(settings, fleet_db.url)
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-m", "ingest", "--once"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert "devices polled" in proc.stderr
    end = min(r["high_water"] for r in fleet_db.query("SELECT high_water FROM ingest_cursors WHERE stream = 'battery'"))
    start = end - timedelta(hours=2)
    assert_complete(fleet_db, mock, start, end)
    garbage = fleet_db.query("""SELECT reasons, payload FROM telemetry.rejected_readings
                                WHERE 'voltage_out_of_range' = ANY(reasons) OR 'soc_out_of_range' = ANY(reasons)
                                   OR 'current_out_of_range' = ANY(reasons)""")
    assert garbage, "the simulator's garbage CAN values should have been rejected"
    assert fleet_db.scalar("""SELECT count(*) FROM telemetry.battery_readings
                              WHERE voltage > 1000 OR current > 1000 OR soc > 100""") == 0
    runs = fleet_db.query("SELECT devices_polled, rows_stored FROM ingest_runs ORDER BY id")
    assert len(runs) == 2 and runs[0]["devices_polled"] == 6 and runs[0]["rows_stored"] > 0
    state = fleet_db.scalar("SELECT count(*) FROM device_state WHERE reading_time IS NOT NULL AND latitude IS NOT NULL")
    assert state == 6


def test_expired_token_429s_and_null_data_end_with_full_data(fleet_db):
    mock = MockIntellicar(vehicles=6, token_ttl=1.0)  # tokens expire in the middle of the cycle
    try:
        demo.seed_registry(fleet_db, mock.vehicles)
        settings = worker_settings(mock, INTELLICAR_RETRIES=8, INTELLICAR_CALLS_PER_SECOND=20)
        client = IntellicarClient.from_settings(settings)
        client.null_data_pause = 0.05
        mock.control(**{"429": 6, "null": 4, "500": 3})
        worker = Worker(fleet_db, client, settings)
        now = datetime.now(timezone.utc)
        started = time.monotonic()
        figures = worker.run_cycle(now=now)
        if time.monotonic() - started < 1.5:
            pytest.skip("cycle finished before the token expired; nothing to test on this machine")
        assert figures.errors == 0
        assert client.stats.reauths >= 1 and client.stats.throttled >= 6 and client.stats.retries >= 13
        # The cycle's row on the system page carries the same counts (a fresh client: all of them are this cycle's).
        run = fleet_db.one("""SELECT vendor_calls, vendor_retries, vendor_throttled, vendor_reauths FROM ingest_runs
                              ORDER BY id DESC LIMIT 1""")
        assert run == {"vendor_calls": client.stats.calls, "vendor_retries": client.stats.retries,
                       "vendor_throttled": client.stats.throttled, "vendor_reauths": client.stats.reauths}
        assert_complete(fleet_db, mock, now - timedelta(hours=3), now)
    finally:
        mock.close()


def test_client_errors_name_endpoint_and_vehicle():
    mock = MockIntellicar(vehicles=1)
    try:
        bad = IntellicarClient(mock.base_url, "demo", "wrong", calls_per_second=100, min_interval_ms=0)
        with pytest.raises(IntellicarError, match="gettoken: wrong username or password"):
            bad.list_vehicles()
        client = IntellicarClient(mock.base_url, "demo", "demo", calls_per_second=100, min_interval_ms=0, retries=1)
        with pytest.raises(IntellicarError, match="getbatterymetricshistory for NOPE123: FAILURE: NOT_FOUND"):
            client.battery_history("NOPE123", datetime.now(timezone.utc) - timedelta(hours=1),
                                   datetime.now(timezone.utc))
        mock.control(**{"500": 5})
        with pytest.raises(IntellicarError, match=r"listvehicles: HTTP 502 \(gave up after 2 attempts\)"):
            client.list_vehicles()
    finally:
        mock.close()


def test_sigkill_during_backfill_loses_and_duplicates_nothing(fleet_db, mock):
    settings = worker_settings(mock, INTELLICAR_CONCURRENCY=1, INTELLICAR_CALLS_PER_SECOND=8,
                               INGEST_LOOKBACK_HOURS=12)
    env = env_for(settings, fleet_db.url)
    since = (datetime.now(timezone.utc) - timedelta(hours=8)).replace(microsecond=0)
    args = [sys.executable, "-m", "ingest", "--backfill", "--since", since.isoformat()]
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and fleet_db.scalar("SELECT count(*) FROM telemetry.battery_readings") < 2000:
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = fleet_db.scalar("SELECT count(*) FROM telemetry.battery_readings")
    assert partial > 0
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    end = min(r["high_water"] for r in fleet_db.query("SELECT high_water FROM ingest_cursors WHERE stream = 'battery'"))
    assert end > since + timedelta(hours=7)
    assert_complete(fleet_db, mock, since, end)


def test_scenarios_open_repeat_resolve_and_notify_once(fleet_db, mock):
    hook = WebhookReceiver()
    try:
        settings = worker_settings(mock, INGEST_LOOKBACK_HOURS=10, ALERT_WEBHOOK_URL=hook.url)
        worker = Worker(fleet_db, IntellicarClient.from_settings(settings), settings)
        v = [x.vehicle_number for x in mock.vehicles]
        d = {x.vehicle_number: x.device_id for x in mock.vehicles}
        T = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        mock.scenario(v[0], "overcurrent", T - timedelta(minutes=90), 60)
        mock.scenario(v[1], "overheating", T - timedelta(minutes=90), 60)
        mock.scenario(v[2], "deep_discharge", T - timedelta(minutes=150), 50)
        mock.scenario(v[3], "rapid_soh_drop", T - timedelta(days=5), 5 * 24 * 60 - 60)
        mock.scenario(v[4], "offline", T - timedelta(hours=8), 8 * 60 - 50)

        def state(device, kind):
            return fleet_db.query("""SELECT id, resolved_at, occurrence_count FROM alerts
                                     WHERE device_id = :d AND alert_type = :k ORDER BY id""", d=device, k=kind)

        # SOH from a simulated day wholly before the drop began, for the 30-day peak: a day the
        # drop had started in would lower the peak by up to 1.4 points depending on the hour.
        worker.run_cycle(now=T - timedelta(days=6))
        worker.run_cycle(now=T - timedelta(hours=9))
        worker.run_cycle(now=T - timedelta(hours=1))
        opened = {kind: state(d[vehicle], kind) for vehicle, kind in (
            (v[0], "overcurrent"), (v[1], "high_temp"), (v[2], "deep_discharge"), (v[4], "no_communication"))}
        assert all(len(rows) == 1 for rows in opened.values()), opened
        assert opened["overcurrent"][0]["resolved_at"] is None       # still going at T-1h
        assert opened["deep_discharge"][0]["resolved_at"] is not None  # recharged before T-1h

        worker.run_cycle(now=T)
        overcurrent = state(d[v[0]], "overcurrent")
        assert len(overcurrent) == 1, "a repeat must not open a second alert"
        assert overcurrent[0]["occurrence_count"] > opened["overcurrent"][0]["occurrence_count"]
        assert overcurrent[0]["resolved_at"] is not None
        assert state(d[v[1]], "high_temp")[0]["resolved_at"] is not None
        assert state(d[v[4]], "no_communication")[0]["resolved_at"] is not None
        soh = state(d[v[3]], "rapid_soh_drop")
        assert len(soh) == 1 and soh[0]["resolved_at"] is None
        events = [r["event"] for r in fleet_db.query(
            "SELECT event FROM alert_events WHERE alert_id = :id ORDER BY id", id=overcurrent[0]["id"])]
        assert events[0] == "opened" and events[-1] == "resolved" and set(events) <= {"opened", "repeated", "resolved"}

        # One notification per alert: sent, or skipped when the alert had ended over an hour before its
        # cycle ran (these cycles replay hours of the past); every alert still open was sent.
        outbox = fleet_db.query("""SELECT o.alert_id, o.status, a.resolved_at FROM notification_outbox o
                                   JOIN alerts a ON a.id = o.alert_id ORDER BY o.id""")
        notifying = fleet_db.query("SELECT id, resolved_at FROM alerts WHERE severity IN ('critical', 'warning')")
        assert sorted(r["alert_id"] for r in outbox) == sorted(a["id"] for a in notifying)
        assert all(r["status"] in ("delivered", "skipped") for r in outbox)
        assert all(r["status"] == "delivered" for r in outbox if r["resolved_at"] is None)
        keys = [r["key"] for r in hook.received]
        assert sorted(keys) == sorted(f"alert-{r['alert_id']}-opened-operator-webhook" for r in outbox
                                      if r["status"] == "delivered")
        assert len(keys) == len(set(keys))
        assert fleet_db.scalar("SELECT count(*) FROM notification_outbox WHERE status <> 'delivered'") == 0
    finally:
        hook.close()


def test_failed_webhook_keeps_alert_and_retries(fleet_db, mock):
    settings = worker_settings(mock, ALERT_WEBHOOK_URL="http://127.0.0.1:1/nowhere")
    worker = Worker(fleet_db, IntellicarClient.from_settings(settings), settings)
    mock.scenario(mock.vehicles[0].vehicle_number, "overcurrent", datetime.now(timezone.utc) - timedelta(minutes=40), 60)
    figures = worker.run_cycle()
    assert figures.alerts_opened >= 1 and figures.errors == 0
    row = fleet_db.one("SELECT status, attempts, last_error FROM notification_outbox ORDER BY id LIMIT 1")
    assert row["status"] == "pending" and row["attempts"] == 1 and "Connection" in row["last_error"]


def test_sensor_health_figures(fleet_db):
    mock = MockIntellicar(vehicles=6, faults=Faults(null_temperature_share=0.5, stuck_soh_share=0.5,
                                                    garbage_rate=0.01))
    try:
        settings = worker_settings(mock, INGEST_LOOKBACK_HOURS=2)
        Worker(fleet_db, IntellicarClient.from_settings(settings), settings).run_cycle()
        from data import telemetry
        health = {r["device_id"]: r for r in telemetry.sensor_health(fleet_db)}
        assert any(r["null_temperature_share"] == 1 for r in health.values())
        assert any(r["soh_stuck"] for r in health.values())
        assert sum(r["rejected"] for r in health.values()) > 0
    finally:
        mock.close()


def test_worker_carries_on_after_database_sessions_are_killed(fleet_db, mock):
    """What a server restart does to a running worker: every pooled session dies. The next cycle
    reconnects and stores everything, with nothing duplicated."""
    settings = worker_settings(mock, INGEST_LOOKBACK_HOURS=1)
    worker = Worker(fleet_db, IntellicarClient.from_settings(settings), settings)
    assert worker.run_cycle().errors == 0
    killed = fleet_db.scalar("""SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                                WHERE datname = current_database() AND pid <> pg_backend_pid()) k""")
    assert killed >= 1
    assert worker.run_cycle().errors == 0
    end = min(r["high_water"] for r in fleet_db.query("SELECT high_water FROM ingest_cursors WHERE stream = 'battery'"))
    assert_complete(fleet_db, mock, end - timedelta(minutes=50), end)


def test_readings_stored_by_a_killed_worker_are_evaluated_by_the_next_run(fleet_db, mock):
    """The worker is SIGKILLed after storing a fault's readings and before it could record their
    evaluation (the test holds a lock that stops its first alert write); the next run raises it."""
    import psycopg2

    vehicle = mock.vehicles[0]
    # Over before either run: the second run's polls bring no new hot readings, only the stored ones
    # still waiting for evaluation can raise the alert.
    mock.scenario(vehicle.vehicle_number, "overheating", datetime.now(timezone.utc) - timedelta(minutes=40), 30)
    env = env_for(worker_settings(mock, INGEST_LOOKBACK_HOURS=1), fleet_db.url)
    args = [sys.executable, "-m", "ingest", "--once"]
    dsn = fleet_db.engine.url.render_as_string(hide_password=False).replace("postgresql+psycopg2", "postgresql")
    blocker = psycopg2.connect(dsn)
    try:
        with blocker.cursor() as cur:
            cur.execute("LOCK TABLE alerts IN EXCLUSIVE MODE")  # reads pass; the first alert write waits
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline, waiting = time.monotonic() + 120, False
        while time.monotonic() < deadline and not waiting:
            time.sleep(0.2)
            waiting = bool(fleet_db.scalar(
                """SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                   AND application_name = 'battery-fleet-monitor' AND wait_event_type = 'Lock'"""))
        assert waiting, "the worker never reached its alert write"
        hot = fleet_db.scalar("""SELECT count(*) FROM telemetry.battery_readings
                                 WHERE device_id = :d AND temperature > 55""", d=vehicle.device_id)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        fleet_db.scalar("""SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                           WHERE datname = current_database() AND pid <> pg_backend_pid()
                             AND application_name = 'battery-fleet-monitor' AND wait_event_type = 'Lock'""")
    finally:
        blocker.rollback()
        blocker.close()
    assert hot > 0, "the fault's readings were stored before the kill"
    assert fleet_db.scalar("SELECT count(*) FROM alerts") == 0
    assert fleet_db.scalar("SELECT pending_from FROM alert_marks WHERE device_id = :d", d=vehicle.device_id)
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert fleet_db.scalar("SELECT count(*) FROM alerts WHERE device_id = :d AND alert_type = 'high_temp'",
                           d=vehicle.device_id) == 1
    assert fleet_db.scalar("SELECT count(*) FROM alert_marks WHERE pending_from IS NOT NULL") == 0
