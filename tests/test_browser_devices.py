"""The devices page in a real headless Chromium: an engineer finds a device, remaps it to the other
dealer, deactivates it, and the overview (map and the dealers' views) follows; its history lists
both changes. A dealer sees only its own devices, read-only: no buttons, no import, and the change
callback refuses when called anyway. Screenshots: tests/artifacts/devices-*.png.
"""
from __future__ import annotations

import pytest

from conftest import login
from test_browser import wait_for_pins
from test_browser_layout import DESKTOP, PHONE, console_errors, js, open_path, replace_text, save_full_page, set_viewport

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def moved(app_db):
    """The LKO01 device the engineer remaps; put back afterwards."""
    row = app_db.one("""SELECT d.* FROM devices d JOIN dealers dl ON dl.id = d.dealer_id JOIN device_state s
                        USING (device_id) WHERE dl.code = 'LKO01' AND s.latitude IS NOT NULL AND d.is_active
                        ORDER BY d.device_id LIMIT 1""")
    yield row
    app_db.execute("""UPDATE devices SET dealer_id = :dealer_id, vehicle_number = :vehicle_number, site_id = :site_id,
                             is_active = :is_active, customer_name = :customer_name WHERE device_id = :device_id""",
                   **{k: row[k] for k in ("dealer_id", "vehicle_number", "site_id", "is_active", "customer_name",
                                          "device_id")})


def _positioned(app_db, code: str | None = None) -> int:
    return app_db.scalar("""SELECT count(*) FROM devices d JOIN device_state s USING (device_id)
                            JOIN dealers dl ON dl.id = d.dealer_id
                            WHERE s.latitude IS NOT NULL AND d.is_active AND (CAST(:c AS text) IS NULL OR dl.code = :c)""",
                         c=code)


def _wait_count(duo, words: str, timeout: float = 15):
    """The count above the grid, as written (its CSS shows it in capitals)."""
    import time
    deadline = time.time() + timeout
    while time.time() < deadline:
        text = js(duo, "const e = document.getElementById('devices-count'); return e ? e.textContent : ''")
        if words in text:
            return text
        time.sleep(0.3)
    raise AssertionError(f"devices count never said {words!r} (last: {text!r})")


def _find(duo, text: str):
    replace_text(duo, "#devices-text", text + "\n")
    duo.wait_for_element(f"#devices-grid .ag-row[row-id='{text}']", timeout=15)
    duo.find_element(f"#devices-grid .ag-row[row-id='{text}'] [col-id='device_id']").click()
    duo.wait_for_contains_text("#device-title", text, timeout=15)


def test_an_engineer_remaps_and_deactivates_a_device_and_the_overview_follows(session, app_db, moved):
    device = moved["device_id"]
    fleet_pins, lko_pins = _positioned(app_db), _positioned(app_db, "LKO01")
    duo = open_path(session, "engineer", "/devices", "#devices-grid .ag-row")
    _wait_count(duo, " devices")
    save_full_page(duo, "devices-1600.png", DESKTOP)
    _find(duo, device)
    assert duo.find_element("#device-battery_serial").get_attribute("value") == moved["battery_serial"]

    replace_text(duo, "#device-vehicle_number", "not a plate")
    duo.find_element("#device-save").click()
    duo.wait_for_contains_text("#device-vehicle_number-error", "not a vehicle registration number", timeout=10)
    assert app_db.scalar("SELECT vehicle_number FROM devices WHERE device_id = :d", d=device) == moved["vehicle_number"]

    replace_text(duo, "#device-vehicle_number", "DL1EZZ4242")
    duo.select_dcc_dropdown("#device-dealer_code", "Delhi Green Wheels (DEL01)")
    # The site choice follows the dealer: the old dealer's site is gone, the new dealer's are offered.
    duo.wait_for_contains_text("#device-site_code", "No site", timeout=10)
    duo.select_dcc_dropdown("#device-site_code", "Okhla charging hub (DEL01-HUB)")
    duo.find_element("#device-save").click()
    duo.wait_for_contains_text("#device-message", f"Saved the mapping of {device}", timeout=10)
    assert app_db.one("""SELECT d.vehicle_number, dl.code FROM devices d JOIN dealers dl ON dl.id = d.dealer_id
                         WHERE d.device_id = :d""", d=device) == {"vehicle_number": "DL1EZZ4242", "code": "DEL01"}
    assert app_db.scalar("SELECT s.code FROM devices d JOIN sites s ON s.id = d.site_id WHERE d.device_id = :d",
                         d=device) == "DEL01-HUB"
    duo.wait_for_contains_text("#device-history", "DL1EZZ4242", timeout=10)

    duo.wait_for_element("#device-toggle", timeout=10).click()
    duo.wait_for_contains_text("#device-message", "deactivated", timeout=10)
    duo.wait_for_contains_text("#device-state", "inactive", timeout=10)
    history = duo.find_element("#device-history").text
    assert "deactivate" in history and "update" in history and "engineer" in history
    save_full_page(duo, "devices-detail-1600.png", DESKTOP)
    assert not console_errors(duo)

    duo.driver.get(duo.server.url + "/")
    assert wait_for_pins(duo, fleet_pins - 1) == fleet_pins - 1, "the deactivated device left the map"
    duo.wait_for_contains_text("#overview-asof", "Data as of", timeout=10)
    duo = session.sign_in("dealer1")
    duo.driver.get(duo.server.url + "/")
    assert wait_for_pins(duo, lko_pins - 1) == lko_pins - 1, "the remapped device left its old dealer's map"

    set_viewport(duo, *PHONE)
    duo = open_path(session, "engineer", "/devices", "#devices-grid .ag-row", PHONE)
    width = js(duo, "return document.documentElement.scrollWidth")
    assert width <= PHONE[0] + 1, f"the devices page scrolls sideways on a phone ({width} px)"
    save_full_page(duo, "devices-390.png", PHONE)


