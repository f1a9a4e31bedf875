"""The offline basemap (assets/geo/india.geojson) and the fleet map's fit to its pins.

The data tests read the committed asset; the browser tests drive the overview, the wall and a
battery page in headless Chromium (conftest's tile URL is a transparent tile, so what they see
is what a control room without internet sees). Screenshots go to tests/artifacts/.
"""
import json
import time

import pytest

import config
from conftest import ARTIFACTS, ROOT

BASEMAP = ROOT / "assets" / "geo" / "india.geojson"
MAX_BYTES = 400_000

STATES_AND_UTS = {
    "Andaman and Nicobar Islands", "Andhra Pradesh", "Arunachal Pradesh", "Assam", "Bihar", "Chandigarh",
    "Chhattisgarh", "Dadra and Nagar Haveli and Daman and Diu", "Delhi", "Goa", "Gujarat", "Haryana",
    "Himachal Pradesh", "Jammu and Kashmir", "Jharkhand", "Karnataka", "Kerala", "Ladakh", "Lakshadweep",
    "Madhya Pradesh", "Maharashtra", "Manipur", "Meghalaya", "Mizoram", "Nagaland", "Odisha", "Puducherry",
    "Punjab", "Rajasthan", "Sikkim", "Tamil Nadu", "Telangana", "Tripura", "Uttar Pradesh", "Uttarakhand",
    "West Bengal",
}
# Places India's map shows as India's, whatever a neighbour holds (longitude, latitude).
INDIAN_ON_INDIAS_MAP = {
    "Gilgit (Gilgit-Baltistan)": (74.30, 35.92), "Muzaffarabad (Pakistan-administered Kashmir)": (73.47, 34.37),
    "Aksai Chin": (79.20, 35.20), "Siachen glacier": (77.10, 35.40), "Tawang (Arunachal Pradesh)": (91.86, 27.59),
    "Leh": (77.58, 34.16), "Kanyakumari": (77.54, 8.09), "Port Blair": (92.73, 11.62),
}
OUTSIDE_INDIA = {"Lahore": (74.35, 31.55), "Kathmandu": (85.32, 27.70), "Dhaka": (90.41, 23.81),
                 "Colombo": (79.86, 6.93), "Lhasa": (91.17, 29.65)}


@pytest.fixture(scope="module")
def basemap() -> dict:
    return json.loads(BASEMAP.read_text(encoding="utf-8"))


def _features(collection: dict, kind: str) -> list[dict]:
    return [f for f in collection["features"] if f["properties"]["kind"] == kind]


def _inside(point, multipolygon) -> bool:
    """Even-odd ray casting over every ring, holes included."""
    x, y = point
    inside = False
    for polygon in multipolygon:
        for ring in polygon:
            for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
                if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                    inside = not inside
    return inside


def _outline(collection: dict) -> list:
    (country,) = _features(collection, "country")
    geometry = country["geometry"]
    return geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]


def test_basemap_is_small_valid_geojson(basemap):
    assert BASEMAP.stat().st_size < MAX_BYTES
    assert basemap["type"] == "FeatureCollection"
    kinds = {"country": "MultiPolygon", "state-border": "MultiLineString", "state": "Point", "city": "Point"}
    for feature in basemap["features"]:
        assert feature["type"] == "Feature"
        kind = feature["properties"]["kind"]
        assert feature["geometry"]["type"] in (kinds[kind], kinds[kind].replace("Multi", ""))
    for polygon in _outline(basemap):
        for ring in polygon:
            assert len(ring) >= 4 and ring[0] == ring[-1]
            assert all(66 < lng < 99 and 5 < lat < 38 for lng, lat in ring)
    borders = _features(basemap, "state-border")
    assert len(borders) == 1 and sum(len(line) for line in borders[0]["geometry"]["coordinates"]) > 1000


def test_basemap_holds_every_state_and_major_cities_inside_india(basemap):
    assert {f["properties"]["name"] for f in _features(basemap, "state")} == STATES_AND_UTS
    cities = {f["properties"]["name"]: f for f in _features(basemap, "city")}
    assert {"New Delhi", "Mumbai", "Kolkata", "Chennai", "Bengaluru", "Hyderabad"} <= {
        name for name, f in cities.items() if f["properties"]["rank"] == 1}
    assert {"Lucknow", "Jaipur", "Patna"} <= set(cities)  # the demo's dealer cities
    outline = _outline(basemap)
    for feature in [*cities.values(), *_features(basemap, "state")]:
        assert _inside(feature["geometry"]["coordinates"], outline), feature["properties"]["name"]


