"""Device mappings: the form's checks and history, and the bulk import through the CLI and through the
devices page (real HTTP to the app's callback), which must judge the same file the same way; a
second import changes nothing; a dry run changes nothing; a file that is not an import is one
message. On the shared app database: every device this module adds or changes is put back."""
from __future__ import annotations

import base64
import io
import json

import pandas as pd
import pytest

from conftest import login
from import_support import cli_rows, page_rows, texts
from data import device_admin, device_import, imports
from data.scope import Scope

IMPORT_KEY = "..devices-import-preview.children...devices-import-apply.disabled...devices-imported.data.."
PREVIEW = IMPORT_KEY.strip(".").split(".")[0]
ENGINEER = Scope(role="engineer", actor="engineer", address="127.0.0.1")


@pytest.fixture(scope="module")
def fleet(app_db):
    """Two existing devices (one of each demo dealer) and what to restore afterwards."""
    rows = app_db.query("""SELECT d.*, dl.code AS dealer_code, st.code AS site_code FROM devices d
                           JOIN dealers dl ON dl.id = d.dealer_id LEFT JOIN sites st ON st.id = d.site_id
                           WHERE dl.code IN ('LKO01', 'DEL01') ORDER BY dl.code, d.device_id""")
    lko = next(r for r in rows if r["dealer_code"] == "LKO01")
    dl = next(r for r in rows if r["dealer_code"] == "DEL01")
    third = next(r for r in rows if r["device_id"] not in (lko["device_id"], dl["device_id"]))
    audit_before = app_db.scalar("SELECT coalesce(max(id), 0) FROM audit_log")
    yield {"lko": lko, "del": dl, "third": third}
    app_db.execute("DELETE FROM devices WHERE device_id LIKE 'TK-IMPORT-%'")
    app_db.execute("DELETE FROM batteries WHERE serial LIKE 'ITB-IMPORT-%'")
    for r in (lko, dl):
        app_db.execute("""UPDATE devices SET battery_serial = :battery_serial, vehicle_number = :vehicle_number,
                                 dealer_id = :dealer_id, customer_name = :customer_name, customer_phone = :customer_phone,
                                 city = :city, is_active = :is_active, site_id = :site_id WHERE device_id = :device_id""",
                       **{k: r[k] for k in ("battery_serial", "vehicle_number", "dealer_id", "customer_name",
                                            "customer_phone", "city", "is_active", "site_id", "device_id")})
    app_db.execute("DELETE FROM audit_log WHERE id > :id", id=audit_before)


def _rows(fleet) -> list[dict]:
    lko, dl = fleet["lko"], fleet["del"]
    same = {"device_id": dl["device_id"], "battery_serial": dl["battery_serial"], "vehicle_number": dl["vehicle_number"],
            "dealer_code": "DEL01", "customer_name": dl["customer_name"] or "", "customer_phone": dl["customer_phone"] or "",
            "city": dl["city"] or "", "site_code": dl["site_code"]}
    return [
        {"device_id": "TK-IMPORT-0001", "battery_serial": "ITB-IMPORT-0001", "vehicle_number": "up 32 zz 9001",
         "dealer_code": "LKO01", "battery_model": "LFP-51V105-A", "customer_name": "Asha Devi",
         "customer_phone": "+91 98765 43210", "city": "Lucknow", "active": "yes"},                      # line 2: new
        {"device_id": "TK-IMPORT-0002", "battery_serial": "ITB-IMPORT-0002", "vehicle_number": "UP32ZZ9002",
         "dealer_code": "LKO01", "battery_model": "LFP-51V105-A"},                                     # line 3: new
        {"device_id": lko["device_id"], "battery_serial": lko["battery_serial"], "vehicle_number": lko["vehicle_number"],
         "dealer_code": "LKO01", "customer_name": "Renamed Customer", "customer_phone": lko["customer_phone"] or "",
         "city": lko["city"] or "", "site_code": lko["site_code"]},                                    # line 4: changed
        same,                                                                                          # line 5: unchanged
        {"device_id": "TK-IMPORT-0003", "battery_serial": "ITB-IMPORT-0003", "vehicle_number": "UP32ZZ9003",
         "dealer_code": "NOPE", "battery_model": "LFP-51V105-A"},                                      # 6: unknown dealer
        {"device_id": "TK-IMPORT-0001", "battery_serial": "ITB-IMPORT-0004", "vehicle_number": "UP32ZZ9004",
         "dealer_code": "LKO01", "battery_model": "LFP-51V105-A"},                                     # 7: duplicate device
        {"device_id": "TK-IMPORT-0005", "battery_serial": "ITB-IMPORT-0005", "vehicle_number": "NOT-A-PLATE!",
         "dealer_code": "LKO01", "battery_model": "LFP-51V105-A"},                                     # 8: malformed vehicle
        {"device_id": "TK-IMPORT-0006", "battery_serial": fleet["third"]["battery_serial"], "vehicle_number": "UP32ZZ9006",
         "dealer_code": "LKO01"},                                                                      # 9: serial taken
        {"device_id": "", "battery_serial": "ITB-IMPORT-0007", "vehicle_number": "UP32ZZ9007",
         "dealer_code": "LKO01", "battery_model": "LFP-51V105-A"},                                     # 10: no device id
        {"device_id": "TK-IMPORT-0008", "battery_serial": "ITB-IMPORT-0008", "vehicle_number": "UP32ZZ9008",
         "dealer_code": "LKO01", "battery_model": "LFP-51V105-A", "site_code": "DEL01-HUB"},           # 11: other's site
    ]


