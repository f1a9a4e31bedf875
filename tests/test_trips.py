"""Trip analytics (data/trips.py, pages/trips.py) on a real database.

Two databases: the app's (the demo fleet with simulated days) for the figures each scope gets, checked
against direct sums over the trips; and one of this module's own with trips, energy and charge
sessions of known values, for the efficiency rule, the paging, the filters and the files.
"""
from __future__ import annotations

import base64
import io
import json
from datetime import date, timedelta

import pandas as pd
import pytest

from components import trips_page
from components.export import table_file
from conftest import DB_SUFFIX, login, migrated
from data import db as database
from data import demo, storage, telemetry, trips
from data.scope import Scope
from data.trips import TripFilter, ist_midnight
from test_authorization import _payload

MANAGER = Scope(role="manager", user_id=1)


def dealer_scope(db, code: str) -> Scope:
    return Scope(role="dealer", user_id=2, dealer_id=db.scalar("SELECT id FROM dealers WHERE code = :c", c=code))


# -- the app's fleet: each scope's figures equal a direct sum ---------------------------------------------------
def _direct_km(db, since: date, until: date, dealer: str | None = None) -> float:
    """Kilometres of trips whose IST day is in [since, until], straight from the trips table."""
    return float(db.scalar(
        """SELECT coalesce(sum(t.distance_km), 0) FROM telemetry.trips t JOIN devices d USING (device_id)
           JOIN dealers dl ON dl.id = d.dealer_id
           WHERE (t.start_time AT TIME ZONE 'Asia/Kolkata')::date BETWEEN :since AND :until
             AND (CAST(:dealer AS text) IS NULL OR dl.code = :dealer)""", since=since, until=until, dealer=dealer))


def test_distance_cards_equal_the_trips_of_each_scope(app_db):
    today = trips.today(app_db)
    week_start, month_start = today - timedelta(days=today.weekday()), today.replace(day=1)
    yesterday = today - timedelta(days=1)
    whole = trips.distance_summary(app_db, MANAGER)
    assert (whole["today"], whole["week_start"], whole["month_start"]) == (today, week_start, month_start)
    assert _direct_km(app_db, yesterday, yesterday) > 0, "the seeded days end yesterday"
    assert float(whole["yesterday_km"]) == pytest.approx(_direct_km(app_db, yesterday, yesterday))
    assert float(whole["week_km"]) == pytest.approx(_direct_km(app_db, week_start, today))
    assert float(whole["month_km"]) == pytest.approx(_direct_km(app_db, month_start, today))
    assert whole["today_km"] is None, "a day's trips are stored once it has ended"

    per_dealer = 0.0
    for code in ("LKO01", "DEL01", "JAI01", "PAT01"):
        own = trips.distance_summary(app_db, dealer_scope(app_db, code))
        assert _direct_km(app_db, yesterday, yesterday, code) > 0
        assert float(own["yesterday_km"]) == pytest.approx(_direct_km(app_db, yesterday, yesterday, code))
        assert float(own["month_km"]) == pytest.approx(_direct_km(app_db, month_start, today, code))
        per_dealer += float(own["yesterday_km"])
    assert per_dealer == pytest.approx(float(whole["yesterday_km"]))

    cards = trips_page.create_distance_kpis(whole)
    assert [c.id for c in cards] == ["trips-kpi-today", "trips-kpi-yesterday", "trips-kpi-week", "trips-kpi-month"]
    assert cards[1].children[1].children == trips_page.km(whole["yesterday_km"])


