"""Every server callback of every page, called over HTTP as every role and as nobody.

The cases below name each callback by its output key; the test fails if the app has a callback
with no case here, so a new callback cannot ship unwalked. For each case and role it checks:
anonymous gets 401; dealer1's answers never hold a dealer2 device (id, vehicle number or battery
serial), whatever dealer1 sends; and nobody gets a server error.
"""
from __future__ import annotations

import json

import pytest

from conftest import login

ROLES = ("admin", "manager", "engineer", "viewer", "dealer1", "dealer2")


@pytest.fixture(scope="module")
def fleet_ids(app_db):
    rows = app_db.query(
        """SELECT d.device_id, d.vehicle_number, d.battery_serial, dl.code, dl.id AS dealer_id
           FROM devices d JOIN dealers dl ON dl.id = d.dealer_id ORDER BY d.device_id""")
    by_dealer: dict[str, list[dict]] = {}
    for r in rows:
        by_dealer.setdefault(r["code"], []).append(r)
    return by_dealer


def _outputs(key: str) -> list[dict]:
    parts = key.strip(".").split("...") if key.startswith("..") else [key]
    return [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in parts]


def _payload(app, key: str, values: dict) -> dict:
    spec = app.callback_map[key]
    def fill(items):
        return [{"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")}
                for i in items]
    outputs = _outputs(key)
    return {"output": key, "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": fill(spec["inputs"]), "state": fill(spec.get("state", [])),
            "changedPropIds": [f"{i['id']}.{i['property']}" for i in spec["inputs"][:1]]}


def _cases(ids) -> dict[str, list[dict]]:
    """Input values per callback: ordinary ones, and ones that try to reach dealer2's batteries."""
    own, other = ids["LKO01"][0], ids["DEL01"][0]
    other_dealer = other["dealer_id"]
    filters = [{}, {"overview-dealer.value": other_dealer}, {"overview-city.value": "Delhi"},
               {"overview-status.value": "critical"}, {"overview-status.value": "charging"},
               {"overview-dealer.value": "1 OR 1=1", "overview-city.value": ["x"], "overview-status.value": 5}]
    devices = [own["device_id"], other["device_id"], "NO-SUCH-DEVICE", "../../etc/passwd", "x" * 500, None, 17]
    ranges = ["1h", "24h", "30d", "bogus"]
    battery = [{"battery-device.data": d, "battery-range.value": r, "battery-refresh.n_intervals": 1}
               for d in devices for r in (ranges if d in (own["device_id"], other["device_id"]) else ["24h"])]
    pages = ["/", "/wall", f"/battery/{own['device_id']}", f"/battery/{other['device_id']}", "/battery/",
             f"/battery/{own['vehicle_number']}", f"/battery/{other['vehicle_number']}",
             "/battery/%00%ff", "/nope", "/scenarios", "/alerts", "/health", "/warranty", "/users", "/profile",
             "/audit", "/devices", "/system", "/sites", "/trips", "/energy",
             f"/sites/{OWN_SITE}", f"/sites/{OTHER_SITE}", "/sites/nope", "/sites/%00", f"/sites/{OTHER_SITE.lower()}", f"/data-health?device={own['device_id']}",
             f"/data-health?device={other['device_id']}", "/data-health?device=%00"]
    return {
        "overview-kpis.children": [dict(f, **{"overview-refresh.n_intervals": 1}) for f in filters],
        "..overview-pins.data...overview-map-note.children..": filters,
        "overview-alerts.children": filters,
        "..overview-asof.children...overview-asof.className..": [{}],
        "..overview-soc.figure...overview-cycles.figure...overview-distance.figure..": filters,
        "..wall-kpis.children...wall-alerts.children...wall-asof.children...wall-asof.className..": [{}],
        "..wall-pins.data...wall-map-note.children..": [{}],
        "..wall-soc.figure...wall-cycles.figure...wall-distance.figure..": [{}],
        "..battery-header.children...battery-gauges.children..": battery,
        "..battery-series.figure...battery-sessions.figure...battery-range-note.children..": battery,
        "..battery-trail.positions...battery-position.center...battery-trail-note.children..": battery,
        "battery-map.bounds": battery,
        "battery-trips.children": battery,
        "..battery-alerts.children...battery-alerts-shown.data..": battery
        + [dict(b, **{"battery-alerts-shown.data": [[1, "open", None, 1, "x"]]}) for b in battery[:2]],
        "battery-trips-download.data": [dict(b, **{"battery-trips-export-csv.n_clicks": 1}) for b in battery]
        + [dict(b, **{"battery-trips-export-xlsx.n_clicks": 1}) for b in battery[:3]],
        "..battery-health-facts-slot.children...battery-soh.figure..": battery,
        "battery-charges.children": battery,
        "battery-charges-download.data": [dict(b, **{"battery-charges-export-csv.n_clicks": 1}) for b in battery]
        + [dict(b, **{"battery-charges-export-xlsx.n_clicks": 1}) for b in battery[:3]],
        # The top bar's search, by every kind of identifier of the other dealer's batteries.
        "search-results.children": [{"search-input.value": q} for q in (
            own["vehicle_number"], other["vehicle_number"], other["device_id"], other["battery_serial"], "TK",
            other["vehicle_number"][:4], "%", "_", "\\", "", None)],
        "search-go.href": [{"search-input.n_submit": 1, "search-input.value": q} for q in (
            own["vehicle_number"], other["vehicle_number"], other["device_id"], "%")],
        **_alert_ops_cases(),
        **_alert_page_cases(ids),
        **_health_cases(own, other),
        **_warranty_cases(own, other),
        **_admin_cases(other),
        **_device_cases(own, other),
        **_site_cases(),
        **_trips_cases(own, other),
        **_energy_cases(own, other),
        **_site_power_cases(),
        "..data-health-totals.children...data-health-devices.children...data-health-reasons-box.children..": [
            {}, {"data-health-dealer.value": "DEL01"}, {"data-health-problem.value": "stuck_soh"},
            {"data-health-dealer.value": ["x"], "data-health-problem.value": "1 OR 1=1"}],
        "data-health-download.data": [{"data-health-dealer.value": d, f"data-health-export-{k}.n_clicks": 1}
                                      for d in (None, "DEL01") for k in ("csv", "xlsx")],
        ".._pages_content.children..._pages_store.data..": [
            {"_pages_location.pathname": p.split("?")[0], "_pages_location.search": "?" + p.split("?")[1] if "?" in p
             else ""} for p in pages],
    }


