"""The alerts page and the alert buttons in a real headless Chromium, per role.

One app server and one browser for the module (like test_browser_layout.py). Screenshots go to
tests/artifacts/ as ``alerts-<role>-<width>.png`` (the page with an alert's detail open) and
``alerts-battery-dealer1-<width>.png`` (the battery page's panel with its buttons).
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from data import alerts as alert_store
from conftest import Session
from test_browser_layout import console_errors, element_box, js, save_full_page, set_viewport, settle

pytestmark = pytest.mark.browser

DESKTOP, PHONE = (1600, 1000), (390, 844)
ROLES = ["admin", "engineer", "manager", "viewer", "dealer1"]


def _device(app_db, code: str, index: int = 0) -> dict:
    return app_db.query("""SELECT d.device_id, d.vehicle_number FROM devices d JOIN dealers dl ON dl.id = d.dealer_id
                           WHERE dl.code = :c ORDER BY d.device_id""", c=code)[index]


@pytest.fixture(scope="module")
def alerts(app_db):
    """Alerts of our own to act on (the 8 seeded ones stay as other modules expect them), raised
    through the engine's writer with readings around them; removed afterwards."""
    first = app_db.scalar("SELECT coalesce(max(id), 0) FROM alerts")
    now = datetime.now(timezone.utc) - timedelta(minutes=30)
    plan = {"engineer": ("JAI01", 0, "low_soc", "warning", 9.0, 10.0),
            "bulk-1": ("JAI01", 1, "low_soc", "warning", 8.0, 10.0),
            "bulk-2": ("PAT01", 1, "low_soc", "warning", 7.0, 10.0),
            "dealer1": ("LKO01", 0, "deep_discharge", "critical", 4.0, 5.0),
            "dealer1-battery": ("LKO01", 1, "deep_discharge", "critical", 3.0, 5.0),
            "dealer2": ("DEL01", 0, "deep_discharge", "critical", 4.5, 5.0)}
    made = {}
    with app_db.transaction() as conn:
        for name, (code, index, kind, severity, value, threshold) in plan.items():
            device = _device(app_db, code, index)
            alert_store.raise_alert(conn, device_id=device["device_id"], alert_type=kind, severity=severity,
                                    message=f"{kind.replace('_', ' ')} on {device['vehicle_number']}", value=value,
                                    threshold=threshold, at=now, count=3)
            made[name] = dict(device, kind=kind)
    for name, row in made.items():
        row["id"] = app_db.scalar("SELECT id FROM alerts WHERE device_id = :d AND alert_type = :t AND id > :f",
                                  d=row["device_id"], t=row["kind"], f=first)
    yield made
    app_db.execute("DELETE FROM alerts WHERE id > :id", id=first)


def open_alerts(session: Session, role: str, size, alert_id: int | None = None):
    duo = session.sign_in(role)
    set_viewport(duo, *size)
    duo.driver.get(duo.server.url + "/alerts" + (f"?id={alert_id}" if alert_id else ""))
    duo.wait_for_element("#alerts-grid .ag-row", timeout=20)
    duo.wait_for_element("#alerts-summary .count-card", timeout=15)
    if alert_id:
        duo.wait_for_element("#alerts-detail .alert-detail, #alerts-detail-not-found", timeout=15)
    return duo


def history(duo) -> str:
    return duo.find_element("#alerts-detail-history").text


def grid_row_ids(duo) -> set[str]:
    """Ids of the rows the grid holds (loaded blocks, drawn or not: rows out of view are not in the DOM)."""
    return set(js(duo, """const api = window.dash_ag_grid.getApi('alerts-grid'), ids = [];
                          api.forEachNode(n => { if (n.data) ids.push(String(n.data.id)); });
                          return ids;"""))


def wait_until(predicate, timeout: float = 10, message: str = ""):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(message or "condition not met in time")