def test_rankings_of_a_dealer_hold_only_its_own_batteries(app_db):
    lucknow = dealer_scope(app_db, "LKO01")
    own = {r["device_id"] for r in app_db.query(
        "SELECT device_id FROM devices WHERE dealer_id = :d", d=lucknow.dealer_id)}
    top = trips.top_usage(app_db, lucknow, 30)
    assert len(top) > 0 and set(top["device_id"]) <= own
    eff = trips.battery_efficiency(app_db, lucknow, 30, min_km=1)
    assert len(eff["best"]) > 0 and set(eff["best"]["device_id"]) | set(eff["worst"]["device_id"]) <= own
    dealers = trips.dealer_efficiency(app_db, lucknow, 30)
    assert dealers["dealer_code"].tolist() == ["LKO01"]
    hours = trips.charging_by_hour(app_db, lucknow, 30)
    assert int(hours["sessions"].sum()) == app_db.scalar(
        """SELECT count(*) FROM telemetry.charge_sessions s JOIN devices d USING (device_id)
           WHERE d.dealer_id = :d AND s.start_time >= now() - INTERVAL '30 days'""", d=lucknow.dealer_id) > 0

    # The whole fleet's top ten by distance are the ten largest sums, and its dealers are all there.
    whole = trips.top_usage(app_db, MANAGER, 30)
    by_km = whole[whole["km_rank"].notna()].sort_values("km_rank")
    direct = app_db.query(
        """SELECT device_id, sum(distance_km) AS km FROM telemetry.trips
           WHERE start_time >= (CAST((now() AT TIME ZONE 'Asia/Kolkata')::date - 30 AS timestamp)
                                AT TIME ZONE 'Asia/Kolkata')
           GROUP BY device_id ORDER BY km DESC, device_id LIMIT 10""")
    assert by_km["device_id"].tolist() == [r["device_id"] for r in direct]
    assert by_km["km"].astype(float).round(3).tolist() == [round(float(r["km"]), 3) for r in direct]
    fleet_dealers = trips.dealer_efficiency(app_db, MANAGER, 30)
    assert set(fleet_dealers["dealer_code"]) == {"LKO01", "DEL01", "JAI01", "PAT01"}
    row = fleet_dealers.set_index("dealer_code").loc["LKO01"]
    assert float(row["km_per_kwh"]) == pytest.approx(float(dealers.iloc[0]["km_per_kwh"]))


# -- a fleet of known trips ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def known(server_url):
    """Eight batteries of four dealers with trips, energy and charge sessions of chosen values."""
    url = migrated(database.ensure_database(server_url, f"bfm_test_trips_known{DB_SUFFIX}", drop_first=True),
                   storage.POSTGRES)
    db = database.Database(url)
    vehicles = demo.fleet(size=8)
    demo.seed_registry(db, vehicles)
    today = trips.today(db)
    ids = [v.device_id for v in vehicles]   # dealers in turn: LKO01, DEL01, JAI01, PAT01, LKO01, ...

    def trip(device, day, km):
        return {"device_id": device, "start_time": ist_midnight(day), "end_time": ist_midnight(day + timedelta(days=1)),
                "start_odometer": None, "end_odometer": None, "distance_km": km, "start_latitude": None,
                "start_longitude": None, "end_latitude": None, "end_longitude": None, "last_ign_on": None,
                "last_ign_off": None}

    def energy(device, day, kwh):
        return {"device_id": device, "start_time": ist_midnight(day), "end_time": ist_midnight(day + timedelta(days=1)),
                "energy_used_kwh": kwh, "start_soc": 100.0, "end_soc": 40.0, "last_ign_on": None,
                "last_ign_off": None, "charging_events": []}

    yesterday = today - timedelta(days=1)
    # Over the last 7 days: battery 0 drives 2 km on almost no energy (200 km/kWh: noise), 1 does 20,
    # 2 does 25 and 3 does 10 km/kWh; 4 drives far with no energy recorded; 5 uses energy but never
    # drives. Battery 6 has 150 short days for the paging; battery 7 only a day long ago.
    rows_trips = [trip(ids[0], yesterday, 2.0), trip(ids[1], yesterday, 60.0), trip(ids[2], yesterday, 100.0),
                  trip(ids[3], yesterday, 80.0), trip(ids[4], yesterday, 500.0),
                  trip(ids[7], today - timedelta(days=200), 70.0)]
    rows_energy = [energy(ids[0], yesterday, 0.01), energy(ids[1], yesterday, 3.0), energy(ids[2], yesterday, 4.0),
                   energy(ids[3], yesterday, 8.0), energy(ids[5], yesterday, 5.0)]
    rows_trips += [trip(ids[6], today - timedelta(days=n), 1.0 + n / 100) for n in range(1, 151)]
    telemetry.store(db, trips=rows_trips, energy=rows_energy)
    # Charge sessions: two plugged in at 07:xx IST from 30 % and 50 %, one at 22:xx from 80 % (dealer
    # DEL01), one with no starting SOC, and one long before the period.
    sessions = [(ids[0], yesterday, 7, 30.0), (ids[4], yesterday, 7, 50.0), (ids[1], yesterday, 22, 80.0),
                (ids[2], yesterday, 13, None), (ids[0], today - timedelta(days=60), 7, 5.0)]
    for device, day, hour, soc in sessions:
        start = ist_midnight(day) + timedelta(hours=hour, minutes=20)
        db.execute("""INSERT INTO telemetry.charge_sessions (device_id, start_time, end_time, soc_start, soc_end)
                      VALUES (:d, :s, :e, :soc, 100)""", d=device, s=start, e=start + timedelta(hours=2), soc=soc)
    yield {"db": db, "ids": ids, "today": today, "vehicles": vehicles}
    db.dispose()


