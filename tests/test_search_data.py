"""The battery search and the URL's vehicle-number lookup (data/search.py) on a real database, both
storage modes: prefixes, case, spaces in plates, LIKE wildcards taken literally, scope, the limit."""
from __future__ import annotations

import pytest

from data import demo, search
from data.scope import Scope

WHOLE = Scope("manager", 1)


@pytest.fixture
def fleet_db(any_db):
    vehicles = demo.fleet(size=40)
    demo.seed_registry(any_db, vehicles)
    return any_db, vehicles


def _dealer(db, code):
    return Scope("dealer", 2, db.scalar("SELECT id FROM dealers WHERE code = :c", c=code))


def test_finds_by_every_identifier_prefix_case_insensitively(fleet_db):
    db, vehicles = fleet_db
    v = vehicles[5]
    plate = v.vehicle_number
    for query, matched in ((plate.lower(), "vehicle"), (f"{plate[:2]} {plate[2:4]}-{plate[4:6]}", "vehicle"),
                           (v.device_id.lower(), "device"), (v.battery_serial[:-1].lower(), "serial"),
                           (v.customer_name.split()[-1].lower(), "customer")):
        hits = search.find_batteries(db, WHOLE, query)
        assert v.device_id in [h["device_id"] for h in hits], query
        assert 0 < len(hits) <= 10
    exact = search.find_batteries(db, WHOLE, plate)
    assert exact[0]["device_id"] == v.device_id and exact[0]["matched"] == "vehicle"


def test_at_most_ten_and_exact_first(fleet_db):
    db, vehicles = fleet_db
    hits = search.find_batteries(db, WHOLE, "TK-")
    assert len(hits) == 10
    assert len(search.find_batteries(db, WHOLE, "TK-", limit=50)) == len(vehicles)


def test_wildcards_are_literal(fleet_db):
    db, _ = fleet_db
    for query in ("%", "_", "\\", "%%", "_K"):
        assert search.find_batteries(db, WHOLE, query) == [], query


def test_dealer_finds_only_its_own(fleet_db):
    db, vehicles = fleet_db
    lucknow = _dealer(db, "LKO01")
    theirs = next(v for v in vehicles if v.dealer_code == "DEL01")
    mine = next(v for v in vehicles if v.dealer_code == "LKO01")
    assert search.find_batteries(db, lucknow, theirs.vehicle_number) == []
    assert search.find_batteries(db, lucknow, theirs.device_id) == []
    assert {h["device_id"] for h in search.find_batteries(db, lucknow, "TK-", limit=100)} == \
        {v.device_id for v in vehicles if v.dealer_code == "LKO01"}
    assert search.resolve(db, lucknow, theirs.vehicle_number) is None
    assert search.resolve(db, lucknow, mine.vehicle_number) == mine.device_id


def test_resolve_by_device_id_or_plate(fleet_db):
    db, vehicles = fleet_db
    v = vehicles[3]
    assert search.resolve(db, WHOLE, v.device_id) == v.device_id
    assert search.resolve(db, WHOLE, v.vehicle_number.lower()) == v.device_id
    assert search.resolve(db, WHOLE, f"{v.vehicle_number[:4]} {v.vehicle_number[4:]}") == v.device_id
    assert search.resolve(db, WHOLE, "NO-SUCH") is None