def _health_cases(own: dict, other: dict) -> dict[str, list[dict]]:
    """The fleet health page: filters and highlights that name the other dealer or its batteries."""
    filters = [{}, {"health-dealer.value": "DEL01"}, {"health-dealer.value": "LKO01"},
               {"health-model.value": "LFP-51V105-A"}, {"health-dealer.value": "' OR 1=1 --", "health-model.value": ["x"]},
               {"health-dealer.value": 7, "health-model.value": "x" * 500}]
    highlights = [{"health-highlight.value": v} for v in ("dealer:DEL01", "dealer:LKO01", "model:LFP-51V105-A",
                                                            "battery:" + other["device_id"], "nonsense", 5)]
    highlights += [{"health-highlight-battery.value": v} for v in (
        own["vehicle_number"], other["vehicle_number"], other["device_id"], other["battery_serial"], "%", "x" * 500)]
    exports = [{"health-dealer.value": d, f"{{prefix}}-export-{k}.n_clicks": 1} for d in (None, "DEL01")
               for k in ("csv", "xlsx")]
    return {
        "..health-kpis.children...health-distribution.figure...health-temperature.figure...health-dealers.figure"
        "...health-misuse.figure..": filters,
        "..health-bands-cycles.figure...health-bands-age.figure...health-highlight-note.children..":
            filters[:2] + [dict(filters[1], **h) for h in highlights],
        "..health-risk.children...health-league.children...health-batteries.children...health-reports.children..":
            filters,
        **{f"health-{prefix}-download.data": [{k.format(prefix=f"health-{prefix}"): v for k, v in e.items()}
                                               for e in exports]
           for prefix in ("risk", "league", "batteries")},
    }


def _warranty_cases(own: dict, other: dict) -> dict[str, list[dict]]:
    exports = [{f"{{prefix}}-export-{k}.n_clicks": 1} for k in ("csv", "xlsx")]
    return {
        "..warranty-tracker.children...warranty-claims.children...warranty-terms.children..": [{}],
        "warranty-find-result.children": [{"warranty-find.value": v, "warranty-find-go.n_clicks": 1} for v in (
            own["vehicle_number"], other["vehicle_number"], other["device_id"], other["battery_serial"], "%", None, 5)],
        **{f"warranty-{prefix}-download.data": [{k.format(prefix=f"warranty-{prefix}"): v for k, v in e.items()}
                                                 for e in exports] for prefix in ("tracker", "claims")},
        "..terms-editor.children...terms-changes.children..": [{}],
        "..terms-warranty_months.value...terms-warranty_cycles.value...terms-warranty_soh_floor.value..": [
            {"terms-model.value": m} for m in ("LFP-51V105-A", "NOPE", None, ["x"])],
        # Never a change that sticks: invalid values, or the values the model has already.
        "..terms-message.children...warranty-saved.data..": [
            {"terms-save.n_clicks": 1, "terms-model.value": "LFP-51V105-A", "terms-warranty_months.value": m,
             "terms-warranty_cycles.value": c, "terms-warranty_soh_floor.value": f}
            for m, c, f in (("abc", 2000, 80), (0, 2000, 80), (36, -1, 120), (None, None, None))]
        + [{"terms-save.n_clicks": 1, "terms-model.value": None}],
    }


def _keys(*outputs: str) -> str:
    return outputs[0] if len(outputs) == 1 else ".." + "...".join(outputs) + ".."


USER_CREATE_KEY = _keys("new-user-message.children",
                        *[f"new-user-{f}-error.children" for f in ("username", "name", "role", "dealer", "password")],
                        "new-user-password.value", "new-user-username.value", "new-user-name.value",
                        "new-user-role.value", "new-user-dealer.value", "users-saved.data")
USER_CHANGE_KEY = _keys("edit-user-name.value", "edit-user-role.value", "edit-user-dealer.value", "edit-user-opened.data",
                        "edit-user-message.children",
                        *[f"edit-user-{f}-error.children" for f in ("name", "role", "dealer", "password", "confirm")],
                        "edit-user-password.value", "edit-user-confirm.value", "users-saved.data")
PROFILE_KEY = _keys("profile-message.children", *[f"profile-{f}-error.children" for f in ("current", "new", "repeat")],
                    *[f"profile-{f}.value" for f in ("current", "new", "repeat")])


def _admin_cases(other: dict) -> dict[str, list[dict]]:
    """Users, password and audit pages. Nothing here may stick: creations are invalid, edits stale,
    the current password wrong."""
    stale = {"id": 1, "seen": "2000-01-01T00:00:00+00:00"}
    exports = [{f"{{prefix}}-export-{k}.n_clicks": 1} for k in ("csv", "xlsx")]
    return {
        "..users-table.children...edit-user-pick.options..": [{}],
        "users-download.data": [{k.format(prefix="users"): v for k, v in e.items()} for e in exports],
        USER_CREATE_KEY: [
            {"new-user-create.n_clicks": 1, "new-user-username.value": u, "new-user-role.value": r,
             "new-user-dealer.value": d, "new-user-password.value": p}
            for u, r, d, p in (("walker", "dealer", None, None), ("walker", "admin", "DEL01", None),
                               ("walker", "manager", None, "short"), ("' OR 1=1 --", "admin", None, None),
                               (other["device_id"], 5, ["x"], 7), (None, None, None, None))],
        USER_CHANGE_KEY: [{"edit-user-pick.value": v} for v in (1, 2, 999999, "1 OR 1=1", None, ["x"])]
        + [{"edit-user-save.n_clicks": 1, "edit-user-opened.data": o, "edit-user-role.value": "admin"}
           for o in (stale, None, {"id": "x"}, "junk")]
        + [{f"edit-user-{a}.n_clicks": 1, "edit-user-opened.data": stale, "edit-user-confirm.value": "admin"}
           for a in ("disable", "enable", "reset", "delete")],
        PROFILE_KEY: [{"profile-save.n_clicks": 1, "profile-current.value": c, "profile-new.value": n,
                       "profile-repeat.value": r}
                      for c, n, r in (("wrong", "new-password-1", "new-password-1"), (None, None, None),
                                      (5, ["x"], {"a": 1}))],
        "audit-table.children": [{}, {"audit-kind.value": "user"}, {"audit-actor.value": "%"},
                                 {"audit-target.value": other["device_id"]}, {"audit-kind.value": "' OR 1=1"},
                                 {"audit-dates.start_date": "2026-99-01", "audit-dates.end_date": 5}],
        "audit-download.data": [{k.format(prefix="audit"): v for k, v in e.items()} for e in exports],
        "system-body.children": [{}, {"system-refresh.n_intervals": "x"}],
        "system-runs-download.data": [{k.format(prefix="system-runs"): v for k, v in e.items()} for e in exports],
    }


