"""Alert operations in a real headless Chromium: the thresholds form on /alerts (admin), live toasts
on open pages, the wall's sound switch, and the scenario panel against a real simulator.

One app server and one browser for the module (like test_browser_layout.py). Screenshots go to
tests/artifacts/ as ``alert-ops-<what>-<width>.png``.
"""
from __future__ import annotations

import base64
import os
import time

import pytest
from selenium.webdriver.common.keys import Keys

import config
from conftest import ARTIFACTS, Session
from test_alert_ops import _device, raise_critical
from test_browser_layout import console_errors, element_box, js, save_full_page, set_viewport, settle
from ingest_support import MockIntellicar

pytestmark = pytest.mark.browser

DESKTOP, PHONE, WALL = (1600, 1000), (390, 844), (1920, 1080)
TOAST_WITHIN = 10  # seconds: the promise for a new critical alert on an open screen


def own_console_errors(duo) -> list:
    """Console errors, less the alerts page's grid (its owner's tests judge it): ours must be none."""
    return [e for e in console_errors(duo) if "dash_ag_grid" not in e.get("message", "")]


def open_path(session: Session, role: str, path: str, size, ready: str, timeout: float = 20):
    duo = session.sign_in(role)
    set_viewport(duo, *size)
    duo.driver.get(duo.server.url + path)
    duo.wait_for_element(ready, timeout=timeout)
    return duo


def type_into(duo, selector: str, value: str):
    """Replace what a field holds, as a person does: select all, then type (React sees each key)."""
    field = duo.find_element(selector)
    js(duo, "arguments[0].scrollIntoView({block: 'center'});", field)
    field.click()
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.BACKSPACE)
    if value:
        field.send_keys(value)


def click(duo, selector: str):
    element = duo.find_element(selector)
    js(duo, "arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


def rule(app_db, alert_type: str) -> dict:
    return app_db.one("SELECT threshold, clear_threshold, duration_minutes, severity, enabled, notify "
                      "FROM alert_rules WHERE alert_type = :t", t=alert_type)


def save_section(duo, selector: str, name: str):
    """A screenshot of one part of the page, whole even when taller than the screen (the rules section
    is long: a full page would shrink it to nothing). The sticky top bar is let go for the shot, or it
    would cover the part's top."""
    js(duo, "document.querySelector('.topbar') && (document.querySelector('.topbar').style.position = 'static');")
    settle(duo)
    box = js(duo, """const r = document.querySelector(arguments[0]).getBoundingClientRect();
                     return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height};""", selector)
    shot = duo.driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True, "clip": dict(box, scale=1)})
    (ARTIFACTS / name).write_bytes(base64.b64decode(shot["data"]))
    js(duo, "document.querySelector('.topbar') && (document.querySelector('.topbar').style.position = '');")


# -- thresholds -------------------------------------------------------------------------------
def test_admin_changes_a_threshold_and_sees_it_in_the_history(session, app_db, restore_alerts):
    duo = open_path(session, "admin", "/alerts", DESKTOP, "#rule-high_temp-threshold")
    assert rule(app_db, "high_temp")["threshold"] == 55
    type_into(duo, "#rule-high_temp-threshold", "57")
    type_into(duo, "#rule-high_temp-duration_minutes", "3")
    click(duo, "#rule-high_temp-save")
    duo.wait_for_contains_text("#rule-high_temp-status", "Saved: threshold 55 → 57 °C, minimum duration 2 → 3 min",
                               timeout=10)
    assert rule(app_db, "high_temp")["threshold"] == 57 and rule(app_db, "high_temp")["duration_minutes"] == 3
    duo.wait_for_contains_text("#alert-rules-history-table", "threshold 55 → 57 °C", timeout=10)
    first_row = duo.find_element("#alert-rules-history-table tbody tr").text
    assert "admin" in first_row and "High temperature" in first_row and "IST" in first_row
    # The rules without a threshold have only their duration.
    assert not duo.find_elements("#rule-no_communication-threshold")
    assert duo.find_elements("#rule-no_communication-duration_minutes")
    assert len(duo.find_elements(".rule-card")) == 13  # seed 000 section 6, feed silence, two efficiency rules
    save_section(duo, "#alert-rules", "alert-ops-rules-1600.png")
    save_full_page(duo, "alert-ops-alerts-admin-1600.png", DESKTOP)
    assert own_console_errors(duo) == []


