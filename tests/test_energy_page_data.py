"""The energy page and the site power panel against the real database (the ``app_db`` demo fleet, with
its faulty charger at the Lucknow hub and its mis-mapped meter at the Delhi depot).

The figures the page computes itself (the fleet's daily efficiency, which groups the chart draws) are
checked against direct SQL; its callbacks are called over HTTP as a manager and as dealers: filters
narrow and never widen, bad input gets words not errors, and the files hold every matching row.
"""
from __future__ import annotations

import base64
import io
import json
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from components import energy_page as page
from conftest import login
from data import demo, energy
from data.scope import Scope
from ingest.readings import IST

SESSIONS_KEY = ("..energy-sessions-grid.rowData...energy-sessions-count.children...energy-sessions-message.children"
                "...energy-sessions-box.className...energy-sessions-empty.children..")


@pytest.fixture(scope="module")
def scopes(app_db) -> dict[str, Scope]:
    ids = {r["code"]: r["id"] for r in app_db.query("SELECT id, code FROM dealers")}
    return {"manager": Scope("manager"), "dealer1": Scope("dealer", dealer_id=ids["LKO01"]),
            "dealer2": Scope("dealer", dealer_id=ids["DEL01"])}


def _window(days: int = 7) -> tuple[datetime, datetime]:
    today = datetime.now(IST).date()
    return (datetime.combine(today - timedelta(days=days - 1), datetime.min.time(), IST),
            datetime.combine(today + timedelta(days=1), datetime.min.time(), IST))


def _dealer_sql(scope: Scope) -> str:
    return "TRUE" if scope.whole_fleet else f"d.dealer_id = {int(scope.dealer_id)}"


# -- what the page computes -----------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["manager", "dealer1", "dealer2"])
def test_the_fleet_line_is_the_scopes_own_daily_efficiency(app_db, scopes, role):
    scope = scopes[role]
    start, end = _window()
    line = page.fleet_daily(energy.daily_efficiency(app_db, scope, "site", start, end))
    truth = app_db.frame(f"""SELECT (cs.start_time AT TIME ZONE 'Asia/Kolkata')::date AS day,
                                    sum(cs.energy_kwh) / sum(cs.ac_kwh) AS efficiency, sum(cs.ac_kwh) AS ac_kwh
                             FROM telemetry.charge_sessions cs JOIN devices d USING (device_id)
                             WHERE NOT cs.is_open AND cs.ac_kwh IS NOT NULL AND cs.start_time >= :start
                               AND cs.start_time < :end AND {_dealer_sql(scope)}
                             GROUP BY 1 ORDER BY 1""", start=start, end=end)
    assert len(truth) >= 2, "the demo has days of metered charging"
    assert list(line["day"]) == list(truth["day"])
    assert line["efficiency"].tolist() == pytest.approx(truth["efficiency"].tolist(), rel=1e-6)
    assert line["ac_kwh"].tolist() == pytest.approx(truth["ac_kwh"].tolist(), rel=1e-6)


def test_the_chart_draws_the_faulty_charger_and_the_mismapped_meter_first(app_db, scopes):
    start, end = _window()
    ids = {r["serial"]: r["id"] for r in app_db.query("SELECT id, serial FROM equipment WHERE kind = 'charger'")}
    mismapped = app_db.scalar("""SELECT DISTINCT charger_id FROM telemetry.charge_sessions
                                 WHERE efficiency_flag = 'high'""")
    for role, expected, absent in (("manager", {ids[demo.faulty_charger()], mismapped}, set()),
                                   ("dealer1", {ids[demo.faulty_charger()]}, {mismapped}),
                                   ("dealer2", {mismapped}, {ids[demo.faulty_charger()]})):
        scope = scopes[role]
        ranking = energy.efficiency_by(app_db, scope, "charger", start, end, tariff=8.0)
        keys = page.worst_keys(ranking, energy.totals(app_db, scope, start, end, tariff=8.0)["efficiency"])
        assert len(keys) == min(page.MAX_LINES, int(ranking["key"].notna().sum()))
        assert set(keys[:len(expected)]) == expected, (role, keys)
        assert not absent & set(keys)
        assert all(isinstance(k, int) for k in keys), "keys go to the driver as plain ints"


def test_money_reads_as_an_indian_reader_expects():
    assert page.rupees(163.4) == "₹163"
    assert page.rupees(163389.2) == "₹1,63,389"
    assert page.rupees(12345678.9) == "₹1,23,45,679"
    assert page.rupees(8, 2) == "₹8.00"
    assert page.rupees(None) == "—"
    assert page.money_value(320_000)[0] == "₹3.2" and page.money_value(320_000)[1].children == " lakh"
    assert page.money_value(14_000_000)[1].children == " crore"


