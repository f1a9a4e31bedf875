"""Battery health in a real headless Chromium, as a manager and as a dealer: the fleet health page
draws every chart with data (a dealer's holding only its batteries, its league only its own row
and the fleet median), the warranty page, the battery page's SOH history and forecast, and the
claim evidence pack downloaded from the battery page as a PDF whose pages render (pdftoppm).

One app server and one browser for the module. Screenshots: tests/artifacts/health-*.png,
warranty-*.png, battery-health-*.png, and the evidence pack's first page, evidence-page-1.png.
"""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ARTIFACTS
from test_browser_layout import DESKTOP, PHONE, console_errors, js, save_full_page, set_viewport, settle

pytestmark = pytest.mark.browser

CHARTS = ("health-distribution", "health-temperature", "health-bands-cycles", "health-bands-age",
          "health-dealers", "health-misuse")
DEALER = {"dealer1": "LKO01"}


def _open(session, role: str, path: str, ready: str, size=DESKTOP):
    duo = session.sign_in(role)
    set_viewport(duo, *size)
    duo.driver.get(duo.server.url + path)
    duo.wait_for_element(ready, timeout=25)
    settle(duo)
    return duo


def traces(duo, graph_id: str) -> list[dict]:
    """The figure's traces as drawn (an empty figure, "nothing to show", has none)."""
    return js(duo, """const g = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
                      if (!g || !g.data) return null;
                      const plain = v => (v && v._inputArray ? Array.from(v._inputArray)   // plotly's typed arrays
                                           : ArrayBuffer.isView(v) ? Array.from(v) : v);
                      return g.data.map(t => ({name: t.name, type: t.type, x: plain(t.x), y: plain(t.y)}));""",
              graph_id)


def _wait_drawn(duo, timeout: float = 25):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(traces(duo, c) is not None for c in CHARTS) and js(duo, "return !!document.querySelector("
                                                                      "'#health-league table, #health-league .empty-state')"):
            return
        time.sleep(0.3)
    raise AssertionError("the health page did not draw")


def _dealer_name(app_db, code: str) -> str:
    return app_db.scalar("SELECT name FROM dealers WHERE code = :c", c=code)


@pytest.mark.parametrize("role", ["manager", "dealer1"])
def test_the_health_page_draws_every_chart_within_the_scope(session, role):
    app_db = session.app_db
    duo = _open(session, role, "/health", "#health-distribution .main-svg")
    _wait_drawn(duo)
    empty = [c for c in CHARTS if not traces(duo, c)]
    assert not empty, f"charts with nothing drawn for {role}: {empty}"

    code = DEALER.get(role)
    where = "TRUE" if code is None else "d.dealer_id = (SELECT id FROM dealers WHERE code = :c)"
    expected = app_db.scalar(f"SELECT count(*) FROM battery_health h JOIN devices d USING (device_id) WHERE {where}",
                             c=code)
    bars = [t for t in traces(duo, "health-distribution") if t["type"] == "bar"]
    drawn = sum(sum(t["y"]) for t in bars)
    assert drawn == expected, (role, drawn, expected)

    dealers_on_boxes = {y for t in traces(duo, "health-dealers") for y in t["y"]}
    dealers_on_misuse = {y for t in traces(duo, "health-misuse") for y in t["y"]}
    league = js(duo, "return [...document.querySelectorAll('#health-league-table tbody tr')]"
                     ".map(r => r.cells[1].textContent)")
    if code:
        mine = _dealer_name(app_db, code)
        assert dealers_on_boxes == {mine} and dealers_on_misuse == {mine}
        assert league == [mine, "Fleet median"]
    else:
        scored = app_db.scalar("SELECT count(*) FROM dealer_scores WHERE day = (SELECT max(day) FROM dealer_scores)")
        assert len(league) == scored and len(dealers_on_boxes) > 1
    assert "report temperature" in js(duo, "return document.querySelector('#health-temperature').textContent")

    suffix = "" if role == "manager" else f"-{role}"
    save_full_page(duo, f"health-{DESKTOP[0]}{suffix}.png", DESKTOP)
    set_viewport(duo, *PHONE)
    time.sleep(0.8)
    assert js(duo, "return document.documentElement.scrollWidth") <= js(duo, "return window.innerWidth")
    save_full_page(duo, f"health-{PHONE[0]}{suffix}.png", PHONE)
    assert console_errors(duo) == []


