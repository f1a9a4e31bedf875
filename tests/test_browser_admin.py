"""Administration in a real headless Chromium: an admin creates a dealer user on /users, who then
signs in with the password it was given and sees only its dealer's batteries; a dealer cannot open
/users or /audit; a user changes its own password from the name in the top bar; the admin finds
each change in the audit log.

One app server and one browser for the module. Screenshots: tests/artifacts/users-*.png,
audit-*.png, profile-*.png.
"""
from __future__ import annotations

import pytest

from conftest import ARTIFACTS
from test_browser import wait_for_pins
from test_browser_layout import (DESKTOP, PHONE, console_errors, js, open_path, replace_text, save_full_page,
                                 set_viewport, settle)

pytestmark = pytest.mark.browser

NEW_USER, NEW_PASSWORD = "shop.owner", "counter-top-42"


@pytest.fixture(scope="module", autouse=True)
def _forget_the_new_user(app_db):
    yield
    app_db.execute("DELETE FROM users WHERE username = :u", u=NEW_USER)
    app_db.execute("UPDATE users SET password_hash = :h, is_demo = true WHERE username = 'viewer'",
                   h=app_db.scalar("SELECT password_hash FROM users WHERE username = 'manager'"))


def _sign_in_as(session, username: str, password: str):
    """The real login form with a password other than the demo one."""
    duo = session.sign_out()
    duo.driver.get(duo.server.url + "/login")
    duo.wait_for_element("#username").send_keys(username)
    duo.find_element("#password").send_keys(password)
    duo.find_element("#login-submit").click()
    duo.wait_for_element(".topbar", timeout=15)
    session.role = None   # not one of the demo roles: the next sign_in signs in afresh
    return duo


def test_an_admin_creates_a_dealer_user_who_sees_only_its_batteries(session, app_db):
    duo = open_path(session, "admin", "/users", "#users-list tbody tr")
    assert js(duo, "return !!document.querySelector('#nav-users')"), "admins see Users in the navigation"
    save_full_page(duo, "users-1600.png", DESKTOP)
    replace_text(duo, "#new-user-username", NEW_USER)
    replace_text(duo, "#new-user-name", "Shop Owner")
    duo.select_dcc_dropdown("#new-user-role", "Dealer")
    duo.select_dcc_dropdown("#new-user-dealer", "Delhi Green Wheels (DEL01)")
    replace_text(duo, "#new-user-password", NEW_PASSWORD)
    duo.find_element("#new-user-create").click()
    duo.wait_for_contains_text("#new-user-message", f"Created {NEW_USER}", timeout=10)
    duo.wait_for_contains_text("#users-list", NEW_USER, timeout=10)
    assert not console_errors(duo)

    # A bad form says what is wrong beside each field and creates nothing.
    replace_text(duo, "#new-user-username", "second.owner")
    replace_text(duo, "#new-user-password", "short")
    duo.find_element("#new-user-create").click()
    duo.wait_for_contains_text("#new-user-password-error", "at least 8", timeout=10)
    assert app_db.scalar("SELECT count(*) FROM users WHERE username = 'second.owner'") == 0
    save_full_page(duo, "users-errors-1600.png", DESKTOP)

    set_viewport(duo, *PHONE)
    settle(duo)
    width = js(duo, "return document.documentElement.scrollWidth")
    assert width <= PHONE[0] + 1, f"the users page scrolls sideways on a phone ({width} px)"
    save_full_page(duo, "users-390.png", PHONE)

    duo = _sign_in_as(session, NEW_USER, NEW_PASSWORD)
    set_viewport(duo, *DESKTOP)
    own = [r["device_id"] for r in app_db.query(
        """SELECT d.device_id FROM devices d JOIN dealers dl ON dl.id = d.dealer_id JOIN device_state s USING (device_id)
           WHERE dl.code = 'DEL01' AND s.latitude IS NOT NULL""")]
    assert 0 < len(own) < app_db.scalar("SELECT count(*) FROM devices")
    duo.driver.get(duo.server.url + "/")
    assert wait_for_pins(duo, len(own)) == len(own)
    assert "Delhi Green Wheels" in duo.find_element(".user-role").text
    other = app_db.scalar("""SELECT d.device_id FROM devices d JOIN dealers dl ON dl.id = d.dealer_id
                             WHERE dl.code = 'LKO01' LIMIT 1""")
    duo.driver.get(duo.server.url + f"/battery/{other}")
    duo.wait_for_contains_text(".not-found", "no battery with that id", timeout=15)


@pytest.mark.parametrize("path", ["/users", "/audit", "/system"])
def test_a_dealer_cannot_open_users_audit_or_system(session, path):
    duo = open_path(session, "dealer1", path, ".not-found")
    assert not duo.find_elements("#new-user-create, #audit-table, #system-body")
    assert not js(duo, "return !!document.querySelector('#nav-users, #nav-audit, #nav-system')")


def test_the_system_page_shows_ingest_lag_storage_and_how_to_enable_statements(session, app_db):
    duo = open_path(session, "admin", "/system", "#system-lag .xtick")
    text = duo.find_element("#system-body").text
    for words in ("INGEST CYCLES (24 H)", "DEVICES OVER 15 MIN LATE", "telemetry.battery_readings", "ROLLUPS"):
        assert words.upper() in text.upper(), words   # panel titles are drawn in capitals
    bars = js(duo, "return document.querySelector('#system-lag .js-plotly-plot').data[0].y")
    assert sum(bars) == app_db.scalar("SELECT count(*) FROM devices WHERE is_active")
    assert "pg_stat_statements" in text
    assert not console_errors(duo)
    save_full_page(duo, "system-1600.png", DESKTOP)
    duo = open_path(session, "admin", "/system", "#system-lag .xtick", PHONE)
    width = js(duo, "return document.documentElement.scrollWidth")
    assert width <= PHONE[0] + 1, f"the system page scrolls sideways on a phone ({width} px)"
    save_full_page(duo, "system-390.png", PHONE)


def test_a_user_changes_its_password_from_the_top_bar(session, app_db):
    duo = open_path(session, "viewer", "/", ".topbar")
    duo.find_element("#profile-link").click()
    duo.wait_for_element("#profile-current", timeout=15)
    replace_text(duo, "#profile-current", "wrong-one")
    replace_text(duo, "#profile-new", "wall-display-9")
    replace_text(duo, "#profile-repeat", "wall-display-9")
    duo.find_element("#profile-save").click()
    duo.wait_for_contains_text("#profile-current-error", "not your current password", timeout=10)
    replace_text(duo, "#profile-current", "demo")
    duo.find_element("#profile-save").click()
    duo.wait_for_contains_text("#profile-message", "Password changed", timeout=10)
    save_full_page(duo, "profile-1600.png", DESKTOP)
    duo = _sign_in_as(session, "viewer", "wall-display-9")
    assert "Control Room" in duo.find_element(".user-name").text


def test_the_admin_finds_the_changes_in_the_audit_log(session, app_db):
    duo = open_path(session, "admin", "/audit", "#audit-list tbody tr")
    text = duo.find_element("#audit-list").text
    assert "user.create" in text and NEW_USER in text and "user.password_change" in text
    duo.find_element("#audit-actor").send_keys("viewer\n")
    duo.wait_for_contains_text("#audit-list", "user.password_change", timeout=10)
    assert "user.create" not in duo.find_element("#audit-list").text
    save_full_page(duo, "audit-1600.png", DESKTOP)
    set_viewport(duo, *PHONE)
    settle(duo)
    save_full_page(duo, "audit-390.png", PHONE)
    assert (ARTIFACTS / "audit-390.png").exists()
