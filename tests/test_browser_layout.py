"""Layout and chart readability in a real headless Chromium: desktop (1600 px), phone (390 px), wall (1920 px).

One app server and one browser for the whole module (a server per test would triple the time).
Screenshots go to tests/artifacts/ as ``<page>-<width>.png`` (manager) and ``<page>-<width>-dealer1.png``.
"""
from __future__ import annotations

import base64
import time
from datetime import datetime, timedelta, timezone

import plotly.io
import pytest

from components import charts
from conftest import ARTIFACTS, Session

pytestmark = pytest.mark.browser

DESKTOP, PHONE, WALL = (1600, 1000), (390, 844), (1920, 1080)
ROLES = ["manager", "dealer1"]
DEALER_CODES = {"dealer1": "LKO01"}
# page name -> (path, an element that is there once the page has drawn its data)
PAGES = {
    "overview": ("/", "#overview-soc .xtick"),
    "battery": ("/battery/{device}", "#battery-sessions .ytick"),
    "wall": ("/wall", "#wall-soc .xtick"),
    "login": ("/login", "#login-submit"),
    "404": ("/nope", ".not-found h1"),
}


def device_of(app_db, role: str) -> str:
    where = "TRUE"
    if role in DEALER_CODES:
        where = f"d.dealer_id = (SELECT id FROM dealers WHERE code = '{DEALER_CODES[role]}')"
    return app_db.scalar(f"""SELECT d.device_id FROM devices d JOIN device_state s USING (device_id)
                             WHERE s.latitude IS NOT NULL AND {where} ORDER BY 1 LIMIT 1""")


def js(duo, script: str, *args):
    return duo.driver.execute_script(script, *args)


def console_errors(duo):
    return [entry for entry in duo.get_logs() or [] if entry.get("level") == "SEVERE"]


def set_viewport(duo, width: int, height: int):
    """Exactly this viewport, through Chrome's device emulation: a window cannot be narrower than
    500 px, and its size counts the browser's frame. Below 600 px it is a phone (touch, overlay
    scrollbars, the page's viewport meta honoured)."""
    duo.driver.set_window_size(max(width, 1280), max(height, 900))
    duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def open_page(session: Session, role: str, page: str, size: tuple[int, int]):
    """Signed in (or out, for the login page), at ``size``, with the page drawn."""
    duo = session.sign_out() if page == "login" else session.sign_in(role)
    set_viewport(duo, *size)
    path, ready = PAGES[page]
    duo.driver.get(duo.server.url + path.format(device=device_of(session.app_db, role)))
    duo.wait_for_element(ready, timeout=20)
    if page == "battery":
        duo.wait_for_element("#battery-trip-table tbody tr", timeout=15)
        duo.wait_for_element("#gauge-soc .main-svg", timeout=15)
        duo.wait_for_element("#battery-series .x4tick", timeout=15)
    if page in ("overview", "wall"):
        duo.wait_for_element(f"#{page}-distance .xtick", timeout=15)
        duo.wait_for_element(".alert-feed .badge", timeout=15)
    time.sleep(0.6)  # plotly's responsive resize and the map's tiles settle after the first draw
    return duo


def open_path(session: Session, role: str, path: str, ready: str, size: tuple[int, int] = DESKTOP,
              timeout: float = 20):
    """Signed in as ``role``, at ``size``, at ``path``, once ``ready`` is drawn and nothing is in flight."""
    duo = session.sign_in(role)
    set_viewport(duo, *size)
    duo.driver.get(duo.server.url + path)
    duo.wait_for_element(ready, timeout=timeout)
    settle(duo)
    return duo


def replace_text(duo, selector: str, text: str):
    """Replace what a Dash input holds: select all and type (Selenium's clear() leaves React's value)."""
    from selenium.webdriver.common.keys import Keys
    box = duo.find_element(selector)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(text)


def settle(duo, timeout: float = 10):
    """No Dash update in flight (a periodic refresh may be redrawing the charts), then two painted frames."""
    deadline = time.time() + timeout
    while time.time() < deadline and js(duo, "return !!document.querySelector('[data-dash-is-loading=\"true\"]')"):
        time.sleep(0.2)
    duo.driver.execute_async_script(
        "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()));")


