"""``flask --app app meters assign|end|list``: the vehicle-to-meter mapping behind the efficiency
figures, kept in the audit log; a bad request is one line."""
from data import demo


def _run(dash_app, *args):
    return dash_app.server.test_cli_runner().invoke(args=["meters", *args])


def test_assign_list_end_and_refusals(dash_app, app_db):
    site = next(s for s in demo.SITES if s.code == "JAI01-DEPOT")
    meter = demo.meter_serial(demo.site_chargers(site)[5])
    vehicle = demo.fleet(size=40)[2]
    made = _run(dash_app, "assign", meter, vehicle.vehicle_number, "--from", "2025-01-01", "--to", "2025-02-01")
    assert made.exit_code == 0, made.output
    new_id = int(made.output.split()[1].rstrip(":"))
    row = app_db.one("SELECT device_id, valid_from, valid_to FROM meter_assignments WHERE id = :id", id=new_id)
    assert row["device_id"] == vehicle.device_id
    assert row["valid_from"].isoformat() == "2024-12-31T18:30:00+00:00"  # a date alone is IST midnight
    listing = _run(dash_app, "list", "--meter", meter).output
    assert vehicle.vehicle_number in listing and "2024-12-31 18:30" in listing

    overlap = _run(dash_app, "assign", meter, vehicle.device_id, "--from", "2025-01-15")
    assert overlap.exit_code == 1 and f"already assigned to {meter}" in overlap.output
    for args, words in ((["assign", "NO-METER", vehicle.device_id, "--from", "2025-01-01"], "no energy meter"),
                        (["assign", meter, "NOBODY", "--from", "2025-01-01"], "no battery"),
                        (["assign", meter, vehicle.device_id, "--from", "2025-05-01", "--to", "2025-04-01"],
                         "end must be after"),
                        (["assign", meter, vehicle.device_id, "--from", "yesterday"], "not a date"),
                        (["end", "999999", "--at", "2025-03-01"], "no meter assignment"),
                        (["end", str(new_id), "--at", "2024-06-01"], "end it after that")):
        refused = _run(dash_app, *args)
        assert refused.exit_code != 0 and words in refused.output and "Traceback" not in refused.output, args

    ended = _run(dash_app, "end", str(new_id), "--at", "2025-01-20")
    assert ended.exit_code == 0, ended.output
    assert app_db.scalar("SELECT valid_to FROM meter_assignments WHERE id = :id", id=new_id).isoformat() \
        == "2025-01-19T18:30:00+00:00"
    actions = [r["action"] for r in app_db.query(
        "SELECT action FROM audit_log WHERE target_kind = 'equipment' AND target = :m ORDER BY id", m=meter)]
    assert actions[-2:] == ["meter.assign", "meter.unassign"]
