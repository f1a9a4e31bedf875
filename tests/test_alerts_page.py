"""The alerts page's callbacks over HTTP (Flask test client, real PostgreSQL): the infinite grid pages
and sorts on the server and keeps a dealer to its own alerts whatever it sends; the detail, the
action callback (a direct POST is refused as the buttons would be), the bulk acknowledge and the
export. Browser behaviour is in test_browser_alerts.py.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from conftest import login as _login
from data import alerts as alert_store
from ingest.readings import IST
from test_authorization import _payload

GRID = "alerts-grid.getRowsResponse"
DETAIL = "..alerts-detail.children...alerts-open.data.."
ACT = "..alert-action-message.children...alert-action-message.className...alert-action-done.data.."
BULK = "..alerts-bulk-message.children...alerts-bulk-done.data...alerts-grid.deselectAll.."
EXPORT = "alerts-download.data"
SUMMARY = "alerts-summary.children"
PAGES = ".._pages_content.children..._pages_store.data.."
EXTRA_TYPES = [("low_soc", "warning"), ("deep_discharge", "critical"), ("undervoltage", "info"),
               ("overvoltage", "warning"), ("soh_degradation", "info")]


def login(client, role: str):
    """Sign in as ``role``, signing out whoever the client was first."""
    client.get("/logout")
    assert _login(client, role).status_code == 302


def _devices(app_db, code: str) -> list[dict]:
    return app_db.query("""SELECT d.device_id, d.vehicle_number, d.battery_serial FROM devices d
                           JOIN dealers dl ON dl.id = d.dealer_id WHERE dl.code = :c ORDER BY d.device_id""", c=code)


@pytest.fixture(scope="module")
def many_alerts(app_db):
    """Enough alerts of every dealer to need several blocks (5 types x 40 devices, times spread out),
    through the engine's own writer; removed afterwards (other modules count the 8 seeded ones)."""
    first = app_db.scalar("SELECT coalesce(max(id), 0) FROM alerts")
    devices = app_db.query("SELECT device_id, vehicle_number FROM devices ORDER BY device_id")
    now = datetime.now(timezone.utc)
    with app_db.transaction() as conn:
        for i, d in enumerate(devices):
            for j, (kind, severity) in enumerate(EXTRA_TYPES):
                alert_store.raise_alert(conn, device_id=d["device_id"], alert_type=kind, severity=severity,
                                        message=f"{kind} on {d['vehicle_number']}", value=float(i + j),
                                        threshold=10.0, at=now - timedelta(minutes=7 * i + j), count=1 + (i * j) % 9)
    yield app_db.scalar("SELECT count(*) FROM alerts WHERE id > :id", id=first)
    app_db.execute("DELETE FROM alerts WHERE id > :id", id=first)


def call(client, app, key: str, values: dict, changed: str | None = None) -> dict:
    """The callback's answer; ``changed`` names the input that fired (else its first one)."""
    body = _payload(app, key, values)
    if changed:
        body["changedPropIds"] = [changed]
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200, (key, response.status_code, response.get_data(as_text=True)[:300])
    return json.loads(response.get_data())["response"]


def block(client, app, start: int, end: int, sort=None, **filters) -> dict:
    request = {"startRow": start, "endRow": end, "sortModel": sort or [], "filterModel": {}}
    values = {"alerts-grid.getRowsRequest": request, "alerts-status.value": ["open", "acknowledged"]}
    values.update({f"alerts-{k}.value": v for k, v in filters.items()})
    return call(client, app, GRID, values)["alerts-grid"]["getRowsResponse"]


