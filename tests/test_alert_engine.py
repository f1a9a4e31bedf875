"""The alert engine on a real database: readings go in through the real writer, the engine judges
them, notifications go out over loopback (HTTP and SMTP).

Readings are 30 s apart, the vendor's cadence. Times are an hour in the past, and each pass is run
"now" a minute after the last reading, so feed silence and escalation stay out of the way unless a
test is about them.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

import config
from data import alert_actions, alert_config, alert_views, contacts, demo, telemetry
from data.scope import Scope
from ingest import notify
from ingest.alert_rules import AlertEngine
from ingest_support import WebhookReceiver

STEP = timedelta(seconds=30)
BASE = {"soc": 60.0, "soh": 97.0, "voltage": 52.0, "current": -10.0, "charge_cycle": 300, "temperature": 30.0,
        "battery_id": None, "power_watts": None}
T0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
ENGINEER = Scope("engineer", None, None, actor="engineer")


@pytest.fixture
def fleet(any_db):
    vehicles = demo.fleet(12)
    demo.seed_registry(any_db, vehicles)
    return any_db, [v.device_id for v in vehicles]


def settings(**env) -> config.Settings:
    return config.load({"DEMO_MODE": "1", **{k: str(v) for k, v in env.items()}})


def put(db, device: str, start: datetime, values: list, field: str = "temperature", **fixed) -> datetime:
    """Store one reading per value, 30 s apart, through the real writer; returns the last reading's time."""
    rows = [dict(BASE, **fixed, device_id=device, time=start + i * STEP, **{field: v}) for i, v in enumerate(values)]
    telemetry.store(db, battery=rows)
    return rows[-1]["time"]


def alerts_of(db, device: str, kind: str) -> list[dict]:
    return db.query("""SELECT id, status, occurrence_count, first_seen_at, last_seen_at, resolved_at, reopened_from
                       FROM alerts WHERE device_id = :d AND alert_type = :k ORDER BY id""", d=device, k=kind)


def run(db, last: datetime, **env):
    return AlertEngine(db, settings(**env)).run(now=last + timedelta(minutes=1))


# One value past each threshold rule's default (51.2 V packs), as (alert type, field, value).
SPIKES = [("low_soc", "soc", 5.0), ("deep_discharge", "soc", 0.0), ("high_temp", "temperature", 57.0),
          ("overcurrent", "current", -150.0), ("overvoltage", "voltage", 60.0), ("undervoltage", "voltage", 40.0),
          ("soh_degradation", "soh", 70.0), ("excessive_cycles", "charge_cycle", 1600)]


def test_one_reading_past_any_threshold_opens_nothing(fleet):
    db, devices = fleet
    last = T0
    for device, (_kind, field, value) in zip(devices, SPIKES):
        values = [BASE[field]] * 10 + [value] + [BASE[field]] * 10
        last = max(last, put(db, device, T0, values, field))
    quiet = put(db, devices[-1], T0, [30.0] * 20)  # nothing past any threshold: cleared in one statement
    run(db, max(last, quiet))
    assert db.scalar("SELECT count(*) FROM alerts") == 0
    assert db.scalar("SELECT count(*) FROM alert_marks WHERE pending_from IS NOT NULL") == 0


@pytest.mark.parametrize("kind,field,value", SPIKES, ids=[s[0] for s in SPIKES])
def test_a_sustained_run_opens_its_alert_once(fleet, kind, field, value):
    db, devices = fleet
    minutes = db.scalar("SELECT duration_minutes FROM alert_rules WHERE alert_type = :k", k=kind)
    assert minutes >= 1, "every threshold rule has a duration by default"
    readings = int(minutes * 2) + 3  # the duration, and a minute more
    last = put(db, devices[0], T0, [BASE[field]] * 4 + [value] * readings, field)
    run(db, last)
    opened = alerts_of(db, devices[0], kind)
    assert len(opened) == 1 and opened[0]["status"] == "open"
    # It opens at the first reading that completes the duration, and counts the ones after it.
    assert opened[0]["first_seen_at"] == T0 + (4 + 2 * minutes) * STEP
    assert opened[0]["occurrence_count"] == readings - 2 * minutes