def save_full_page(duo, name: str, size: tuple[int, int]):
    """The whole page, not only the part in the viewport: what is below the fold is judged too.
    The viewport grows to the page's height for the shot (pages sized to the screen keep theirs)."""
    height = size[1]
    for _ in range(3):  # a taller viewport can make the page taller still (plotly's responsive resize)
        page_height = js(duo, "return Math.min(document.documentElement.scrollHeight, 6000)")
        if page_height <= height:
            break
        height = page_height
        set_viewport(duo, size[0], height)
        time.sleep(0.5)
    settle(duo)
    shot = duo.driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size[0], "height": max(height, size[1]), "scale": 1}})
    (ARTIFACTS / name).write_bytes(base64.b64decode(shot["data"]))
    set_viewport(duo, *size)


def screenshot(duo, page: str, size: tuple[int, int], role: str):
    suffix = "" if role == ROLES[0] else f"-{role}"
    save_full_page(duo, f"{page}-{size[0]}{suffix}.png", size)


def element_box(duo, selector: str) -> dict | None:
    return js(duo, """const el = document.querySelector(arguments[0]);
                      if (!el) return null;
                      const r = el.getBoundingClientRect(), s = getComputedStyle(el);
                      return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width,
                              visible: s.visibility !== 'hidden' && s.display !== 'none' && r.width > 0};""",
              selector)


def tick_texts(duo, selector: str) -> list[str]:
    return js(duo, "return [...document.querySelectorAll(arguments[0])].map(t => t.textContent);", selector)


# Each page as a whole-fleet role and as a dealer (longest user badge); the sign-in page once.
CASES = [pytest.param(role, page, id=f"{role}-{page}")
         for role in ROLES for page in PAGES if page != "login" or role == ROLES[0]]


@pytest.mark.parametrize("role, page", CASES)
def test_page_fits_a_desktop_and_a_phone(session, role, page):
    duo = open_page(session, role, page, DESKTOP)
    screenshot(duo, page, DESKTOP, role)
    assert js(duo, "return document.documentElement.scrollWidth <= window.innerWidth")

    duo = open_page(session, role, page, PHONE)
    screenshot(duo, page, PHONE, role)
    inner = js(duo, "return window.innerWidth")
    assert inner <= PHONE[0]
    overflow = js(duo, "return document.documentElement.scrollWidth")
    assert overflow <= inner, f"{page} is {overflow} px wide on a {inner} px phone"
    if page not in ("login", "wall"):  # the wall has no chrome; the login page no session
        logout = element_box(duo, "#logout-link")
        assert logout and logout["visible"]
        assert 0 <= logout["left"] and logout["right"] <= inner
        search = element_box(duo, ".topbar-search")
        if search:  # the battery search takes a row of its own on a phone
            bar = element_box(duo, ".topbar")
            assert search["width"] >= bar["width"] - 2 * 16, (search, bar)
    if page == "overview":
        filters = js(duo, "return [...document.querySelectorAll('.filter-bar .filter')]"
                          ".filter(f => f.offsetParent).map(f => f.getBoundingClientRect().width)")
        page_width = element_box(duo, ".page-head")["width"]
        assert filters and all(w >= page_width - 1 for w in filters), (filters, page_width)
    if page == "battery":
        gauges = js(duo, "return [...document.querySelectorAll('#battery-gauges .gauge')]"
                         ".map(g => g.getBoundingClientRect().width)")
        assert len(gauges) == 4 and min(gauges) >= 150, gauges
        tops = js(duo, "return [...document.querySelectorAll('#battery-range label')].map(l => l.offsetTop)")
        assert len(tops) == 5 and len(set(tops)) == 1, tops
        table = js(duo, """const t = document.getElementById('battery-trip-table');
                           let box = t.parentElement;
                           while (box && getComputedStyle(box).overflowX === 'visible') box = box.parentElement;
                           if (!box) return null;
                           const r = box.getBoundingClientRect();
                           return {width: r.width, right: r.right, overflow: getComputedStyle(box).overflowX};""")
        assert table and table["overflow"] in ("auto", "scroll"), table
        assert table["width"] < inner and table["right"] <= inner, table
    assert console_errors(duo) == []