# -- the callbacks, over HTTP ---------------------------------------------------------------------------
def _payload(app, key: str, values: dict) -> dict:
    """The request the browser sends; the triggering input is the button clicked, if any, else the first."""
    spec = app.callback_map[key]
    clicked = [k for k in values if k.endswith(".n_clicks")]
    outputs = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in key.strip(".").split("...")]
    fill = [{"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")}
            for i in spec["inputs"]]
    state = [{"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")}
             for i in spec.get("state", [])]
    return {"output": key, "outputs": outputs if len(outputs) > 1 else outputs[0], "inputs": fill, "state": state,
            "changedPropIds": clicked[:1] or [f"{spec['inputs'][0]['id']}.{spec['inputs'][0]['property']}"]}


def _call(dash_app, client, key: str, values: dict) -> tuple[dict, str]:
    response = client.post("/_dash-update-component", json=_payload(dash_app, key, values))
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body[:300]
    return json.loads(body)["response"], body


def _sessions(dash_app, client, **filters) -> tuple[list[dict], str]:
    today = datetime.now(IST).date()
    values = {"energy-flag.value": "all", "energy-dates.start_date": (today - timedelta(days=6)).isoformat(),
              "energy-dates.end_date": today.isoformat()}
    values.update(filters)
    response, _ = _call(dash_app, client, SESSIONS_KEY, values)
    return response["energy-sessions-grid"]["rowData"], response["energy-sessions-message"]["children"]


def _site_sessions(app_db, code: str, dealer: str | None = None) -> int:
    start, _end = _window()
    return app_db.scalar("""SELECT count(*) FROM telemetry.charge_sessions cs JOIN sites s ON s.id = cs.site_id
                            JOIN devices d USING (device_id) JOIN dealers dl ON dl.id = d.dealer_id
                            WHERE s.code = :code AND NOT cs.is_open AND cs.start_time >= :start
                              AND (CAST(:dealer AS text) IS NULL OR dl.code = :dealer)""",
                         code=code, start=start, dealer=dealer)


def test_a_dealer_naming_another_dealers_site_gets_a_message_and_no_sessions(dash_app, client, app_db):
    hub = app_db.one("SELECT code, name FROM sites WHERE code = 'LKO01-HUB'")
    assert login(client, "manager").status_code == 302
    rows, message = _sessions(dash_app, client, **{"energy-site.value": hub["code"]})
    assert len(rows) == _site_sessions(app_db, hub["code"]) > 0 and not message
    assert {r["site"] for r in rows} == {hub["name"]}

    dealer2 = dash_app.server.test_client()
    assert login(dealer2, "dealer2").status_code == 302
    for code in (hub["code"], hub["code"].lower(), f" {hub['code']} "):
        rows, message = _sessions(dash_app, dealer2, **{"energy-site.value": code})
        assert rows == [] and "not one of yours" in message, (code, message)
    _, body = _call(dash_app, dealer2, SESSIONS_KEY, {"energy-site.value": hub["code"], "energy-flag.value": "all"})
    assert "LKO01" not in body and hub["name"] not in body

    own = app_db.one("SELECT code FROM sites WHERE code = 'DEL01-DEPOT'")
    rows, message = _sessions(dash_app, dealer2, **{"energy-site.value": own["code"]})
    assert len(rows) == _site_sessions(app_db, own["code"], "DEL01") > 0 and not message


def test_the_low_filter_finds_only_the_faulty_charger(dash_app, client, app_db):
    start, _end = _window()
    low = app_db.scalar("""SELECT count(*) FROM telemetry.charge_sessions
                           WHERE efficiency_flag = 'low' AND start_time >= :start AND NOT is_open""", start=start)
    for role, expected in (("manager", low), ("dealer1", low), ("dealer2", 0)):
        c = dash_app.server.test_client()
        assert login(c, role).status_code == 302
        rows, message = _sessions(dash_app, c, **{"energy-flag.value": "low"})
        assert len(rows) == expected and not message, role
        assert {r["charger"] for r in rows} <= {demo.faulty_charger()}
        assert all(r["efficiency_flag"] == "low" and r["efficiency"] < 85 for r in rows)


@pytest.mark.parametrize("filters, words", [
    ({"energy-dates.start_date": "2026-12-05", "energy-dates.end_date": "2026-12-01"}, "swap them"),
    ({"energy-dates.start_date": "not a day"}, "“From” is not a date"),
    ({"energy-dates.end_date": 5}, "“To” is not a date"),
    ({"energy-flag.value": "everything"}, "Choose the flag"),
    ({"energy-vehicle.value": "x" * 500}, "up to 30 printable characters"),
    ({"energy-site.value": ["LKO01-HUB"]}, "not one of yours"),
])
def test_bad_filters_get_words_not_errors(dash_app, client, filters, words):
    assert login(client, "manager").status_code == 302
    rows, message = _sessions(dash_app, client, **filters)
    assert rows == [] and words in message, message


def _file(response: dict, key: str) -> pd.DataFrame:
    data = response[key]["data"]
    if data.get("base64"):
        return pd.read_excel(io.BytesIO(base64.b64decode(data["content"])))
    return pd.read_csv(io.StringIO(data["content"]))


