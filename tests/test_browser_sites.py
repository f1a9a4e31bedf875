"""Sites in a real headless Chromium. A manager reads the locations grid, narrows it, opens a site and
filters its batteries by health; an engineer adds a site (after a refused try), imports a sites file,
adds equipment, records its service and edits the site, and the site's history lists it all; a dealer
sees only its own sites, read-only, and another dealer's site is "not found". Screenshots:
tests/artifacts/sites-*.png and site-*.png.
"""
from __future__ import annotations

import time

import pytest

from test_browser_layout import DESKTOP, PHONE, console_errors, js, open_path, replace_text, save_full_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", autouse=True)
def cleanup(app_db):
    audit_before = app_db.scalar("SELECT coalesce(max(id), 0) FROM audit_log")
    hub = app_db.one("SELECT name, updated_at FROM sites WHERE code = 'LKO01-HUB'")
    yield
    app_db.execute("DELETE FROM maintenance_records WHERE recorded_by IS DISTINCT FROM 'demo'")
    app_db.execute("DELETE FROM equipment WHERE serial LIKE 'T-%'")
    app_db.execute("DELETE FROM sites WHERE code LIKE 'T-%'")
    app_db.execute("UPDATE sites SET name = :name, updated_at = :updated_at WHERE code = 'LKO01-HUB'", **hub)
    app_db.execute("DELETE FROM audit_log WHERE id > :id", id=audit_before)


def _cards(duo) -> list[str]:
    return js(duo, "return Array.from(document.querySelectorAll('.site-card')).map(c => c.id.replace('site-card-', ''))")


def _wait_cards(duo, expected: int, timeout: float = 15) -> list[str]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        cards = _cards(duo)
        if len(cards) == expected:
            return cards
        time.sleep(0.3)
    raise AssertionError(f"expected {expected} site cards, saw {_cards(duo)}")


def _grid_statuses(duo) -> list[str]:
    return js(duo, "return Array.from(document.querySelectorAll('#site-batteries-grid .ag-center-cols-container "
                   "[col-id=status]')).map(c => c.textContent)")


def _no_sideways_scroll(duo, what: str):
    width = js(duo, "return document.documentElement.scrollWidth")
    assert width <= PHONE[0] + 1, f"{what} scrolls sideways on a phone ({width} px)"


def test_a_manager_reads_the_locations_grid_and_a_sites_batteries_by_health(session, app_db):
    duo = open_path(session, "manager", "/sites", ".site-card")
    _wait_cards(duo, 12)
    batteries = app_db.scalar("SELECT count(*) FROM devices WHERE is_active AND site_id IS NOT NULL")
    assert f"12 sites · {batteries} batteries" in duo.find_element("#sites-count").text.replace("\n", " ") or \
        f"12 SITES · {batteries} BATTERIES" in duo.find_element("#sites-count").text.upper()
    critical = js(duo, "return Array.from(document.querySelectorAll('.site-card')).map(c => "
                       "parseInt((c.querySelector('.site-legend-critical') || {textContent: '0'}).textContent))")
    assert critical[0] > 0 and critical == sorted(critical, reverse=True), f"worst first ({critical})"
    assert not duo.find_elements("#site-new-save") and not duo.find_elements("#sites-upload"), "managers only look"
    save_full_page(duo, "sites-manager-1600.png", DESKTOP)

    duo.select_dcc_dropdown("#sites-kind", "Depot")
    assert sorted(_wait_cards(duo, 4)) == ["DEL01-DEPOT", "JAI01-DEPOT", "LKO01-DEPOT", "PAT01-DEPOT"]
    duo.find_element("#site-card-LKO01-DEPOT .site-card-name").click()
    duo.wait_for_contains_text("#site-title", "Alambagh depot", timeout=15)
    duo.wait_for_element("#site-kpis .kpi-card", timeout=15)
    duo.wait_for_element("#site-batteries-grid .ag-row", timeout=15)
    site = app_db.scalar("SELECT id FROM sites WHERE code = 'LKO01-DEPOT'")
    based = app_db.scalar("SELECT count(*) FROM devices WHERE site_id = :s AND is_active", s=site)
    assert duo.find_element("#site-kpi-batteries .kpi-value").text == str(based)
    duo.wait_for_element("#site-equipment table tbody tr", timeout=15)
    assert "Spin Air 3.3" in duo.find_element("#site-equipment").text
    save_full_page(duo, "site-manager-1600.png", DESKTOP)

    labels = js(duo, "return Array.from(document.querySelectorAll('#site-status label')).map(l => l.textContent)")
    shown = {label.split(" (")[0].lower(): int(label.split("(")[1].rstrip(")")) for label in labels}
    assert shown["all"] == based
    status, n = next(((s, n) for s, n in shown.items() if s != "all" and 0 < n < based), (None, 0))
    if status:   # choose a status that some, not all, of the site's batteries have
        duo.find_element(f"#site-status input[value='{ {'healthy': 'ok'}.get(status, status) }']").click()
        deadline = time.time() + 10
        while time.time() < deadline and len(_grid_statuses(duo)) != min(n, 25):
            time.sleep(0.3)
        assert set(_grid_statuses(duo)) == {status} and len(_grid_statuses(duo)) == min(n, 25)
    assert not console_errors(duo)

    for path, ready, name in (("/sites", ".site-card", "sites-390.png"),
                              ("/sites/LKO01-HUB", "#site-kpis .kpi-card", "site-390.png")):
        duo = open_path(session, "manager", path, ready, PHONE)
        _no_sideways_scroll(duo, path)
        save_full_page(duo, name, PHONE)