def test_india_is_drawn_as_india_draws_it(basemap):
    outline = _outline(basemap)
    for place, point in INDIAN_ON_INDIAS_MAP.items():
        assert _inside(point, outline), place
    for place, point in OUTSIDE_INDIA.items():
        assert not _inside(point, outline), place
    # The northern tip is in Gilgit-Baltistan, past 37 N (the Line of Control stops short of 36).
    assert max(lat for polygon in outline for lng, lat in polygon[0]) > 37.0


@pytest.mark.parametrize(("value", "expected"), [
    (None, config.DEFAULT_TILE_URL), ("", config.DEFAULT_TILE_URL), ("none", ""), (" OFF ", ""),
    ("https://tiles.example/{z}/{x}/{y}.png", "https://tiles.example/{z}/{x}/{y}.png"),
])
def test_map_tile_url_none_means_no_tiles(value, expected):
    env = {"DEMO_MODE": "1"} | ({} if value is None else {"MAP_TILE_URL": value})
    assert config.load(env).map_tile_url == expected


def test_maps_without_tiles_keep_the_basemap(dash_app):
    import dash_leaflet as dl

    from components.fleet_map import BASEMAP_PANE, create_base_layers

    with dash_app.server.test_request_context("/"):
        without = create_base_layers("", "")
        with_tiles = create_base_layers("https://tiles.example/{z}/{x}/{y}.png", "tiles")
    assert [type(layer) for layer in without] == [dl.Pane]
    assert [type(layer) for layer in with_tiles] == [dl.Pane, dl.TileLayer]
    pane = without[0]
    assert pane.name == BASEMAP_PANE and pane.children[0].url.endswith("/assets/geo/india.geojson")


# --- in the browser ------------------------------------------------------------------------------

def console_errors(duo):
    return [entry for entry in duo.get_logs() or [] if entry.get("level") == "SEVERE"]


def dash_props(duo, component_id: str) -> dict:
    """A component's props as the Dash renderer holds them (the map writes its zoom and bounds back)."""
    return duo.driver.execute_script(
        """const state = window.store.getState();
           let node = state.layout;
           for (const key of state.paths.strs[arguments[0]]) node = node[key];
           return node.props;""", component_id)


def wait_for_basemap(duo, map_id: str) -> int:
    """The basemap's drawn shapes in the map's basemap pane (outline, borders, cities, labels)."""
    selector = f"#{map_id} .leaflet-fleet-basemap-pane path"
    duo.wait_for_element(selector, timeout=15)
    deadline = time.time() + 10
    while time.time() < deadline and len(duo.find_elements(selector)) < 50:
        time.sleep(0.3)
    return len(duo.find_elements(selector))


def wait_for_fit(duo, map_id: str, min_zoom: float = 6):
    deadline = time.time() + 15
    props = dash_props(duo, map_id)
    while time.time() < deadline and not (props.get("zoom", 0) >= min_zoom and props.get("bounds")):
        time.sleep(0.3)
        props = dash_props(duo, map_id)
    return props


def _contains(bounds, lat, lng) -> bool:
    (south, west), (north, east) = bounds
    return south <= lat <= north and west <= lng <= east


@pytest.mark.browser
def test_overview_opens_fitted_to_its_pins_over_the_basemap(signed_in, app_db):
    duo = signed_in("manager")
    assert wait_for_basemap(duo, "overview-map") >= 50
    # Below the tiles: loaded tiles cover it, failed or missing tiles leave it in view.
    z_index = duo.driver.execute_script(
        """const map = document.getElementById('overview-map');
           const z = name => parseInt(getComputedStyle(map.querySelector('.leaflet-' + name + '-pane')).zIndex, 10);
           return [z('fleet-basemap'), z('tile')];""")
    assert z_index[0] < z_index[1]
    props = wait_for_fit(duo, "overview-map")
    pins = dash_props(duo, "overview-pins")["data"]
    assert pins["id"]
    assert props["zoom"] >= 6  # all of India is zoom 5
    assert all(_contains(props["bounds"], lat, lng) for lat, lng in zip(pins["lat"], pins["lng"]))
    (south, west), (north, east) = props["bounds"]
    assert (east - west) * (north - south) < 0.25 * (97.4 - 68.1) * (37.1 - 6.7)
    classes = duo.find_element("#overview-map").get_attribute("class")
    assert "basemap-z6" in classes  # state names show from zoom 6
    assert duo.find_element("#overview-map .basemap-city.rank-1").is_displayed()
    time.sleep(1)
    duo.driver.save_screenshot(str(ARTIFACTS / "map-basemap-overview.png"))
    assert console_errors(duo) == []