EXPECTED = {2: "new", 3: "new", 4: "changed", 5: "unchanged", 6: "error", 7: "error", 8: "error", 9: "error",
            10: "error", 11: "error"}
REASONS = {6: "No dealer 'NOPE'", 7: "duplicate device_id TK-IMPORT-0001 (also on line 2)",
           8: "is not a vehicle registration number", 9: "is on device", 10: "device_id is empty",
           11: "Site DEL01-HUB belongs to dealer DEL01, not LKO01"}


def _csv(fleet) -> bytes:
    return pd.DataFrame(_rows(fleet), columns=list(device_import.COLUMNS)).fillna("").to_csv(index=False).encode()


def _xlsx(fleet) -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame(_rows(fleet), columns=list(device_import.COLUMNS)).to_excel(buffer, index=False)
    return buffer.getvalue()


def _cli(dash_app, path, *flags):
    return dash_app.server.test_cli_runner().invoke(args=["devices", "import", str(path), *flags])


def _page(client, data: bytes, name: str, apply: bool) -> dict:
    contents = "data:application/octet-stream;base64," + base64.b64encode(data).decode()
    trigger = "devices-import-apply.n_clicks" if apply else "devices-upload.contents"
    payload = {"output": IMPORT_KEY, "outputs": [
        {"id": "devices-import-preview", "property": "children"}, {"id": "devices-import-apply", "property": "disabled"},
        {"id": "devices-imported", "property": "data"}],
        "inputs": [{"id": "devices-upload", "property": "contents", "value": contents},
                   {"id": "devices-import-apply", "property": "n_clicks", "value": 1 if apply else 0}],
        "state": [{"id": "devices-upload", "property": "filename", "value": name},
                  {"id": "devices-imported", "property": "data", "value": 0}],
        "changedPropIds": [trigger]}
    response = client.post("/_dash-update-component", json=payload)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return json.loads(response.get_data())


def _snapshot(app_db):
    return (app_db.query("""SELECT device_id, battery_serial, vehicle_number, dealer_id, customer_name, customer_phone,
                                   city, is_active, updated_at FROM devices ORDER BY device_id"""),
            app_db.scalar("SELECT count(*) FROM audit_log"), app_db.scalar("SELECT count(*) FROM batteries"))


def _check(rows: dict[int, tuple[str, str]]):
    assert {line: status for line, (status, _) in rows.items()} == EXPECTED
    for line, words in REASONS.items():
        assert words in rows[line][1], (line, rows[line])