def test_km_per_kwh_leaves_out_batteries_that_barely_drove(known):
    db, ids = known["db"], known["ids"]
    eff = trips.battery_efficiency(db, MANAGER, 7, min_km=50)
    assert eff["best"]["device_id"].tolist() == [ids[2], ids[1], ids[3]]
    assert eff["worst"]["device_id"].tolist() == [ids[3], ids[1], ids[2]]
    assert eff["best"]["km_per_kwh"].round(6).tolist() == [25.0, 20.0, 10.0]
    assert (eff["ranked"], eff["short"]) == (3, 1), "the 2 km battery is counted apart, not ranked"
    assert float(eff["km_per_kwh"]) == pytest.approx((2 + 60 + 100 + 80) / (0.01 + 3 + 4 + 8), rel=1e-5)
    # The same battery tops the list once the minimum lets it in: the rule is what keeps it out.
    assert trips.battery_efficiency(db, MANAGER, 7, min_km=1)["best"]["device_id"].tolist()[0] == ids[0]
    # A dealer sees its own batteries only: LKO01 holds battery 0 (too short) and 4 (no energy).
    lucknow = trips.battery_efficiency(db, dealer_scope(db, "LKO01"), 7, min_km=50)
    assert lucknow["best"].empty and (lucknow["ranked"], lucknow["short"]) == (0, 1)
    note = trips_page.efficiency_note(eff, 7)
    assert "1 with less than 50 km are left out" in note and "3 batteries ranked" in note


def test_usage_ranks_distance_and_energy_apart(known):
    db, ids = known["db"], known["ids"]
    top = trips.top_usage(db, MANAGER, 7, limit=3)
    by_km = top[top["km_rank"].notna()].sort_values("km_rank")
    by_kwh = top[top["kwh_rank"].notna()].sort_values("kwh_rank")
    assert by_km["device_id"].tolist() == [ids[4], ids[2], ids[3]]
    assert by_kwh["device_id"].tolist() == [ids[3], ids[5], ids[2]]
    row = top.set_index("device_id")
    assert float(row.loc[ids[4], "kwh"]) == 0 and pd.isna(row.loc[ids[4], "km_per_kwh"])
    assert float(row.loc[ids[5], "km"]) == 0
    # The 200-day-old trip is outside even the 90-day period.
    assert ids[7] not in set(trips.top_usage(db, MANAGER, 90)["device_id"])
    assert ids[7] in set(trips.top_usage(db, MANAGER, 366)["device_id"])
    table = trips_page.create_usage_table(top, "km", 7, show_dealer=True)
    assert table.id == "trips-top-km-table" and len(table.children[1].children) == 3