def test_too_short_a_run_opens_nothing_and_a_gap_breaks_a_run(fleet):
    db, devices = fleet
    last = put(db, devices[0], T0, [30.0] * 3 + [57.0] * 4 + [30.0] * 3)  # 1.5 min at 57 °C: under 2 min
    # Two 1.5-minute stretches 20 minutes apart (no readings between): not one 22-minute run.
    put(db, devices[1], T0, [57.0] * 4)
    last = max(last, put(db, devices[1], T0 + timedelta(minutes=20), [57.0] * 4))
    run(db, last)
    assert alerts_of(db, devices[0], "high_temp") == [] and alerts_of(db, devices[1], "high_temp") == []


def test_hysteresis_keeps_it_open_until_the_clear_threshold(fleet):
    db, devices = fleet
    last = put(db, devices[0], T0, [57.0] * 7 + [52.0] * 6)  # 52 °C: below 55, above the 50 °C clear
    run(db, last)
    assert [a["status"] for a in alerts_of(db, devices[0], "high_temp")] == ["open"]
    last = put(db, devices[0], last + STEP, [49.0])
    run(db, last)
    (alert,) = alerts_of(db, devices[0], "high_temp")
    assert alert["status"] == "resolved" and alert["resolved_at"] == last
    events = [e["event"] for e in db.query("SELECT event FROM alert_events WHERE alert_id = :id ORDER BY id",
                                           id=alert["id"])]
    assert events == ["opened", "resolved"]


def test_evaluating_a_stretch_again_changes_nothing(fleet):
    db, devices = fleet
    last = put(db, devices[0], T0, [57.0] * 10 + [30.0] * 3 + [57.0] * 3)
    run(db, last)
    before = db.query("SELECT * FROM alerts ORDER BY id"), db.scalar("SELECT count(*) FROM alert_events")
    # A late frame lowers the mark to the start: everything is judged again.
    put(db, devices[0], T0 - STEP, [30.0])
    assert db.scalar("SELECT pending_from FROM alert_marks WHERE device_id = :d", d=devices[0]) == T0 - STEP
    run(db, last)
    assert (db.query("SELECT * FROM alerts ORDER BY id"), db.scalar("SELECT count(*) FROM alert_events")) == before
    assert db.scalar("SELECT pending_from FROM alert_marks WHERE device_id = :d", d=devices[0]) is None


def test_repeats_count_on_the_open_alert_and_note_its_history_hourly(fleet):
    db, devices = fleet
    last = put(db, devices[0], T0, [57.0] * 7)
    run(db, last)
    last = put(db, devices[0], last + STEP, [58.0] * 4)
    run(db, last)
    (alert,) = alerts_of(db, devices[0], "high_temp")
    assert alert["occurrence_count"] == 1 + 2 + 4 and alert["last_seen_at"] == last

    def events():
        return [e["event"] for e in db.query("SELECT event FROM alert_events WHERE alert_id = :id ORDER BY id",
                                             id=alert["id"])]
    assert events() == ["opened"]  # minutes later: the count moves, the history does not fill up
    later = put(db, devices[0], last + timedelta(minutes=61), [58.0] * 6)  # an hour on, two minutes hot again
    run(db, later)
    assert events() == ["opened", "repeated"]
    (alert,) = alerts_of(db, devices[0], "high_temp")
    assert alert["occurrence_count"] == 7 + 2


def test_resolved_by_hand_while_still_hot_opens_again_linked(fleet):
    db, devices = fleet
    last = put(db, devices[0], T0, [57.0] * 7)
    run(db, last)
    (first,) = alerts_of(db, devices[0], "high_temp")
    assert alert_actions.resolve(db, ENGINEER, first["id"], "fan replaced").changed
    last = put(db, devices[0], last + STEP, [57.0] * 2)  # the same run goes on
    run(db, last)
    old, new = alerts_of(db, devices[0], "high_temp")
    assert old["status"] == "resolved" and new["status"] == "open" and new["reopened_from"] == first["id"]