def test_grid_pages_and_sorts_on_the_server(dash_app, client, app_db, many_alerts):
    login(client, "engineer")
    in_scope = app_db.scalar("SELECT count(*) FROM alerts WHERE status IN ('open', 'acknowledged')")
    assert in_scope >= 200 + 8
    first = block(client, dash_app, 0, 100)
    second = block(client, dash_app, 100, 200)
    assert first["rowCount"] == second["rowCount"] == in_scope
    assert len(first["rowData"]) == len(second["rowData"]) == 100  # only the block asked for
    ids = [r["id"] for r in first["rowData"] + second["rowData"]]
    assert len(set(ids)) == 200
    # Default order: newest activity first, across the blocks; the shown times are IST.
    expected = [r["id"] for r in app_db.query(
        """SELECT id FROM alerts WHERE status IN ('open', 'acknowledged')
           ORDER BY last_seen_at DESC, id DESC LIMIT 200""")]
    assert ids == expected
    newest = app_db.one("SELECT last_seen_at FROM alerts WHERE id = :id", id=ids[0])["last_seen_at"]
    assert first["rowData"][0]["last_seen_at"] == f"{newest.astimezone(IST):%d %b %H:%M}"

    by_repeats = block(client, dash_app, 0, 100, sort=[{"colId": "occurrence_count", "sort": "asc"}])
    counts = [r["occurrence_count"] for r in by_repeats["rowData"]]
    assert counts == sorted(counts) and counts[0] == 1
    last = block(client, dash_app, in_scope - 10, in_scope + 90, sort=[{"colId": "occurrence_count", "sort": "asc"}])
    assert len(last["rowData"]) == 10
    assert last["rowData"][-1]["occurrence_count"] == app_db.scalar(
        "SELECT max(occurrence_count) FROM alerts WHERE status IN ('open', 'acknowledged')")
    by_severity = block(client, dash_app, 0, 300, sort=[{"colId": "severity", "sort": "asc"}])
    ranks = [("critical", "warning", "info").index(r["severity"]) for r in by_severity["rowData"]]
    assert ranks == sorted(ranks) and ranks[0] == 0 and ranks[-1] == 2

    # A sort the table does not offer, or SQL in its place, falls back to the default order.
    for odd in ([{"colId": "message; DROP TABLE alerts", "sort": "asc"}], [{"colId": "severity", "sort": "up"}],
                "severity", [None]):
        assert [r["id"] for r in block(client, dash_app, 0, 100, sort=odd)["rowData"]] == expected[:100]
    assert len(block(client, dash_app, 0, 100_000)["rowData"]) == in_scope  # < 500: all of them


def test_grid_filters_narrow_on_the_server(dash_app, client, app_db, many_alerts):
    login(client, "manager")
    delhi = block(client, dash_app, 0, 100, city="Delhi")
    assert delhi["rowCount"] == app_db.scalar(
        """SELECT count(*) FROM alerts a JOIN devices d USING (device_id)
           WHERE d.city = 'Delhi' AND a.status IN ('open', 'acknowledged')""") > 0
    assert {r["city"] for r in delhi["rowData"]} == {"Delhi"}
    critical_low = block(client, dash_app, 0, 100, severity=["critical"], type=["deep_discharge", "nonsense"])
    assert critical_low["rowCount"] == 40
    assert {(r["severity"], r["alert_type"]) for r in critical_low["rowData"]} == {("critical", "Deep discharge")}
    plate = app_db.scalar("SELECT vehicle_number FROM devices ORDER BY device_id LIMIT 1")
    found = block(client, dash_app, 0, 100, vehicle=plate)
    assert found["rowData"] and {r["vehicle_number"] for r in found["rowData"]} == {plate}
    today = datetime.now(IST).date()
    values = {"alerts-grid.getRowsRequest": {"startRow": 0, "endRow": 100}, "alerts-status.value": [],
              "alerts-dates.start_date": (today - timedelta(days=30)).isoformat(),  # before any alert opened
              "alerts-dates.end_date": (today - timedelta(days=20)).isoformat()}
    assert call(client, dash_app, GRID, values)["alerts-grid"]["getRowsResponse"]["rowCount"] == 0
    values["alerts-dates.start_date"] = (today - timedelta(days=1)).isoformat()
    values["alerts-dates.end_date"] = today.isoformat()
    assert call(client, dash_app, GRID, values)["alerts-grid"]["getRowsResponse"]["rowCount"] > 200


@pytest.mark.parametrize("filters", [
    {}, {"dealer": "OTHER"}, {"city": "Delhi"}, {"vehicle": "OTHER_PLATE"}, {"vehicle": "%"},
    {"severity": ["critical", "warning", "info"], "status": ["open", "acknowledged", "resolved"]},
    {"dealer": "1 OR 1=1", "city": ["Delhi"], "status": 5},
])
def test_dealer1_never_gets_another_dealers_rows(dash_app, client, app_db, many_alerts, filters):
    login(client, "dealer1")
    own = {d["vehicle_number"] for d in _devices(app_db, "LKO01")}
    others = [d for code in ("DEL01", "JAI01", "PAT01") for d in _devices(app_db, code)]
    other_dealer = app_db.scalar("SELECT id FROM dealers WHERE code = 'DEL01'")
    filters = {k: (other_dealer if v == "OTHER" else others[0]["vehicle_number"] if v == "OTHER_PLATE" else v)
               for k, v in filters.items()}
    own_count = app_db.scalar(
        """SELECT count(*) FROM alerts a JOIN devices d USING (device_id) JOIN dealers dl ON dl.id = d.dealer_id
           WHERE dl.code = 'LKO01' AND a.status IN ('open', 'acknowledged')""")
    for sort in ([], [{"colId": "dealer", "sort": "desc"}], [{"colId": "vehicle_number", "sort": "asc"}]):
        start, seen = 0, []
        while True:
            answer = block(client, dash_app, start, start + 100, sort=sort, **filters)
            seen += answer["rowData"]
            if len(answer["rowData"]) < 100:
                break
            start += 100
        assert {r["vehicle_number"] for r in seen} <= own
        assert answer["rowCount"] <= own_count
        if not filters:
            assert len(seen) == answer["rowCount"] == own_count > 0
        body = json.dumps(seen)
        assert not [d for d in others if d["device_id"] in body or d["vehicle_number"] in body]