MAPPING = ("battery_serial", "vehicle_number", "dealer_code", "customer_name", "customer_phone", "city", "site_code")
DEVICE_SHOW_KEY = _keys("device-head.children", "device-body.className", *[f"device-{f}.value" for f in MAPPING],
                        "device-actions.children", "device-history.children", "device-opened.data")
DEVICE_CHANGE_KEY = _keys("device-message.children", *[f"device-{f}-error.children" for f in MAPPING],
                          "devices-saved.data")
DEVICE_IMPORT_KEY = _keys("devices-import-preview.children", "devices-import-apply.disabled", "devices-imported.data")


def _csv_upload(text: str) -> str:
    import base64
    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


def _device_cases(own: dict, other: dict) -> dict[str, list[dict]]:
    """The devices page. Changes are stale or invalid, imports dry runs or all-refused, so nothing sticks."""
    filters = [{}, {"devices-dealer.value": "DEL01"}, {"devices-text.value": other["device_id"]},
               {"devices-text.value": other["vehicle_number"]}, {"devices-text.value": "%"},
               {"devices-active.value": "inactive"}, {"devices-dealer.value": ["x"], "devices-active.value": 5}]
    grid = [dict(f, **{"devices-grid.getRowsRequest": r}) for f in filters[:3]
            for r in ({"startRow": 0, "endRow": 100}, {"startRow": 0, "endRow": 100,
                                                       "sortModel": [{"colId": "vehicle_number", "sort": "desc"}]},
                      {"startRow": "x", "sortModel": [{"colId": "1; DROP TABLE devices", "sort": "asc"}]})]
    stale = {"device_id": other["device_id"], "seen": "2000-01-01T00:00:00+00:00"}
    header = "device_id,battery_serial,vehicle_number,dealer_code\n"
    moves_other = _csv_upload(header + f"{other['device_id']},{other['battery_serial']},{other['vehicle_number']},LKO01\n")
    all_bad = _csv_upload(header + f"{other['device_id']},{other['battery_serial']},NOT A NUMBER,NOPE\n")
    return {
        "devices-count.children": filters,
        "device-site_code.options": [{"device-dealer_code.value": d} for d in ("LKO01", "DEL01", None, ["x"], "%")],
        "devices-grid.getRowsResponse": grid,
        "devices-download.data": [dict(f, **{f"devices-export-{k}.n_clicks": 1}) for f in filters[:3]
                                  for k in ("csv", "xlsx")],
        DEVICE_SHOW_KEY: [{"devices-grid.cellClicked": {"rowId": d, "colId": "device_id"}}
                          for d in (own["device_id"], other["device_id"], "NOPE", None, 5)]
        + [{"devices-saved.data": 1, "device-opened.data": o}
           for o in (stale, {"device_id": own["device_id"]}, "junk", None)],
        DEVICE_CHANGE_KEY: [{f"device-{b}.n_clicks": 1, "device-opened.data": o, "device-dealer_code.value": "LKO01",
                             "device-battery_serial.value": other["battery_serial"],
                             "device-vehicle_number.value": other["vehicle_number"]}
                            for b in ("save", "toggle") for o in (stale, None, {"device_id": 5})]
        + [{"device-save.n_clicks": 0, "device-opened.data": stale}],
        DEVICE_IMPORT_KEY: [{"devices-upload.contents": c, "devices-upload.filename": n}
                            for c, n in ((moves_other, "x.csv"), (all_bad, "x.csv"), ("data:x;base64,@@@", "x.csv"),
                                         (None, None), (moves_other, "x.exe"))]
        + [{"devices-import-apply.n_clicks": 1, "devices-upload.contents": all_bad, "devices-upload.filename": "x.csv"}],
    }


SITE_FIELDS = ("code", "name", "kind", "dealer_code", "city", "state", "address", "climate_zone", "latitude", "longitude")
KIT_FIELDS = ("serial", "kind", "make", "model", "rating", "installed_on", "status")
WORK_FIELDS = ("equipment", "done_on", "done_by", "next_due", "work")
SITE_NEW_KEY = _keys("site-new-message.children", *[f"site-new-{f}-error.children" for f in SITE_FIELDS],
                     "sites-saved.data")
SITE_EDIT_KEY = _keys("site-edit-message.children", *[f"site-edit-{f}-error.children" for f in SITE_FIELDS],
                      "site-head.children", "site-seen.data", "site-saved.data")
SITE_SHOW_KEY = _keys("site-kpis.children", "site-status.options", "site-due.children", "site-equipment.children",
                      "site-maintenance.children", "site-history.children")
KIT_OPEN_KEY = _keys(*[f"equipment-{f}.value" for f in KIT_FIELDS], "equipment-serial.disabled", "equipment-seen.data")
KIT_SAVE_KEY = _keys("equipment-message.children", *[f"equipment-{f}-error.children" for f in KIT_FIELDS],
                     "equipment-saved.data")
WORK_SAVE_KEY = _keys("maintenance-message.children", *[f"maintenance-{f}-error.children" for f in WORK_FIELDS],
                      "maintenance-saved.data")
SITES_IMPORT_KEY = _keys("sites-import-preview.children", "sites-import-apply.disabled", "sites-imported.data")
OWN_SITE, OTHER_SITE = "LKO01-HUB", "DEL01-HUB"
OTHER_KIT = "EXI-DEL01-HUB-CHA01"


