"""Sites, equipment and maintenance on a real database: the demo's sites, the locations grid within
each scope, the forms' checks, stale edits, the audit log, and the import of sites and equipment by
the command line and the page alike."""
from __future__ import annotations

import base64
import io
import json
from datetime import timedelta

import pandas as pd
import pytest

from conftest import login
from import_support import cli_rows, page_rows, texts
from data import audit, device_admin, device_import, equipment, site_import, sites
from data.scope import Scope

ENGINEER = Scope(role="engineer", actor="engineer", address="127.0.0.1")
MANAGER = Scope(role="manager", actor="manager")
IMPORT_KEY = "..sites-import-preview.children...sites-import-apply.disabled...sites-imported.data.."
PREVIEW = IMPORT_KEY.strip(".").split(".")[0]


@pytest.fixture(scope="module")
def dealers(app_db):
    return {r["code"]: r["id"] for r in app_db.query("SELECT code, id FROM dealers")}


@pytest.fixture(scope="module", autouse=True)
def restore(app_db):
    """Whatever these tests add is removed afterwards, so the other modules see the demo's sites."""
    audit_before = app_db.scalar("SELECT coalesce(max(id), 0) FROM audit_log")
    placed = app_db.query("SELECT device_id, site_id, updated_at FROM devices")
    kept = app_db.query("SELECT code, name, address, latitude, longitude, dealer_id, updated_at FROM sites")
    kit = app_db.query("SELECT serial, status, rating, updated_at FROM equipment")
    yield
    app_db.execute("""DELETE FROM maintenance_records WHERE recorded_by IS DISTINCT FROM 'demo'""")
    app_db.execute("UPDATE devices SET site_id = NULL WHERE site_id IN (SELECT id FROM sites WHERE code LIKE 'T-%')")
    app_db.execute("DELETE FROM equipment WHERE serial LIKE 'T-%'")
    app_db.execute("DELETE FROM sites WHERE code LIKE 'T-%'")
    for r in kept:
        app_db.execute("""UPDATE sites SET name = :name, address = :address, latitude = :latitude, longitude = :longitude,
                                 dealer_id = :dealer_id, updated_at = :updated_at WHERE code = :code""", **r)
    for r in kit:
        app_db.execute("UPDATE equipment SET status = :status, rating = :rating, updated_at = :updated_at "
                       "WHERE serial = :serial", **r)
    for r in placed:
        app_db.execute("UPDATE devices SET site_id = :site_id, updated_at = :updated_at WHERE device_id = :device_id", **r)
    app_db.execute("DELETE FROM audit_log WHERE id > :id", id=audit_before)


def dealer_scope(dealer_id: int) -> Scope:
    return Scope(role="dealer", dealer_id=dealer_id, actor="dealer1")


# -- the demo's sites and the locations grid -------------------------------------------------------------
def test_every_demo_battery_is_based_at_one_of_its_own_dealers_sites(app_db):
    assert app_db.scalar("SELECT count(*) FROM sites") == 12
    wrong = app_db.query("""SELECT d.device_id FROM devices d JOIN sites s ON s.id = d.site_id
                            WHERE s.dealer_id <> d.dealer_id""")
    assert wrong == []
    assert app_db.scalar("SELECT count(*) FROM devices WHERE site_id IS NULL") == 0
    kinds = app_db.query("SELECT kind, count(*) AS n FROM equipment GROUP BY kind ORDER BY kind")
    assert {r["kind"] for r in kinds} == set(equipment.KINDS)
    overdue = app_db.scalar(f"""SELECT count(*) FROM equipment e JOIN LATERAL (
                                   SELECT next_due FROM maintenance_records WHERE equipment_id = e.id
                                   ORDER BY done_on DESC LIMIT 1) m ON true WHERE m.next_due < {sites.TODAY}""")
    assert overdue > 0, "the demo shows some service overdue"