def _alert_of(app_db, code: str, kind: str = "low_soc") -> dict:
    return app_db.one("""SELECT a.* FROM alerts a JOIN devices d USING (device_id)
                         JOIN dealers dl ON dl.id = d.dealer_id
                         WHERE dl.code = :c AND a.alert_type = :t AND a.status = 'open' ORDER BY a.id LIMIT 1""",
                      c=code, t=kind)


def _events(app_db, alert_id: int) -> list[str]:
    return [r["event"] for r in app_db.query("SELECT event FROM alert_events WHERE alert_id = :id ORDER BY id",
                                             id=alert_id)]


def act(client, app, alert_id, action, comment=None, user=None) -> dict:
    return call(client, app, ACT, {"alert-action-request.data": {"alert": alert_id, "action": action,
                                                                 "comment": comment, "user": user, "at": 1}})


def test_a_direct_post_is_refused_and_changes_nothing(dash_app, client, app_db, many_alerts):
    other = _alert_of(app_db, "DEL01")
    own = _alert_of(app_db, "LKO01")
    login(client, "dealer1")
    for action in ("acknowledge", "resolve", "assign"):
        answer = act(client, dash_app, other["id"], action, "mine now", "dealer1")
        assert answer["alert-action-message"]["children"] == "Alert not found."
        assert "alert-action-done" not in answer
    unknown = act(client, dash_app, 2**40, "acknowledge")
    assert unknown["alert-action-message"]["children"] == "Alert not found."  # the same words
    # Its own alert: acknowledge yes, resolve and assign no.
    refused = act(client, dash_app, own["id"], "resolve", "done")
    assert "may not resolve" in refused["alert-action-message"]["children"]
    assert app_db.scalar("SELECT status FROM alerts WHERE id = :id", id=own["id"]) == "open"
    done = act(client, dash_app, own["id"], "acknowledge", "on it")
    assert done["alert-action-message"]["children"] == f"Alert #{own['id']}: Acknowledged."
    assert done["alert-action-done"]["data"]["changed"] is True
    again = act(client, dash_app, own["id"], "acknowledge")
    assert "nothing changed" in again["alert-action-message"]["children"]
    assert app_db.one("SELECT status FROM alerts WHERE id = :id", id=other["id"])["status"] == "open"
    assert _events(app_db, other["id"]) == ["opened"]
    row = app_db.one("""SELECT e.comment, u.username FROM alert_events e JOIN users u ON u.id = e.user_id
                        WHERE e.alert_id = :id AND e.event = 'acknowledged'""", id=own["id"])
    assert row == {"comment": "on it", "username": "dealer1"}

    for role, action in (("viewer", "acknowledge"), ("manager", "resolve"), ("manager", "assign")):
        login(client, role)
        answer = act(client, dash_app, other["id"], action, None, "engineer")
        assert f"may not {action}" in answer["alert-action-message"]["children"], (role, action)
    assert _events(app_db, other["id"]) == ["opened"]


def test_bad_action_input_says_why_and_changes_nothing(dash_app, client, app_db, many_alerts):
    target = _alert_of(app_db, "JAI01")
    login(client, "engineer")
    too_long = act(client, dash_app, target["id"], "acknowledge", "x" * 1001)
    assert "at most 1000" in too_long["alert-action-message"]["children"]
    assert too_long["alert-action-message"]["className"] == "action-message error"
    nul = act(client, dash_app, target["id"], "resolve", "a\x00b")
    assert "NUL" in nul["alert-action-message"]["children"]
    nobody = act(client, dash_app, target["id"], "assign", None, "no-such-user")
    assert "unknown user" in nobody["alert-action-message"]["children"]
    dealer2 = act(client, dash_app, target["id"], "assign", None, "dealer2")  # not this alert's dealer
    assert "unknown user" in dealer2["alert-action-message"]["children"]
    assert _events(app_db, target["id"]) == ["opened"]
    assigned = act(client, dash_app, target["id"], "assign", "yours", "engineer")
    assert assigned["alert-action-message"]["children"].endswith("Assigned to engineer.")
    assert app_db.scalar("SELECT o.username FROM alerts a JOIN users o ON o.id = a.owner_id WHERE a.id = :id",
                         id=target["id"]) == "engineer"