def _site_cases() -> dict[str, list[dict]]:
    """Sites and a site's page. Every site code the browser could send: its own, another dealer's, none,
    junk. Changes are invalid or stale and imports all-refused, so walking them changes nothing."""
    codes = [OWN_SITE, OTHER_SITE, "NOPE", None, 5, "%", "x" * 500]
    stale = "2000-01-01T00:00:00+00:00"
    filters = [{}, {"sites-dealer.value": "DEL01"}, {"sites-text.value": "Okhla"}, {"sites-kind.value": "depot"},
               {"sites-zone.value": ["x"], "sites-text.value": 5}]
    bad_sites = _csv_upload("code,name,kind,dealer_code,city,climate_zone\n"
                            f"{OTHER_SITE},Taken,castle,LKO01,Delhi,arctic\n")
    bad_kit = _csv_upload("serial,site_code,kind,make,model\n"
                          f"{OTHER_KIT},{OWN_SITE},toaster,,\n")
    return {
        "..sites-count.children...sites-cards.children...sites-unplaced.children..": filters,
        "sites-download.data": [dict(f, **{f"sites-export-{k}.n_clicks": 1}) for f in filters[:2] for k in ("csv", "xlsx")],
        SITE_NEW_KEY: [{"site-new-save.n_clicks": 1, "site-new-code.value": c, "site-new-dealer_code.value": d,
                        "site-new-kind.value": "depot", "site-new-name.value": "Walk", "site-new-city.value": "X",
                        "site-new-climate_zone.value": "composite", "site-new-latitude.value": lat}
                       for c, d, lat in ((OTHER_SITE, "LKO01", None), ("T-WALK", "NOPE", None),
                                         ("T-WALK", "DEL01", "north"), (None, ["x"], 5))]
        + [{"site-new-save.n_clicks": 0}],
        SITES_IMPORT_KEY: [{"sites-upload.contents": c, "sites-upload.filename": "x.csv", "sites-import-kind.value": k}
                           for c, k in ((bad_sites, "sites"), (bad_kit, "equipment"), (bad_sites, "everything"),
                                        ("data:x;base64,@@@", "sites"), (None, "sites"))]
        + [{"sites-import-apply.n_clicks": 1, "sites-upload.contents": bad_kit, "sites-upload.filename": "x.csv",
            "sites-import-kind.value": "equipment"}],
        SITE_SHOW_KEY: [{"site-code.data": c} for c in codes],
        "..site-batteries-grid.rowData...site-batteries-note.children..": [
            {"site-code.data": c, "site-status.value": st} for c in codes for st in ("all", "critical", ["x"])],
        **{f"site-{table}-download.data": [{"site-code.data": c, f"site-{table}-export-{k}.n_clicks": 1}
                                           for c in codes[:4] for k in ("csv", "xlsx")]
           for table in ("batteries", "equipment", "maintenance")},
        SITE_EDIT_KEY: [{"site-edit-save.n_clicks": 1, "site-code.data": c, "site-seen.data": seen,
                         "site-edit-name.value": "Walked", "site-edit-kind.value": "depot",
                         "site-edit-dealer_code.value": "LKO01", "site-edit-city.value": "X",
                         "site-edit-climate_zone.value": "composite"}
                        for c in codes[:4] for seen in (stale, None)]
        + [{"site-edit-save.n_clicks": 0, "site-code.data": OTHER_SITE}],
        "..equipment-choice.options...maintenance-equipment.options..": [{"site-code.data": c} for c in codes],
        KIT_OPEN_KEY: [{"site-code.data": c, "equipment-choice.value": e}
                       for c in (OWN_SITE, OTHER_SITE, None) for e in (OTHER_KIT, "__new__", None, ["x"])],
        KIT_SAVE_KEY: [{"equipment-save.n_clicks": 1, "site-code.data": c, "equipment-seen.data": o,
                        "equipment-serial.value": OTHER_KIT, "equipment-kind.value": "toaster"}
                       for c in (OWN_SITE, OTHER_SITE, None)
                       for o in ({"serial": OTHER_KIT, "seen": stale}, None, "junk")],
        WORK_SAVE_KEY: [{"maintenance-save.n_clicks": 1, "site-code.data": c, "maintenance-equipment.value": e,
                         "maintenance-done_on.value": "2999-01-01", "maintenance-work.value": "walk",
                         "maintenance-done_by.value": "walker"}
                        for c in (OWN_SITE, OTHER_SITE, None) for e in (OTHER_KIT, None, 5)],
    }


def _site_power_cases() -> dict[str, list[dict]]:
    """A site's power panel: its own hub, another dealer's, a site with no site power, none, junk."""
    return {"site-power.children": [{"site-code.data": c, "site-power-refresh.n_intervals": n}
                                    for c in (OWN_SITE, OTHER_SITE, "LKO01-DEPOT", "NOPE", None, 5, "%", "x" * 500)
                                    for n in (None, 1)]}


ENERGY_SESSIONS_KEY = _keys("energy-sessions-grid.rowData", "energy-sessions-count.children",
                            "energy-sessions-message.children", "energy-sessions-box.className",
                            "energy-sessions-empty.children")


