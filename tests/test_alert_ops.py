"""Alert operations without a browser: the thresholds callbacks (admins only, validated, kept in the
history), the live toasts' poll (scoped, no flood on first load), and the scenario panel against a
real simulator over HTTP."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

import config
from conftest import login
from data import alert_config, alerts
from data.alert_config import LIMITS
from ingest.simulator import control
from ingest.simulator.model import GLITCH_TEMPERATURE
from ingest_support import MockIntellicar
from test_authorization import _payload, _rule_key

LIVE = "..live-toasts.children...live-last.data...live-beep.data...live-toasts.className.."
INJECT = "..scenario-status.children...scenario-status.className...scenario-injected.data.."
RESULTS = ("..scenario-summary.children...scenario-truth.children...scenario-alerts.children..."
           "scenario-notifications.children...scenario-escalations.children..")
ROUTER = ".._pages_content.children..._pages_store.data.."


def _text(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _call(app, client, key: str, values: dict):
    response = client.post("/_dash-update-component", json=_payload(app, key, values))
    assert response.status_code in (200, 204), (key, response.status_code, response.get_data(as_text=True)[:300])
    body = json.loads(response.get_data()) if response.status_code == 200 else {}
    return body if body.get("response") else {}  # 204, or 200 with nothing updated: the same to a browser


def _rule(app_db, alert_type: str) -> dict:
    return app_db.one("SELECT enabled, threshold, severity, duration_minutes, clear_threshold, notify "
                      "FROM alert_rules WHERE alert_type = :t", t=alert_type)


def _form(alert_type: str, **values) -> dict:
    base = {"enabled": ["on"], "threshold": 55, "clear_threshold": 50, "duration_minutes": 2, "severity": "critical",
            "notify": ["on"]}
    base.update(values)
    form = {f"rule-{alert_type}-save.n_clicks": 1}
    form.update({f"rule-{alert_type}-{k}.value": v for k, v in base.items()})
    return form


# -- thresholds ------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["manager", "engineer", "viewer", "dealer1"])
def test_rule_callbacks_refuse_everyone_but_admins(dash_app, client, app_db, restore_alerts, role):
    login(client, role)
    before = _rule(app_db, "high_temp")
    changes = app_db.scalar("SELECT count(*) FROM alert_rule_changes")
    body = _call(dash_app, client, _rule_key("high_temp"), _form("high_temp", threshold=58, clear_threshold=53))
    assert body["response"]["rule-high_temp-status"]["children"] == "Only administrators can change alert rules."
    assert "rule-high_temp-threshold" not in body["response"]  # the form is not touched either
    assert _rule(app_db, "high_temp") == before
    assert app_db.scalar("SELECT count(*) FROM alert_rule_changes") == changes
    history = _call(dash_app, client, "alert-rules-history.children", {})
    assert "Only administrators" in _text(history) and "High temperature" not in _text(history)
    assert _call(dash_app, client, "alert-rules-history-download.data",
                 {"alert-rules-history-export-csv.n_clicks": 1}) == {}


def test_admin_saves_a_rule_and_the_change_is_kept(dash_app, client, app_db, restore_alerts):
    login(client, "admin")
    body = _call(dash_app, client, _rule_key("high_temp"),
                 _form("high_temp", threshold=58, clear_threshold=53, duration_minutes=3, notify=[]))
    response = body["response"]
    assert response["rule-high_temp-status"]["children"] == (
        "Saved: threshold 55 → 58 °C, clear threshold 50 → 53 °C, minimum duration 2 → 3 min, notify on → off. "
        "The worker uses it from its next cycle.")
    assert response["rule-high_temp-threshold"]["value"] == 58
    assert response["rule-high_temp-notify"]["value"] == []
    assert _rule(app_db, "high_temp") == {"enabled": True, "threshold": 58, "severity": "critical",
                                          "duration_minutes": 3, "clear_threshold": 53, "notify": False}
    change = app_db.one("SELECT * FROM alert_rule_changes ORDER BY id DESC LIMIT 1")
    assert change["changed_by"] == "admin" and change["alert_type"] == "high_temp"
    assert change["before"]["threshold"] == 55 and change["after"]["threshold"] == 58
    history = _text(_call(dash_app, client, "alert-rules-history.children", {}))
    assert "High temperature" in history and "58 °C" in history and "admin" in history
    download = _call(dash_app, client, "alert-rules-history-download.data",
                     {"alert-rules-history-export-csv.n_clicks": 1})
    assert "high_temp,threshold,55" in download["response"]["alert-rules-history-download"]["data"]["content"]


def test_admin_mistakes_name_the_field_and_change_nothing(dash_app, client, app_db, restore_alerts):
    login(client, "admin")
    before, changes = _rule(app_db, "high_temp"), app_db.scalar("SELECT count(*) FROM alert_rule_changes")
    response = _call(dash_app, client, _rule_key("high_temp"), _form("high_temp", threshold=95))["response"]
    assert response["rule-high_temp-threshold-error"]["children"] == "must be between -10 and 80 °C"
    assert response["rule-high_temp-status"]["className"] == "rule-status error"
    response = _call(dash_app, client, _rule_key("high_temp"), _form("high_temp", clear_threshold=60))["response"]
    assert response["rule-high_temp-clear_threshold-error"]["children"].startswith("must be at or below the threshold")
    assert response["rule-high_temp-threshold-error"]["children"] == ""
    low = _form("low_soc", threshold=10, clear_threshold=5, duration_minutes="two", severity="loud")
    response = _call(dash_app, client, _rule_key("low_soc"), low)["response"]
    assert response["rule-low_soc-duration_minutes-error"]["children"] == "must be a number"
    assert response["rule-low_soc-severity-error"]["children"].startswith("must be one of critical")
    silence = {"rule-no_communication-save.n_clicks": 1, "rule-no_communication-duration_minutes.value": 2,
               "rule-no_communication-severity.value": "warning", "rule-no_communication-enabled.value": ["on"],
               "rule-no_communication-notify.value": ["on"]}
    response = _call(dash_app, client, _rule_key("no_communication"), silence)["response"]
    assert response["rule-no_communication-duration_minutes-error"]["children"] == "must be between 5 and 10080 minutes"
    assert _rule(app_db, "high_temp") == before
    assert app_db.scalar("SELECT count(*) FROM alert_rule_changes") == changes


HOSTILE = [None, True, 0, -1, 2**64, 1e308, -1e308, 0.5, "", "\x00", "x" * 10_240, "' OR 1=1 --", [], [1, "a"],
           {}, {"a": 1}, "NaN", "Infinity"]


def test_admin_hostile_values_never_break_or_store_a_bad_rule(dash_app, client, app_db, restore_alerts):
    """The walk in test_hostile_input.py runs as a manager and a dealer (refused at once); an admin's
    hostile values go through validation: never a 5xx, and whatever is stored stays in range."""
    login(client, "admin")
    for alert_type in ("high_temp", "low_soc", "no_communication"):
        limits = LIMITS[alert_type]
        fields = ["duration_minutes", "severity", "enabled", "notify"]
        fields += [] if limits.low is None else ["threshold", "clear_threshold"]
        for name in fields:
            for bad in HOSTILE:
                form = _form(alert_type, **{name: bad})
                if limits.low is None:
                    form = {k: v for k, v in form.items() if "threshold" not in k}
                response = client.post("/_dash-update-component", json=_payload(dash_app, _rule_key(alert_type), form))
                assert response.status_code == 200, (alert_type, name, repr(bad)[:30], response.status_code)
                stored = _rule(app_db, alert_type)
                assert alert_config.validate(alert_type, stored, {}) == stored  # a stored rule is always valid
                assert stored["severity"] in alert_config.SEVERITIES


# -- live toasts -----------------------------------------------------------------------------
def _device(app_db, dealer: str, index: int = 0) -> dict:
    return app_db.query("""SELECT d.device_id, d.vehicle_number FROM devices d JOIN dealers dl ON dl.id = d.dealer_id
                           WHERE dl.code = :code ORDER BY d.device_id""", code=dealer)[index]


def raise_critical(app_db, device_id: str, alert_type: str = "undervoltage") -> int:
    with app_db.transaction() as conn:
        alerts.raise_alert(conn, device_id=device_id, alert_type=alert_type, severity="critical",
                           message=f"{alert_type.replace('_', ' ')} test on {device_id}", value=40.1, threshold=42.0,
                           at=datetime.now(timezone.utc), count=1)
    return app_db.scalar("SELECT max(id) FROM alerts WHERE device_id = :d AND alert_type = :t",
                         d=device_id, t=alert_type)


@pytest.fixture
def cleanup_alerts(app_db):
    first = app_db.scalar("SELECT coalesce(max(id), 0) FROM alerts")
    yield
    app_db.execute("DELETE FROM alerts WHERE id > :id", id=first)


def _poll(app, client, memo):
    return _call(app, client, LIVE, {"live-poll.n_intervals": 1, "live-last.data": memo})


def test_live_poll_shows_new_critical_alerts_only_to_who_may_see_them(dash_app, app_db, cleanup_alerts):
    own, other = _device(app_db, "LKO01", 1), _device(app_db, "DEL01", 1)
    dealer1, dealer2, manager = (dash_app.server.test_client() for _ in range(3))
    memos = {}
    for name, client in (("dealer1", dealer1), ("dealer2", dealer2), ("manager", manager)):
        login(client, name)
        first = _poll(dash_app, client, None)["response"]
        assert "live-toasts" not in first or "children" not in first["live-toasts"]  # no flood on a page load
        assert first["live-toasts"]["className"] == "live-toasts live-ready"
        memos[name] = first["live-last"]["data"]
    assert _poll(dash_app, dealer1, memos["dealer1"]) == {}  # nothing new: nothing but one cheap query

    alert_id = raise_critical(app_db, own["device_id"])
    assert _poll(dash_app, dealer2, memos["dealer2"]) == {}  # another dealer's alert: nothing at all
    for name, client in (("dealer1", dealer1), ("manager", manager)):
        response = _poll(dash_app, client, memos[name])["response"]
        toasts = _text(response["live-toasts"]["children"])
        assert own["vehicle_number"] in toasts and f"/alerts?id={alert_id}" in toasts
        assert response["live-last"]["data"] == {"id": alert_id, "kept": 1}
        assert response["live-beep"]["data"] == {"n": 1, "id": alert_id}
    assert other["vehicle_number"] not in toasts

    # A flood: five toasts and one "N more", not one toast per alert.
    memo = _poll(dash_app, manager, None)["response"]["live-last"]["data"]
    for i in range(3):
        for kind in ("undervoltage", "high_temp", "deep_discharge"):
            raise_critical(app_db, _device(app_db, "JAI01", 2 + i)["device_id"], kind)
    patch = _poll(dash_app, manager, memo)["response"]["live-toasts"]["children"]
    assert [op["operation"] for op in patch["operations"]] == ["Extend"]  # added to what the page shows
    toasts = patch["operations"][0]["params"]["value"]
    assert len(toasts) == 6 and "4 more new critical alerts" in _text(toasts[-1])
    # A memo the browser forged: the answer stays in scope.
    forged = _poll(dash_app, dealer2, {"id": 0, "kept": 0})
    assert own["vehicle_number"] not in _text(forged)


# -- scenario panel --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def simulator():
    mock = MockIntellicar(vehicles=40)
    yield mock
    mock.close()


@pytest.fixture
def demo_simulator(simulator, monkeypatch):
    """The web app's vendor URL pointing at the simulator, as `make run` sets it."""
    monkeypatch.setenv("INTELLICAR_BASE_URL", simulator.base_url)
    config.reset()
    yield simulator
    monkeypatch.undo()
    config.reset()


