"""End to end: an admin changes a threshold through the page's callback, and the next worker cycle
(real HTTP to the mock vendor API, the real writer and engine) opens, or no longer opens, the alert.
And under the default durations a single out-of-range reading opens nothing while a sustained
run opens its alert within one cycle.

Runs on the web app's database (the page and the worker must share it). Its three vehicles (past
the first eight, which carry the seeded alerts) lose their last hour of seeded readings first, so
the worker stores that hour again from the simulator, scenarios included; the alerts and rule
changes the test makes are removed at the end.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from conftest import APP_FLEET, login
from data import alert_config, alerts
from ingest.intellicar import IntellicarClient
from ingest.worker import Worker
from ingest_support import MockIntellicar, worker_settings
from test_authorization import _payload

VEHICLES = (10, 11, 12)


@pytest.fixture
def world(dash_app, app_db, restore_alerts):
    mock = MockIntellicar(vehicles=APP_FLEET)  # the app database's fleet, the same simulated vehicles
    started = datetime.now(timezone.utc)
    alerts.evaluate_only_after(app_db, started)  # the seeded past is not this test's business
    ids = [mock.vehicles[i].device_id for i in VEHICLES]
    hour_ago = started - timedelta(hours=1)
    app_db.execute("DELETE FROM telemetry.battery_readings WHERE device_id = ANY(:ids) AND time > :t", ids=ids,
                   t=hour_ago)
    app_db.execute("UPDATE ingest_cursors SET high_water = :t WHERE device_id = ANY(:ids) AND stream = 'battery'",
                   ids=ids, t=hour_ago)
    try:
        yield mock
    finally:
        mock.close()


def _save_key(dash_app) -> str:
    return next(k for k in dash_app.callback_map if "rule-high_temp-" in k and "status.children" in k
                and k.startswith(".."))


def save_threshold(dash_app, client, threshold: float, clear: float) -> dict:
    key = _save_key(dash_app)
    values = {"rule-high_temp-save.n_clicks": 1, "rule-high_temp-threshold.value": threshold,
              "rule-high_temp-clear_threshold.value": clear, "rule-high_temp-duration_minutes.value": 2,
              "rule-high_temp-severity.value": "critical", "rule-high_temp-enabled.value": ["on"],
              "rule-high_temp-notify.value": ["on"]}
    payload = _payload(dash_app, key, values)
    payload["changedPropIds"] = ["rule-high_temp-save.n_clicks"]
    response = client.post("/_dash-update-component", json=payload)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()["response"]


def high_temp(app_db, device: str) -> list[dict]:
    return app_db.query("SELECT id, status FROM alerts WHERE device_id = :d AND alert_type = 'high_temp'", d=device)


def test_a_threshold_saved_on_the_page_governs_the_next_worker_cycle(dash_app, app_db, client, world):
    mock = world
    assert login(client, "admin").status_code == 302
    settings = worker_settings(mock, INGEST_LOOKBACK_HOURS=1)
    worker = Worker(app_db, IntellicarClient.from_settings(settings), settings)
    hot = mock.vehicles[VEHICLES[0]]
    T = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    # The glitch reports 70 °C: once while the threshold is 75 °C, once after it is 65 °C.
    mock.scenario(hot.vehicle_number, "firmware_glitch", T - timedelta(minutes=28), 8)
    mock.scenario(hot.vehicle_number, "firmware_glitch", T - timedelta(minutes=10), 8)

    response = save_threshold(dash_app, client, 75, 70)
    assert "rule-status ok" in str(response), response
    assert alert_config.changes(app_db, 1)[0]["after"]["threshold"] == 75
    worker.run_cycle(now=T - timedelta(minutes=15))
    assert app_db.scalar("""SELECT count(*) FROM telemetry.battery_readings WHERE device_id = :d
                            AND temperature = 70""", d=hot.device_id) >= 10, "the first glitch was stored"
    assert high_temp(app_db, hot.device_id) == [], "70 °C is under a 75 °C threshold"

    assert "rule-status ok" in str(save_threshold(dash_app, client, 65, 60))
    worker.run_cycle(now=T)
    assert [a["status"] for a in high_temp(app_db, hot.device_id)] == ["resolved"]  # opened, then cleared


def test_one_hot_reading_opens_nothing_and_a_sustained_one_opens_within_one_cycle(app_db, world):
    mock = world
    settings = worker_settings(mock, INGEST_LOOKBACK_HOURS=1)
    worker = Worker(app_db, IntellicarClient.from_settings(settings), settings)
    spike, sustained = (mock.vehicles[i] for i in VEHICLES[1:])
    T = datetime.now(timezone.utc)
    mock.scenario(spike.vehicle_number, "firmware_glitch", T - timedelta(minutes=10), 0.5)  # one 30 s step
    mock.scenario(sustained.vehicle_number, "firmware_glitch", T - timedelta(minutes=10), 5)
    worker.run_cycle(now=T)
    hot_readings = app_db.scalar("""SELECT count(*) FROM telemetry.battery_readings WHERE device_id = :d
                                    AND temperature = 70 AND time > :t""", d=spike.device_id, t=T - timedelta(hours=1))
    assert hot_readings == 1, "the spike is stored, as one reading"
    assert high_temp(app_db, spike.device_id) == []
    assert len(high_temp(app_db, sustained.device_id)) == 1