def test_the_locations_grid_counts_each_battery_once_within_each_scope(app_db, dealers):
    everything = sites.locations(app_db, MANAGER)
    assert len(everything) == 12
    active = app_db.scalar("SELECT count(*) FROM devices WHERE is_active AND site_id IS NOT NULL")
    assert sum(r["batteries"] for r in everything) == active
    for r in everything:
        assert r["ok"] + r["warning"] + r["critical"] + r["offline"] == r["batteries"], r["code"]
    critical = app_db.scalar("""SELECT count(DISTINCT a.device_id) FROM alerts a JOIN devices d USING (device_id)
                                WHERE a.resolved_at IS NULL AND a.severity = 'critical' AND d.is_active""")
    assert sum(r["critical"] for r in everything) >= critical > 0
    assert everything[0]["critical"] == max(r["critical"] for r in everything), "worst first"

    lucknow = sites.locations(app_db, dealer_scope(dealers["LKO01"]))
    assert {r["dealer_code"] for r in lucknow} == {"LKO01"} and len(lucknow) == 3
    assert sum(r["batteries"] for r in lucknow) == app_db.scalar(
        "SELECT count(*) FROM devices WHERE is_active AND dealer_id = :d", d=dealers["LKO01"])
    # A filter only narrows: the dealer asking for another dealer's sites gets none.
    assert sites.locations(app_db, dealer_scope(dealers["LKO01"]), sites.SiteFilter(dealer_code="DEL01")) == []
    assert [r["code"] for r in sites.locations(app_db, MANAGER, sites.SiteFilter(kind="depot", text="shahdara"))] \
        == ["DEL01-DEPOT"]
    assert len(sites.locations(app_db, MANAGER, sites.SiteFilter(climate_zone="hot_dry"))) == 3
    assert sites.locations(app_db, MANAGER, sites.SiteFilter(text="%")) == []


def test_a_sites_batteries_filter_by_status_and_stay_in_scope(app_db, dealers):
    hub = sites.one(app_db, MANAGER, "LKO01-HUB")
    counts, soh = sites.status_counts(app_db, MANAGER, hub["id"])
    every = sites.batteries(app_db, MANAGER, hub["id"])
    assert len(every) == sum(counts.values()) > 0 and soh is not None
    for status, n in counts.items():
        rows = sites.batteries(app_db, MANAGER, hub["id"], status)
        assert len(rows) == n and all(r["status"] == status for r in rows)
    assert sites.one(app_db, dealer_scope(dealers["DEL01"]), "LKO01-HUB") is None
    assert sites.batteries(app_db, dealer_scope(dealers["DEL01"]), hub["id"]) == []


# -- the site form ----------------------------------------------------------------------------------------
def _site(**kw) -> sites.SiteForm:
    values = dict(code="T-LKO-HUB9", name="Test hub", kind="charging_hub", dealer_code="LKO01", city="Lucknow",
                  climate_zone="composite", address="Ring Road", state="Uttar Pradesh", latitude="26.90",
                  longitude="80.95")
    values.update(kw)
    return sites.SiteForm(**values)


def test_the_site_form_says_what_is_wrong_per_field(app_db):
    with pytest.raises(sites.SiteFormError) as exc:
        sites.create(app_db, ENGINEER, _site(code="bad code!", name="", kind="castle", dealer_code="NOPE",
                                             climate_zone="arctic", latitude="80.95", longitude="26.90"))
    errors = exc.value.errors
    assert set(errors) == {"code", "name", "kind", "dealer_code", "climate_zone", "latitude", "longitude"}
    assert "swapped" in errors["latitude"] and "swapped" in errors["longitude"]
    with pytest.raises(sites.SiteFormError) as exc:
        sites.create(app_db, ENGINEER, _site(latitude="26.9", longitude=""))
    assert set(exc.value.errors) == {"longitude"}
    with pytest.raises(sites.SiteFormError) as exc:
        sites.create(app_db, ENGINEER, _site(code="LKO01-HUB"))
    assert "already" in exc.value.errors["code"]
    for who in (MANAGER, Scope(role="dealer", dealer_id=1), Scope(role="viewer")):
        with pytest.raises(sites.SiteFormError, match="Only engineers and admins"):
            sites.create(app_db, who, _site())
    assert app_db.scalar("SELECT count(*) FROM sites WHERE code LIKE 'T-%'") == 0