def test_wall_charts_are_readable_and_alerts_link_to_batteries(session):
    duo = session.sign_in("viewer")
    set_viewport(duo, *WALL)
    duo.driver.get(duo.server.url + "/wall")
    duo.wait_for_element("#wall-distance .xtick", timeout=20)
    duo.wait_for_element("#wall-alerts .alert-item", timeout=15)
    time.sleep(0.6)
    duo.driver.save_screenshot(str(ARTIFACTS / "wall-1920.png"))
    # The charts' panel is on screen half of the time: show it for its own screenshot.
    js(duo, """document.querySelectorAll('.wall-panel').forEach(p => p.style.animation = 'none');
               document.querySelector('.wall-panel-1').style.visibility = 'hidden';""")
    time.sleep(0.3)
    duo.driver.save_screenshot(str(ARTIFACTS / "wall-1920-charts.png"))

    sizes = js(duo, """return [...document.querySelectorAll(
                           '.wall .xtick text, .wall .ytick text, .wall .colorbar .cbaxis text')]
                         .map(t => parseFloat(t.style.fontSize || getComputedStyle(t).fontSize));""")
    assert sizes and min(sizes) >= 18, sizes
    assert tick_texts(duo, "#wall-soc .xtick text")[-1] == "100"  # the last label is not lost at the edge
    titles = js(duo, "return [...document.querySelectorAll('.wall .gtitle')].map(t => parseFloat(t.style.fontSize))")
    assert len(titles) == 3 and min(titles) > min(sizes), titles
    links = [a.get_attribute("href") for a in duo.find_elements("#wall-alerts a.alert-device")]
    assert links and all("/battery/" in href for href in links)
    colour = js(duo, "return getComputedStyle(document.querySelector('#wall-alerts a.alert-device')).color")
    assert colour != "rgb(0, 0, 238)" and colour != "rgb(85, 26, 139)", colour  # not the browser's default blue
    assert console_errors(duo) == []


def test_overview_counts_are_whole_numbers_and_labels_are_not_cut(session):
    duo = open_page(session, "manager", "overview", DESKTOP)
    for chart in ("overview-soc", "overview-cycles"):
        ticks = tick_texts(duo, f"#{chart} .ytick text")
        assert ticks and all(t.replace(",", "").isdigit() for t in ticks), (chart, ticks)
        assert len(set(ticks)) == len(ticks), ticks
        # Every tick label lies inside its chart: nothing clipped at the edges.
        inside = js(duo, """const box = document.getElementById(arguments[0]).getBoundingClientRect();
                            return [...document.querySelectorAll('#' + arguments[0] + ' .xtick text, #' + arguments[0]
                                                                  + ' .ytick text')].every(t => {
                              const r = t.getBoundingClientRect();
                              return r.left >= box.left && r.right <= box.right && r.bottom <= box.bottom; });""",
                    chart)
        assert inside, chart
    # Both edges of the SOC axis are labelled: the last one is not lost at the chart's edge.
    soc_edges = tick_texts(duo, "#overview-soc .xtick text")
    assert soc_edges[0] == "0" and soc_edges[-1] == "100", soc_edges
    weeks = tick_texts(duo, "#overview-distance .xtick text")
    assert weeks and all(len(w.split()) == 2 for w in weeks), weeks  # "17 Nov"


def test_session_timeline_names_its_three_rows(session):
    duo = open_page(session, "manager", "battery", DESKTOP)
    rows = js(duo, """return [...document.querySelectorAll('#battery-sessions .ytick text')]
                        .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)
                        .map(t => t.textContent);""")
    assert rows == ["charge", "discharge", "rest"]

    # A range with charging only: drawn by the page's own Plotly, it still names all three rows.
    start = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)
    only_charge = charts.session_timeline([{"kind": "charge", "start": start, "end": start + timedelta(hours=1)}], "r")
    assert {trace.y[0] for trace in only_charge.data} == {"charge"}
    rows = duo.driver.execute_async_script(
        """const done = arguments[1], fig = JSON.parse(arguments[0]), div = document.createElement('div');
           div.style.width = '600px'; document.body.appendChild(div);
           Plotly.newPlot(div, fig.data, fig.layout).then(() => {
             const rows = [...div.querySelectorAll('.ytick text')]
               .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top).map(t => t.textContent);
             div.remove(); done(rows); });""", plotly.io.to_json(only_charge))
    assert rows == ["charge", "discharge", "rest"]