def test_the_session_file_holds_every_matching_session_in_scope(dash_app, client, app_db):
    start, _end = _window()
    today = datetime.now(IST).date()
    dates = {"energy-dates.start_date": (today - timedelta(days=6)).isoformat(),
             "energy-dates.end_date": today.isoformat()}
    owners = {r["device_id"]: r["code"] for r in app_db.query(
        "SELECT d.device_id, dl.code FROM devices d JOIN dealers dl ON dl.id = d.dealer_id")}
    for role, dealer in (("manager", None), ("dealer1", "LKO01")):
        c = dash_app.server.test_client()
        assert login(c, role).status_code == 302
        for flag, kind in (("all", "csv"), ("flagged", "xlsx")):
            response, _ = _call(dash_app, c, "energy-sessions-download.data",
                                dict(dates, **{"energy-flag.value": flag, f"energy-sessions-export-{kind}.n_clicks": 1}))
            frame = _file(response, "energy-sessions-download")
            expected = app_db.scalar("""SELECT count(*) FROM telemetry.charge_sessions cs JOIN devices d USING (device_id)
                                        JOIN dealers dl ON dl.id = d.dealer_id
                                        WHERE NOT cs.is_open AND cs.start_time >= :start
                                          AND (CAST(:dealer AS text) IS NULL OR dl.code = :dealer)
                                          AND (:flag = 'all' OR cs.efficiency_flag IS NOT NULL)""",
                                     start=start, dealer=dealer, flag=flag)
            assert len(frame) == expected > 0, (role, flag)
            assert {"Start (IST)", "Vehicle", "Site", "Charger", "Meter", "AC kWh", "Efficiency", "Flag"} <= set(frame)
            if dealer:
                assert {owners[d] for d in frame["Device"]} == {dealer}


def test_the_ranking_file_is_the_chosen_grouping_at_the_tariff(dash_app, client, app_db, scopes):
    assert login(client, "manager").status_code == 302
    response, _ = _call(dash_app, client, "energy-ranking-download.data",
                        {"energy-period.value": "7d", "energy-rank-group.value": "charger",
                         "energy-ranking-export-csv.n_clicks": 1})
    frame = _file(response, "energy-ranking-download")
    start, end = _window()
    truth = energy.efficiency_by(app_db, scopes["manager"], "charger", start, end, 8.0)
    assert len(frame) == len(truth) and frame["Charger (or meter)"].iloc[0] == demo.faulty_charger()
    assert frame["Loss INR"].sum() == pytest.approx(frame["Loss kWh"].sum() * 8.0, rel=1e-6)

    dealer = dash_app.server.test_client()
    login(dealer, "dealer1")
    response, _ = _call(dash_app, dealer, "energy-ranking-download.data",
                        {"energy-period.value": "7d", "energy-rank-group.value": "dealer",
                         "energy-ranking-export-csv.n_clicks": 1})
    frame = _file(response, "energy-ranking-download")
    assert "Dealer" not in frame and "Site" in frame, "a dealer gets no dealer ranking: the sites instead"
    assert set(frame["Site"]) <= {r["name"] for r in app_db.query(
        "SELECT s.name FROM sites s JOIN dealers dl ON dl.id = s.dealer_id WHERE dl.code = 'LKO01'")} | {"No site"}


def test_the_site_power_panel_is_for_sites_with_site_power_in_scope(dash_app, client, app_db):
    def panel(c, code):
        response, body = _call(dash_app, c, "site-power.children", {"site-code.data": code})
        return response["site-power"]["children"], body

    assert login(client, "manager").status_code == 302
    hub, body = panel(client, "LKO01-HUB")
    assert hub is not None and "site-power-chart" in body and "site-energy-days" in body
    assert app_db.scalar("""SELECT count(*) FROM telemetry.site_power p JOIN sites s ON s.id = p.site_id
                            WHERE s.code = 'LKO01-DEPOT'""") == 0
    assert panel(client, "LKO01-DEPOT")[0] is None, "no site power, no panel"

    dealer2 = dash_app.server.test_client()
    login(dealer2, "dealer2")
    assert panel(dealer2, "LKO01-HUB")[0] is None, "another dealer's hub is not found"
    assert panel(dealer2, "DEL01-HUB")[0] is not None


def test_times_are_indian_wall_clock_times():
    frame = pd.DataFrame({"time": [datetime(2026, 12, 7, 18, 30, tzinfo=timezone.utc)], "solar_kw": [1.0],
                          "grid_kw": [-2.0], "load_kw": [3.0], "storage_kw": [0.5], "storage_soc": [50.0]})
    from components.site_page import site_power_figure
    figure = site_power_figure(frame, 48)
    assert str(pd.Timestamp(figure.data[0].x[0])) == "2026-12-08 00:00:00"


def test_nothing_in_range_is_an_empty_state_not_an_empty_panel():
    limits = {"low": 0.85, "high": 1.0}
    parts = {"cards": page.create_energy_kpis({"sessions": 0}, 8.0, limits, 30)[0],
             "chart": page.create_trend(None, 30), "ranking": page.create_ranking(pd.DataFrame(), "site", 30),
             "sessions": page.sessions_empty(True)}
    for name, part in parts.items():
        assert part.className == "empty-state", name
        message = part.children[0].children
        assert ("30 days" in message) if name != "sessions" else ("match" in message), (name, message)