def type_comment(duo, text: str):
    box = duo.find_element("#alerts-detail textarea.action-comment")
    js(duo, "arguments[0].scrollIntoView({block: 'center'});", box)
    box.click()
    box.send_keys(text)


def click(duo, selector: str):
    element = duo.find_element(selector)
    js(duo, "arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


def test_engineer_acknowledges_and_resolves_and_sees_both_in_the_history(session, app_db, alerts):
    target = alerts["engineer"]
    duo = open_alerts(session, "engineer", DESKTOP, target["id"])
    assert duo.find_element("#alerts-detail-title").text == target["vehicle_number"]
    assert "Opened" in history(duo)
    wait_until(lambda: str(target["id"]) in grid_row_ids(duo), message="the alert is not in the table")
    link = duo.find_element("#alerts-detail-battery-link").get_attribute("href")
    assert link.endswith(f"/battery/{target['device_id']}")
    assert duo.find_elements("#alerts-detail .action-resolve") and duo.find_elements("#alerts-detail .action-owner")
    duo.wait_for_element("#alerts-detail-chart .main-svg", timeout=10)
    shapes = js(duo, "return document.querySelectorAll('#alerts-detail-chart .shapelayer path').length")
    assert shapes >= 2  # when it opened, and the threshold

    type_comment(duo, "Driver told to charge now")
    click(duo, "#alerts-detail .action-acknowledge")
    duo.wait_for_contains_text("#alert-action-message", "Acknowledged.", timeout=10)
    duo.wait_for_contains_text("#alerts-detail-history", "Driver told to charge now", timeout=10)
    assert "Acknowledged by engineer" in history(duo).replace("\n", " ")
    assert not duo.find_elements("#alerts-detail .action-acknowledge")  # acknowledged: no second button

    type_comment(duo, "Charged to 80 %, closing")
    click(duo, "#alerts-detail .action-resolve")
    duo.wait_for_contains_text("#alerts-detail-history", "Charged to 80 %, closing", timeout=10)
    text = history(duo).replace("\n", " ")
    assert "Acknowledged by engineer" in text and "Resolved by engineer" in text
    assert text.index("Driver told to charge now") < text.index("Charged to 80 %, closing")
    assert "Resolved: nothing more to do." in duo.find_element("#alerts-detail").text
    # The table refreshed: the default filter (open and acknowledged) no longer holds it.
    wait_until(lambda: str(target["id"]) not in grid_row_ids(duo), message="the table did not refresh")
    rows = app_db.query("""SELECT e.event, e.comment, u.username FROM alert_events e JOIN users u ON u.id = e.user_id
                           WHERE e.alert_id = :id ORDER BY e.id""", id=target["id"])
    assert [(r["event"], r["comment"], r["username"]) for r in rows] == [
        ("acknowledged", "Driver told to charge now", "engineer"), ("resolved", "Charged to 80 %, closing", "engineer")]
    assert console_errors(duo) == []


def test_engineer_acknowledges_selected_rows_at_once(session, app_db, alerts):
    ids = [str(alerts["bulk-1"]["id"]), str(alerts["bulk-2"]["id"])]
    duo = open_alerts(session, "engineer", DESKTOP)
    wait_until(lambda: set(ids) <= grid_row_ids(duo), message="bulk alerts not in the table")
    for row_id in ids:
        box = duo.find_element(f'#alerts-grid .ag-row[row-id="{row_id}"] .ag-selection-checkbox input')
        box.click()
    duo.find_element("#alerts-bulk-comment").send_keys("night shift round")
    click(duo, "#alerts-ack-selected")
    duo.wait_for_text_to_equal("#alerts-bulk-message", "2 acknowledged.", timeout=10)
    statuses = app_db.query("SELECT status FROM alerts WHERE id = ANY(:ids)", ids=[int(i) for i in ids])
    assert {r["status"] for r in statuses} == {"acknowledged"}
    wait_until(lambda: all(duo.find_element(f'#alerts-grid .ag-row[row-id="{i}"] .status-pill').text == "acknowledged"
                           for i in ids), message="the table did not show the new status")
    assert console_errors(duo) == []


def test_dealer_acknowledges_its_own_alert_and_cannot_act_on_another(session, app_db, alerts):
    own, other = alerts["dealer1"], alerts["dealer2"]
    duo = open_alerts(session, "dealer1", DESKTOP, own["id"])
    assert duo.find_elements("#alerts-detail .action-acknowledge")
    assert not duo.find_elements("#alerts-detail .action-resolve")
    assert not duo.find_elements("#alerts-detail .action-owner")
    assert not duo.find_element("#alerts-dealer").is_displayed()  # no dealer filter for a dealer
    type_comment(duo, "Customer called")
    click(duo, "#alerts-detail .action-acknowledge")
    duo.wait_for_contains_text("#alerts-detail-history", "Customer called", timeout=10)
    assert "Acknowledged by dealer1" in history(duo).replace("\n", " ")
    assert app_db.scalar("SELECT status FROM alerts WHERE id = :id", id=own["id"]) == "acknowledged"
    # Nothing of another dealer's in the table.
    grid_text = duo.find_element("#alerts-grid").text
    assert other["vehicle_number"] not in grid_text and own["vehicle_number"] in grid_text

    duo.driver.get(duo.server.url + f"/alerts?id={other['id']}")
    duo.wait_for_text_to_equal("#alerts-detail-not-found h2", "Alert not found", timeout=15)
    assert not duo.find_elements("#alerts-detail .action-button")
    assert other["vehicle_number"] not in duo.find_element("#alerts-detail").text
    for unknown in ("999999999", "abc"):  # unknown or malformed: the same words
        duo.driver.get(duo.server.url + f"/alerts?id={unknown}")
        duo.wait_for_text_to_equal("#alerts-detail-not-found h2", "Alert not found", timeout=15)
    assert app_db.scalar("SELECT status FROM alerts WHERE id = :id", id=other["id"]) == "open"
    assert console_errors(duo) == []


def test_dealer_acknowledges_on_the_battery_page(session, app_db, alerts):
    target = alerts["dealer1-battery"]
    duo = session.sign_in("dealer1")
    for size in (DESKTOP, PHONE):
        set_viewport(duo, *size)
        duo.driver.get(duo.server.url + f"/battery/{target['device_id']}")
        duo.wait_for_element(f"#battery-alert-{target['id']} .action-acknowledge", timeout=20)
        duo.wait_for_element("#battery-trip-table tbody tr", timeout=15)
        time.sleep(0.6)
        save_full_page(duo, f"alerts-battery-dealer1-{size[0]}.png", size)
        assert js(duo, "return document.documentElement.scrollWidth <= window.innerWidth")
    assert not duo.find_elements(f"#battery-alert-{target['id']} .action-resolve")
    box = duo.find_element(f"#battery-alert-{target['id']} textarea")
    js(duo, "arguments[0].scrollIntoView({block: 'center'});", box)
    box.send_keys("Seen from the battery page")
    time.sleep(11)  # one 10 s refresh of the page: the box being typed in is not redrawn under the person
    assert box.get_attribute("value") == "Seen from the battery page"
    assert js(duo, "return document.activeElement === arguments[0]", box)
    click(duo, f"#battery-alert-{target['id']} .action-acknowledge")
    duo.wait_for_contains_text(f"#battery-alert-{target['id']} .status-pill", "acknowledged", timeout=10)
    assert "Acknowledged" in duo.find_element("#alert-action-message").text
    assert not duo.find_elements(f"#battery-alert-{target['id']} .action-button")
    row = app_db.one("""SELECT e.comment, u.username FROM alert_events e JOIN users u ON u.id = e.user_id
                        WHERE e.alert_id = :id AND e.event = 'acknowledged'""", id=target["id"])
    assert row == {"comment": "Seen from the battery page", "username": "dealer1"}
    assert console_errors(duo) == []


def test_viewer_sees_no_buttons(session, alerts):
    duo = open_alerts(session, "viewer", DESKTOP, alerts["dealer2"]["id"])
    assert duo.find_element("#alerts-detail-title").text == alerts["dealer2"]["vehicle_number"]
    assert not duo.find_elements(".action-button") and not duo.find_elements("textarea.action-comment")
    assert not duo.find_elements("#alerts-ack-selected")
    assert not duo.find_elements("#alerts-grid .ag-selection-checkbox")
    assert "not act on it" in duo.find_element("#alerts-detail").text
    # Clicking a row opens that alert instead, and brings the detail into view.
    other = alerts["dealer1"]
    wait_until(lambda: str(other["id"]) in grid_row_ids(duo), message="the alert is not in the table")
    js(duo, "window.dash_ag_grid.getApi('alerts-grid').ensureNodeVisible("
            "window.dash_ag_grid.getApi('alerts-grid').getRowNode(arguments[0]), 'middle')", str(other["id"]))
    cell = duo.wait_for_element(f'#alerts-grid .ag-row[row-id="{other["id"]}"] .ag-cell[col-id="vehicle_number"]')
    js(duo, "window.scrollTo(0, 0)")
    assert element_box(duo, "#alerts-detail-panel")["top"] > 500  # below the fold before the click
    cell.click()
    duo.wait_for_text_to_equal("#alerts-detail-title", other["vehicle_number"], timeout=10)
    # (as far as the page goes: a short page cannot put the panel at the very top)
    wait_until(lambda: 0 <= element_box(duo, "#alerts-detail-panel")["top"] <= 500
               and js(duo, "return window.scrollY") > 0,
               message="the detail was not brought into view")
    assert console_errors(duo) == []


def _visible_alert(app_db, role: str) -> int:
    """The oldest open alert the role can see: a seeded one, which no test here acts on."""
    where = "TRUE" if role != "dealer1" else "dl.code = 'LKO01'"
    return app_db.scalar(f"""SELECT a.id FROM alerts a JOIN devices d USING (device_id)
                             JOIN dealers dl ON dl.id = d.dealer_id
                             WHERE {where} AND a.status = 'open' ORDER BY a.id LIMIT 1""")


@pytest.mark.parametrize("role", ROLES)
def test_alerts_page_fits_a_desktop_and_a_phone(session, app_db, alerts, role):
    alert_id = _visible_alert(app_db, role)
    for size in (DESKTOP, PHONE):
        duo = open_alerts(session, role, size, alert_id)
        duo.wait_for_element("#alerts-detail-chart .main-svg", timeout=15)
        settle(duo)
        chart = js(duo, "return document.querySelector('#alerts-detail-chart .main-svg')"
                        ".getBoundingClientRect().height")
        assert chart >= 300, f"the detail chart is {chart} px high"  # not squashed beside a short history
        inner = js(duo, "return window.innerWidth")
        assert js(duo, "return document.documentElement.scrollWidth") <= inner, (role, size)
        grid = element_box(duo, "#alerts-grid")
        assert grid and grid["left"] >= 0 and grid["right"] <= inner, grid
        if size == PHONE:  # the table scrolls sideways inside its card; the page does not
            wide = js(duo, """const v = document.querySelector('#alerts-grid .ag-body-horizontal-scroll-viewport');
                              return v ? v.scrollWidth > v.clientWidth : null;""")
            assert wide, "the grid should scroll horizontally on a phone"
            logout = element_box(duo, "#logout-link")
            assert logout and logout["visible"] and logout["right"] <= inner
        names = js(duo, "return [...document.querySelectorAll('.nav-link')].map(a => a.textContent)")
        assert "Alerts" in names
        save_full_page(duo, f"alerts-{role}-{size[0]}.png", size)
        assert console_errors(duo) == []