def _detail(client, app, opened, clicked=None) -> str:
    values = {"alerts-open.data": opened}
    if clicked is not None:
        values["alerts-grid.cellClicked"] = clicked
    key = _payload(app, DETAIL, values)
    key["changedPropIds"] = ["alerts-grid.cellClicked"] if clicked is not None else []  # [] = the first call
    response = client.post("/_dash-update-component", json=key)
    assert response.status_code == 200
    return json.dumps(json.loads(response.get_data()), ensure_ascii=False)  # Dash writes "/" as \u002f


def _component(tree, component_id: str):
    """The props of the component with ``component_id`` anywhere in a callback's answer."""
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == component_id:
            return tree["props"]
        tree = list(tree.values())
    if isinstance(tree, list):
        for item in tree:
            found = _component(item, component_id)
            if found is not None:
                return found
    return None


def test_detail_opens_in_scope_and_reads_not_found_otherwise(dash_app, client, app_db, many_alerts):
    own, other = _alert_of(app_db, "LKO01", "deep_discharge"), _alert_of(app_db, "DEL01", "deep_discharge")
    other_vehicle = app_db.scalar("SELECT vehicle_number FROM devices WHERE device_id = :d", d=other["device_id"])
    login(client, "dealer1")
    mine = _detail(client, dash_app, own["id"])
    assert f"/battery/{own['device_id']}" in mine and "Opened" in mine and "alerts-detail-chart" in mine
    assert "Acknowledge" in mine and "Resolve" not in mine  # a dealer's one button
    for body in (_detail(client, dash_app, other["id"]), _detail(client, dash_app, 2**40),
                 _detail(client, dash_app, None, {"rowId": str(other["id"]), "colId": "severity"})):
        assert "Alert not found" in body
        assert other["device_id"] not in body and other_vehicle not in body
    clicked = _detail(client, dash_app, None, {"rowId": str(own["id"]), "colId": "vehicle_number"})
    assert f"#{own['id']}" in clicked

    # /alerts?id=N: the page router hands N to the detail's store, whoever asks; the detail decides.
    page = call(client, dash_app, PAGES, {"_pages_location.pathname": "/alerts",
                                          "_pages_location.search": f"?id={other['id']}"})
    assert _component(page, "alerts-open")["data"] == other["id"]
    login(client, "viewer")
    seen = _detail(client, dash_app, other["id"])
    assert other_vehicle in seen and "not act on it" in seen and "alert-act" not in seen


def test_bulk_acknowledge_acts_only_where_allowed(dash_app, client, app_db, many_alerts):
    own = [r["id"] for r in app_db.query(
        """SELECT a.id FROM alerts a JOIN devices d USING (device_id) JOIN dealers dl ON dl.id = d.dealer_id
           WHERE dl.code = 'LKO01' AND a.alert_type = 'undervoltage' AND a.status = 'open' LIMIT 3""")]
    other = _alert_of(app_db, "DEL01", "undervoltage")["id"]
    login(client, "dealer1")
    rows = [{"id": i} for i in own + [other]]
    too_long = call(client, dash_app, BULK, {"alerts-ack-selected.n_clicks": 1, "alerts-grid.selectedRows": rows,
                                             "alerts-bulk-comment.value": "y" * 1001})
    assert "at most 1000" in too_long["alerts-bulk-message"]["children"]
    assert app_db.scalar("SELECT count(*) FROM alerts WHERE id = ANY(:ids) AND status = 'open'", ids=own) == 3
    answer = call(client, dash_app, BULK, {"alerts-ack-selected.n_clicks": 1, "alerts-grid.selectedRows": rows,
                                           "alerts-bulk-comment.value": "morning round"})
    assert answer["alerts-bulk-message"]["children"] == "3 acknowledged; 1 not yours to acknowledge or not found."
    assert answer["alerts-grid"]["deselectAll"] is True
    assert app_db.scalar("SELECT count(*) FROM alerts WHERE id = ANY(:ids) AND status = 'acknowledged'", ids=own) == 3
    assert app_db.scalar("SELECT status FROM alerts WHERE id = :id", id=other) == "open"
    login(client, "viewer")
    viewer = call(client, dash_app, BULK, {"alerts-ack-selected.n_clicks": 1,
                                           "alerts-grid.selectedRows": [{"id": other}]})
    assert viewer["alerts-bulk-message"]["children"].startswith("0 acknowledged")
    assert app_db.scalar("SELECT status FROM alerts WHERE id = :id", id=other) == "open"