def test_site_changes_are_kept_stale_edits_refused_and_a_dealer_move_guarded(app_db):
    made = sites.create(app_db, ENGINEER, _site())
    assert made["latitude"] == 26.9 and made["dealer_code"] == "LKO01"
    changed = sites.update(app_db, ENGINEER, made["code"], made["updated_at"], _site(name="Test hub, renamed"))
    assert changed["name"] == "Test hub, renamed"
    with pytest.raises(sites.SiteFormError, match="changed by someone else"):
        sites.update(app_db, ENGINEER, made["code"], made["updated_at"], _site(name="Lost update"))
    lines = audit.history(app_db, "site", made["code"])
    assert [line["action"] for line in lines] == ["site.update", "site.create"]
    assert lines[0]["before"] == {"name": "Test hub"} and lines[0]["after"] == {"name": "Test hub, renamed"}
    assert lines[0]["actor"] == "engineer" and lines[0]["remote_addr"] == "127.0.0.1"

    hub = sites.one(app_db, MANAGER, "LKO01-HUB")
    with pytest.raises(sites.SiteFormError) as exc:
        sites.update(app_db, ENGINEER, "LKO01-HUB", hub["updated_at"],
                     _site(code="LKO01-HUB", name=hub["name"], dealer_code="DEL01"))
    assert "another dealer based here" in exc.value.errors["dealer_code"]


def test_a_device_is_based_only_at_a_site_of_its_own_dealer(app_db):
    row = app_db.one("""SELECT d.device_id FROM devices d JOIN dealers dl ON dl.id = d.dealer_id
                        WHERE dl.code = 'LKO01' ORDER BY d.device_id LIMIT 1""")
    current = device_admin.one(app_db, ENGINEER, row["device_id"])
    mapping = {k: current[k] for k in device_admin.Mapping.__dataclass_fields__}
    with pytest.raises(device_admin.DeviceFormError) as exc:
        device_admin.update(app_db, ENGINEER, row["device_id"], current["updated_at"],
                            device_admin.Mapping(**dict(mapping, site_code="DEL01-HUB")))
    assert set(exc.value.errors) == {"site_code"}
    moved = device_admin.update(app_db, ENGINEER, row["device_id"], current["updated_at"],
                                device_admin.Mapping(**dict(mapping, site_code="LKO01-DEPOT")))
    assert moved["site_code"] == "LKO01-DEPOT"
    # An import file made before sites existed (no site_code column) keeps the device's site.
    old = pd.DataFrame([{k: moved.get(k) or "" for k in device_import.COLUMNS if k != "site_code"}])
    result = device_import.run(app_db, ENGINEER, old, dry_run=False)
    assert [r.status for r in result.rows] == ["unchanged"]
    assert device_admin.one(app_db, ENGINEER, row["device_id"])["site_code"] == "LKO01-DEPOT"


# -- equipment and maintenance --------------------------------------------------------------------------------
def _kit(**kw) -> equipment.EquipmentForm:
    values = dict(serial="T-CHG-0001", site_code="LKO01-SHOW", kind="charger", make="Exicom", model="Spin Air 3.3",
                  rating="3.3 kW AC", installed_on="2025-04-01", status="in_service")
    values.update(kw)
    return equipment.EquipmentForm(**values)