def test_a_threshold_change_applies_on_the_next_pass(fleet):
    db, devices = fleet
    alert_config.update(db, "high_temp", {"threshold": 60, "clear_threshold": 55}, changed_by="admin")
    last = put(db, devices[0], T0, [57.0] * 10)
    run(db, last)
    assert alerts_of(db, devices[0], "high_temp") == []
    alert_config.update(db, "high_temp", {"threshold": 56, "clear_threshold": 50}, changed_by="admin")
    last = put(db, devices[0], last + STEP, [57.0] * 5)
    run(db, last)
    assert len(alerts_of(db, devices[0], "high_temp")) == 1
    alert_config.update(db, "high_temp", {"enabled": False}, changed_by="admin")
    last = put(db, devices[1], T0, [70.0] * 10)
    run(db, last)
    assert alerts_of(db, devices[1], "high_temp") == []
    history = alert_config.changes(db)
    assert [h["after"]["threshold"] for h in history[1:]] == [56, 60] and history[0]["after"]["enabled"] is False


def test_thresholds_are_validated_per_field_and_nothing_changes(fleet):
    db, _ = fleet
    before = db.one("SELECT * FROM alert_rules WHERE alert_type = 'high_temp'")
    bad = [({"threshold": 500}, "threshold"), ({"clear_threshold": 60}, "clear_threshold"),
           ({"severity": "urgent"}, "severity"), ({"duration_minutes": -1}, "duration_minutes"),
           ({"duration_minutes": 1.5}, "duration_minutes"), ({"threshold": "hot"}, "threshold"),
           ({"enabled": "yes"}, "enabled"), ({"threshold": float("nan")}, "threshold")]
    for changes, field in bad:
        with pytest.raises(alert_config.RuleError) as caught:
            alert_config.update(db, "high_temp", changes, changed_by="admin")
        assert field in caught.value.errors, (changes, caught.value.errors)
    with pytest.raises(alert_config.RuleError) as caught:
        alert_config.update(db, "low_soc", {"clear_threshold": 5}, changed_by="admin")  # fires below 10: clears above
    assert "at or above the threshold" in caught.value.errors["clear_threshold"]
    assert db.one("SELECT * FROM alert_rules WHERE alert_type = 'high_temp'") == before
    assert db.scalar("SELECT count(*) FROM alert_rule_changes") == 0


def test_flood_of_one_type_sends_one_digest(plain_db):
    db = plain_db
    vehicles = demo.fleet(200)
    demo.seed_registry(db, vehicles)
    hook = WebhookReceiver()
    try:
        env = {"ALERT_WEBHOOK_URL": hook.url, "ALERT_FLOOD_LIMIT": 20}
        rows = [dict(BASE, device_id=v.device_id, time=T0 + i * STEP, temperature=70.0)
                for v in vehicles for i in range(6)]
        telemetry.store(db, battery=rows)
        outcome = run(db, T0 + 5 * STEP, **env)
        assert outcome.opened == 200
        assert notify.deliver_due(db, settings(**env)) == {"delivered": 1, "failed": 0}
        (message,) = hook.received
        assert message["body"]["event"] == "alerts.digest"
        assert message["body"]["digest"]["count"] == 200 and len(message["body"]["digest"]["alerts"]) == 50
        assert db.scalar("SELECT count(*) FROM notification_outbox WHERE status = 'digested'") == 200
        # Below the limit, each alert is its own message.
        rows = [dict(BASE, device_id=v.device_id, time=T0 + (20 + i) * STEP, current=-150.0) for v in vehicles[:5]
                for i in range(5)]
        telemetry.store(db, battery=rows)
        run(db, T0 + 24 * STEP, **env)
        assert notify.deliver_due(db, settings(**env))["delivered"] == 5
        assert [m["body"]["event"] for m in hook.received[1:]] == ["alert.opened"] * 5
    finally:
        hook.close()


