"""Trip analytics in a real headless Chromium. A manager reads the distance cards, the rankings and the
charging charts, narrows the trip history by vehicle and by dealer (the server answers: the grid and
its count follow), and downloads it; a dealer sees only its own vehicles, has no dealer filter, and
typing another dealer's vehicle finds nothing. Screenshots per role at 1280 px and at 390 px:
tests/artifacts/trips-*.png.
"""
from __future__ import annotations

import io
import time
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from components import trips_page
from data import trips
from data.scope import Scope
from test_browser_layout import PHONE, console_errors, js, open_path, replace_text, save_full_page

pytestmark = pytest.mark.browser

LAPTOP = (1280, 900)
READY = "#trips-kpi-yesterday"


def _scope(app_db, role: str) -> Scope:
    if role == "dealer1":
        return Scope("dealer", dealer_id=app_db.scalar("SELECT id FROM dealers WHERE code = 'LKO01'"))
    return Scope("manager")


def _default_filter() -> trips.TripFilter:
    """The history's opening dates: the last 30 IST days, as the page sets them."""
    today = datetime.now(trips.IST).date()
    return trips.TripFilter(since=today - timedelta(days=trips_page.HISTORY_DAYS - 1), until=today)


def _column(duo, field: str) -> list[str]:
    return js(duo, "return [...document.querySelectorAll('#trips-grid .ag-row [col-id=' + arguments[0] + ']')]"
                   ".map(c => c.textContent)", field)


def _wait(what: str, check, timeout: float = 15):
    deadline, last = time.time() + timeout, None
    while time.time() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.3)
    raise AssertionError(f"{what} (last: {last!r})")


def _count_text(duo) -> str:
    return js(duo, "const e = document.getElementById('trips-history-count'); return e ? e.textContent : ''")


def _wait_drawn(duo):
    """Cards, both rankings, both charts and the first rows of the history are on screen."""
    for selector in (READY, "#trips-top-km table, #trips-top-km .empty-state",
                     "#trips-top-kwh table, #trips-top-kwh .empty-state", "#trips-eff-dealers table",
                     "#trips-charge-hours .xtick", "#trips-dod-hours .main-svg", "#trips-grid .ag-row[row-id]"):
        duo.wait_for_element(selector, timeout=20)


def _no_sideways_scroll(duo):
    width = js(duo, "return document.documentElement.scrollWidth")
    assert width <= PHONE[0] + 1, f"/trips scrolls sideways on a phone ({width} px)"


def _labels_inside(duo):
    """Every chart's tick labels and title sit inside its card: nothing is cut at an edge."""
    cut = js(duo, """const bad = [];
        for (const g of document.querySelectorAll('.trips-charts .js-plotly-plot')) {
          const box = g.getBoundingClientRect();
          for (const t of g.querySelectorAll('.xtick text, .ytick text, .gtitle, .gtitle-subtitle, .xtitle, .ytitle')) {
            const r = t.getBoundingClientRect();
            if (r.width && (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1
                            || r.bottom > box.bottom + 1)) bad.push(g.parentElement.closest('[id]').id + ': ' + t.textContent);
          }
        }
        return bad;""")
    assert not cut, f"cut chart labels: {cut}"