def test_equipment_is_checked_kept_and_its_maintenance_falls_due(app_db, dealers):
    today = equipment.india_today()
    with pytest.raises(sites.SiteFormError) as exc:
        equipment.save(app_db, ENGINEER, _kit(serial="", site_code="NOPE", kind="toaster", make="",
                                              installed_on=(today + timedelta(days=3)).isoformat(), status="lost"))
    assert set(exc.value.errors) == {"serial", "site_code", "kind", "make", "installed_on", "status"}
    item = equipment.save(app_db, ENGINEER, _kit())
    with pytest.raises(sites.SiteFormError, match="already"):
        equipment.save(app_db, ENGINEER, _kit())
    changed = equipment.save(app_db, ENGINEER, _kit(status="faulty"), seen=item["updated_at"])
    assert changed["status"] == "faulty"
    with pytest.raises(sites.SiteFormError, match="changed by someone else"):
        equipment.save(app_db, ENGINEER, _kit(status="retired"), seen=item["updated_at"])
    # A dealer sees equipment only at its own sites, and changes none.
    assert equipment.one(app_db, dealer_scope(dealers["DEL01"]), "T-CHG-0001") is None
    assert equipment.one(app_db, dealer_scope(dealers["LKO01"]), "T-CHG-0001")["status"] == "faulty"
    with pytest.raises(sites.SiteFormError, match="Only engineers and admins"):
        equipment.save(app_db, dealer_scope(dealers["LKO01"]), _kit(serial="T-CHG-0002"))

    with pytest.raises(sites.SiteFormError) as exc:
        equipment.record_maintenance(app_db, ENGINEER, "T-CHG-0001", equipment.MaintenanceForm(
            done_on=(today + timedelta(days=1)).isoformat(), work="", done_by="", next_due="soon"))
    assert set(exc.value.errors) == {"done_on", "work", "done_by", "next_due"}
    with pytest.raises(sites.SiteFormError) as exc:
        equipment.record_maintenance(app_db, ENGINEER, "T-CHG-0001", equipment.MaintenanceForm(
            done_on="2025-01-01", work="Before it was installed", done_by="Sunil"))
    assert "install date" in exc.value.errors["done_on"]
    with pytest.raises(sites.SiteFormError) as exc:
        equipment.record_maintenance(app_db, ENGINEER, "T-CHG-0001", equipment.MaintenanceForm(
            done_on=today.isoformat(), work="Cable", done_by="Sunil", next_due=today.isoformat()))
    assert set(exc.value.errors) == {"next_due"}

    def due() -> str | None:
        return next(r for r in equipment.listing(app_db, MANAGER) if r["serial"] == "T-CHG-0001")["due"]

    assert due() is None, "never serviced: nothing is scheduled"
    equipment.record_maintenance(app_db, ENGINEER, "T-CHG-0001", equipment.MaintenanceForm(
        done_on=(today - timedelta(days=200)).isoformat(), work="Connector replaced", done_by="Sunil Yadav",
        next_due=(today - timedelta(days=20)).isoformat()))
    assert due() == "overdue"
    show = next(r for r in sites.locations(app_db, MANAGER) if r["code"] == "LKO01-SHOW")
    assert show["overdue"] >= 1 and show["faulty"] >= 1
    equipment.record_maintenance(app_db, ENGINEER, "T-CHG-0001", equipment.MaintenanceForm(
        done_on=today.isoformat(), work="Serviced", done_by="Sunil Yadav", next_due=(today + timedelta(days=10)).isoformat()))
    assert due() == "due soon"
    records = equipment.maintenance(app_db, MANAGER, sites.one(app_db, MANAGER, "LKO01-SHOW")["id"])
    assert [r["work"] for r in records if r["serial"] == "T-CHG-0001"] == ["Serviced", "Connector replaced"]
    actions = [line["action"] for line in audit.history(app_db, "equipment", "T-CHG-0001")]
    assert actions == ["maintenance.record", "maintenance.record", "equipment.update", "equipment.create"]
    assert "maintenance.record" in [h["action"] for h in sites.history(app_db, MANAGER, "LKO01-SHOW")]


# -- imports ----------------------------------------------------------------------------------------------------
SITE_ROWS = [
    {"code": "T-JAI-HUB2", "name": "Mansarovar hub", "kind": "Charging hub", "dealer_code": "jai01", "city": "Jaipur",
     "climate_zone": "hot dry", "address": "Metro Mall Road", "state": "Rajasthan", "latitude": "26.8640",
     "longitude": "75.7600"},                                                                        # 2: new
    {"code": "T-JAI-DEPOT2", "name": "Sanganer depot", "kind": "depot", "dealer_code": "JAI01", "city": "Jaipur",
     "climate_zone": "hot_dry"},                                                                     # 3: new, no position
    {"code": "JAI01-SHOW", "name": "Pink City EV, MI Road", "kind": "showroom", "dealer_code": "JAI01",
     "city": "Jaipur", "climate_zone": "hot_dry", "address": "101 Mirza Ismail Road, renamed", "state": "Rajasthan",
     "latitude": "26.917", "longitude": "75.804"},                                                   # 4: changed
    {"code": "PAT01-HUB", "name": "Danapur charging hub", "kind": "charging_hub", "dealer_code": "PAT01",
     "city": "Patna", "climate_zone": "composite", "address": "Saguna More, Danapur", "state": "Bihar",
     "latitude": "25.618", "longitude": "85.048"},                                                   # 5: unchanged
    {"code": "T-BAD-1", "name": "Nowhere", "kind": "shop", "dealer_code": "NOPE", "city": "X",
     "climate_zone": "composite"},                                                                   # 6: kind, dealer
    {"code": "T-JAI-HUB2", "name": "Twice", "kind": "depot", "dealer_code": "JAI01", "city": "Jaipur",
     "climate_zone": "hot_dry"},                                                                     # 7: duplicate
    {"code": "T-BAD-2", "name": "Swapped", "kind": "depot", "dealer_code": "JAI01", "city": "Jaipur",
     "climate_zone": "hot_dry", "latitude": "75.76", "longitude": "26.86"},                          # 8: swapped
    {"code": "", "name": "No code", "kind": "depot", "dealer_code": "JAI01", "city": "Jaipur",
     "climate_zone": "hot_dry"},                                                                     # 9: no code
]
SITE_RESULTS = {2: "new", 3: "new", 4: "changed", 5: "unchanged", 6: "error", 7: "error", 8: "error", 9: "error"}
SITE_REASONS = {6: "No dealer 'NOPE'", 7: "duplicate code T-JAI-HUB2 (also on line 2)", 8: "swapped",
                9: "A site code is needed"}