def test_unacknowledged_critical_escalates_then_reminds(fleet):
    db, devices = fleet
    operator, escalation = WebhookReceiver(), WebhookReceiver()
    try:
        env = {"ALERT_WEBHOOK_URL": operator.url, "ESCALATION_WEBHOOK_URL": escalation.url,
               "ALERT_ESCALATION_MINUTES": 1, "ALERT_REMINDER_MINUTES": 2}
        last = put(db, devices[0], T0, [57.0] * 6)
        put(db, devices[1], T0, [57.0] * 6)
        run(db, last, **env)
        hot, acked = alerts_of(db, devices[0], "high_temp")[0], alerts_of(db, devices[1], "high_temp")[0]
        alert_actions.acknowledge(db, Scope("manager", None, None, actor="manager"), acked["id"], "on it")
        engine, wall = AlertEngine(db, settings(**env)), datetime.now(timezone.utc)
        assert engine.escalate(wall) == {"escalated": 0, "reminded": 0}  # not a minute old yet
        assert engine.escalate(wall + timedelta(seconds=70)) == {"escalated": 1, "reminded": 0}
        assert engine.escalate(wall + timedelta(seconds=80)) == {"escalated": 0, "reminded": 0}
        assert engine.escalate(wall + timedelta(seconds=70 + 125)) == {"escalated": 0, "reminded": 1}
        notify.deliver_due(db, settings(**env))
        assert [m["body"]["event"] for m in escalation.received] == ["alert.escalated", "alert.reminder"]
        assert {m["body"]["alert"]["id"] for m in escalation.received} == {hot["id"]}
        events = [e["event"] for e in db.query("SELECT event FROM alert_events WHERE alert_id = :id ORDER BY id",
                                               id=hot["id"])]
        assert events == ["opened", "escalated", "reminded"]
        assert db.scalar("SELECT escalated_at FROM alerts WHERE id = :id", id=acked["id"]) is None
    finally:
        operator.close()
        escalation.close()


def test_dealer_alerts_also_go_to_the_dealers_contacts_signed_with_its_secret(fleet):
    db, devices = fleet
    codes = {r["device_id"]: r["code"] for r in db.query(
        "SELECT d.device_id, dl.code FROM devices d JOIN dealers dl ON dl.id = d.dealer_id")}
    mine = next(d for d in devices if codes[d] == "LKO01")
    other = next(d for d in devices if codes[d] != "LKO01")
    operator, dealer = WebhookReceiver(), WebhookReceiver()
    try:
        secret = contacts.set_contacts(db, "LKO01", dealer.url, "service@lko.example")
        assert secret and contacts.set_contacts(db, "LKO01", dealer.url, None) is None  # kept, not shown again
        env = {"ALERT_WEBHOOK_URL": operator.url, "ALERT_WEBHOOK_SECRET": "operator-secret"}
        last = max(put(db, mine, T0, [57.0] * 6), put(db, other, T0, [57.0] * 6))
        run(db, last, **env)
        notify.deliver_due(db, settings(**env))
        assert len(operator.received) == 2
        assert [m["body"]["alert"]["device_id"] for m in dealer.received] == [mine]
        raw, headers = dealer.raw[0]
        assert notify.verify(secret, headers["X-BFM-Timestamp"], raw, headers["X-BFM-Signature"])
        assert not notify.verify("operator-secret", headers["X-BFM-Timestamp"], raw, headers["X-BFM-Signature"])
        raw, headers = operator.raw[0]
        assert notify.verify("operator-secret", headers["X-BFM-Timestamp"], raw, headers["X-BFM-Signature"])
        assert not notify.verify("operator-secret", headers["X-BFM-Timestamp"], raw.replace(b"57", b"99"),
                                 headers["X-BFM-Signature"])
    finally:
        operator.close()
        dealer.close()


def test_email_reaches_a_real_smtp_server(fleet):
    from aiosmtpd.controller import Controller
    from conftest import free_port

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope)
            return "250 OK"

    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        db, devices = fleet
        env = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port, "ALERT_EMAIL_TO": "ops@fleet.example"}
        last = put(db, devices[0], T0, [57.0] * 6)
        run(db, last, **env)
        assert notify.deliver_due(db, settings(**env)) == {"delivered": 1, "failed": 0}
        (envelope,) = inbox.messages
        assert envelope.rcpt_tos == ["ops@fleet.example"]
        text = envelope.content.decode()
        vehicle = db.scalar("SELECT vehicle_number FROM devices WHERE device_id = :d", d=devices[0])
        assert f"[CRITICAL] high temp on {vehicle}" in text and "Message-ID: <alert-" in text
    finally:
        smtp.stop()