def _fill(duo, prefix: str, values: dict[str, str]):
    for name, value in values.items():
        replace_text(duo, f"#{prefix}-{name}", value)


def test_an_engineer_adds_a_site_imports_sites_and_looks_after_equipment(session, app_db, tmp_path):
    duo = open_path(session, "engineer", "/sites", ".site-card")
    _wait_cards(duo, 12)
    duo.find_element("#sites-new-panel summary").click()
    _fill(duo, "site-new", {"code": "T-LKO-HUB9", "name": "Indira Nagar hub", "city": "Lucknow",
                            "latitude": "80.99", "longitude": "26.87"})
    duo.select_dcc_dropdown("#site-new-kind", "Charging hub")
    duo.select_dcc_dropdown("#site-new-dealer_code", "Lucknow E-Mobility (LKO01)")
    duo.select_dcc_dropdown("#site-new-climate_zone", "Composite")
    duo.find_element("#site-new-save").click()
    duo.wait_for_contains_text("#site-new-latitude-error", "swapped", timeout=10)
    assert app_db.scalar("SELECT count(*) FROM sites WHERE code = 'T-LKO-HUB9'") == 0
    _fill(duo, "site-new", {"latitude": "26.87", "longitude": "80.99"})
    duo.find_element("#site-new-save").click()
    duo.wait_for_contains_text("#site-new-message", "Added Indira Nagar hub", timeout=10)
    _wait_cards(duo, 13)
    save_full_page(duo, "sites-engineer-new-1600.png", DESKTOP)

    path = tmp_path / "sites.csv"
    path.write_text("code,name,kind,dealer_code,city,climate_zone,latitude,longitude\n"
                    "T-JAI-HUB8,Vaishali Nagar hub,charging_hub,JAI01,Jaipur,hot_dry,26.91,75.74\n"
                    "T-BAD-8,Nowhere,castle,NOPE,Jaipur,hot_dry,,\n")
    duo.find_element("#sites-upload input[type=file]").send_keys(str(path))
    duo.wait_for_contains_text("#sites-import-preview", "Preview: 2 rows: 1 new", timeout=15)
    assert "No dealer 'NOPE'" in duo.find_element("#sites-import-preview").text
    assert app_db.scalar("SELECT count(*) FROM sites WHERE code = 'T-JAI-HUB8'") == 0, "a preview writes nothing"
    duo.find_element("#sites-import-apply").click()
    duo.wait_for_contains_text("#sites-import-preview", "applied", timeout=15)
    _wait_cards(duo, 14)
    save_full_page(duo, "sites-engineer-import-1600.png", DESKTOP)

    duo.driver.get(duo.server.url + "/sites/T-LKO-HUB9")
    duo.wait_for_contains_text("#site-title", "Indira Nagar hub", timeout=15)
    duo.wait_for_contains_text("#site-equipment", "No equipment recorded", timeout=15)
    duo.find_element("#equipment-panel summary").click()
    _fill(duo, "equipment", {"serial": "T-CHG-0009", "make": "Delta", "model": "DC Wallbox 25", "rating": "25 kW DC"})
    duo.select_dcc_dropdown("#equipment-kind", "Charger")
    duo.find_element("#equipment-save").click()
    duo.wait_for_contains_text("#equipment-message", "Saved T-CHG-0009", timeout=10)
    duo.wait_for_contains_text("#site-equipment", "DC Wallbox 25", timeout=10)

    duo.find_element("#maintenance-panel summary").click()
    duo.select_dcc_dropdown("#maintenance-equipment", "Charger T-CHG-0009")
    today = app_db.scalar("SELECT (now() AT TIME ZONE 'Asia/Kolkata')::date")
    js(duo, "arguments[0].scrollIntoView()", duo.find_element("#maintenance-save"))
    replace_text(duo, "#maintenance-work", "Commissioning check, firmware updated")
    replace_text(duo, "#maintenance-done_by", "Amit Jha (Delta service)")
    duo.find_element("#maintenance-save").click()
    duo.wait_for_contains_text("#maintenance-done_on-error", "When was the work done", timeout=10)
    for selector, day in (("#maintenance-done_on", today), ("#maintenance-next_due", today.replace(year=today.year + 1))):
        # A date input takes the day as the browser's locale types it: set it the way React hears it.
        js(duo, """const box = arguments[0]; const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype,
                   'value').set; set.call(box, arguments[1]); box.dispatchEvent(new Event('input', {bubbles: true}));""",
           duo.find_element(selector), day.isoformat())
    duo.find_element("#maintenance-save").click()
    duo.wait_for_contains_text("#maintenance-message", "Recorded the work on T-CHG-0009", timeout=10)
    duo.wait_for_contains_text("#site-maintenance", "Commissioning check", timeout=10)
    assert app_db.one("""SELECT m.done_by, m.next_due, m.recorded_by FROM maintenance_records m
                         JOIN equipment e ON e.id = m.equipment_id WHERE e.serial = 'T-CHG-0009'""") == {
        "done_by": "Amit Jha (Delta service)", "next_due": today.replace(year=today.year + 1), "recorded_by": "engineer"}

    duo.find_element("#site-edit-panel summary").click()
    replace_text(duo, "#site-edit-name", "Indira Nagar charging hub")
    duo.find_element("#site-edit-save").click()
    duo.wait_for_contains_text("#site-edit-message", "Saved T-LKO-HUB9", timeout=10)
    duo.wait_for_contains_text("#site-title", "Indira Nagar charging hub", timeout=10)
    duo.wait_for_contains_text("#site-history", "site.update", timeout=10)
    history = duo.find_element("#site-history").text
    assert "maintenance.record" in history and "equipment.create" in history and "site.create" in history
    save_full_page(duo, "site-engineer-1600.png", DESKTOP)
    assert not console_errors(duo)