def test_control_injects_in_bulk_and_reads_the_truth(simulator):
    vehicles = [v.vehicle_number for v in simulator.vehicles[:5]]
    start = datetime.now(timezone.utc) - timedelta(minutes=10)
    injected = control.inject(simulator.base_url, "firmware_glitch", vehicles, 20, start=start)
    assert [s["vehicle"] for s in injected] == vehicles
    assert injected[0]["end"] - injected[0]["start"] == timedelta(minutes=20)
    truth = control.truth(simulator.base_url)
    assert {(s["vehicle"], s["kind"]) for s in truth} >= {(v, "firmware_glitch") for v in vehicles}
    # The glitch is in what the mock API reports: 70 °C from the packs that report a temperature.
    reported = [r["battery_temp"] for v in vehicles
                for r in simulator.fleet.battery_history(v, start + timedelta(minutes=1), start + timedelta(minutes=5))]
    assert reported and {float(t) for t in reported if t is not None} == {GLITCH_TEMPERATURE}

    count = len(truth)
    for bad in ([*vehicles, "NO-SUCH-VEHICLE"], []):
        with pytest.raises(control.SimulatorUnavailable, match="refused"):
            control.inject(simulator.base_url, "overheating", bad, 20)
    with pytest.raises(control.SimulatorUnavailable, match="minutes"):
        control.inject(simulator.base_url, "overheating", vehicles, 0)
    with pytest.raises(control.SimulatorUnavailable, match="kind"):
        control.inject(simulator.base_url, "meltdown", vehicles, 20)
    assert len(control.truth(simulator.base_url)) == count  # a refused injection stores nothing
    with pytest.raises(control.SimulatorUnavailable, match="does not answer"):
        control.truth("http://127.0.0.1:9/api/standard")