def test_dealer_ranking_is_weighted_by_distance(known):
    db = known["db"]
    frame = trips.dealer_efficiency(db, MANAGER, 7).set_index("dealer_code")
    # LKO01: battery 0 (2 km, 0.01 kWh); DEL01: battery 1 (60 km, 3 kWh); JAI01: 100/4; PAT01: 80/8.
    assert frame["km_per_kwh"].astype(float).round(4).to_dict() == {
        "LKO01": 200.0, "JAI01": 25.0, "DEL01": 20.0, "PAT01": 10.0}
    assert trips.dealer_efficiency(db, dealer_scope(db, "DEL01"), 7)["dealer_code"].tolist() == ["DEL01"]


def test_charging_hours_count_sessions_and_mean_depth_in_scope(known):
    db = known["db"]
    hours = trips.charging_by_hour(db, MANAGER, 7).set_index("hour")
    assert hours["sessions"].to_dict() == {7: 2, 13: 1, 22: 1}
    assert float(hours.loc[7, "mean_dod"]) == pytest.approx(60.0)   # 100 − mean(30, 50)
    assert int(hours.loc[13, "with_soc"]) == 0 and pd.isna(hours.loc[13, "mean_dod"])
    assert trips.charging_by_hour(db, MANAGER, 90)["sessions"].sum() == 5
    delhi = trips.charging_by_hour(db, dealer_scope(db, "DEL01"), 7)
    assert delhi[["hour", "sessions"]].to_dict("records") == [{"hour": 22, "sessions": 1}]
    figure = trips_page.plug_in_depth_figure(trips.charging_by_hour(db, MANAGER, 7), 7)
    assert list(figure.data[0].x) == [7, 22] and list(figure.data[0].y) == [60.0, 20.0]
    starts = trips_page.charging_starts_figure(trips.charging_by_hour(db, MANAGER, 7), 7)
    assert len(starts.data[0].y) == 24 and sum(starts.data[0].y) == 4


def _all_pages(db, scope, filt, size, **kw) -> list[dict]:
    rows, offset = [], 0
    while True:
        page = trips.history(db, scope, filt, offset=offset, limit=size, **kw)
        rows += page
        if len(page) < size:
            return rows
        offset += size


def test_history_pages_on_the_server_without_gaps_or_repeats(known):
    db, ids = known["db"], known["ids"]
    total = db.scalar("SELECT count(*) FROM telemetry.trips")
    assert trips.history_totals(db, MANAGER)["trips"] == total == 156
    paged = _all_pages(db, MANAGER, trips.NO_FILTER, 40)
    assert len(paged) == total and len({r["id"] for r in paged}) == total
    assert [r["start_time"] for r in paged] == sorted((r["start_time"] for r in paged), reverse=True)
    assert len(trips.history(db, MANAGER, offset=140, limit=40)) == total - 140
    by_efficiency = trips.history(db, MANAGER, sort="km_per_kwh", descending=True, limit=200)
    assert [r["device_id"] for r in by_efficiency[:4]] == [ids[0], ids[2], ids[1], ids[3]]
    assert all(r["km_per_kwh"] is None for r in by_efficiency[4:]), "trips without energy sort last"
    ascending = trips.history(db, MANAGER, sort="distance_km", descending=False, limit=1)
    assert ascending[0]["distance_km"] == pytest.approx(1.01)
    # An unknown sort is the default order, never SQL.
    assert trips.history(db, MANAGER, sort="1; DROP TABLE devices", limit=3) == trips.history(db, MANAGER, limit=3)