def _energy_cases(own: dict, other: dict) -> dict[str, list[dict]]:
    """The energy page. Periods and groupings, ordinary and hostile (a dealer asking for the dealer
    ranking); the sessions' filters, including a dealer choosing another dealer's site or typing another
    dealer's vehicle, which must still get only its own sessions (here: none and a message)."""
    periods = [{"energy-period.value": p} for p in ("7d", "30d", "90d", None, ["7d"], 5, "1 OR 1=1")]
    groups = ("site", "charger", "vehicle", "dealer", None, ["site"], "d.device_id")
    filters = [{}, {"energy-site.value": OTHER_SITE}, {"energy-site.value": "DEL01-DEPOT"},
               {"energy-site.value": OTHER_SITE.lower()}, {"energy-site.value": OWN_SITE},
               {"energy-site.value": OTHER_SITE, "energy-flag.value": "high"},
               {"energy-site.value": ["LKO01-HUB", OTHER_SITE]}, {"energy-site.value": 5},
               {"energy-site.value": "' OR 1=1 --"}, {"energy-flag.value": "low"}, {"energy-flag.value": "high"},
               {"energy-flag.value": "flagged"}, {"energy-flag.value": "unmetered"}, {"energy-flag.value": "x"},
               {"energy-flag.value": ["low"]}, {"energy-vehicle.value": own["vehicle_number"]},
               {"energy-vehicle.value": other["vehicle_number"]}, {"energy-vehicle.value": other["device_id"]},
               {"energy-vehicle.value": other["battery_serial"]}, {"energy-vehicle.value": "%"},
               {"energy-vehicle.value": "x" * 500}, {"energy-vehicle.value": 7},
               {"energy-dates.start_date": "2026-11-20", "energy-dates.end_date": "2026-11-01"},
               {"energy-dates.start_date": "not a day", "energy-dates.end_date": 5},
               {"energy-dates.start_date": None, "energy-dates.end_date": None},
               {"energy-site.value": OTHER_SITE, "energy-vehicle.value": other["device_id"],
                "energy-flag.value": "flagged", "energy-dates.start_date": "2000-01-01",
                "energy-dates.end_date": "2100-12-31"}]
    return {
        "energy-kpis.children": [dict(p, **{"energy-refresh.n_intervals": 1}) for p in periods],
        "..energy-trend.children...energy-trend-note.children..": [
            {"energy-period.value": p, "energy-trend-group.value": g} for p in ("7d", "90d") for g in groups]
        + periods[3:],
        "energy-ranking.children": [{"energy-period.value": p, "energy-rank-group.value": g}
                                    for p in ("7d", "90d") for g in groups] + periods[3:],
        "energy-unattributed.children": periods,
        "..energy-dates.start_date...energy-dates.end_date..": periods,
        ENERGY_SESSIONS_KEY: filters,
        "energy-ranking-download.data": [{"energy-period.value": p, "energy-rank-group.value": g,
                                          f"energy-ranking-export-{k}.n_clicks": 1}
                                         for p, g in (("7d", "vehicle"), ("30d", "dealer"), (5, ["x"]))
                                         for k in ("csv", "xlsx")],
        "energy-unattributed-download.data": [{"energy-period.value": p, f"energy-unattributed-export-{k}.n_clicks": 1}
                                              for p in ("7d", None) for k in ("csv", "xlsx")],
        "energy-sessions-download.data": [dict(f, **{f"energy-sessions-export-{k}.n_clicks": 1})
                                          for f in filters[:8] + filters[15:19] for k in ("csv", "xlsx")],
    }


def _trips_cases(own: dict, other: dict) -> dict[str, list[dict]]:
    """The trips page. The period and every history filter, ordinary and hostile: a dealer naming another
    dealer, or typing another dealer's device, vehicle or serial, must still get only its own trips."""
    periods = [{"trips-period.value": p} for p in ("7d", "30d", "90d", "1y", None, ["7d"], 5)]
    filters = [{}, {"trips-dealer.value": "DEL01"}, {"trips-dealer.value": "LKO01"},
               {"trips-dealer.value": "' OR 1=1 --"}, {"trips-dealer.value": ["DEL01"]},
               {"trips-text.value": own["vehicle_number"]}, {"trips-text.value": other["vehicle_number"]},
               {"trips-text.value": other["device_id"]}, {"trips-text.value": other["battery_serial"]},
               {"trips-text.value": "%"}, {"trips-text.value": "x" * 500}, {"trips-text.value": 7},
               {"trips-dates.start_date": "2026-11-20", "trips-dates.end_date": "2026-11-01"},
               {"trips-dates.start_date": "not a day", "trips-dates.end_date": 5},
               {"trips-dealer.value": "DEL01", "trips-text.value": other["device_id"],
                "trips-dates.start_date": "2000-01-01", "trips-dates.end_date": "2100-12-31"}]
    requests = ({"startRow": 0, "endRow": 100}, {"startRow": 0, "endRow": 100,
                                                 "sortModel": [{"colId": "km_per_kwh", "sort": "asc"}]},
                {"startRow": "x", "sortModel": [{"colId": "1; DROP TABLE devices", "sort": "asc"}]})
    return {
        "trips-kpis.children": [{"trips-refresh.n_intervals": n} for n in (None, 1, "x")],
        "..trips-top-km.children...trips-top-kwh.children..": periods,
        "..trips-eff-note.children...trips-eff-best.children...trips-eff-worst.children...trips-eff-dealers.children..":
            periods,
        "..trips-charge-hours.figure...trips-dod-hours.figure..": periods,
        "..trips-history-count.children...trips-history-message.children...trips-history-box.className"
        "...trips-history-empty.children..": filters,
        "trips-grid.getRowsResponse": [dict(f, **{"trips-grid.getRowsRequest": r}) for f in filters for r in requests],
        "trips-history-download.data": [dict(f, **{f"trips-history-export-{k}.n_clicks": 1}) for f in filters
                                        for k in ("csv", "xlsx")],
    }


def _rule_key(alert_type: str) -> str:
    """The output key of one rule's save callback (pages/_alert_rules.py)."""
    from components.alert_rules import field_id, form_fields
    from data.alert_config import LIMITS

    fields = form_fields({"alert_type": alert_type, "low": LIMITS[alert_type].low})
    parts = ([f"{field_id(alert_type, f + '-error')}.children" for f in fields]
             + [f"{field_id(alert_type, f)}.value" for f in fields]
             + [f"{field_id(alert_type, 'status')}.{p}" for p in ("children", "className")]
             + [f"{field_id(alert_type, 'saved')}.data"])
    return ".." + "...".join(parts) + ".."


