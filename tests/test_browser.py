"""The pages in a real headless Chromium, as each role. Screenshots go to tests/artifacts/."""
import pytest

from conftest import ARTIFACTS

pytestmark = pytest.mark.browser

ROLES = ["admin", "manager", "engineer", "viewer", "dealer1", "dealer2"]
DEALER_CODES = {"dealer1": "LKO01", "dealer2": "DEL01"}


def console_errors(duo):
    return [entry for entry in duo.get_logs() or [] if entry.get("level") == "SEVERE"]


def _devices(app_db, username: str, positioned: bool = False) -> list[str]:
    where = ["TRUE"]
    if username in DEALER_CODES:
        where.append(f"d.dealer_id = (SELECT id FROM dealers WHERE code = '{DEALER_CODES[username]}')")
    if positioned:
        where.append("s.latitude IS NOT NULL")
    return [r["device_id"] for r in app_db.query(
        f"""SELECT d.device_id FROM devices d LEFT JOIN device_state s USING (device_id)
            WHERE {' AND '.join(where)} ORDER BY 1""")]


def pins_on_map(duo, prefix: str = "overview") -> int:
    """Devices the map shows: single pins plus the counts written on the clusters."""
    return duo.driver.execute_script(
        """const root = document.getElementById(arguments[0] + '-map');
           const pins = root.querySelectorAll('path.fleet-pin').length;
           let clustered = 0;
           root.querySelectorAll('.fleet-cluster span').forEach(s => clustered += parseInt(s.textContent, 10));
           return pins + clustered;""", prefix)


def wait_for_pins(duo, expected: int, prefix: str = "overview"):
    duo.wait_for_element(f"#{prefix}-map .leaflet-marker-pane, #{prefix}-map .leaflet-overlay-pane", timeout=15)
    import time
    deadline = time.time() + 15
    while time.time() < deadline and pins_on_map(duo, prefix) != expected:
        time.sleep(0.3)
    return pins_on_map(duo, prefix)


@pytest.mark.parametrize("username", ROLES)
def test_overview_renders_kpis_map_and_charts(signed_in, app_db, username):
    duo = signed_in(username)
    devices = _devices(app_db, username)
    duo.wait_for_text_to_equal("#kpi-active .kpi-value", f"{len(devices):,}", timeout=20)
    for card in ("#kpi-soh", "#kpi-charging", "#kpi-alerts"):
        assert duo.find_element(f"{card} .kpi-value").text
    assert wait_for_pins(duo, len(_devices(app_db, username, positioned=True))) == \
        len(_devices(app_db, username, positioned=True))
    for chart in ("overview-soc", "overview-cycles", "overview-distance"):
        duo.wait_for_element(f"#{chart} .main-svg", timeout=15)
    duo.wait_for_element(".alert-feed .badge", timeout=15)
    assert duo.find_element(".user-role").text.startswith("dealer" if username.startswith("dealer") else username)
    duo.driver.save_screenshot(str(ARTIFACTS / f"overview-{username}.png"))
    assert console_errors(duo) == []


def test_dealer_map_holds_only_its_own_devices(signed_in, app_db):
    duo = signed_in("dealer1")
    own = _devices(app_db, "dealer1", positioned=True)
    assert 0 < len(own) < len(_devices(app_db, "admin", positioned=True))
    assert wait_for_pins(duo, len(own)) == len(own)
    # The alert feed links only to the dealer's own batteries.
    duo.wait_for_element(".alert-feed .alert-device", timeout=15)
    links = [a.get_attribute("href").rsplit("/", 1)[-1] for a in duo.find_elements(".alert-feed a.alert-device")]
    assert links and set(links) <= set(own)


def test_status_filter_narrows_the_map_and_keeps_through_refresh(signed_in, app_db):
    duo = signed_in("manager")
    wait_for_pins(duo, len(_devices(app_db, "manager", positioned=True)))
    duo.select_dcc_dropdown("#overview-status", "Critical")
    critical = app_db.scalar(
        """SELECT count(*) FROM devices d JOIN device_state s USING (device_id)
           WHERE s.latitude IS NOT NULL AND s.reading_time > now() - interval '24 hours'
             AND (s.soc < 20 OR EXISTS (SELECT 1 FROM alerts a WHERE a.device_id = d.device_id
                                        AND a.resolved_at IS NULL AND a.severity = 'critical'))""")
    assert critical > 0
    assert wait_for_pins(duo, critical) == critical
    duo.driver.execute_script("window.dispatchEvent(new Event('resize'))")
    assert "Critical" in duo.find_element("#overview-status").text