def test_scenario_panel_injects_through_the_simulator_as_admin(dash_app, client, app_db, demo_simulator):
    login(client, "admin")
    page = _text(_call(dash_app, client, ROUTER, {"_pages_location.pathname": "/scenarios",
                                                       "_pages_location.search": ""}))
    assert "Scenario panel" in page and "Inject now" in page
    chosen = [v.device_id for v in demo_simulator.vehicles[:2]]
    before = len(control.truth(demo_simulator.base_url))
    response = _call(dash_app, client, INJECT, {"scenario-inject.n_clicks": 1, "scenario-kind.value": "overheating",
                                                "scenario-batteries.value": chosen})["response"]
    status = response["scenario-status"]["children"]
    assert status.startswith("Injected overheating into 2 batteries") and "Expect high_temp (critical)" in status
    truth = control.truth(demo_simulator.base_url)
    new = truth[before:]
    assert {s["vehicle"] for s in new} == {v.vehicle_number for v in demo_simulator.vehicles[:2]}
    duration = next(r for r in alert_config.rules(app_db) if r["alert_type"] == "high_temp")["duration_minutes"]
    assert all(s["end"] - s["start"] >= timedelta(minutes=duration + 2) for s in new)  # outlasts the rule

    response = _call(dash_app, client, INJECT, {"scenario-inject.n_clicks": 1, "scenario-kind.value": "flood",
                                                "scenario-flood-size.value": 12})["response"]
    assert "into 12 batteries" in response["scenario-status"]["children"]
    flood = control.truth(demo_simulator.base_url)[len(truth):]
    assert len(flood) == 12 and {s["kind"] for s in flood} == {"firmware_glitch"}
    reporters = {r["vehicle_number"] for r in app_db.query(
        "SELECT d.vehicle_number FROM devices d JOIN device_state s USING (device_id) WHERE s.temperature IS NOT NULL")}
    assert {s["vehicle"] for s in flood} <= reporters

    too_short = _call(dash_app, client, INJECT, {"scenario-inject.n_clicks": 1, "scenario-kind.value": "overheating",
                                                 "scenario-batteries.value": chosen, "scenario-minutes.value": 1})
    assert too_short["response"]["scenario-status"]["children"].startswith("Too short")
    assert len(control.truth(demo_simulator.base_url)) == len(truth) + 12

    results = _text(_call(dash_app, client, RESULTS, {"scenario-window.value": "last"}))
    assert "firmware glitch" in results and "12" in results