def _alert_ops_cases() -> dict[str, list[dict]]:
    """Thresholds, live toasts, scenario panel. Every rule case is invalid or unclicked, so walking it
    as admin changes no rule; tests/test_alert_ops.py checks valid saves and refusals."""
    from data.alert_config import LIMITS

    cases = {}
    for t, limits in LIMITS.items():
        field = lambda name: f"rule-{t}-{name}.value"  # noqa: E731
        base = {f"rule-{t}-save.n_clicks": 1, field("severity"): "critical", field("enabled"): ["on"],
                field("notify"): ["on"], field("duration_minutes"): 2}
        if limits.low is None:
            invalid = dict(base, **{field("duration_minutes"): -5})
        else:
            invalid = dict(base, **{field("threshold"): 1e9, field("clear_threshold"): None})
        cases[_rule_key(t)] = [invalid, {f"rule-{t}-save.n_clicks": 1}, {f"rule-{t}-save.n_clicks": None},
                               dict(invalid, **{field("severity"): "' OR 1=1 --"})]
    cases["alert-rules-history.children"] = [{}]
    cases["alert-rules-history-download.data"] = [{"alert-rules-history-export-csv.n_clicks": 1},
                                                  {"alert-rules-history-export-xlsx.n_clicks": 1}]
    cases["..live-toasts.children...live-last.data...live-beep.data...live-toasts.className.."] = [
        {"live-poll.n_intervals": 1, "live-last.data": v}
        for v in (None, {"id": 0, "kept": 0}, {"id": 0, "kept": 19}, {"id": "0 OR 1=1"}, {"id": 2**70}, [1])]
    inject = "..scenario-status.children...scenario-status.className...scenario-injected.data.."
    cases[inject] = [  # each stops before calling the simulator: no battery, no scenario, too short
        {"scenario-inject.n_clicks": 1, "scenario-kind.value": "overheating", "scenario-batteries.value": []},
        {"scenario-inject.n_clicks": 1, "scenario-kind.value": "meltdown", "scenario-batteries.value": ["x"]},
        {"scenario-inject.n_clicks": 1, "scenario-kind.value": "overheating", "scenario-minutes.value": 1},
        {"scenario-inject.n_clicks": 1, "scenario-kind.value": "overheating",
         "scenario-batteries.value": ["NO-SUCH-DEVICE", "' OR 1=1 --"]},
    ]
    results = ("..scenario-summary.children...scenario-truth.children...scenario-alerts.children..."
               "scenario-notifications.children...scenario-escalations.children..")
    cases[results] = [{"scenario-window.value": w} for w in ("last", "6h", "24h", "forever")]
    for table in ("alerts", "notifications"):
        cases[f"scenario-{table}-download.data"] = [{f"scenario-{table}-export-csv.n_clicks": 1},
                                                    {f"scenario-{table}-export-xlsx.n_clicks": 1,
                                                     "scenario-window.value": "24h"}]
    return cases


def _alert_page_cases(ids) -> dict[str, list[dict]]:
    """The alerts page and the alert buttons (pages/alerts.py, pages/_alert_actions.py). Every action
    case is refused before anything changes (a comment too long, an unknown alert or user), whoever
    walks it: tests/test_alerts_page.py checks the actions that do change something."""
    from data.db import get_db

    def alert_of(code: str) -> int:
        return get_db().scalar("""SELECT min(a.id) FROM alerts a JOIN devices d USING (device_id)
                                  JOIN dealers dl ON dl.id = d.dealer_id WHERE dl.code = :c""", c=code)

    own, other, unknown = alert_of("LKO01"), alert_of("DEL01"), 2**40
    other_dealer, other_vehicle = ids["DEL01"][0]["dealer_id"], ids["DEL01"][0]["vehicle_number"]
    too_long = "x" * 1001
    filters = [{}, {"alerts-dealer.value": other_dealer}, {"alerts-city.value": "Delhi"},
               {"alerts-vehicle.value": other_vehicle}, {"alerts-status.value": ["open", "resolved", "nope"]},
               {"alerts-severity.value": "critical", "alerts-type.value": ["high_temp"],
                "alerts-dates.start_date": "2020-01-01", "alerts-dates.end_date": "2099-12-31"},
               {"alerts-dealer.value": "1 OR 1=1", "alerts-city.value": ["x"], "alerts-dates.start_date": "yesterday"}]
    sorts = [[], [{"colId": "dealer", "sort": "asc"}], [{"colId": "vehicle_number", "sort": "desc"}],
             [{"colId": "d.dealer_id; --", "sort": "asc"}]]
    grid = [dict(f, **{"alerts-grid.getRowsRequest": {"startRow": start, "endRow": start + 100, "sortModel": s}})
            for f in filters for s in sorts[:2] for start in (0, 100)]
    grid += [{"alerts-grid.getRowsRequest": {"startRow": 0, "endRow": 100, "sortModel": s}} for s in sorts[2:]]
    clicked = [{"alerts-grid.cellClicked": {"rowId": str(i), "colId": "severity"}, "alerts-open.data": j}
               for i, j in ((own, None), (other, own), (unknown, other), ("1 OR 1=1", None))]
    act = "..alert-action-message.children...alert-action-message.className...alert-action-done.data.."
    requests = [{"alert": other, "action": "acknowledge", "comment": too_long},
                {"alert": own, "action": "resolve", "comment": too_long},
                {"alert": other, "action": "assign", "user": "no-such-user"},
                {"alert": own, "action": "assign", "user": "dealer2", "comment": "a\x00b"},
                {"alert": unknown, "action": "resolve"}, {"alert": "1 OR 1=1", "action": "drop"}, None]
    bulk = "..alerts-bulk-message.children...alerts-bulk-done.data...alerts-grid.deselectAll.."
    return {
        "alerts-summary.children": filters,
        "alerts-grid.getRowsResponse": grid,
        "..alerts-detail.children...alerts-open.data..": clicked,
        act: [{"alert-action-request.data": r} for r in requests],
        bulk: [{"alerts-ack-selected.n_clicks": 1, "alerts-grid.selectedRows": rows, "alerts-bulk-comment.value": c}
               for rows, c in (([{"id": unknown}, {"id": unknown + 1}], too_long),
                               ([{"id": own}, {"id": other}], too_long), ([], None))],
        "alerts-download.data": [dict(f, **{"alerts-export-csv.n_clicks": 1}) for f in filters]
        + [{"alerts-export-xlsx.n_clicks": 1}],
    }


def _forbidden(ids, role: str) -> list[str]:
    """What this role must never see: every identifier of another dealer's batteries, sites and equipment."""
    mine = {"dealer1": "LKO01", "dealer2": "DEL01"}.get(role)
    if mine is None:
        return []
    from data.db import get_db
    places = get_db().query("""SELECT s.code, e.serial FROM sites s JOIN dealers dl ON dl.id = s.dealer_id
                               LEFT JOIN equipment e ON e.site_id = s.id WHERE dl.code <> :mine""", mine=mine)
    return [value for code, rows in ids.items() if code != mine for r in rows
            for value in (r["device_id"], r["vehicle_number"], r["battery_serial"])] + \
        sorted({p["code"] for p in places} | {p["serial"] for p in places if p["serial"]})