def test_battery_page_renders_gauges_charts_trail_and_trips(signed_in, app_db):
    duo = signed_in("engineer")
    device = _devices(app_db, "engineer", positioned=True)[0]
    duo.driver.get(f"{duo.server.url}/battery/{device}")
    duo.wait_for_element("#battery-series .main-svg", timeout=20)
    duo.wait_for_element("#gauge-soc .main-svg", timeout=15)
    duo.wait_for_element("#battery-sessions .main-svg", timeout=15)
    duo.wait_for_element("#battery-map path.leaflet-interactive", timeout=15)  # the trail polyline
    duo.wait_for_element("#battery-trip-table tbody tr", timeout=15)
    assert device in duo.find_element(".battery-header").text
    duo.find_element("#battery-range label:nth-child(5)").click()  # 30d: hourly rollups
    duo.wait_for_contains_text("#battery-range-note", "hourly averages", timeout=15)
    duo.driver.save_screenshot(str(ARTIFACTS / "battery-engineer.png"))
    assert console_errors(duo) == []


@pytest.mark.parametrize("path", ["/battery/{other}", "/battery/NO-SUCH-DEVICE", "/battery/%3Cscript%3E"])
def test_battery_page_not_found_for_foreign_unknown_and_malformed_ids(signed_in, app_db, path):
    duo = signed_in("dealer1")
    other = _devices(app_db, "dealer2")[0]
    duo.wait_for_element("#kpi-active", timeout=15)
    duo.driver.get(duo.server.url + path.format(other=other))
    duo.wait_for_text_to_equal("#battery-not-found h1", "Battery not found", timeout=15)
    assert other not in duo.find_element("#_pages_content").text


def test_wall_has_no_chrome_and_shows_data_as_of(signed_in, app_db):
    duo = signed_in("viewer")
    duo.wait_for_element("#kpi-active", timeout=15)
    duo.driver.get(duo.server.url + "/wall")
    duo.wait_for_contains_text("#wall-asof", "Data as of", timeout=20)
    assert not duo.find_element(".topbar").is_displayed()
    assert int(duo.driver.execute_script(
        "return parseFloat(getComputedStyle(document.querySelector('.wall-kpis .kpi-value')).fontSize)")) >= 56
    assert wait_for_pins(duo, len(_devices(app_db, "viewer", positioned=True)), "wall") > 0
    duo.driver.save_screenshot(str(ARTIFACTS / "wall-viewer.png"))
    assert console_errors(duo) == []


def test_wrong_password_stays_on_login(signed_in):
    duo = signed_in("admin", "wrong")
    duo.wait_for_text_to_equal(".login-error", "Wrong username or password.")
    assert "/login" in duo.driver.current_url


def test_sign_out(signed_in):
    duo = signed_in("manager")
    duo.wait_for_element("#logout-link").click()
    duo.wait_for_element("#login-submit")
    duo.driver.get(duo.server.url + "/")
    duo.wait_for_element("#login-submit")


def test_search_by_vehicle_number_opens_the_battery(signed_in, app_db):
    duo = signed_in("dealer1")
    own = app_db.one("""SELECT d.device_id, d.vehicle_number FROM devices d JOIN dealers dl ON dl.id = d.dealer_id
                        WHERE dl.code = 'LKO01' ORDER BY d.device_id LIMIT 1""")
    other = app_db.scalar("""SELECT d.vehicle_number FROM devices d JOIN dealers dl ON dl.id = d.dealer_id
                             WHERE dl.code = 'DEL01' ORDER BY d.device_id LIMIT 1""")
    box = duo.wait_for_element("#search-input", timeout=15)
    box.send_keys(other)  # another dealer's vehicle: not found, within scope
    duo.wait_for_contains_text("#search-results", "No battery matches", timeout=10)
    duo.clear_input(box)  # selenium's clear() does not reach React's onChange
    plate = own["vehicle_number"]
    box.send_keys(f"{plate[:2].lower()} {plate[2:4]}")  # a prefix, lower case, with a space: still found
    duo.wait_for_contains_text("#search-results", plate, timeout=10)
    assert len(duo.find_elements("#search-results .search-hit")) <= 10
    duo.driver.save_screenshot(str(ARTIFACTS / "search-dealer1.png"))
    box.send_keys(plate[4:])
    duo.wait_for_element(f"#search-results a[href='/battery/{own['device_id']}']", timeout=10).click()
    duo.wait_for_contains_text(".battery-header", own["device_id"], timeout=15)
    assert duo.driver.current_url.endswith(f"/battery/{own['device_id']}")
    # The vehicle number in the URL opens the same battery.
    duo.driver.get(f"{duo.server.url}/battery/{plate}")
    duo.wait_for_contains_text(".battery-header", own["device_id"], timeout=15)
    assert console_errors(duo) == []