KIT_ROWS = [
    {"serial": "T-SOL-0001", "site_code": "T-JAI-HUB2", "kind": "solar array", "make": "Waaree", "model": "Arka 545",
     "rating": "20 kWp", "installed_on": "2026-03-01", "status": ""},                                # 2: new
    {"serial": "T-BAD-0002", "site_code": "NOPE", "kind": "charger", "make": "Delta", "model": "DC 25",
     "installed_on": "yesterday"},                                                                  # 3: site, date
]


def _file(rows: list[dict], spec: site_import.Spec, kind: str = "csv") -> bytes:
    frame = pd.DataFrame(rows, columns=list(spec.columns)).fillna("")
    if kind == "csv":
        return frame.to_csv(index=False).encode()
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    return buffer.getvalue()


def _cli(dash_app, kind, path, *flags):
    return dash_app.server.test_cli_runner().invoke(args=[kind, "import", str(path), *flags])


def _page(client, kind: str, data: bytes, name: str, apply: bool) -> dict:
    contents = "data:application/octet-stream;base64," + base64.b64encode(data).decode()
    payload = {"output": IMPORT_KEY, "outputs": [
        {"id": "sites-import-preview", "property": "children"}, {"id": "sites-import-apply", "property": "disabled"},
        {"id": "sites-imported", "property": "data"}],
        "inputs": [{"id": "sites-upload", "property": "contents", "value": contents},
                   {"id": "sites-import-apply", "property": "n_clicks", "value": 1 if apply else 0},
                   {"id": "sites-import-kind", "property": "value", "value": kind}],
        "state": [{"id": "sites-upload", "property": "filename", "value": name},
                  {"id": "sites-imported", "property": "data", "value": 0}],
        "changedPropIds": ["sites-import-apply.n_clicks" if apply else "sites-upload.contents"]}
    response = client.post("/_dash-update-component", json=payload)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return json.loads(response.get_data())


def _snapshot(app_db):
    return (app_db.query("SELECT code, name, kind, dealer_id, address, latitude, updated_at FROM sites ORDER BY code"),
            app_db.query("SELECT serial, site_id, status, updated_at FROM equipment ORDER BY serial"),
            app_db.scalar("SELECT count(*) FROM audit_log"))


def _check(rows, expected, reasons):
    assert {line: status for line, (status, _) in rows.items()} == expected
    for line, words in reasons.items():
        assert words in rows[line][1], (line, rows[line])