def _server_callbacks(app) -> set[str]:
    """Output keys of every callback that runs on the server (clientside ones never reach it)."""
    app.server.test_client().get("/login")  # Dash adds the page-routing callbacks on the first request
    return {k for k, spec in app.callback_map.items() if "callback" in spec}


def _covered(app, cases) -> dict[str, list[dict]]:
    server_side = _server_callbacks(app)
    walked = {k: v for k, v in cases.items() if k in server_side}
    missing = sorted(server_side - set(walked))
    assert not missing, f"callbacks with no authorization case: {missing}"
    return walked


def test_every_callback_has_a_case(dash_app, fleet_ids):
    _covered(dash_app, _cases(fleet_ids))


def test_anonymous_gets_401_from_every_callback(dash_app, client, fleet_ids):
    for key, values_list in _covered(dash_app, _cases(fleet_ids)).items():
        for values in values_list:
            response = client.post("/_dash-update-component", json=_payload(dash_app, key, values))
            assert response.status_code == 401, (key, values, response.status_code)


@pytest.mark.parametrize("role", ROLES)
def test_every_callback_keeps_the_role_in_scope(dash_app, client, fleet_ids, role):
    assert login(client, role).status_code == 302
    forbidden = _forbidden(fleet_ids, role)
    calls, walked = 0, _covered(dash_app, _cases(fleet_ids))
    for key, values_list in walked.items():
        for values in values_list:
            response = client.post("/_dash-update-component", json=_payload(dash_app, key, values))
            body = response.get_data(as_text=True)
            assert response.status_code in (200, 204), (role, key, values, response.status_code, body[:300])
            assert "Traceback" not in body
            leaked = [f for f in forbidden if f in body]
            assert not leaked, f"{role} got another dealer's batteries from {key} with {values}: {leaked[:3]}"
            calls += 1
    assert calls == sum(len(v) for v in walked.values())


def test_whole_fleet_roles_do_see_every_dealer(dash_app, client, fleet_ids):
    """The check above would pass on an app that shows nothing: make sure it shows what it should."""
    login(client, "manager")
    key = "..overview-pins.data...overview-map-note.children.."
    body = json.loads(client.post("/_dash-update-component", json=_payload(dash_app, key, {})).get_data())
    shown = set(body["response"]["overview-pins"]["data"]["id"])
    assert {r["device_id"] for rows in fleet_ids.values() for r in rows} == shown

    dealer = dash_app.server.test_client()
    login(dealer, "dealer1")
    body = json.loads(dealer.post("/_dash-update-component", json=_payload(dash_app, key, {})).get_data())
    shown = set(body["response"]["overview-pins"]["data"]["id"])
    assert shown == {r["device_id"] for r in fleet_ids["LKO01"]}


# -- warranty terms: admins only ---------------------------------------------------------------------
TERMS_KEY = "..terms-message.children...warranty-saved.data.."


def _terms_change(months, cycles, floor) -> dict:
    return {"terms-save.n_clicks": 1, "terms-model.value": "LFP-51V105-A", "terms-warranty_months.value": months,
            "terms-warranty_cycles.value": cycles, "terms-warranty_soh_floor.value": floor}


def test_only_an_admin_changes_warranty_terms_and_every_change_is_kept(dash_app, app_db):
    terms = "SELECT model, warranty_months, warranty_cycles, warranty_soh_floor FROM battery_models ORDER BY model"
    before = app_db.query(terms)
    changes = app_db.scalar("SELECT count(*) FROM battery_model_changes")
    for role in ("manager", "engineer", "viewer", "dealer1"):
        client = dash_app.server.test_client()
        login(client, role)
        body = client.post("/_dash-update-component", json=_payload(dash_app, TERMS_KEY, _terms_change(12, 100, 99)))
        assert "Only an admin" in body.get_data(as_text=True), role
    assert app_db.query(terms) == before
    admin = dash_app.server.test_client()
    login(admin, "admin")
    bad = admin.post("/_dash-update-component", json=_payload(dash_app, TERMS_KEY, _terms_change(36, 2000, 101)))
    assert "SOH floor (%) must be between 50 and 100" in bad.get_data(as_text=True)
    old = next(t for t in before if t["model"] == "LFP-51V105-A")
    try:
        good = admin.post("/_dash-update-component", json=_payload(dash_app, TERMS_KEY, _terms_change(40, 2100, 78.5)))
        assert "Saved" in good.get_data(as_text=True)
        row = app_db.one("""SELECT changed_by, before, after FROM battery_model_changes ORDER BY id DESC LIMIT 1""")
        assert row["changed_by"] == "admin"
        assert row["before"]["warranty_months"] == old["warranty_months"]
        assert row["after"] == {"warranty_months": 40, "warranty_cycles": 2100, "warranty_soh_floor": 78.5}
        assert app_db.scalar("SELECT count(*) FROM battery_model_changes") == changes + 1
    finally:
        admin.post("/_dash-update-component", json=_payload(dash_app, TERMS_KEY, _terms_change(
            old["warranty_months"], old["warranty_cycles"], old["warranty_soh_floor"])))
    assert app_db.query(terms) == before


# -- downloads: evidence packs and reports -----------------------------------------------------------
def _download_rules(app) -> set[str]:
    return {r.rule for r in app.server.url_map.iter_rules() if r.rule.startswith("/download")}


@pytest.fixture(scope="module")
def stored_files(dash_app, app_db, fleet_ids):
    """A claim pack of each dealer's first battery and today's reports (whole fleet and LKO01's)."""
    from datetime import datetime, timezone

    import config
    from data import health_reports
    from ingest import report_jobs

    manager = dash_app.server.test_client()
    login(manager, "manager")
    claims = {}
    for code in ("LKO01", "DEL01"):
        device = fleet_ids[code][0]["device_id"]
        assert manager.get(f"/download/evidence/{device}.pdf").status_code == 200
        claims[code] = app_db.scalar("SELECT max(id) FROM claim_packs WHERE device_id = :d", d=device)
    health_reports.add_recipient(app_db, "lko@dealers.example", "LKO01")
    report_jobs.daily_report(app_db, config.get(), datetime.now(timezone.utc), force=True)
    reports = {r["dealer_id"]: r["id"] for r in app_db.query("SELECT id, dealer_id FROM health_reports")}
    return {"claims": claims, "fleet_report": reports[None], "lko_report": reports[fleet_ids["LKO01"][0]["dealer_id"]]}


