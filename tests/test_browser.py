"""The pages in a real headless Chromium. Screenshots go to tests/artifacts/."""
import pytest

from conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def console_errors(duo):
    return [entry for entry in duo.get_logs() or [] if entry.get("level") == "SEVERE"]


@pytest.mark.parametrize("username", ["admin", "viewer", "dealer1"])
def test_overview_shows_counts_from_the_database(signed_in, app_db, username):
    duo = signed_in(username)
    duo.wait_for_text_to_equal("#kpi-dealers .kpi-value", "1" if username == "dealer1" else "4", timeout=15)
    where = "WHERE d.dealer_id = (SELECT id FROM dealers WHERE code = 'LKO01')" if username == "dealer1" else ""
    expected = app_db.scalar(f"SELECT count(*) FROM devices d {where}")
    assert duo.find_element("#kpi-active .kpi-value").text == f"{expected:,}"
    assert duo.find_element(".user-role").text.startswith("dealer" if username == "dealer1" else username)
    duo.driver.save_screenshot(str(ARTIFACTS / f"overview-{username}.png"))
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