def test_history_filters_by_text_dealer_and_ist_days(known):
    db, ids, today, vehicles = known["db"], known["ids"], known["today"], known["vehicles"]
    plate = vehicles[2].vehicle_number   # "RJ14AB1002": typed lower case with spaces and a dash
    typed = f"{plate[:4]} {plate[4:6]}-{plate[6:]}".lower()
    assert {r["device_id"] for r in trips.history(db, MANAGER, TripFilter(text=typed))} == {ids[2]}
    assert {r["device_id"] for r in trips.history(db, MANAGER, TripFilter(text=ids[6][-4:]))} == {ids[6]}
    assert trips.history(db, MANAGER, TripFilter(text="%")) == []
    assert {r["dealer_code"] for r in trips.history(db, MANAGER, TripFilter(dealer_code="PAT01"))} == {"PAT01"}

    # IST days, both ends included: a trip starting at IST midnight belongs to that day.
    day = today - timedelta(days=10)
    one_day = trips.history(db, MANAGER, TripFilter(since=day, until=day))
    assert [(r["device_id"], r["day"]) for r in one_day] == [(ids[6], day)]
    week = TripFilter(since=today - timedelta(days=7), until=today - timedelta(days=1))
    assert trips.history_totals(db, MANAGER, week)["trips"] == 7 + 5
    assert trips.history_totals(db, MANAGER, TripFilter(until=today - timedelta(days=151)))["trips"] == 1

    # A dealer asking for another dealer, or another dealer's vehicle, gets nothing of it.
    lucknow = dealer_scope(db, "LKO01")
    assert trips.history(db, lucknow, TripFilter(dealer_code="JAI01")) == []
    assert trips.history(db, lucknow, TripFilter(text=plate)) == []
    assert trips.history_totals(db, lucknow, TripFilter(text=ids[2]))["trips"] == 0
    assert {r["dealer_code"] for r in trips.history(db, lucknow, limit=500)} == {"LKO01"}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_history_file_holds_every_matching_trip(known, kind):
    db, ids, today = known["db"], known["ids"], known["today"]
    filt = TripFilter(since=today - timedelta(days=120), until=today)
    expected = trips.history_totals(db, MANAGER, filt)["trips"]
    assert expected > trips_page.BLOCK, "more rows than one page of the grid"
    sent = table_file(trips_page.history_frame(trips.export_history(db, MANAGER, filt)), kind, "trips")
    raw = base64.b64decode(sent["content"]) if sent["base64"] else sent["content"].encode()
    frame = pd.read_excel(io.BytesIO(raw)) if kind == "xlsx" else pd.read_csv(io.StringIO(raw.decode()))
    assert len(frame) == expected
    assert list(frame.columns) == trips_page.EXPORT_COLUMNS
    assert frame["Distance km"].sum() == pytest.approx(db.scalar(
        "SELECT sum(distance_km) FROM telemetry.trips WHERE start_time >= :s", s=ist_midnight(filt.since)), rel=1e-5)
    assert ids[7] not in set(frame["Device"])
    efficient = frame.set_index("Device").loc[ids[2]]
    assert float(efficient["km per kWh"]) == pytest.approx(25.0)


def test_on_a_monday_and_a_first_the_week_and_month_say_why_they_are_empty():
    monday_first = {"today": date(2026, 6, 1), "week_start": date(2026, 6, 1), "month_start": date(2026, 6, 1),
                    "days_week": 0, "days_month": 0, "today_km": None, "yesterday_km": 812.5, "yesterday_trips": 9,
                    "week_km": 0, "month_km": 0, "week_trips": 0, "month_trips": 0}
    cards = {c.id: (c.children[0].children, c.children[1].children, c.children[2].children)
             for c in trips_page.create_distance_kpis(monday_first)}
    assert cards["trips-kpi-week"][1:] == ("—", "The week began today: its km arrive after midnight IST")
    assert cards["trips-kpi-month"][1] == "—" and cards["trips-kpi-month"][0] == "This month, June"
    assert cards["trips-kpi-yesterday"] == ("Yesterday, Sun 31 May", "812 km", "9 batteries drove · 90 km each")
    tuesday = dict(monday_first, today=date(2026, 6, 2), days_week=1, days_month=1, week_km=812.5, week_trips=9)
    week = next(c for c in trips_page.create_distance_kpis(tuesday) if c.id == "trips-kpi-week")
    assert (week.children[1].children, week.children[2].children) == ("812 km", "Mon 1 Jun · 9 battery-days")