def _download_cases(ids, files) -> dict[str, list[tuple[str, str]]]:
    """Per route: (url, whose) with whose = "LKO01", "DEL01" or "fleet"."""
    own, other = ids["LKO01"][0], ids["DEL01"][0]
    return {
        "/download/evidence/<device_id>.pdf": [(f"/download/evidence/{own['device_id']}.pdf", "LKO01"),
                                               (f"/download/evidence/{other['device_id']}.pdf", "DEL01"),
                                               ("/download/evidence/NOPE.pdf", "none"),
                                               ("/download/evidence/a%20b%3Bc.pdf", "none")],
        "/download/claim/<int:pack_id>.pdf": [(f"/download/claim/{files['claims']['LKO01']}.pdf", "LKO01"),
                                              (f"/download/claim/{files['claims']['DEL01']}.pdf", "DEL01"),
                                              ("/download/claim/999999.pdf", "none")],
        "/download/health-report.<kind>": [("/download/health-report.pdf", "mine"),
                                           ("/download/health-report.xlsx", "mine"),
                                           ("/download/health-report.exe", "none")],
        "/download/report/<int:report_id>.<kind>": [(f"/download/report/{files['fleet_report']}.pdf", "fleet"),
                                                    (f"/download/report/{files['lko_report']}.xlsx", "LKO01"),
                                                    (f"/download/report/{files['lko_report']}.zip", "none")],
        "/download/devices-template.csv": [("/download/devices-template.csv", "mine")],
        "/download/sites-template.csv": [("/download/sites-template.csv", "mine")],
        "/download/equipment-template.csv": [("/download/equipment-template.csv", "mine")],
    }


def test_every_download_route_has_a_case(dash_app, fleet_ids):
    files = {"claims": {"LKO01": 1, "DEL01": 2}, "fleet_report": 1, "lko_report": 2}
    assert _download_rules(dash_app) == set(_download_cases(fleet_ids, files))


@pytest.mark.parametrize("role", ROLES)
def test_downloads_keep_the_role_in_scope(dash_app, app_db, fleet_ids, stored_files, role):
    import io

    from openpyxl import load_workbook

    anonymous = dash_app.server.test_client()
    client = dash_app.server.test_client()
    login(client, role)
    mine = {"dealer1": "LKO01", "dealer2": "DEL01"}.get(role)
    forbidden = _forbidden(fleet_ids, role)
    packs = app_db.scalar("SELECT count(*) FROM claim_packs")
    for urls in _download_cases(fleet_ids, stored_files).values():
        for url, whose in urls:
            assert anonymous.get(url).status_code in (302, 401), url
            response = client.get(url)
            allowed = whose == "mine" or (whose != "none" and (mine is None or whose == mine))
            if not allowed:
                assert response.status_code == 404, (role, url, response.status_code)
                continue
            assert response.status_code == 200, (role, url, response.status_code)
            body = response.get_data()
            if url.endswith(".pdf"):
                assert body.startswith(b"%PDF") and response.mimetype == "application/pdf"
            elif url.endswith(".csv"):
                assert body.split(b",")[0] in (b"device_id", b"code", b"serial"), (url, body[:60])
            else:
                book = load_workbook(io.BytesIO(body))
                cells = " ".join(str(c) for ws in book for row in ws.iter_rows(values_only=True) for c in row)
                leaked = [f for f in forbidden if f in cells]
                assert not leaked, (role, url, leaked[:3])
    made = app_db.scalar("SELECT count(*) FROM claim_packs") - packs
    evidence_allowed = sum(1 for url, whose in _download_cases(fleet_ids, stored_files)["/download/evidence/<device_id>.pdf"]
                           if whose != "none" and (mine is None or whose == mine))
    assert made == (0 if role == "viewer" else evidence_allowed)   # the wall display keeps no packs



# -- users: admins only ------------------------------------------------------------------------------
def _new_user(username: str) -> dict:
    return {"new-user-create.n_clicks": 1, "new-user-username.value": username, "new-user-name.value": "Walk",
            "new-user-role.value": "admin", "new-user-dealer.value": None, "new-user-password.value": "a-long-password"}


def test_only_an_admin_manages_users_and_the_page_is_not_found_for_others(dash_app, app_db):
    count = "SELECT count(*) FROM users"
    before = app_db.scalar(count)
    target = app_db.one("SELECT id, updated_at FROM users WHERE username = 'viewer'")
    opened = {"id": target["id"], "seen": target["updated_at"].isoformat()}
    for role in ("manager", "engineer", "viewer", "dealer1"):
        client = dash_app.server.test_client()
        login(client, role)
        body = client.post("/_dash-update-component", json=_payload(dash_app, USER_CREATE_KEY, _new_user("intruder")))
        assert "Only an admin may manage users" in body.get_data(as_text=True), role
        body = client.post("/_dash-update-component", json=_payload(dash_app, USER_CHANGE_KEY, {
            "edit-user-disable.n_clicks": 1, "edit-user-opened.data": opened}))
        assert "Only an admin may manage users" in body.get_data(as_text=True), role
        page = client.post("/_dash-update-component", json=_payload(
            dash_app, ".._pages_content.children..._pages_store.data..",
            {"_pages_location.pathname": "/users", "_pages_location.search": ""})).get_data(as_text=True)
        assert "Not found" in page and "new-user-create" not in page, role
    assert app_db.scalar(count) == before
    assert app_db.scalar("SELECT is_active FROM users WHERE username = 'viewer'")

    admin = dash_app.server.test_client()
    login(admin, "admin")
    body = admin.post("/_dash-update-component", json=_payload(dash_app, USER_CREATE_KEY, _new_user("walk.admin")))
    try:
        assert "Created walk.admin" in body.get_data(as_text=True)
        line = app_db.one("SELECT actor, remote_addr, action FROM audit_log WHERE target = 'walk.admin'")
        assert line == {"actor": "admin", "remote_addr": "127.0.0.1", "action": "user.create"}
    finally:
        app_db.execute("DELETE FROM users WHERE username = 'walk.admin'")