def test_cli_and_page_judge_the_same_file_alike_and_a_second_import_changes_nothing(dash_app, app_db, fleet, tmp_path):
    path = tmp_path / "devices.csv"
    path.write_bytes(_csv(fleet))
    before = _snapshot(app_db)

    dry = _cli(dash_app, path, "--dry-run")
    assert dry.exit_code == 1 and "nothing written: a dry run" in dry.output and "Traceback" not in dry.output
    _check(cli_rows(dry.output))
    assert _snapshot(app_db) == before, "a dry run changes nothing"

    engineer = dash_app.server.test_client()
    login(engineer, "engineer")
    preview = _page(engineer, _csv(fleet), "devices.csv", apply=False)
    assert page_rows(preview, PREVIEW) == cli_rows(dry.output), "the page's preview and the CLI's dry run differ"
    assert preview["response"]["devices-import-apply"]["disabled"] is False
    assert _snapshot(app_db) == before, "a preview changes nothing"

    applied = _page(engineer, _csv(fleet), "devices.csv", apply=True)
    _check(page_rows(applied, PREVIEW))
    new = app_db.one("""SELECT d.vehicle_number, dl.code, d.customer_phone, b.model, d.is_active FROM devices d
                        JOIN dealers dl ON dl.id = d.dealer_id JOIN batteries b ON b.serial = d.battery_serial
                        WHERE d.device_id = 'TK-IMPORT-0001'""")
    assert new == {"vehicle_number": "UP32ZZ9001", "code": "LKO01", "customer_phone": "+91 98765 43210",
                   "model": "LFP-51V105-A", "is_active": True}
    assert app_db.scalar("SELECT customer_name FROM devices WHERE device_id = :d",
                         d=fleet["lko"]["device_id"]) == "Renamed Customer"
    assert app_db.scalar("SELECT count(*) FROM devices WHERE device_id LIKE 'TK-IMPORT-%'") == 2
    lines = app_db.query("SELECT actor, action, target FROM audit_log WHERE target_kind = 'device' ORDER BY id DESC LIMIT 3")
    assert {line["action"] for line in lines} == {"device.import_new", "device.import_change"}
    assert {line["actor"] for line in lines} == {"engineer"}

    after = _snapshot(app_db)
    again = _cli(dash_app, path)
    rows = cli_rows(again.output)
    assert {line: s for line, (s, _) in rows.items() if s != "error"} == {2: "unchanged", 3: "unchanged",
                                                                           4: "unchanged", 5: "unchanged"}
    assert _snapshot(app_db) == after, "a second import of the same file changes nothing"

    xlsx = tmp_path / "devices.xlsx"
    xlsx.write_bytes(_xlsx(fleet))
    assert cli_rows(_cli(dash_app, xlsx, "--dry-run").output) == rows, "XLSX and CSV of the same rows differ"


@pytest.mark.parametrize("name, data, words", [
    ("devices.exe", b"MZ\x90\x00binary", "neither CSV nor XLSX"),
    ("devices.csv", b"", "The file is empty"),
    ("devices.csv", b"device,serial\nA,B\n", "Missing columns: device_id, battery_serial, vehicle_number, dealer_code"),
    ("devices.csv", b"device_id,battery_serial,vehicle_number,dealer_code\n", "a header but no rows"),
    ("devices.xlsx", b"PK\x03\x04not really a workbook", "could not be read as CSV or XLSX"),
    ("devices.csv", "device_id,battery_serial,vehicle_number,dealer_code\n".encode("utf-16"), "not UTF-8"),
])
def test_a_file_that_is_not_an_import_is_one_message_and_changes_nothing(dash_app, app_db, fleet, tmp_path,
                                                                         name, data, words):
    before = _snapshot(app_db)
    path = tmp_path / name
    path.write_bytes(data)
    result = _cli(dash_app, path)
    assert result.exit_code == 1 and words in result.output and "Traceback" not in result.output
    engineer = dash_app.server.test_client()
    login(engineer, "engineer")
    page = texts(_page(engineer, data, name, apply=True)["response"][PREVIEW]["children"])
    assert words in page
    assert _snapshot(app_db) == before