def test_an_empty_fleet_gets_words_not_errors(plain_db):
    demo.seed_registry(plain_db, demo.fleet(size=2))
    summary = trips.distance_summary(plain_db, MANAGER)
    assert summary["today_km"] is None and float(summary["week_km"]) == 0 and summary["yesterday_trips"] == 0
    cards = trips_page.create_distance_kpis(summary)
    assert cards[1].children[1].children == "0 km" and "no trips" in cards[1].children[2].children
    assert trips.top_usage(plain_db, MANAGER, 30).empty
    eff = trips.battery_efficiency(plain_db, MANAGER, 30)
    assert eff["best"].empty and eff["worst"].empty and eff["ranked"] == 0
    assert "No day" in trips_page.efficiency_note(eff, 30)
    assert trips.history(plain_db, MANAGER) == [] and trips.history_totals(plain_db, MANAGER)["trips"] == 0
    empty = trips_page.create_usage_table(trips.top_usage(plain_db, MANAGER, 30), "km", 30, True)
    assert empty.className == "empty-state"
    figure = trips_page.charging_starts_figure(trips.charging_by_hour(plain_db, MANAGER, 30), 30)
    assert figure.layout.annotations[0].text.startswith("No charge session")


# -- the page's callbacks over HTTP: bad input gets words, a dealer's filters do not widen its scope ---------
COUNT_KEY = ("..trips-history-count.children...trips-history-message.children...trips-history-box.className"
             "...trips-history-empty.children..")
GRID_KEY = "trips-grid.getRowsResponse"


def _call(dash_app, client, key, values) -> dict:
    response = client.post("/_dash-update-component", json=_payload(dash_app, key, values))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return json.loads(response.get_data())["response"]


def test_bad_filters_get_a_clear_message_and_no_rows(dash_app, client):
    login(client, "manager")
    cases = [({"trips-dates.start_date": "2026-11-20", "trips-dates.end_date": "2026-11-10"}, "swap them"),
             ({"trips-dates.start_date": "yesterday"}, "“From” is not a date"),
             ({"trips-text.value": "x" * 500}, "up to 50 printable characters"),
             ({"trips-text.value": ["UP32"]}, "up to 50 printable characters"),
             ({"trips-dealer.value": {"id": 1}}, "Choose the dealer from the list")]
    for values, words in cases:
        answer = _call(dash_app, client, COUNT_KEY, values)
        assert words in answer["trips-history-message"]["children"], (values, answer)
        assert "is-empty" in answer["trips-history-box"]["className"]
        grid = _call(dash_app, client, GRID_KEY, dict(values, **{"trips-grid.getRowsRequest": {"startRow": 0,
                                                                                                 "endRow": 100}}))
        assert grid["trips-grid"]["getRowsResponse"]["rowData"] == []
    fine = _call(dash_app, client, COUNT_KEY, {})
    assert fine["trips-history-message"]["children"] == "" and " trips · " in fine["trips-history-count"]["children"]


def test_a_dealers_filters_cannot_reach_another_dealer(dash_app, client, app_db):
    login(client, "dealer1")
    other = app_db.one("""SELECT d.device_id, d.vehicle_number FROM devices d JOIN dealers dl ON dl.id = d.dealer_id
                          WHERE dl.code = 'DEL01' ORDER BY d.device_id LIMIT 1""")
    request = {"trips-grid.getRowsRequest": {"startRow": 0, "endRow": 500}}
    own = _call(dash_app, client, GRID_KEY, request)["trips-grid"]["getRowsResponse"]
    owners = {r["device_id"]: r["code"] for r in app_db.query(
        "SELECT d.device_id, dl.code FROM devices d JOIN dealers dl ON dl.id = d.dealer_id")}
    assert own["rowCount"] > 0 and {owners[r["device_id"]] for r in own["rowData"]} == {"LKO01"}
    # Naming the other dealer is ignored for a dealer: the same rows as without it, never DEL01's.
    named = _call(dash_app, client, GRID_KEY, dict(request, **{"trips-dealer.value": "DEL01"}))
    assert named["trips-grid"]["getRowsResponse"]["rowCount"] == own["rowCount"]
    for text in (other["device_id"], other["vehicle_number"]):
        answer = _call(dash_app, client, GRID_KEY, dict(request, **{"trips-text.value": text}))
        assert answer["trips-grid"]["getRowsResponse"]["rowData"] == []