def test_a_manager_reads_the_trip_figures_and_filters_the_history_on_the_server(session, app_db):
    duo = open_path(session, "manager", "/trips", READY, LAPTOP)
    _wait_drawn(duo)
    scope = _scope(app_db, "manager")
    summary = trips.distance_summary(app_db, scope)
    assert duo.find_element("#trips-kpi-yesterday .kpi-value").text == trips_page.km(summary["yesterday_km"])
    assert duo.find_element("#trips-kpi-month .kpi-value").text in (trips_page.km(summary["month_km"]), "—")
    top = trips.top_usage(app_db, scope, 30)
    first = top[top["km_rank"] == 1].iloc[0]
    assert duo.find_element("#trips-top-km-table tbody tr td:nth-child(2)").text == first["vehicle_number"]
    link = duo.find_element("#trips-top-km-table tbody tr a").get_attribute("href")
    assert link.endswith(f"/battery/{first['device_id']}")
    dealers = js(duo, "return [...document.querySelectorAll('#trips-eff-dealers-table tbody tr td:nth-child(2)')]"
                      ".map(c => c.textContent)")
    assert len(dealers) == len(trips.dealer_efficiency(app_db, scope, 30)) > 1, "whole-fleet roles rank every dealer"
    assert duo.find_element("#trips-dealer").is_displayed()
    assert duo.find_element("#trips-history-export-csv").is_displayed()
    assert duo.find_element("#trips-history-export-xlsx").is_displayed()

    opening = trips.history_totals(app_db, scope, _default_filter())["trips"]
    assert _count_text(duo).startswith(f"{opening:,} trips")
    save_full_page(duo, "trips-manager-1280.png", LAPTOP)
    _labels_inside(duo)

    # Another period: the rankings and both charts are read again for it.
    duo.find_element("#trips-period input[value='7d']").click()
    duo.wait_for_contains_text("#trips-eff-note", "over the last 7 days", timeout=15)
    # Read from the figure itself: the SVG subtitle is redrawn (and briefly empty) on every update.
    for chart in ("#trips-charge-hours", "#trips-dod-hours"):
        _wait(f"{chart} for 7 days", lambda chart=chart: "last 7 days" in (js(
            duo, "const p = document.querySelector(arguments[0] + ' .js-plotly-plot');"
                 "return p && p.layout && p.layout.title && p.layout.title.subtitle ? p.layout.title.subtitle.text : '';",
            chart) or ""))

    # A vehicle typed with spaces: the server filters, the count and the rows follow.
    vehicle = app_db.one("""SELECT d.device_id, d.vehicle_number FROM devices d JOIN telemetry.trips t USING (device_id)
                            ORDER BY d.device_id DESC LIMIT 1""")
    plate = vehicle["vehicle_number"]
    replace_text(duo, "#trips-text", f"{plate[:4]} {plate[4:]}\n".lower())
    expected = trips.history_totals(app_db, scope, trips.TripFilter(text=plate, since=_default_filter().since,
                                                                      until=_default_filter().until))["trips"]
    assert expected > 0
    _wait("the count of one vehicle", lambda: _count_text(duo).startswith(f"{expected:,} trip"))
    rows = _wait("the grid of one vehicle", lambda: (v := _column(duo, "vehicle_number")) and set(v) == {plate} and v)
    assert len(rows) == expected

    # A dealer from the list instead: every row is that dealer's.
    replace_text(duo, "#trips-text", "\n")
    duo.select_dcc_dropdown("#trips-dealer", "Delhi Green Wheels")
    delhi = trips.history_totals(app_db, scope, trips.TripFilter(dealer_code="DEL01", since=_default_filter().since,
                                                                   until=_default_filter().until))["trips"]
    _wait("the count of one dealer", lambda: _count_text(duo).startswith(f"{delhi:,} trip"))
    _wait("the grid of one dealer", lambda: set(_column(duo, "dealer")) == {"Delhi Green Wheels"})

    # The file holds every matching row, not only those on screen.
    folder = Path(duo.download_path)
    before = set(folder.glob("trips*.csv"))
    duo.find_element("#trips-history-export-csv").click()
    fresh = _wait("the CSV download", lambda: [p for p in set(folder.glob("trips*.csv")) - before
                                                 if p.stat().st_size > 0], timeout=30)
    frame = pd.read_csv(io.StringIO(fresh[0].read_text()))
    assert len(frame) == delhi and set(frame["Dealer code"]) == {"DEL01"}
    assert not console_errors(duo)

    duo = open_path(session, "manager", "/trips", READY, PHONE)
    _wait_drawn(duo)
    _no_sideways_scroll(duo)
    save_full_page(duo, "trips-manager-390.png", PHONE)
    _labels_inside(duo)


def test_a_dealer_sees_only_its_own_vehicles(session, app_db):
    duo = open_path(session, "dealer1", "/trips", READY, LAPTOP)
    _wait_drawn(duo)
    scope = _scope(app_db, "dealer1")
    own = {r["vehicle_number"] for r in app_db.query("SELECT vehicle_number FROM devices WHERE dealer_id = :d",
                                                     d=scope.dealer_id)}
    shown = js(duo, "return [...document.querySelectorAll('#trips-top-km-table tbody tr td:nth-child(2), "
                    "#trips-top-kwh-table tbody tr td:nth-child(2), #trips-eff-best table tbody tr td:nth-child(2)')]"
                    ".map(c => c.textContent)")
    assert shown and set(shown) <= own, set(shown) - own
    assert set(_column(duo, "vehicle_number")) <= own
    assert _column(duo, "dealer") == [], "a dealer's grid has no dealer column"
    assert not duo.find_element("#trips-dealer").is_displayed(), "a dealer has no dealer filter"
    dealers = js(duo, "return [...document.querySelectorAll('#trips-eff-dealers-table tbody tr')].length")
    assert dealers == 1, "a dealer sees its own row of the dealer ranking only"
    opening = trips.history_totals(app_db, scope, _default_filter())["trips"]
    assert _count_text(duo).startswith(f"{opening:,} trips")
    assert duo.find_element("#trips-history-export-csv").is_displayed()
    save_full_page(duo, "trips-dealer1-1280.png", LAPTOP)

    other = app_db.scalar("""SELECT d.vehicle_number FROM devices d JOIN dealers dl ON dl.id = d.dealer_id
                             JOIN telemetry.trips t USING (device_id) WHERE dl.code = 'DEL01' LIMIT 1""")
    replace_text(duo, "#trips-text", other + "\n")
    duo.wait_for_contains_text("#trips-history-empty", "No trips match", timeout=15)
    assert not duo.find_element("#trips-history-box").is_displayed()
    replace_text(duo, "#trips-text", "\n")
    _wait("the dealer's trips back", lambda: _count_text(duo).startswith(f"{opening:,} trips"))
    _wait("the grid back", lambda: set(_column(duo, "vehicle_number")) and set(_column(duo, "vehicle_number")) <= own)
    assert not console_errors(duo)

    duo = open_path(session, "dealer1", "/trips", READY, PHONE)
    _wait_drawn(duo)
    _no_sideways_scroll(duo)
    save_full_page(duo, "trips-dealer1-390.png", PHONE)
    _labels_inside(duo)