@pytest.mark.browser
def test_fit_follows_filters_but_never_a_refresh(signed_in):
    """The clientside rule itself, called in the real page: fit on the first pins and on a filter
    (the refresh counter has not moved), never on a refresh."""
    duo = signed_in("manager")
    duo.wait_for_element("#overview-map", timeout=15)
    outcomes = duo.driver.execute_script(
        """const fit = window.dash_clientside.fleetMap.fitView, skip = window.dash_clientside.no_update;
           const cols = ids => ({id: ids, lat: ids.map((_, i) => 26 + i), lng: ids.map((_, i) => 80 + i)});
           const [first, memo1] = fit(cols(['a', 'b']), undefined, null);
           const [refreshSame, memo2] = fit(cols(['a', 'b']), 1, memo1);
           const [refreshOther, memo3] = fit(cols(['a', 'b', 'c']), 2, memo2);
           const [filtered, memo4] = fit(cols(['c']), 2, memo3);
           const [empty, memo5] = fit(cols([]), 2, memo4);
           const [back, _] = fit(cols(['a']), 2, memo5);
           return [first, refreshSame, refreshOther, filtered, empty, back].map(v => v === skip ? 'kept' : v);""")
    first, refresh_same, refresh_other, filtered, empty, back = outcomes
    assert first["bounds"] == [[26, 80], [27, 81]] and first["options"]["maxZoom"] == 12
    assert refresh_same == "kept" and refresh_other == "kept" and empty == "kept"
    assert filtered["bounds"] == [[26, 80], [26, 80]]
    assert back["bounds"] == [[26, 80], [26, 80]]


@pytest.mark.browser
def test_wall_map_type_is_large_at_1920x1080(signed_in, app_db):
    duo = signed_in("viewer")
    duo.driver.set_window_size(1920, 1080)
    duo.wait_for_element("#kpi-active", timeout=15)
    duo.driver.get(duo.server.url + "/wall")
    assert wait_for_basemap(duo, "wall-map") >= 50
    wait_for_fit(duo, "wall-map")
    duo.wait_for_element("#wall-map .fleet-cluster span", timeout=15)
    sizes = duo.driver.execute_script(
        """const px = el => parseFloat(getComputedStyle(el).fontSize);
           return {clusters: [...document.querySelectorAll('#wall-map .fleet-cluster span')].map(px),
                   legend: px(document.querySelector('.wall-map .map-legend'))};""")
    assert sizes["clusters"] and min(sizes["clusters"]) >= 18
    assert sizes["legend"] >= 18
    time.sleep(1)
    duo.driver.save_screenshot(str(ARTIFACTS / "map-basemap-wall-1920.png"))
    assert console_errors(duo) == []


@pytest.mark.browser
def test_battery_trail_map_has_the_basemap(signed_in, app_db):
    duo = signed_in("engineer")
    device = app_db.scalar("SELECT device_id FROM device_state WHERE latitude IS NOT NULL ORDER BY 1 LIMIT 1")
    duo.wait_for_element("#kpi-active", timeout=15)
    duo.driver.get(f"{duo.server.url}/battery/{device}")
    assert wait_for_basemap(duo, "battery-map") >= 50
    duo.wait_for_element("#battery-map path.leaflet-interactive", timeout=15)  # the trail, above it
    duo.driver.execute_script("document.getElementById('battery-map').scrollIntoView({block: 'center'})")
    time.sleep(1)
    duo.driver.save_screenshot(str(ARTIFACTS / "map-basemap-battery.png"))
    assert console_errors(duo) == []
