"""The energy page and the site power chart in a real headless Chromium.

A manager reads the cards, the efficiency chart, the ranking, the meters with no vehicle and the
charging sessions, and narrows the sessions to the "low" ones: only the faulty charger's. Dealer 1
(Lucknow) sees only its own vehicles' sessions and sites, the faulty charger among them; dealer 2
(Delhi) sees none of Lucknow's. A hub's page shows its site power; a depot's has no panel.
Screenshots: tests/artifacts/energy-*.png and site-power-*.png.
"""
from __future__ import annotations

import time

import pytest

from conftest import APP_FLEET, ARTIFACTS
from data import demo
from test_browser_layout import DESKTOP, PHONE, console_errors, js, open_path, save_full_page

pytestmark = pytest.mark.browser

LAPTOP = (1280, 800)
READY = "#energy-kpis .kpi-card"
# The period's first instant: midnight IST six days before today (the page's default, 7 days).
SINCE = "((now() AT TIME ZONE 'Asia/Kolkata')::date - 6)::timestamp AT TIME ZONE 'Asia/Kolkata'"


def _wait(condition, what: str, timeout: float = 15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _grid_rows(duo, grid: str) -> list[dict]:
    """Every row the grid holds (not only the ones drawn), through the grid's own API."""
    return js(duo, """const api = window.dash_ag_grid && window.dash_ag_grid.getApi(arguments[0]);
                      if (!api) return null;
                      const rows = []; api.forEachNode(n => rows.push(n.data)); return rows;""", grid)


def _session_rows(duo, expected: int) -> list[dict]:
    return _wait(lambda: (lambda r: r if r is not None and len(r) == expected else None)(_grid_rows(duo, "energy-sessions-grid")),
                 f"{expected} sessions in the grid")


def _scoped_counts(app_db, dealer: str | None = None) -> dict:
    where = "TRUE" if dealer is None else "dl.code = :dealer"
    return app_db.one(f"""SELECT count(*) AS sessions,
                                 count(*) FILTER (WHERE cs.efficiency_flag = 'low') AS low,
                                 count(*) FILTER (WHERE cs.efficiency_flag = 'high') AS high,
                                 count(DISTINCT cs.site_id) + (count(*) FILTER (WHERE cs.site_id IS NULL) > 0)::int
                                   AS sites
                          FROM telemetry.charge_sessions cs JOIN devices d USING (device_id)
                          LEFT JOIN dealers dl ON dl.id = d.dealer_id
                          WHERE NOT cs.is_open AND cs.start_time >= {SINCE} AND {where}""", dealer=dealer)


def _owners(app_db) -> dict[str, str]:
    return {r["device_id"]: r["code"] for r in app_db.query(
        "SELECT d.device_id, dl.code FROM devices d JOIN dealers dl ON dl.id = d.dealer_id")}


def _no_sideways_scroll(duo, what: str):
    width = js(duo, "return document.documentElement.scrollWidth")
    assert width <= PHONE[0] + 1, f"{what} scrolls sideways on a phone ({width} px)"


def _legend(duo, graph: str) -> list[str]:
    return js(duo, "return [...document.querySelectorAll(arguments[0] + ' .legendtext')].map(t => t.textContent)",
              graph)


def _open_energy(session, role: str, size=DESKTOP):
    duo = open_path(session, role, "/energy", READY, size)
    duo.wait_for_element("#energy-sessions-grid .ag-row", timeout=20)
    return duo


def test_a_manager_reads_the_energy_page_and_finds_the_faulty_charger(session, app_db):
    duo = _open_energy(session, "manager")
    counts = _scoped_counts(app_db)
    assert counts["low"] > 0 and counts["high"] > 0, "the demo has a faulty charger and a mis-mapped meter"
    assert duo.find_element("#energy-kpi-low .kpi-value").text == str(counts["low"])
    assert duo.find_element("#energy-kpi-high .kpi-value").text == str(counts["high"])
    tariff = duo.find_element("#energy-kpi-cost .kpi-subtext").text
    assert "₹8.00 per kWh" in tariff, tariff

    duo.wait_for_element("#energy-trend .js-plotly-plot", timeout=15)
    legend = _legend(duo, "#energy-trend")
    assert "Fleet" in legend and 2 <= len(legend) <= 9, legend
    assert "loss threshold 85 %" in duo.find_element("#energy-trend").text

    # By charger and by vehicle: the faulty charger and the mis-mapped vehicle are among the lines drawn.
    mismapped = app_db.scalar("""SELECT d.vehicle_number FROM telemetry.charge_sessions cs JOIN devices d USING (device_id)
                                 WHERE cs.efficiency_flag = 'high' LIMIT 1""")
    for group, expected in (("charger", demo.faulty_charger()), ("vehicle", mismapped)):
        duo.find_element(f"#energy-trend-group input[value='{group}']").click()
        legend = _wait(lambda: (lambda names: names if expected in names else None)(_legend(duo, "#energy-trend")),
                       f"{expected} in the {group} chart")
        assert "Fleet" in legend and len(legend) <= 9, legend
    assert "off the scale" in duo.find_element("#energy-trend").text, "a 45x reading is marked, not drawn to scale"
    save_full_page(duo, "energy-manager-vehicles-1600.png", DESKTOP)

    ranking = _wait(lambda: _grid_rows(duo, "energy-ranking-grid"), "the ranking")
    assert len(ranking) == counts["sites"]
    efficiencies = [r["efficiency"] for r in ranking if r["efficiency"] is not None]
    assert efficiencies == sorted(efficiencies), "worst first"

    plan = demo.charging_plan(demo.fleet(size=APP_FLEET))
    unmapped = {demo.meter_serial(p.charger) for p in plan.values() if p.charger != p.mapped}
    assert unmapped, "the demo mis-maps one vehicle's meter"
    duo.wait_for_element("#energy-unattributed-table tbody tr", timeout=15)
    assert unmapped <= set(duo.find_element("#energy-unattributed-table").text.split()), unmapped

    rows = _session_rows(duo, counts["sessions"])
    assert f"{counts['sessions']} sessions" in duo.find_element("#energy-sessions-count").text
    flagged_drawn = js(duo, "return document.querySelectorAll('#energy-sessions-grid .energy-row-low, "
                            "#energy-sessions-grid .energy-row-high').length")
    assert sum(1 for r in rows if r["efficiency_flag"]) == counts["low"] + counts["high"]
    assert flagged_drawn > 0, "flagged sessions stand out"
    save_full_page(duo, "energy-manager-1600.png", DESKTOP)

    duo.select_dcc_dropdown("#energy-flag", "Low: charger fault or leakage")
    rows = _session_rows(duo, counts["low"])
    assert {r["charger"] for r in rows} == {demo.faulty_charger()}
    assert all(r["efficiency"] < 85 and r["flag"] == "Low" for r in rows), rows
    assert js(duo, "return document.querySelectorAll('#energy-sessions-grid .ag-center-cols-container "
                   ".energy-row-low').length") == counts["low"]
    # The vehicle links to its battery page.
    link = duo.find_element("#energy-sessions-grid .ag-center-cols-container [col-id=vehicle_number] a")
    assert link.get_attribute("href").endswith("/battery/" + rows[0]["device_id"]) or \
        any(link.get_attribute("href").endswith("/battery/" + r["device_id"]) for r in rows)

    duo.find_element("#energy-rank-group input[value='charger']").click()
    chargers = _wait(lambda: (lambda r: r if r and r[0]["name"] == demo.faulty_charger() else None)(
        _grid_rows(duo, "energy-ranking-grid")), "the faulty charger at the top of the ranking")
    assert chargers[0]["low"] == counts["low"] and chargers[0]["efficiency"] < 85
    assert not console_errors(duo)

    duo = _open_energy(session, "manager", LAPTOP)
    save_full_page(duo, "energy-manager-1280.png", LAPTOP)
    assert js(duo, "return document.documentElement.scrollWidth <= window.innerWidth")
    duo = _open_energy(session, "manager", PHONE)
    duo.wait_for_element("#energy-trend .js-plotly-plot", timeout=15)
    _no_sideways_scroll(duo, "/energy")
    save_full_page(duo, "energy-manager-390.png", PHONE)


def test_a_search_that_matches_nothing_says_so(session, app_db):
    duo = _open_energy(session, "manager")
    # A longer period moves the sessions' days with it.
    first = app_db.scalar("SELECT (now() AT TIME ZONE 'Asia/Kolkata')::date - 29")
    duo.find_element("#energy-period input[value='30d']").click()
    duo.wait_for_contains_text("#energy-dates", f"{first:%d %b %Y}", timeout=15)
    js(duo, "arguments[0].scrollIntoView()", duo.find_element("#energy-vehicle"))
    duo.find_element("#energy-vehicle").send_keys("NO-SUCH-VEHICLE\n")
    duo.wait_for_contains_text("#energy-sessions-empty", "No charging sessions match", timeout=15)
    assert "hidden" in duo.find_element("#energy-sessions-box").get_attribute("class")
    save_full_page(duo, "energy-manager-empty-1600.png", DESKTOP)
    assert not console_errors(duo)


def test_a_dealer_sees_only_its_own_sessions_and_sites(session, app_db):
    owners = _owners(app_db)
    duo = _open_energy(session, "dealer1")
    counts = _scoped_counts(app_db, "LKO01")
    rows = _session_rows(duo, counts["sessions"])
    assert rows and {owners[r["device_id"]] for r in rows} == {"LKO01"}
    assert demo.faulty_charger() in {r["charger"] for r in rows}, "the faulty charger is at the dealer's hub"
    assert duo.find_element("#energy-kpi-low .kpi-value").text == str(counts["low"])
    assert not duo.find_elements("#energy-rank-group input[value='dealer']"), "no dealer ranking for a dealer"

    duo.find_element("#energy-site").click()
    options = _wait(lambda: js(duo, "return [...document.querySelectorAll('.dash-dropdown-option')]"
                                    ".map(o => o.textContent)"), "the site options")
    own_sites = {r["code"] for r in app_db.query(
        "SELECT s.code FROM sites s JOIN dealers dl ON dl.id = s.dealer_id WHERE dl.code = 'LKO01'")}
    assert {o.rsplit("(", 1)[1].rstrip(")") for o in options} == own_sites, options
    hub = next(o for o in options if "(LKO01-HUB)" in o)
    js(duo, "[...document.querySelectorAll('.dash-dropdown-option')].find(o => o.textContent === arguments[0])"
            ".click()", hub)
    hub_sessions = app_db.scalar(f"""SELECT count(*) FROM telemetry.charge_sessions cs JOIN sites s ON s.id = cs.site_id
                                     JOIN devices d USING (device_id) JOIN dealers dl ON dl.id = d.dealer_id
                                     WHERE s.code = 'LKO01-HUB' AND dl.code = 'LKO01' AND NOT cs.is_open
                                       AND cs.start_time >= {SINCE}""")
    rows = _session_rows(duo, hub_sessions)
    assert {r["site"] for r in rows} == {"Gomti Nagar charging hub"}
    save_full_page(duo, "energy-dealer1-1600.png", DESKTOP)
    assert not console_errors(duo)

    duo = _open_energy(session, "dealer1", PHONE)
    _no_sideways_scroll(duo, "/energy as dealer1")
    save_full_page(duo, "energy-dealer1-390.png", PHONE)

    duo = _open_energy(session, "dealer2")
    counts = _scoped_counts(app_db, "DEL01")
    rows = _session_rows(duo, counts["sessions"])
    assert rows and {owners[r["device_id"]] for r in rows} == {"DEL01"}
    duo.find_element("#energy-rank-group input[value='charger']").click()
    chargers = _wait(lambda: (lambda r: r if r and all("DEL01" in x["name"] for x in r) else None)(
        _grid_rows(duo, "energy-ranking-grid")), "dealer 2's chargers")
    assert demo.faulty_charger() not in {c["name"] for c in chargers}
    text = duo.find_element("body").text
    assert "LKO01" not in text and "Gomti Nagar" not in text and demo.faulty_charger() not in text
    save_full_page(duo, "energy-dealer2-1600.png", DESKTOP)


def test_a_hubs_page_shows_its_site_power_and_a_depots_has_none(session, app_db):
    duo = open_path(session, "manager", "/sites/LKO01-HUB", "#site-kpis .kpi-card")
    duo.wait_for_element("#site-power-chart .js-plotly-plot", timeout=20)
    duo.wait_for_element("#site-energy-days .js-plotly-plot", timeout=20)
    assert _legend(duo, "#site-power-chart") == ["Solar", "Grid: import +, export −", "Load",
                                                 "Storage: charging +, discharging −"]
    assert _legend(duo, "#site-energy-days") == ["Solar", "Grid import", "Grid export", "Load"]
    drawn = js(duo, """const plot = document.querySelector('#site-power-chart .js-plotly-plot');
                       return Object.fromEntries(plot._fullData.map(t => [t.name, [Math.min(...Array.from(t.y)),
                                                     Math.max(...Array.from(t.y)), Array.from(t.y).length]]));""")
    truth = app_db.one("""SELECT min(p.grid_kw) AS grid_min, max(p.grid_kw) AS grid_max, max(p.solar_kw) AS solar_max,
                                 min(p.storage_kw) AS storage_min, count(*) AS n
                          FROM telemetry.site_power p JOIN sites s ON s.id = p.site_id
                          WHERE s.code = 'LKO01-HUB' AND p.time >= now() - INTERVAL '48 hours'""")
    grid = drawn["Grid: import +, export −"]
    assert grid[0] == pytest.approx(truth["grid_min"], abs=0.01) and grid[0] < 0, "export is drawn below zero"
    assert grid[1] == pytest.approx(truth["grid_max"], abs=0.01) and grid[2] == truth["n"]
    assert drawn["Solar"][1] == pytest.approx(truth["solar_max"], abs=0.01)
    assert drawn["Storage: charging +, discharging −"][0] == pytest.approx(truth["storage_min"], abs=0.01)
    save_full_page(duo, "site-power-manager-1600.png", DESKTOP)
    assert not console_errors(duo)

    duo = open_path(session, "manager", "/sites/LKO01-HUB", "#site-power-chart .js-plotly-plot", PHONE)
    _no_sideways_scroll(duo, "/sites/LKO01-HUB")
    save_full_page(duo, "site-power-manager-390.png", PHONE)

    duo = open_path(session, "manager", "/sites/LKO01-DEPOT", "#site-kpis .kpi-card")
    duo.wait_for_element("#site-batteries-grid .ag-row", timeout=15)
    time.sleep(1)
    assert not duo.find_elements("#site-power .panel"), "a site with no site power has no panel"

    duo = open_path(session, "dealer1", "/sites/LKO01-HUB", "#site-power-chart .js-plotly-plot")
    save_full_page(duo, "site-power-dealer1-1600.png", DESKTOP)


def test_the_battery_pages_flags_are_two_distinct_styles(session, app_db):
    """The battery page's session table marks low and high efficiency with assets/energy.css."""
    styles = {}
    for flag in ("low", "high"):
        device = app_db.scalar("SELECT device_id FROM telemetry.charge_sessions WHERE efficiency_flag = :f LIMIT 1",
                               f=flag)
        duo = open_path(session, "manager", f"/battery/{device}", f"#battery-charge-table .efficiency-{flag}")
        styles[flag] = js(duo, """const s = getComputedStyle(document.querySelector(arguments[0]));
                                  const a = getComputedStyle(document.querySelector(arguments[0]), '::after');
                                  return [s.color, s.backgroundColor, a.content];""",
                          f"#battery-charge-table .efficiency-{flag}")
        js(duo, "document.querySelector(arguments[0]).scrollIntoView({block: 'center'})", "#battery-charge-table")
        duo.find_element("#battery-charge-table").screenshot(str(ARTIFACTS / f"energy-battery-flag-{flag}.png"))
    assert styles["low"][1] != "rgba(0, 0, 0, 0)" and styles["high"][1] != "rgba(0, 0, 0, 0)", styles
    assert styles["low"][0] != styles["high"][0] and styles["low"][2] != styles["high"][2], styles