def test_a_dealer_sees_only_its_devices_read_only(session, app_db, dash_app):
    own = app_db.scalar("""SELECT count(*) FROM devices d JOIN dealers dl ON dl.id = d.dealer_id
                           WHERE dl.code = 'LKO01'""")
    duo = open_path(session, "dealer1", "/devices", "#devices-grid .ag-row")
    _wait_count(duo, f"{own} device")
    shown = js(duo, "return Array.from(document.querySelectorAll('#devices-grid .ag-row')).map(r => r.getAttribute('row-id'))")
    dealers = {r["device_id"]: r["code"] for r in app_db.query(
        "SELECT d.device_id, dl.code FROM devices d JOIN dealers dl ON dl.id = d.dealer_id")}
    assert shown and {dealers[d] for d in shown} == {"LKO01"}
    assert not duo.find_elements("#devices-upload"), "a dealer gets no import"
    first = shown[0]
    duo.find_element(f"#devices-grid .ag-row[row-id='{first}'] [col-id='device_id']").click()
    duo.wait_for_contains_text("#device-title", first, timeout=15)
    assert not duo.find_elements("#device-save") and not duo.find_elements("#device-toggle")
    assert duo.find_element("#device-vehicle_number").get_attribute("disabled")
    save_full_page(duo, "devices-dealer1-1600.png", DESKTOP)

    # Called anyway, with a real device and a fresh stamp: refused on the server.
    row = app_db.one("SELECT device_id, updated_at FROM devices WHERE device_id = :d", d=first)
    client = dash_app.server.test_client()
    login(client, "dealer1")
    key = ("..device-message.children...device-battery_serial-error.children...device-vehicle_number-error.children"
           "...device-dealer_code-error.children...device-customer_name-error.children...device-customer_phone-error"
           ".children...device-city-error.children...device-site_code-error.children...devices-saved.data..")
    spec = dash_app.callback_map[key]
    values = {"device-toggle.n_clicks": 1, "device-opened.data": {"device_id": first, "seen": row["updated_at"].isoformat()}}
    body = client.post("/_dash-update-component", json={
        "output": key, "outputs": [{"id": k.rsplit(".", 1)[0], "property": k.rsplit(".", 1)[1]}
                                   for k in key.strip(".").split("...")],
        "inputs": [{"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")}
                   for i in spec["inputs"]],
        "state": [{"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")}
                  for i in spec["state"]],
        "changedPropIds": ["device-toggle.n_clicks"]}).get_data(as_text=True)
    assert "Only engineers and admins change devices" in body
    assert app_db.scalar("SELECT is_active FROM devices WHERE device_id = :d", d=first)


def test_data_health_lists_devices_worst_first_and_opens_a_devices_rejects(session, app_db):
    duo = open_path(session, "engineer", "/data-health", "#data-health-table tbody tr", timeout=25)
    text = duo.find_element("#data-health-totals").text.upper()
    assert "SOH STUCK AT 100" in text and "READINGS WITHOUT TEMPERATURE" in text
    first = duo.find_element("#data-health-table tbody tr td a")
    device = first.get_attribute("href").rsplit("=", 1)[-1]
    save_full_page(duo, "data-health-1600.png", DESKTOP)
    first.click()
    duo.wait_for_contains_text("#data-health-rejects", device, timeout=15)
    assert not console_errors(duo)

    duo = open_path(session, "dealer1", "/data-health", "#data-health-table tbody tr", timeout=25)
    dealers = {td.text for td in duo.find_elements("#data-health-table tbody tr td:nth-child(2)")}
    assert dealers == {"Lucknow E-Mobility"}
    other = app_db.scalar("""SELECT d.device_id FROM devices d JOIN dealers dl ON dl.id = d.dealer_id
                             WHERE dl.code = 'DEL01' LIMIT 1""")
    duo.driver.get(duo.server.url + f"/data-health?device={other}")
    duo.wait_for_contains_text("#data-health-rejects", "Device not found", timeout=15)
    set_viewport(duo, *PHONE)
    duo.driver.get(duo.server.url + "/data-health")
    duo.wait_for_element("#data-health-table tbody tr", timeout=25)
    width = js(duo, "return document.documentElement.scrollWidth")
    assert width <= PHONE[0] + 1, f"the data health page scrolls sideways on a phone ({width} px)"
    save_full_page(duo, "data-health-390.png", PHONE)
