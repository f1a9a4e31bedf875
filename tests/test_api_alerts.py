"""The alert API over HTTP on the real app and database: every endpoint, as every role, signed in
with a session and with an API key, and as nobody; scope, paging, rule changes and bad input.

The route walk at the bottom fails when a new /api/ route has no case here, like the callback
walk of test_authorization.py.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest

from conftest import login
from data import alert_config, alerts, apikeys

ROLES = ("admin", "manager", "engineer", "viewer", "dealer1", "dealer2")
DEALER_OF = {"dealer1": "LKO01", "dealer2": "DEL01"}
AUTHS = ("session", "key")
CALLERS = [(auth, role) for role in ROLES for auth in AUTHS]
ACTION_TYPE = "low_soc"  # the seeded alerts are high_temp and overcurrent: ours never collide with them
API = "/api/v1"
NOT_FOUND_BODY = {"error": "alert not found"}

# What each role may do to an alert of dealer1's (LKO01): data/alert_actions.py's table, plus scope.
EXPECTED = {
    "acknowledge": {"admin": 200, "engineer": 200, "manager": 200, "viewer": 403, "dealer1": 200, "dealer2": 404},
    "resolve": {"admin": 200, "engineer": 200, "manager": 403, "viewer": 403, "dealer1": 403, "dealer2": 404},
    "assign": {"admin": 200, "engineer": 200, "manager": 403, "viewer": 403, "dealer1": 403, "dealer2": 404},
}
BODIES = {"acknowledge": {"comment": "looking into it"}, "resolve": {"comment": "cell replaced"},
          "assign": {"user": "engineer", "comment": "yours"}}
STATUS_AFTER = {"acknowledge": "acknowledged", "resolve": "resolved", "assign": "open"}
EVENT_OF = {"acknowledge": "acknowledged", "resolve": "resolved", "assign": "assigned"}


class Raw(str):
    """A body sent exactly as written (JSON that Python's encoder would not produce, like 1e400)."""


class Caller:
    """One way of calling the API: a signed-in browser session or a script with a key."""

    def __init__(self, app, auth: str, role: str, key: str | None = None):
        self.auth, self.role = auth, role
        self.http = app.server.test_client()
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.actor = f"key:test-api-{role}" if auth == "key" else role

    def get(self, path, **kw):
        return self.http.get(path, headers=self.headers, **kw)

    def post(self, path, body=None, **kw):
        if "data" not in kw:
            kw["json"] = {} if body is None else body
        return self.http.post(path, headers=self.headers, **kw)

    def put(self, path, body=None, **kw):
        if isinstance(body, Raw):
            kw.update(data=str(body), content_type="application/json")
        elif "data" not in kw:
            kw["json"] = body
        return self.http.put(path, headers=self.headers, **kw)


def _key_role(role: str) -> tuple[str, str | None]:
    return ("dealer", DEALER_OF[role]) if role in DEALER_OF else (role, None)


@pytest.fixture(scope="module")
def keys(app_db):
    made = {}
    for role in ROLES:
        key_role, dealer = _key_role(role)
        made[role] = apikeys.create(app_db, f"test-api-{role}", key_role, dealer)
    yield made
    app_db.execute("DELETE FROM api_keys WHERE name LIKE 'test-api-%'")


@pytest.fixture(scope="module")
def callers(dash_app, app_db, keys):
    app_db.execute("DELETE FROM login_failures")
    made = {}
    for auth, role in CALLERS:
        caller = Caller(dash_app, auth, role, keys[role] if auth == "key" else None)
        if auth == "session":
            assert login(caller.http, role).status_code == 302
        made[(auth, role)] = caller
    return made


@pytest.fixture(scope="module")
def devices(app_db):
    rows = app_db.query("""SELECT d.device_id, dl.code FROM devices d JOIN dealers dl ON dl.id = d.dealer_id
                           ORDER BY d.device_id DESC""")
    by_dealer = {}
    for r in rows:
        by_dealer.setdefault(r["code"], []).append(r["device_id"])
    return by_dealer


@pytest.fixture(scope="module")
def made_alerts(app_db):
    """Ids of the alerts this module opens; deleted at the end so other modules see the seeded eight."""
    ids: list[int] = []
    yield ids
    app_db.execute("DELETE FROM notification_outbox WHERE alert_id = ANY(:ids)", ids=ids)
    app_db.execute("DELETE FROM alerts WHERE id = ANY(:ids)", ids=ids)


@pytest.fixture
def fresh_alert(app_db, devices, made_alerts):
    """Open a new alert (closing any open one of the same device and type first); returns its id."""
    def open_one(dealer: str = "LKO01", alert_type: str = ACTION_TYPE, severity: str = "warning", index: int = 0):
        device = devices[dealer][index]
        app_db.execute("""UPDATE alerts SET status = 'resolved', resolved_at = now()
                          WHERE device_id = :d AND alert_type = :t AND resolved_at IS NULL""", d=device, t=alert_type)
        with app_db.transaction() as conn:
            alerts.raise_alert(conn, device_id=device, alert_type=alert_type, severity=severity,
                               message=f"{alert_type} on {device} (api test)", value=12.0, threshold=20.0,
                               at=datetime.now(timezone.utc), count=1)
        alert_id = app_db.scalar("""SELECT id FROM alerts WHERE device_id = :d AND alert_type = :t
                                    AND resolved_at IS NULL""", d=device, t=alert_type)
        made_alerts.append(alert_id)
        return alert_id
    return open_one


def _state(app_db, alert_id) -> tuple:
    row = app_db.one("SELECT status, owner_id, acknowledged_at, resolved_at FROM alerts WHERE id = :id", id=alert_id)
    events = app_db.scalar("SELECT count(*) FROM alert_events WHERE alert_id = :id", id=alert_id)
    return tuple(row.values()) + (events,)


def _in_scope_ids(app_db, role: str, where: str = "TRUE", **params) -> set[int]:
    dealer = DEALER_OF.get(role)
    scope = "dl.code = :code" if dealer else "TRUE"
    return {r["id"] for r in app_db.query(
        f"""SELECT a.id FROM alerts a LEFT JOIN devices d ON d.device_id = a.device_id
            LEFT JOIN dealers dl ON dl.id = d.dealer_id WHERE {scope} AND {where}""", code=dealer, **params)}


def _walk(caller, query: str, limit: int) -> list[int]:
    seen, cursor = [], None
    for _ in range(1000):
        url = f"{API}/alerts?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        response = caller.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert len(body["alerts"]) <= limit
        seen += [a["id"] for a in body["alerts"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("paging never ended")


# -- anonymous and bad keys -----------------------------------------------------------------------------
def test_anonymous_gets_401_json(client):
    for method, path in [("get", "/alerts"), ("get", "/alerts/1"), ("post", "/alerts/1/acknowledge"),
                         ("get", "/alerts/config"), ("put", "/alerts/config"), ("get", "/openapi.json")]:
        response = getattr(client, method)(API + path, json={})
        assert response.status_code == 401, (method, path)
        assert response.get_json() == {"error": "authentication required"}
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", [
    "Bearer bfm_not-a-key", "Bearer ", "Bearer", "Basic YWRtaW46ZGVtbw==", "bfm_x", "Bearer " + "x" * 10_000,
    "Bearer bfm_" + "é" * 50, "Token abc",
])
def test_invalid_key_gets_401(dash_app, header):
    http = dash_app.server.test_client()
    response = http.get(f"{API}/alerts", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json() == {"error": "invalid or revoked API key"}


def test_invalid_key_with_a_valid_session_still_gets_401(callers):
    """A script that names a key is judged by its key, never rescued by a cookie that came along."""
    session = callers[("session", "admin")]
    assert session.get(f"{API}/alerts").status_code == 200
    response = session.http.get(f"{API}/alerts", headers={"Authorization": "Bearer bfm_wrong"})
    assert response.status_code == 401


def test_key_overrides_the_session_it_comes_with(callers, keys):
    viewer_session, admin_session = callers[("session", "viewer")], callers[("session", "admin")]
    assert viewer_session.get(f"{API}/alerts/config").status_code == 403
    as_admin_key = viewer_session.http.get(f"{API}/alerts/config", headers={"Authorization": f"Bearer {keys['admin']}"})
    assert as_admin_key.status_code == 200
    as_viewer_key = admin_session.http.get(f"{API}/alerts/config",
                                           headers={"Authorization": f"Bearer {keys['viewer']}"})
    assert as_viewer_key.status_code == 403
    # and the browser's session is untouched by the key's request
    assert admin_session.get(f"{API}/alerts/config").status_code == 200


def test_revoked_key_gets_401(dash_app, app_db):
    key = apikeys.create(app_db, "test-api-revoked", "engineer")
    http = dash_app.server.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    assert http.get(f"{API}/alerts", headers=headers).status_code == 200
    assert app_db.scalar("SELECT last_used_at IS NOT NULL FROM api_keys WHERE name = 'test-api-revoked'")
    apikeys.revoke(app_db, "test-api-revoked")
    response = http.get(f"{API}/alerts", headers=headers)
    assert response.status_code == 401 and response.get_json()["error"] == "invalid or revoked API key"
    assert http.post(f"{API}/alerts/1/acknowledge", headers=headers, json={}).status_code == 401


@pytest.mark.parametrize("path", ["/", "/alerts", "/_dash-layout", "/_dash-dependencies", "/wall"])
def test_keys_open_nothing_outside_the_api(dash_app, keys, path):
    http = dash_app.server.test_client()
    response = http.get(path, headers={"Authorization": f"Bearer {keys['admin']}"})
    assert response.status_code in (302, 401), (path, response.status_code)
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login")


def test_key_requests_leave_no_session_behind(dash_app, keys):
    http = dash_app.server.test_client()
    assert http.get(f"{API}/alerts", headers={"Authorization": f"Bearer {keys['admin']}"}).status_code == 200
    assert http.get(f"{API}/alerts").status_code == 401  # the same client without the key: nobody
    assert http.get("/_dash-layout").status_code == 401


# -- the list ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("auth, role", CALLERS)
def test_list_shows_exactly_the_scope(callers, app_db, auth, role):
    caller = callers[(auth, role)]
    body = caller.get(f"{API}/alerts?limit=500").get_json()
    shown = [a["id"] for a in body["alerts"]]
    assert body["next_cursor"] is None
    assert len(shown) == len(set(shown)) and shown == sorted(shown, reverse=True)
    expected = _in_scope_ids(app_db, role)
    assert set(shown) == expected and expected
    if role in DEALER_OF:
        assert {a["dealer_code"] for a in body["alerts"]} == {DEALER_OF[role]}
    else:
        assert len({a["dealer_code"] for a in body["alerts"]}) >= 4  # every demo dealer has seeded alerts
    first = body["alerts"][0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", first["first_seen_at"])
    assert {"id", "type", "severity", "status", "device_id", "vehicle_number", "owner"} <= set(first)


def test_filters(callers, app_db, fresh_alert):
    fresh_alert("LKO01", "undervoltage", "critical")
    admin = callers[("key", "admin")]
    cases = [
        ("status=open", "a.status = 'open'", {}),
        ("status=open,acknowledged", "a.status IN ('open', 'acknowledged')", {}),
        ("status=open&status=resolved", "a.status IN ('open', 'resolved')", {}),
        ("severity=critical", "a.severity = 'critical'", {}),
        ("type=high_temp,undervoltage", "a.alert_type IN ('high_temp', 'undervoltage')", {}),
        ("severity=warning&type=overcurrent&status=open",
         "a.severity = 'warning' AND a.alert_type = 'overcurrent' AND a.status = 'open'", {}),
    ]
    device = app_db.scalar("SELECT device_id FROM alerts WHERE alert_type = 'high_temp' ORDER BY id LIMIT 1")
    cases.append((f"device_id={device}", "a.device_id = :device", {"device": device}))
    cases.append(("device_id=NO-SUCH-DEVICE", "FALSE", {}))
    for query, where, params in cases:
        body = admin.get(f"{API}/alerts?limit=500&{query}").get_json()
        assert {a["id"] for a in body["alerts"]} == _in_scope_ids(app_db, "admin", where, **params), query
    # a dealer's filter never reaches past its scope
    dealer = callers[("key", "dealer2")].get(f"{API}/alerts?limit=500&type=undervoltage").get_json()
    assert {a["id"] for a in dealer["alerts"]} == _in_scope_ids(app_db, "dealer2", "a.alert_type = 'undervoltage'")
    assert all(a["dealer_code"] == "DEL01" for a in dealer["alerts"])


@pytest.mark.parametrize("who", [("key", "admin"), ("session", "dealer1"), ("key", "dealer2")])
def test_paging_returns_each_alert_once(callers, app_db, fresh_alert, who):
    for i in range(3):  # enough alerts that limit=3 takes several pages for every scope
        fresh_alert(DEALER_OF.get(who[1], "LKO01"), "overvoltage", "warning", index=i + 1)
    caller, role = callers[who], who[1]
    expected = _in_scope_ids(app_db, role)
    seen = _walk(caller, "", 3)
    assert len(seen) == len(set(seen)), "an alert came twice"
    assert set(seen) == expected and len(seen) > 3
    assert seen == sorted(seen, reverse=True)
    open_only = _walk(caller, "&status=open", 2)
    assert set(open_only) == _in_scope_ids(app_db, role, "a.status = 'open'")


def test_paging_is_stable_while_alerts_open(callers, app_db, fresh_alert):
    admin = callers[("key", "admin")]
    before = _in_scope_ids(app_db, "admin")
    first = admin.get(f"{API}/alerts?limit=4").get_json()
    newcomer = fresh_alert("DEL01", "overvoltage", "warning", index=5)  # opens between two pages
    seen = [a["id"] for a in first["alerts"]]
    cursor = first["next_cursor"]
    while cursor:
        page = admin.get(f"{API}/alerts?limit=4&cursor={cursor}").get_json()
        seen += [a["id"] for a in page["alerts"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) and set(seen) == before and newcomer not in seen


@pytest.mark.parametrize("query", [
    "limit=0", "limit=501", "limit=-1", "limit=abc", f"limit={2**70}", "limit=1.5", "limit=%00",
    "cursor=abc", "cursor=-1", "cursor=0", f"cursor={2**70}", "cursor=%00",
    "status=bogus", "status=open,bogus", "severity=CRITICAL", "type=%00", "type=" + "x" * 10_000,
    "device_id=%00", "device_id=" + "x" * 10_000, "device_id=a%01b",
])
def test_bad_list_parameters_are_400(callers, query):
    for who in (("key", "admin"), ("session", "dealer1")):
        response = callers[who].get(f"{API}/alerts?{query}")
        assert response.status_code == 400, (query, response.status_code)
        assert isinstance(response.get_json()["error"], str)


# -- one alert ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("auth, role", CALLERS)
def test_detail_per_role(callers, app_db, fresh_alert, auth, role):
    alert_id = fresh_alert("LKO01", "soh_degradation", "info", index=2)
    response = callers[(auth, role)].get(f"{API}/alerts/{alert_id}")
    if role == "dealer2":
        assert response.status_code == 404 and response.get_json() == NOT_FOUND_BODY
        return
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == alert_id and body["type"] == "soh_degradation" and body["dealer_code"] == "LKO01"
    assert [e["event"] for e in body["events"]] == ["opened"]
    expected = sorted(a for a, codes in EXPECTED.items() if codes[role] == 200)
    assert sorted(body["allowed_actions"]) == expected
    assert set(body["battery"]) >= {"model", "soc", "reading_time"} and "description" in body["rule"]


@pytest.mark.parametrize("raw", ["-1", "0", str(2**63), str(2**70), "abc", "1.5", "%00", "1%00", "x" * 5000,
                                 "99999999", "１２"])
def test_unknown_ids_are_the_same_404(callers, raw):
    for who in (("key", "admin"), ("session", "viewer")):
        for action in ("", *EXPECTED):
            url = f"{API}/alerts/{raw}" + (f"/{action}" if action else "")
            response = callers[who].post(url, BODIES[action]) if action else callers[who].get(url)
            assert response.status_code == 404, (raw, action, response.status_code)
            assert response.get_json() == NOT_FOUND_BODY


def test_another_dealers_alert_looks_unknown(callers, app_db, fresh_alert):
    theirs = fresh_alert("DEL01", ACTION_TYPE)
    before = _state(app_db, theirs)
    for auth in AUTHS:
        dealer1 = callers[(auth, "dealer1")]
        assert dealer1.get(f"{API}/alerts/{theirs}").get_json() == NOT_FOUND_BODY
        for action, body in BODIES.items():
            response = dealer1.post(f"{API}/alerts/{theirs}/{action}", body)
            assert response.status_code == 404 and response.get_json() == NOT_FOUND_BODY
    assert _state(app_db, theirs) == before
    # while dealer2, whose alert it is, may acknowledge it
    assert callers[("key", "dealer2")].post(f"{API}/alerts/{theirs}/acknowledge", {}).status_code == 200


# -- actions ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("action", list(EXPECTED))
@pytest.mark.parametrize("auth, role", CALLERS)
def test_action_per_role(callers, app_db, fresh_alert, auth, role, action):
    caller, alert_id = callers[(auth, role)], fresh_alert("LKO01", ACTION_TYPE)
    before = _state(app_db, alert_id)
    response = caller.post(f"{API}/alerts/{alert_id}/{action}", BODIES[action])
    expected = EXPECTED[action][role]
    assert response.status_code == expected, (action, auth, role, response.get_data(as_text=True))
    body = response.get_json()
    if expected != 200:
        assert _state(app_db, alert_id) == before, "a refused action changed the alert"
        if expected == 404:
            assert body == NOT_FOUND_BODY
        else:
            assert "may not" in body["error"]
        return
    assert body["changed"] is True and body["alert_id"] == alert_id
    assert body["alert"]["status"] == STATUS_AFTER[action]
    if action == "assign":
        assert body["alert"]["owner"] == "engineer"
    event = app_db.one("""SELECT event, actor, comment, user_id, api_key_id FROM alert_events
                          WHERE alert_id = :id ORDER BY id DESC LIMIT 1""", id=alert_id)
    assert event["event"] == EVENT_OF[action] and event["comment"] == BODIES[action]["comment"]
    assert event["actor"] == caller.actor
    assert (event["api_key_id"] is not None) == (auth == "key")
    assert (event["user_id"] is not None) == (auth == "session")
    history = caller.get(f"{API}/alerts/{alert_id}").get_json()["events"]
    assert history[-1]["actor"] == caller.actor and history[-1]["comment"] == BODIES[action]["comment"]


def test_second_acknowledge_changes_nothing(callers, app_db, fresh_alert):
    alert_id = fresh_alert()
    engineer = callers[("key", "engineer")]
    first = engineer.post(f"{API}/alerts/{alert_id}/acknowledge", {"comment": "on it"})
    assert first.status_code == 200 and first.get_json()["changed"] is True
    after_first = _state(app_db, alert_id)
    second = callers[("session", "manager")].post(f"{API}/alerts/{alert_id}/acknowledge", {"comment": "me too"})
    assert second.status_code == 200
    assert second.get_json()["changed"] is False and second.get_json()["status"] == "acknowledged"
    assert _state(app_db, alert_id) == after_first
    resolved = engineer.post(f"{API}/alerts/{alert_id}/resolve", {})
    again = engineer.post(f"{API}/alerts/{alert_id}/resolve", {})
    assert resolved.get_json()["changed"] is True and again.get_json()["changed"] is False
    assert engineer.post(f"{API}/alerts/{alert_id}/acknowledge").get_json()["changed"] is False


def test_empty_body_and_no_comment(callers, app_db, fresh_alert):
    alert_id = fresh_alert()
    admin = callers[("key", "admin")]
    response = admin.post(f"{API}/alerts/{alert_id}/acknowledge", data="", content_type="application/json")
    assert response.status_code == 200 and response.get_json()["changed"] is True
    assert app_db.scalar("SELECT comment FROM alert_events WHERE alert_id = :id AND event = 'acknowledged'",
                         id=alert_id) is None


@pytest.mark.parametrize("action, body, message", [
    ("acknowledge", {"comment": "x" * 1001}, "at most 1000"),
    ("acknowledge", {"comment": "a\x00b"}, "NUL"),
    ("acknowledge", {"comment": 5}, "comment must be text"),
    ("acknowledge", {"comment": ["a"]}, "comment must be text"),
    ("acknowledge", {"comments": "typo"}, "unknown field"),
    ("resolve", {"comment": {"a": 1}}, "comment must be text"),
    ("assign", {}, "user is required"),
    ("assign", {"user": True}, "user is required"),
    ("assign", {"user": 1.0}, "user is required"),
    ("assign", {"user": ["engineer"]}, "user is required"),
    ("assign", {"user": ""}, "user is required"),
    ("assign", {"user": "nobody"}, "unknown user"),
    ("assign", {"user": "manager"}, "unknown user"),  # managers cannot own alerts
    ("assign", {"user": "dealer2"}, "unknown user"),  # nor another dealer's users
    ("assign", {"user": "engineer\x00"}, "unknown user"),
    ("assign", {"user": 2**70}, "unknown user"),
    ("assign", {"user": "x" * 10_000}, "unknown user"),
    ("assign", {"user": "engineer", "comment": "x" * 1001}, "at most 1000"),
])
def test_bad_action_bodies_are_400_and_change_nothing(callers, app_db, fresh_alert, action, body, message):
    alert_id = fresh_alert()
    before = _state(app_db, alert_id)
    response = callers[("key", "engineer")].post(f"{API}/alerts/{alert_id}/{action}", body)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert message in response.get_json()["error"]
    assert _state(app_db, alert_id) == before


@pytest.mark.parametrize("data", ["{", "[1, 2]", '"text"', "null", "42", '{"comment": NaN}', "[" * 60_000,
                                  b"\xff\xfe", '{"comment": "x"} trailing'])
def test_malformed_json_is_400(callers, app_db, fresh_alert, data):
    alert_id = fresh_alert()
    before = _state(app_db, alert_id)
    response = callers[("session", "engineer")].post(f"{API}/alerts/{alert_id}/acknowledge", data=data,
                                                      content_type="application/json")
    assert response.status_code == 400 and "error" in response.get_json()
    assert _state(app_db, alert_id) == before


def test_huge_body_is_413(callers, fresh_alert):
    alert_id = fresh_alert()
    response = callers[("key", "admin")].post(f"{API}/alerts/{alert_id}/acknowledge",
                                              {"comment": "x" * 200_000})
    assert response.status_code == 413 and "error" in response.get_json()


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
def test_bodies_must_be_json_so_other_sites_cannot_post(callers, app_db, fresh_alert, content_type):
    """A form on another site can send the cookie with these types, never with application/json."""
    alert_id = fresh_alert()
    before = _state(app_db, alert_id)
    session = callers[("session", "admin")]
    kwargs = {"data": '{"comment": "csrf"}'}
    if content_type:
        kwargs["content_type"] = content_type
    for action in EXPECTED:
        response = session.post(f"{API}/alerts/{alert_id}/{action}", **kwargs)
        assert response.status_code == 415 and "application/json" in response.get_json()["error"]
    assert session.put(f"{API}/alerts/config", **kwargs).status_code == 415
    assert _state(app_db, alert_id) == before


# -- rules ------------------------------------------------------------------------------------------------
@pytest.fixture
def rules_restored(app_db):
    rules = app_db.query("SELECT * FROM alert_rules")
    last_change = app_db.scalar("SELECT coalesce(max(id), 0) FROM alert_rule_changes")
    yield rules
    for r in rules:
        app_db.execute("""UPDATE alert_rules SET enabled = :enabled, threshold = :threshold, severity = :severity,
                          duration_minutes = :duration_minutes, clear_threshold = :clear_threshold,
                          notify = :notify, updated_at = :updated_at, updated_by = :updated_by
                          WHERE alert_type = :alert_type""", **r)
    app_db.execute("DELETE FROM alert_rule_changes WHERE id > :id", id=last_change)


def _rules(app_db) -> dict:
    return {r["alert_type"]: {f: r[f] for f in alert_config.FIELDS} for r in app_db.query("SELECT * FROM alert_rules")}


@pytest.mark.parametrize("auth, role", CALLERS)
def test_config_get_per_role(callers, app_db, auth, role):
    response = callers[(auth, role)].get(f"{API}/alerts/config")
    if role != "admin":
        assert response.status_code == 403 and "admin" in response.get_json()["error"]
        return
    assert response.status_code == 200
    body = response.get_json()
    assert [r["alert_type"] for r in body["rules"]] == [t for t in alert_config.LIMITS if t in _rules(app_db)]
    high_temp = next(r for r in body["rules"] if r["alert_type"] == "high_temp")
    assert high_temp["unit"] == "°C" and high_temp["threshold"] == _rules(app_db)["high_temp"]["threshold"]
    assert isinstance(body["changes"], list)


@pytest.mark.parametrize("auth, role", CALLERS)
def test_config_put_per_role(callers, app_db, rules_restored, auth, role):
    before = _rules(app_db)
    duration = before["high_temp"]["duration_minutes"] + 7
    low_soc = before["low_soc"]["threshold"] - 1  # fires below it: a lower threshold keeps the clear one valid
    response = callers[(auth, role)].put(f"{API}/alerts/config",
                                         {"high_temp": {"duration_minutes": duration, "notify": False},
                                          "low_soc": {"threshold": low_soc}})
    if role != "admin":
        assert response.status_code == 403
        assert _rules(app_db) == before
        return
    assert response.status_code == 200, response.get_data(as_text=True)
    assert sorted(response.get_json()["changed"]) == ["high_temp", "low_soc"]
    after = _rules(app_db)
    assert after["high_temp"]["duration_minutes"] == duration and after["high_temp"]["notify"] is False
    assert after["low_soc"]["threshold"] == low_soc
    actor = "key:test-api-admin" if auth == "key" else "admin"
    changes = callers[(auth, role)].get(f"{API}/alerts/config").get_json()["changes"]
    assert {c["alert_type"] for c in changes[:2]} == {"high_temp", "low_soc"}
    assert all(c["changed_by"] == actor for c in changes[:2])
    assert changes[0]["after"] != changes[0]["before"]
    # the same body again changes nothing and logs nothing
    count = app_db.scalar("SELECT count(*) FROM alert_rule_changes")
    again = callers[(auth, role)].put(f"{API}/alerts/config", {"high_temp": {"duration_minutes": duration}})
    assert again.status_code == 200 and again.get_json()["changed"] == []
    assert app_db.scalar("SELECT count(*) FROM alert_rule_changes") == count


@pytest.mark.parametrize("body, where", [
    ({"high_temp": {"threshold": 58}, "low_soc": {"threshold": 500}}, ("low_soc", "threshold")),
    ({"high_temp": {"threshold": 58}, "overcurrent": {"threshold": 10**30}}, ("overcurrent", "threshold")),
    ({"high_temp": {"threshold": 58}, "overcurrent": {"duration_minutes": 10**400}},
     ("overcurrent", "duration_minutes")),
    (Raw('{"high_temp": {"threshold": 1e400}}'), ("high_temp", "threshold")),
    (Raw('{"high_temp": {"threshold": -1e400, "duration_minutes": 1e400}}'), ("high_temp", "duration_minutes")),
    (Raw('{"high_temp": {"threshold": NaN}}'), None),
    ({"high_temp": {"threshold": "hot"}}, ("high_temp", "threshold")),
    ({"high_temp": {"threshold": 58, "clear_threshold": 70}}, ("high_temp", "clear_threshold")),
    ({"high_temp": {"enabled": "yes"}}, ("high_temp", "enabled")),
    ({"high_temp": {"severity": "panic"}}, ("high_temp", "severity")),
    ({"high_temp": {"duration_minutes": 1.5}}, ("high_temp", "duration_minutes")),
    ({"high_temp": {"duration_minutes": -1}}, ("high_temp", "duration_minutes")),
    ({"high_temp": {"colour": "red"}}, ("high_temp", "fields")),
    ({"high_temp": {"threshold": 58}, "nope": {"threshold": 1}}, ("nope", "alert_type")),
    ({"high_temp": {"threshold": 58}, "x" * 10_000: {}}, None),
    ({"high_temp": {"threshold": 58}, "low_soc\x00": {}}, None),
    ({"high_temp": [58]}, ("high_temp", "fields")),
    ({"high_temp": "58"}, ("high_temp", "fields")),
    ({"no_communication": {"threshold": 5}}, ("no_communication", "threshold")),
    ([{"high_temp": {"threshold": 58}}], None),
    ("high_temp", None),
])
def test_config_put_errors_change_nothing(callers, app_db, rules_restored, body, where):
    before = _rules(app_db)
    changes = app_db.scalar("SELECT count(*) FROM alert_rule_changes")
    response = callers[("key", "admin")].put(f"{API}/alerts/config", body)
    assert response.status_code == 400, response.get_data(as_text=True)
    answer = response.get_json()
    assert "error" in answer
    if where:
        alert_type, field = where
        assert field in answer["errors"][alert_type] and answer["errors"][alert_type][field]
        assert "high_temp" not in answer["errors"] or alert_type == "high_temp"
    assert _rules(app_db) == before
    assert app_db.scalar("SELECT count(*) FROM alert_rule_changes") == changes


PATH_PARAMS = {"raw_id": "alert_id"}  # a route's variable → the name the document gives it


# -- the OpenAPI document --------------------------------------------------------------------------------
def _api_rules(app):
    return [r for r in app.server.url_map.iter_rules() if r.rule.startswith("/api/")]


def _methods(rule) -> set[str]:
    return set(rule.methods) - {"HEAD", "OPTIONS"}


def _resolve(doc: dict, ref: str) -> dict:
    node = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


@pytest.mark.parametrize("auth, role", CALLERS)
def test_openapi_per_role(callers, auth, role):
    response = callers[(auth, role)].get(f"{API}/openapi.json")
    assert response.status_code == 200 and response.get_json()["openapi"] == "3.1.0"


def test_openapi_describes_every_route(dash_app, callers):
    doc = callers[("key", "viewer")].get(f"{API}/openapi.json").get_json()
    assert doc["servers"] == [{"url": API}]
    described = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    served = {(re.sub(r"<([^>]+)>", lambda p: "{" + PATH_PARAMS.get(p.group(1), p.group(1)) + "}",
                      r.rule.removeprefix(API)), m)
              for r in _api_rules(dash_app) if r.endpoint != "api_not_found" for m in _methods(r)}
    assert served and served == described
    bearer = doc["components"]["securitySchemes"]["bearerAuth"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer") and {"bearerAuth": []} in doc["security"]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert "401" in op["responses"] and "200" in op["responses"], (path, method)
            if "{alert_id}" in path:
                assert any(p["name"] == "alert_id" and p["in"] == "path" for p in op["parameters"])
            if method in ("post", "put"):
                assert "application/json" in op["requestBody"]["content"] and "415" in op["responses"]
    refs = re.findall(r'"\$ref": "([^"]+)"', json.dumps(doc))
    assert refs and all(_resolve(doc, ref) for ref in refs)
    assert set(doc["components"]["schemas"]["RuleChange"]["properties"]) == set(alert_config.FIELDS)
    list_params = {p["name"] for p in doc["paths"]["/alerts"]["get"]["parameters"]}
    assert list_params == {"status", "severity", "type", "device_id", "limit", "cursor"}


# -- the route walk -------------------------------------------------------------------------------------
def _route_cases(alert_id: int) -> dict[tuple[str, str], list[tuple[str, object]]]:
    """Every /api/ route and method: the URLs and bodies the walk sends (ordinary, then hostile)."""
    hostile_ids = ["-1", str(2**70), "abc", "%00", "x" * 3000]
    alert = [(f"{API}/alerts/{alert_id}", None)] + [(f"{API}/alerts/{i}", None) for i in hostile_ids]
    bodies = [{}, {"comment": "walk"}, {"comment": None}, {"user": "engineer"}, [], "x", {"comment": "\x00" * 5000},
              {"user": {"$ne": 1}}, {"comment": 2**70}]

    # Push bodies: nothing here names a real device, meter or site: every row is refused (and kept as rejected).
    push_bodies = [{}, [], "x", [1, None, "x"], {"device_id": "NOPE", "soc": 5}, {"meterId": {"$ne": 1}},
                   {"vehicleId": "x" * 5000, "timestamp": 2**70}]

    def action(name):
        return ([(f"{API}/alerts/{alert_id}/{name}", b) for b in bodies]
                + [(f"{API}/alerts/{i}/{name}", {}) for i in hostile_ids])
    return {
        (f"{API}/alerts", "GET"): [(f"{API}/alerts", None), (f"{API}/alerts?status=open&limit=2", None),
                                   (f"{API}/alerts?cursor={2**70}&type=%00", None)],
        (f"{API}/alerts/<raw_id>", "GET"): alert,
        (f"{API}/alerts/<raw_id>/acknowledge", "POST"): action("acknowledge"),
        (f"{API}/alerts/<raw_id>/resolve", "POST"): action("resolve"),
        (f"{API}/alerts/<raw_id>/assign", "POST"): action("assign"),
        (f"{API}/alerts/config", "GET"): [(f"{API}/alerts/config", None)],
        (f"{API}/alerts/config", "PUT"): [(f"{API}/alerts/config", b) for b in
                                          ({}, {"high_temp": {"severity": 7}}, [], {"x" * 500: None})],
        (f"{API}/openapi.json", "GET"): [(f"{API}/openapi.json", None)],
        **{(f"{API}/ingest/{stream}", "POST"): [(f"{API}/ingest/{stream}", b) for b in push_bodies]
           for stream in ("can-data", "gps-data", "trips", "energy", "meter", "site-power")},
        (f"{API}/telemetry", "POST"): [(f"{API}/telemetry", b) for b in push_bodies],
        (f"{API}/analytics/performance/<vehicle_id>", "GET"): [
            (f"{API}/analytics/performance/{v}", None) for v in ("UP32AA1000", "TK-51100-0000", "x" * 300, "%00")],
        # the JSON 404 for unknown API paths (Dash would otherwise answer its page shell)
        ("/api/", "GET"): [("/api/", None)],
        ("/api/<path:rest>", "GET"): [(f"{API}/nope", None), ("/api/v2/alerts", None), (f"{API}/alerts/1/x", None)],
    }


def _covered_routes(app, cases) -> dict:
    served = {(r.rule, m) for r in _api_rules(app) for m in _methods(r)}
    missing = sorted(served - set(cases))
    assert not missing, f"API routes with no case in the walk: {missing}"
    stale = sorted(set(cases) - served)
    assert not stale, f"cases for routes the app does not serve: {stale}"
    return cases


def test_every_api_route_has_a_case(dash_app):
    _covered_routes(dash_app, _route_cases(1))


def test_anonymous_gets_401_from_every_api_route(dash_app, client):
    for (rule, method), calls in _covered_routes(dash_app, _route_cases(1)).items():
        for url, body in calls:
            response = client.open(url, method=method, json=body)
            assert response.status_code == 401, (rule, method, url[:80], response.status_code)
            assert response.get_json()["error"]


@pytest.mark.parametrize("who", [("key", "dealer1"), ("session", "viewer"), ("key", "engineer"), ("key", "admin")])
def test_no_api_route_answers_5xx(dash_app, app_db, callers, fresh_alert, made_alerts, who):
    """Every route with ordinary and hostile input: a JSON answer below 500, never a traceback."""
    caller = callers[who]
    alert_id = fresh_alert("LKO01", ACTION_TYPE)
    calls = 0
    with_rules_restored = app_db.query("SELECT * FROM alert_rules")
    for (rule, method), cases in _covered_routes(dash_app, _route_cases(alert_id)).items():
        for url, body in cases:
            response = caller.http.open(url, method=method, json=body, headers=caller.headers)
            text = response.get_data(as_text=True)
            assert response.status_code < 500 and "Traceback" not in text, (who, method, url[:80], body)
            assert response.is_json, (who, method, url[:80], response.status_code)
            calls += 1
    assert calls > 40
    assert app_db.query("SELECT * FROM alert_rules") == with_rules_restored  # the walk's rule bodies change nothing


def test_unknown_api_paths_and_methods_answer_json(callers):
    admin = callers[("key", "admin")]
    missing = admin.get(f"{API}/nope")
    assert missing.status_code == 404 and "error" in missing.get_json()
    assert admin.get("/api/nope").status_code == 404 and admin.get("/api/").get_json()["error"]
    wrong = admin.http.delete(f"{API}/alerts/1", headers=admin.headers)
    assert wrong.status_code == 405 and "error" in wrong.get_json()
    assert admin.post(f"{API}/nope").status_code in (404, 405)
    page_404 = callers[("session", "admin")].http.get("/assets/no-such-file.css")
    assert page_404.status_code == 404 and not page_404.is_json  # outside /api/ the app's own answers stay