def test_a_file_over_the_limit_is_refused(app_db):
    with pytest.raises(imports.ImportFileError, match="at most 1.0 KB"):
        device_import.read_file("big.csv", b"x" * 2_000, max_bytes=1_000)


def test_a_column_left_out_keeps_what_is_stored_and_an_empty_cell_clears_it(app_db, fleet):
    dl = device_admin.one(app_db, ENGINEER, fleet["del"]["device_id"])
    assert dl["customer_name"] and dl["city"] and dl["site_code"]
    required = {k: dl[k] for k in device_import.REQUIRED if k != "device_id"}
    bare = pd.DataFrame([{"device_id": dl["device_id"], **required}])
    assert [r.status for r in device_import.run(app_db, ENGINEER, bare, dry_run=True).rows] == ["unchanged"]
    emptied = pd.DataFrame([{"device_id": dl["device_id"], **required, "city": ""}])
    row = device_import.run(app_db, ENGINEER, emptied, dry_run=True).rows[0]
    assert (row.status, row.message) == ("changed", f"city: {dl['city']} → —")


def test_only_engineers_and_admins_import(dash_app, app_db, fleet):
    before = _snapshot(app_db)
    for role in ("manager", "dealer1", "viewer"):
        client = dash_app.server.test_client()
        login(client, role)
        text = texts(_page(client, _csv(fleet), "devices.csv", apply=True)["response"][PREVIEW]["children"])
        assert "Only engineers and admins import devices" in text, role
    assert _snapshot(app_db) == before


# -- the mapping form --------------------------------------------------------------------------------------
def _mapping(row: dict, **change) -> device_admin.Mapping:
    values = {k: row.get(k) for k in device_admin.Mapping.__dataclass_fields__}
    values["dealer_code"] = row["dealer_code"]
    return device_admin.Mapping(**{**values, **change})


def test_the_form_checks_each_field_refuses_stale_edits_and_keeps_history(app_db, fleet):
    lko, dl = fleet["lko"], fleet["del"]
    current = device_admin.one(app_db, ENGINEER, lko["device_id"])
    with pytest.raises(device_admin.DeviceFormError) as exc:
        device_admin.update(app_db, ENGINEER, lko["device_id"], current["updated_at"], _mapping(
            current, battery_serial=dl["battery_serial"], vehicle_number="KA 01", dealer_code="NOPE",
            customer_phone="call me"))
    assert set(exc.value.errors) == {"battery_serial", "vehicle_number", "dealer_code", "customer_phone"}
    assert dl["device_id"] in exc.value.errors["battery_serial"]

    manager = Scope(role="manager", actor="manager")
    with pytest.raises(device_admin.DeviceFormError, match="Only engineers and admins"):
        device_admin.update(app_db, manager, lko["device_id"], current["updated_at"], _mapping(current, city="Kanpur"))

    saved = device_admin.update(app_db, ENGINEER, lko["device_id"], current["updated_at"],
                                _mapping(current, city="Kanpur"))
    assert saved["city"] == "Kanpur"
    with pytest.raises(device_admin.DeviceFormError, match="changed by someone else"):
        device_admin.update(app_db, ENGINEER, lko["device_id"], current["updated_at"], _mapping(current, city="Agra"))
    assert device_admin.one(app_db, ENGINEER, lko["device_id"])["city"] == "Kanpur"

    off = device_admin.set_active(app_db, ENGINEER, lko["device_id"], saved["updated_at"], False)
    assert off["is_active"] is False
    history = device_admin.history(app_db, ENGINEER, lko["device_id"])
    assert [h["action"] for h in history[:2]] == ["device.deactivate", "device.update"]
    assert history[1]["after"] == {"city": "Kanpur"} and history[1]["actor"] == "engineer"
    device_admin.set_active(app_db, ENGINEER, lko["device_id"], off["updated_at"], True)
    dealer2 = Scope(role="dealer", dealer_id=dl["dealer_id"], actor="dealer2")
    assert device_admin.history(app_db, dealer2, lko["device_id"]) == []
    assert device_admin.one(app_db, dealer2, lko["device_id"]) is None