def test_a_highlighted_dealer_and_battery_are_drawn_on_the_bands(session):
    duo = _open(session, "manager", "/health", "#health-bands-cycles .main-svg")
    _wait_drawn(duo)
    vehicle = session.app_db.scalar("""SELECT d.vehicle_number FROM battery_health h JOIN devices d USING (device_id)
                                       WHERE h.soh IS NOT NULL ORDER BY d.device_id LIMIT 1""")
    box = duo.find_element("#health-highlight-battery")
    box.send_keys(vehicle + "\n")
    duo.wait_for_text_to_equal("#health-highlight-note", f"Highlighted: battery {vehicle}, its own days.", timeout=15)
    settle(duo)
    names = [t.get("name") for t in traces(duo, "health-bands-age")]
    assert vehicle in names, names


def test_the_warranty_page_lists_terms_tracker_and_packs(session):
    for role in ("manager", "dealer1"):
        duo = _open(session, role, "/warranty", "#warranty-terms-table")
        duo.wait_for_element("#warranty-tracker table, #warranty-tracker .empty-state", timeout=15)
        models = js(duo, "return [...document.querySelectorAll('#warranty-terms-table tbody tr')].length")
        assert models == session.app_db.scalar("SELECT count(*) FROM battery_models")
        assert not js(duo, "return !!document.querySelector('#terms-save')")   # editor: admins only
        suffix = "" if role == "manager" else f"-{role}"
        save_full_page(duo, f"warranty-{DESKTOP[0]}{suffix}.png", DESKTOP)
        assert console_errors(duo) == []
    duo = _open(session, "admin", "/warranty", "#terms-save")
    assert js(duo, "return !!document.querySelector('#terms-changes')")
    save_full_page(duo, f"warranty-{DESKTOP[0]}-admin.png", DESKTOP)


def _device_with_forecast(app_db, code: str | None) -> str:
    where = "TRUE" if code is None else "d.dealer_id = (SELECT id FROM dealers WHERE code = :c)"
    return app_db.scalar(f"""SELECT h.device_id FROM battery_health h JOIN devices d USING (device_id)
                             WHERE {where} AND h.soh IS NOT NULL
                             ORDER BY (h.rul_status = 'forecast') DESC, h.device_id LIMIT 1""", c=code)


@pytest.mark.parametrize("role", ["manager", "dealer1"])
def test_the_battery_page_shows_the_soh_history_and_forecast(session, role):
    device = _device_with_forecast(session.app_db, DEALER.get(role))
    duo = _open(session, role, f"/battery/{device}", "#battery-soh .xtick")
    duo.wait_for_element("#battery-health-facts", timeout=15)
    names = {t.get("name") for t in traces(duo, "battery-soh")}
    assert names & {"Measured (BMS)", "Estimated from charging", "Estimate"}, names
    row = session.app_db.one("SELECT rul_status FROM battery_health WHERE device_id = :d", d=device)
    facts = js(duo, "return document.querySelector('#battery-health-facts').textContent")
    assert "End of life" in facts and "Fade per month" in facts
    if row["rul_status"] == "forecast":
        assert any("orecast" in (n or "") for n in names), names
    suffix = "" if role == "manager" else f"-{role}"
    save_full_page(duo, f"battery-health-{DESKTOP[0]}{suffix}.png", DESKTOP)
    assert console_errors(duo) == []


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="poppler-utils (pdftoppm) not installed: "
                                                         "tests/browser_preflight.sh installs it")
def test_the_evidence_pack_downloads_as_a_pdf_whose_pages_render(session, tmp_path):
    device = _device_with_forecast(session.app_db, "LKO01")
    duo = _open(session, "dealer1", f"/battery/{device}", "#battery-evidence-link")
    folder = Path(duo.download_path)
    before = set(folder.glob("*.pdf"))
    duo.find_element("#battery-evidence-link").click()
    deadline, pdf = time.time() + 30, None
    while time.time() < deadline and pdf is None:
        new = [p for p in set(folder.glob("*.pdf")) - before if p.stat().st_size > 0]
        pdf = new[0] if new else None
        time.sleep(0.3)
    assert pdf is not None, "no PDF downloaded"
    body = pdf.read_bytes()
    assert body.startswith(b"%PDF")
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=60)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert pages and all(p.stat().st_size > 5_000 for p in pages), [p.stat().st_size for p in pages]
    shutil.copy(pages[0], ARTIFACTS / "evidence-page-1.png")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, timeout=60).stdout
    serial = session.app_db.scalar("SELECT battery_serial FROM devices WHERE device_id = :d", d=device)
    assert serial in text