def test_wrong_values_show_the_fields_message_and_change_nothing(session, app_db, restore_alerts):
    duo = open_path(session, "admin", "/alerts", DESKTOP, "#rule-high_temp-threshold")
    before, changes = rule(app_db, "high_temp"), app_db.scalar("SELECT count(*) FROM alert_rule_changes")

    type_into(duo, "#rule-high_temp-threshold", "95")
    click(duo, "#rule-high_temp-save")
    duo.wait_for_text_to_equal("#rule-high_temp-threshold-error", "must be between -10 and 80 °C", timeout=10)
    assert duo.find_element("#rule-high_temp-status").text.startswith("Not saved")
    assert duo.find_element("#rule-high_temp-threshold").get_attribute("value") == "95"  # kept to correct it

    type_into(duo, "#rule-high_temp-threshold", "55")
    type_into(duo, "#rule-high_temp-clear_threshold", "60")
    click(duo, "#rule-high_temp-save")
    duo.wait_for_contains_text("#rule-high_temp-clear_threshold-error", "must be at or below the threshold (55 °C)",
                               timeout=10)
    assert duo.find_element("#rule-high_temp-threshold-error").text == ""

    # A rule that fires below its threshold clears above it.
    type_into(duo, "#rule-low_soc-clear_threshold", "5")
    click(duo, "#rule-low_soc-save")
    duo.wait_for_contains_text("#rule-low_soc-clear_threshold-error", "must be at or above the threshold (10 %)",
                               timeout=10)
    assert rule(app_db, "high_temp") == before
    assert app_db.scalar("SELECT count(*) FROM alert_rule_changes") == changes

    set_viewport(duo, *PHONE)
    time.sleep(0.4)
    save_section(duo, "#rule-high_temp-card", "alert-ops-rule-errors-390.png")
    assert js(duo, "return document.documentElement.scrollWidth <= window.innerWidth")
    border = js(duo, "return getComputedStyle(document.getElementById('rule-high_temp-clear_threshold')"
                     ".closest('.rule-input')).borderColor")
    assert border == "rgb(239, 68, 68)", border  # the wrong field is marked, not only described


def test_rules_form_stays_usable_on_a_phone(session, app_db):
    duo = open_path(session, "admin", "/alerts", PHONE, "#rule-high_temp-threshold")
    inner = js(duo, "return window.innerWidth")
    assert js(duo, "return document.documentElement.scrollWidth") <= inner
    for selector in ("#rule-high_temp-threshold", "#rule-high_temp-clear_threshold",
                     "#rule-high_temp-duration_minutes", "#rule-high_temp-save", "#rule-feed_silence-save"):
        js(duo, "document.querySelector(arguments[0]).scrollIntoView({block: 'center'});", selector)
        box = element_box(duo, selector)
        assert box["visible"] and box["left"] >= 0 and box["right"] <= inner, (selector, box)
        assert box["width"] >= 90, (selector, box)  # big enough to tap and to read a value
    # Fields stack: two per row at most, so labels and units are never squeezed.
    lefts = js(duo, "return [...document.querySelectorAll('#rule-high_temp-card .rule-field')]"
                    ".map(f => Math.round(f.getBoundingClientRect().left))")
    assert len(set(lefts)) <= 2, lefts
    labels = js(duo, """return [...document.querySelectorAll('#alert-rules .rule-label')].filter(l => l.offsetParent)
                          .every(l => l.scrollWidth <= l.clientWidth + 1);""")
    assert labels  # no label cut
    save_section(duo, "#alert-rules", "alert-ops-rules-390.png")
    save_full_page(duo, "alert-ops-alerts-admin-390.png", PHONE)
    assert own_console_errors(duo) == []


# -- live toasts ------------------------------------------------------------------------------
def wait_ready(duo):
    """The page's first poll has run: it remembers the newest alert id, so what comes next is new."""
    duo.wait_for_element(".live-toasts.live-ready", timeout=15)


def test_new_critical_alert_toasts_for_who_can_see_it_and_not_for_another_dealer(session, app_db, restore_alerts):
    own = _device(app_db, "LKO01", 2)

    duo = open_path(session, "dealer2", "/", DESKTOP, "#overview-kpis .kpi-card")
    wait_ready(duo)
    raise_critical(app_db, own["device_id"], "undervoltage")
    time.sleep(TOAST_WITHIN + 1)
    assert duo.find_elements(".toast") == []  # dealer2 never learns of dealer1's battery

    duo = open_path(session, "dealer1", "/", DESKTOP, "#overview-kpis .kpi-card")
    wait_ready(duo)
    assert duo.find_elements(".toast") == []  # the alert before this page opened: no toast on load
    alert_id = raise_critical(app_db, own["device_id"], "high_temp")
    raised = time.monotonic()
    duo.wait_for_element(".toast", timeout=TOAST_WITHIN)
    assert time.monotonic() - raised <= TOAST_WITHIN
    toast = duo.find_element(".toast")
    assert own["vehicle_number"] in toast.text and "high temp" in toast.text and "critical" in toast.text.lower()
    link = duo.find_element(".toast a.toast-link").get_attribute("href")
    assert link.endswith(f"/alerts?id={alert_id}")
    time.sleep(0.5)  # past the toast's fade-in
    settle(duo)
    duo.driver.save_screenshot(str(ARTIFACTS / "alert-ops-toast-1600.png"))

    set_viewport(duo, *PHONE)
    time.sleep(0.4)
    box = element_box(duo, ".toast")
    inner = js(duo, "return window.innerWidth")
    assert box["visible"] and box["left"] >= 0 and box["right"] <= inner, box
    duo.driver.save_screenshot(str(ARTIFACTS / "alert-ops-toast-390.png"))

    click(duo, ".toast-close")
    duo.wait_for_no_elements(".toast:not(.toast-dismissed)", timeout=5)
    # The toast fades by itself too: an animation on it ends invisible.
    animation = js(duo, "return getComputedStyle(document.querySelector('.toast')).animationName")
    assert "toast-out" in animation
    assert own_console_errors(duo) == []