def test_no_row_lock_is_held_while_sending(fleet):
    db, devices = fleet
    locked = []

    def try_lock(_message):
        with db.connect() as conn:  # another session, while the sender waits for our answer
            conn.exec_driver_sql("SET lock_timeout = '200ms'")
            locked.append(conn.exec_driver_sql(
                "SELECT count(*) FROM (SELECT id FROM notification_outbox FOR UPDATE NOWAIT) x").scalar())
            conn.rollback()

    hook = WebhookReceiver(on_post=try_lock)
    try:
        env = {"ALERT_WEBHOOK_URL": hook.url}
        last = put(db, devices[0], T0, [57.0] * 6)
        run(db, last, **env)
        assert notify.deliver_due(db, settings(**env))["delivered"] == 1
        assert locked == [1]
        assert db.scalar("SELECT status FROM notification_outbox") == "delivered"
    finally:
        hook.close()


def test_a_sender_that_dies_mid_send_is_retried_after_its_lease(fleet):
    db, devices = fleet
    from data import outbox

    last = put(db, devices[0], T0, [57.0] * 6)
    run(db, last, ALERT_WEBHOOK_URL="http://127.0.0.1:9/unused")
    row = outbox.claim(db)  # claimed, then the sender "dies": nothing recorded
    assert row is not None and outbox.claim(db) is None
    db.execute("UPDATE notification_outbox SET claimed_until = now() - interval '1 second'")
    again = outbox.claim(db)
    assert again["id"] == row["id"] and again["idempotency_key"] == row["idempotency_key"]


def test_feed_silence_is_one_fleet_alert_only_whole_fleet_roles_see(fleet):
    db, devices = fleet
    last = T0
    for device in devices:
        last = max(last, put(db, device, T0, [30.0] * 3))
    engine = AlertEngine(db, settings())
    engine.run(now=last + timedelta(minutes=31))
    (alert,) = db.query("SELECT id, device_id, status FROM alerts WHERE alert_type = 'feed_silence'")
    assert alert["device_id"] is None and alert["status"] == "open"
    assert db.scalar("SELECT count(*) FROM alerts WHERE alert_type = 'no_communication'") == 0  # 6 h rule
    dealer = Scope("dealer", None, db.scalar("SELECT id FROM dealers WHERE code = 'LKO01'"))
    assert alert_views.find(db, dealer, alert["id"]) is None
    assert alert_views.find(db, ENGINEER, alert["id"]) is not None
    engine.run(now=last + timedelta(minutes=35))
    assert db.scalar("SELECT count(*) FROM alerts WHERE alert_type = 'feed_silence'") == 1
    fresh = put(db, devices[0], last + timedelta(minutes=36), [30.0])
    engine.run(now=fresh + timedelta(seconds=30))
    assert db.scalar("SELECT status FROM alerts WHERE id = :id", id=alert["id"]) == "resolved"


def test_actions_are_audited_and_idempotent(fleet):
    db, devices = fleet
    last = put(db, devices[0], T0, [57.0] * 6)
    run(db, last)
    (alert,) = alerts_of(db, devices[0], "high_temp")
    manager = Scope("manager", db.scalar("SELECT id FROM users LIMIT 1"), None, actor="manager")
    first = alert_actions.acknowledge(db, manager, alert["id"], " looking ")
    second = alert_actions.acknowledge(db, manager, alert["id"], "again")
    assert first.changed and not second.changed
    with pytest.raises(alert_actions.InvalidAction):
        alert_actions.acknowledge(db, manager, alert["id"], "x" * 1001)
    with pytest.raises(alert_actions.ActionRefused):
        alert_actions.resolve(db, manager, alert["id"])
    with pytest.raises(alert_actions.AlertNotFound):
        alert_actions.acknowledge(db, manager, 10**12)
    events = db.query("SELECT event, comment, actor FROM alert_events WHERE alert_id = :id ORDER BY id", id=alert["id"])
    assert [(e["event"], e["comment"], e["actor"]) for e in events] == [
        ("opened", None, None), ("acknowledged", "looking", "manager")]
    assert json.loads(json.dumps(alert_views.summary(db, manager)))["critical"]["acknowledged"] == 1