def test_cli_and_page_import_sites_and_equipment_alike_and_twice_changes_nothing(dash_app, app_db, tmp_path):
    path = tmp_path / "sites.csv"
    path.write_bytes(_file(SITE_ROWS, site_import.SITES))
    before = _snapshot(app_db)
    dry = _cli(dash_app, "sites", path, "--dry-run")
    assert dry.exit_code == 1 and "nothing written: a dry run" in dry.output and "Traceback" not in dry.output
    _check(cli_rows(dry.output), SITE_RESULTS, SITE_REASONS)
    assert _snapshot(app_db) == before, "a dry run changes nothing"

    engineer = dash_app.server.test_client()
    login(engineer, "engineer")
    preview = _page(engineer, "sites", path.read_bytes(), "sites.csv", apply=False)
    assert page_rows(preview, PREVIEW) == cli_rows(dry.output), "the page's preview and the CLI's dry run differ"
    assert preview["response"]["sites-import-apply"]["disabled"] is False
    assert _snapshot(app_db) == before, "a preview changes nothing"

    applied = _page(engineer, "sites", path.read_bytes(), "sites.csv", apply=True)
    _check(page_rows(applied, PREVIEW), SITE_RESULTS, SITE_REASONS)
    hub = sites.one(app_db, MANAGER, "T-JAI-HUB2")
    assert (hub["kind"], hub["dealer_code"], hub["climate_zone"], hub["latitude"]) == \
        ("charging_hub", "JAI01", "hot_dry", 26.864)
    assert sites.one(app_db, MANAGER, "JAI01-SHOW")["address"] == "101 Mirza Ismail Road, renamed"
    lines = app_db.query("SELECT actor, action FROM audit_log WHERE target_kind = 'site' ORDER BY id DESC LIMIT 3")
    assert {line["action"] for line in lines} == {"site.import_new", "site.import_change"}
    assert {line["actor"] for line in lines} == {"engineer"}

    after = _snapshot(app_db)
    again = cli_rows(_cli(dash_app, "sites", path).output)
    assert {line: s for line, (s, _) in again.items() if s != "error"} == {2: "unchanged", 3: "unchanged",
                                                                           4: "unchanged", 5: "unchanged"}
    assert _snapshot(app_db) == after, "a second import of the same file changes nothing"
    xlsx = tmp_path / "sites.xlsx"
    xlsx.write_bytes(_file(SITE_ROWS, site_import.SITES, "xlsx"))
    assert cli_rows(_cli(dash_app, "sites", xlsx, "--dry-run").output) == again, "XLSX and CSV differ"

    kit = tmp_path / "equipment.csv"
    kit.write_bytes(_file(KIT_ROWS, site_import.EQUIPMENT))
    result = _cli(dash_app, "equipment", kit)
    rows = cli_rows(result.output)
    assert result.exit_code == 1 and {line: s for line, (s, _) in rows.items()} == {2: "new", 3: "error"}
    assert "No site 'NOPE'" in rows[3][1] and "A date like" in rows[3][1]
    page = _page(engineer, "equipment", kit.read_bytes(), "equipment.csv", apply=False)
    assert {line: s for line, (s, _) in page_rows(page, PREVIEW).items()} == {2: "unchanged", 3: "error"}
    solar = equipment.one(app_db, MANAGER, "T-SOL-0001")
    assert (solar["kind"], solar["site_code"], solar["status"]) == ("solar_array", "T-JAI-HUB2", "in_service")


def test_only_editors_import_and_a_file_that_is_not_an_import_changes_nothing(dash_app, app_db):
    before = _snapshot(app_db)
    manager = dash_app.server.test_client()
    login(manager, "manager")
    body = _page(manager, "sites", _file(SITE_ROWS, site_import.SITES), "sites.csv", apply=True)
    assert "Only engineers and admins" in texts(body["response"][PREVIEW]["children"])
    engineer = dash_app.server.test_client()
    login(engineer, "engineer")
    for data, name, words in ((_file(KIT_ROWS, site_import.EQUIPMENT), "equipment.csv", "Missing columns: code, name"),
                              (b"", "sites.csv", "empty"), (b"MZ\x90\x00", "sites.exe", "neither CSV nor XLSX"),
                              (b"code,name,kind,dealer_code,city,climate_zone\n", "sites.csv", "no rows")):
        body = _page(engineer, "sites", data, name, apply=True)
        assert words in texts(body["response"][PREVIEW]["children"]), name
    assert _snapshot(app_db) == before
    with pytest.raises(site_import.ImportFileError, match="Only engineers and admins"):
        site_import.run(app_db, MANAGER, "sites", pd.DataFrame(SITE_ROWS), dry_run=True)


def test_templates_are_importable_files(dash_app):
    client = dash_app.server.test_client()
    login(client, "dealer1")
    for kind in ("sites", "equipment"):
        response = client.get(f"/download/{kind}-template.csv")
        assert response.status_code == 200
        frame = site_import.read_file(kind, f"{kind}.csv", response.get_data(), 10_000)
        assert list(frame.columns) == list(site_import.SPECS[kind].columns)