def test_the_wall_beeps_only_when_its_sound_is_on(session, app_db, restore_alerts):
    duo = open_path(session, "viewer", "/wall", WALL, "#wall-sound")
    wait_ready(duo)
    assert duo.find_element("#wall-sound").text == "Sound off"
    raise_critical(app_db, _device(app_db, "PAT01", 3)["device_id"], "high_temp")
    duo.wait_for_element(".toast", timeout=TOAST_WITHIN)
    time.sleep(0.5)
    assert js(duo, "return window.bfmLive.state.beeps") == 0  # off by default

    click(duo, "#wall-sound")
    duo.wait_for_text_to_equal("#wall-sound", "Sound on", timeout=5)
    assert js(duo, "return window.bfmLive.state.soundOn") is True
    raise_critical(app_db, _device(app_db, "PAT01", 3)["device_id"], "undervoltage")
    deadline = time.monotonic() + TOAST_WITHIN
    while time.monotonic() < deadline and js(duo, "return window.bfmLive.state.beeps") < 1:
        time.sleep(0.3)
    assert js(duo, "return window.bfmLive.state.beeps") == 1
    assert len(duo.find_elements(".toast")) == 2
    time.sleep(0.5)
    settle(duo)
    duo.driver.save_screenshot(str(ARTIFACTS / "alert-ops-wall-toast-1920.png"))
    assert own_console_errors(duo) == []


# -- scenario panel ---------------------------------------------------------------------------
@pytest.fixture
def simulator():
    mock = MockIntellicar(vehicles=40)
    saved = os.environ.get("INTELLICAR_BASE_URL")
    os.environ["INTELLICAR_BASE_URL"] = mock.base_url
    config.reset()
    yield mock
    if saved is None:
        os.environ.pop("INTELLICAR_BASE_URL", None)
    else:
        os.environ["INTELLICAR_BASE_URL"] = saved
    config.reset()
    mock.close()


def test_scenario_panel_is_for_admins_in_demo_mode(session, app_db):
    duo = open_path(session, "manager", "/scenarios", DESKTOP, ".not-found h1")
    assert duo.find_elements("#nav-scenarios") == []
    assert duo.find_elements("#scenario-inject") == []
    duo = open_path(session, "admin", "/", DESKTOP, "#nav-scenarios")
    assert duo.find_element("#nav-scenarios").text == "Scenarios"


def test_admin_injects_a_scenario_and_watches_what_happens(session, app_db, simulator, restore_alerts):
    duo = open_path(session, "admin", "/scenarios", DESKTOP, "#scenario-inject")
    target = _device(app_db, "LKO01", 1)
    dropdown = duo.find_element("#scenario-batteries")
    js(duo, "arguments[0].scrollIntoView({block: 'center'});", dropdown)
    dropdown.click()
    search = duo.wait_for_element(".dash-dropdown-search", timeout=5)  # Dash 4's dropdown: a popover with a search
    search.send_keys(target["vehicle_number"])
    option = duo.wait_for_element(".dash-dropdown-option", timeout=5)
    assert target["vehicle_number"] in option.text
    option.click()
    search.send_keys(Keys.ESCAPE)
    duo.wait_for_contains_text("#scenario-batteries", target["vehicle_number"], timeout=5)
    click(duo, "#scenario-inject")
    duo.wait_for_contains_text("#scenario-status", "Injected overheating into 1 battery", timeout=15)
    assert any(s.vehicle == target["vehicle_number"] and s.kind == "overheating"
               for s in simulator.fleet.scenarios)
    duo.wait_for_contains_text("#scenario-truth-table", target["vehicle_number"], timeout=15)

    # What the worker would open next (it is not running here): the panel lists it with its notifications.
    raise_critical(app_db, target["device_id"], "high_temp")
    duo.wait_for_contains_text("#scenario-alerts-table", target["vehicle_number"], timeout=15)

    # The flood: 12 batteries at once, one click.
    click(duo, "label:has(input[value='flood'])")
    type_into(duo, "#scenario-flood-size", "12")
    click(duo, "#scenario-inject")
    duo.wait_for_contains_text("#scenario-status", "Injected flood: firmware glitch into 12 batteries", timeout=15)
    assert sum(1 for s in simulator.fleet.scenarios if s.kind == "firmware_glitch") == 12
    duo.wait_for_contains_text("#scenario-truth-table", "firmware glitch", timeout=15)
    save_full_page(duo, "alert-ops-scenarios-1600.png", DESKTOP)
    set_viewport(duo, *PHONE)
    time.sleep(0.5)
    assert js(duo, "return document.documentElement.scrollWidth <= window.innerWidth")
    save_full_page(duo, "alert-ops-scenarios-390.png", PHONE)
    assert own_console_errors(duo) == []