@pytest.mark.parametrize("role", ["manager", "engineer", "dealer1"])
def test_scenario_panel_refuses_everyone_but_admins(dash_app, client, demo_simulator, role):
    login(client, role)
    page = _text(_call(dash_app, client, ROUTER, {"_pages_location.pathname": "/scenarios",
                                                       "_pages_location.search": ""}))
    assert "Not found" in page and "Inject" not in page
    before = len(control.truth(demo_simulator.base_url))
    body = _call(dash_app, client, INJECT, {"scenario-inject.n_clicks": 1, "scenario-kind.value": "flood",
                                            "scenario-flood-size.value": 5})
    assert body["response"]["scenario-status"]["children"] == "Not found."
    assert len(control.truth(demo_simulator.base_url)) == before
    assert _call(dash_app, client, RESULTS, {"scenario-window.value": "last"}) == {}


def test_scenario_panel_is_off_outside_demo_mode(dash_app, client, demo_simulator, monkeypatch):
    login(client, "admin")
    monkeypatch.setenv("DEMO_MODE", "0")
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    config.reset()
    try:
        page = _text(_call(dash_app, client, ROUTER, {"_pages_location.pathname": "/scenarios",
                                                           "_pages_location.search": ""}))
        assert "Not found" in page
        before = len(control.truth(demo_simulator.base_url))
        body = _call(dash_app, client, INJECT, {"scenario-inject.n_clicks": 1, "scenario-kind.value": "flood",
                                                "scenario-flood-size.value": 5})
        assert body["response"]["scenario-status"]["children"] == "Not found."
        assert len(control.truth(demo_simulator.base_url)) == before
    finally:
        monkeypatch.setenv("DEMO_MODE", "1")
        monkeypatch.delenv("SECRET_KEY")
        config.reset()


def test_admin_hostile_scenario_inputs_never_break(dash_app, client, app_db, demo_simulator):
    """As for the rules: the hostile walk runs as roles the panel refuses at once, so an admin's
    hostile values are sent here, field by field, against the real simulator."""
    login(client, "admin")
    base = {"scenario-inject.n_clicks": 1, "scenario-kind.value": "overcurrent",
            "scenario-batteries.value": [demo_simulator.vehicles[3].device_id], "scenario-minutes.value": 20,
            "scenario-flood-size.value": 3}
    for name in base:
        for bad in HOSTILE:
            response = client.post("/_dash-update-component", json=_payload(dash_app, INJECT, dict(base, **{name: bad})))
            assert response.status_code in (200, 204), (name, repr(bad)[:30], response.status_code)
            assert "Traceback" not in response.get_data(as_text=True)
    for bad in HOSTILE:
        response = client.post("/_dash-update-component", json=_payload(dash_app, RESULTS, {"scenario-window.value": bad}))
        assert response.status_code == 200, (repr(bad)[:30], response.status_code)
    # Whatever went through reached only known batteries, for a known kind and a sane length.
    vehicles = {v.vehicle_number for v in demo_simulator.vehicles}
    for s in demo_simulator.fleet.scenarios:
        assert s.vehicle in vehicles and timedelta(0) < s.end - s.start <= timedelta(minutes=control.MAX_MINUTES)