def test_a_dealer_sees_only_its_own_sites_read_only(session, app_db):
    duo = open_path(session, "dealer1", "/sites", ".site-card")
    cards = _wait_cards(duo, len(app_db.query("""SELECT s.code FROM sites s JOIN dealers dl ON dl.id = s.dealer_id
                                                 WHERE dl.code = 'LKO01'""")))
    assert all(c.startswith("LKO01") or c.startswith("T-LKO") for c in cards), cards
    assert not duo.find_elements("#sites-dealer") or not duo.find_element("#sites-dealer").is_displayed()
    assert not duo.find_elements("#site-new-save") and not duo.find_elements("#sites-upload")
    save_full_page(duo, "sites-dealer1-1600.png", DESKTOP)

    duo.driver.get(duo.server.url + "/sites/LKO01-HUB")
    duo.wait_for_element("#site-batteries-grid .ag-row", timeout=15)
    assert not duo.find_elements("#equipment-save") and not duo.find_elements("#maintenance-save") \
        and not duo.find_elements("#site-edit-save"), "a dealer changes nothing"
    vehicles = js(duo, "return Array.from(document.querySelectorAll("
                       "'#site-batteries-grid .ag-center-cols-container [col-id=device_id]')).map(c => c.textContent)")
    owners = {r["device_id"]: r["code"] for r in app_db.query(
        "SELECT d.device_id, dl.code FROM devices d JOIN dealers dl ON dl.id = d.dealer_id")}
    assert vehicles and {owners[v] for v in vehicles} == {"LKO01"}
    save_full_page(duo, "site-dealer1-1600.png", DESKTOP)

    duo.driver.get(duo.server.url + "/sites/DEL01-HUB")
    duo.wait_for_contains_text(".not-found h1", "Not found", timeout=15)
    assert "Okhla" not in duo.find_element("body").text