def test_summary_counts_follow_the_filter(dash_app, client, app_db, many_alerts):
    login(client, "dealer1")
    body = json.dumps(call(client, dash_app, SUMMARY, {"alerts-status.value": ["open"],
                                                       "alerts-severity.value": ["critical"]}))
    expected = app_db.scalar(
        """SELECT count(*) FROM alerts a JOIN devices d USING (device_id) JOIN dealers dl ON dl.id = d.dealer_id
           WHERE dl.code = 'LKO01' AND a.status = 'open' AND a.severity = 'critical'""")
    assert f'"{expected:,}"' in body and '"0"' in body  # critical count; warning and info are 0 under the filter


def test_export_holds_every_matching_row_in_scope(dash_app, client, app_db, many_alerts):
    login(client, "engineer")
    answer = call(client, dash_app, EXPORT, {"alerts-export-csv.n_clicks": 1, "alerts-status.value": []})
    csv = answer["alerts-download"]["data"]["content"]
    lines = csv.strip().splitlines()
    assert lines[0].startswith("Alert,Severity,Type,Vehicle")
    assert len(lines) - 1 == app_db.scalar("SELECT count(*) FROM alerts") > 100  # all of them, not one block
    login(client, "dealer1")
    csv = call(client, dash_app, EXPORT, {"alerts-export-csv.n_clicks": 1})["alerts-download"]["data"]["content"]
    others = [d for code in ("DEL01", "JAI01", "PAT01") for d in _devices(app_db, code)]
    assert not [d for d in others if d["device_id"] in csv]
    xlsx = call(client, dash_app, EXPORT, {"alerts-export-xlsx.n_clicks": 1},
                changed="alerts-export-xlsx.n_clicks")["alerts-download"]["data"]
    assert xlsx["filename"] == "alerts.xlsx" and xlsx["base64"]


def test_one_hundred_thousand_alerts_page_on_the_server(dash_app, client, app_db):
    """Only the requested block is read and sent: the first block, a deep one and sorted ones, each 100
    rows with the full count. (How fast: bench/alerts.py.)"""
    first = app_db.scalar("SELECT coalesce(max(id), 0) FROM alerts")
    app_db.execute(
        """INSERT INTO alerts (device_id, alert_type, severity, message, reading_value, threshold_value, first_seen_at,
                               last_seen_at, occurrence_count, status, resolved_at)
           SELECT (SELECT array_agg(device_id ORDER BY device_id) FROM devices)[1 + g % 40], 'high_temp',
                  (ARRAY['critical', 'warning', 'info'])[1 + g % 3], 'bulk', 60, 55,
                  now() - make_interval(mins => g), now() - make_interval(mins => g) + interval '5 min', 1 + g % 50,
                  'resolved', now() - make_interval(mins => g) + interval '6 min'
           FROM generate_series(1, 100000) g""")
    app_db.execute("ANALYZE alerts")
    try:
        login(client, "manager")
        for name, start, sort, status in (("first", 0, [], []), ("deep", 99_900, [], []),
                                          ("by dealer", 0, [{"colId": "dealer", "sort": "asc"}], ["resolved"]),
                                          ("deep by repeats", 50_000,
                                           [{"colId": "occurrence_count", "sort": "desc"}], [])):
            values = {"alerts-grid.getRowsRequest": {"startRow": start, "endRow": start + 100, "sortModel": sort},
                      "alerts-status.value": status}
            answer = call(client, dash_app, GRID, values)["alerts-grid"]["getRowsResponse"]
            assert len(answer["rowData"]) == 100 and answer["rowCount"] >= 100_000, name
        # A block larger than the server hands out is cut to 500 rows, not refused.
        huge = {"alerts-grid.getRowsRequest": {"startRow": 0, "endRow": 5_000_000}, "alerts-status.value": []}
        assert len(call(client, dash_app, GRID, huge)["alerts-grid"]["getRowsResponse"]["rowData"]) == 500
    finally:
        app_db.execute("DELETE FROM alerts WHERE id > :id", id=first)
