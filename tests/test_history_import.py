"""``flask --app app telemetry import``: vendor and our own history exports (CSV, XLSX) through the
push path, with a summary, refused rows named by line, and a resume after an interruption."""
from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone

import openpyxl
import pytest

from data import demo
from ingest import history_import
from ingest.simulator.fleet import SimulatedFleet
from ingest.simulator.model import Faults

START = datetime(2026, 3, 2, 6, 0, tzinfo=timezone.utc)


@pytest.fixture
def two_vehicles(plain_db):
    vehicles = demo.fleet(size=2)
    demo.seed_registry(plain_db, vehicles)
    return vehicles


def _vendor_battery_csv(path, vehicles, hours=2):
    """What an Intellicar export looks like: vehicleno, epoch-ms time, the vendor's field names."""
    fleet = SimulatedFleet(vehicles, Faults.none())
    columns = ["vehicleno", "time", "soc", "soh", "battery_voltage", "current", "battery_temp", "charge_cycle"]
    rows = []
    for v in vehicles:
        for r in fleet.battery_history(v.vehicle_number, START, START + timedelta(hours=hours)):
            rows.append(dict(r, vehicleno=v.vehicle_number))
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        writer.writerow({"vehicleno": vehicles[0].vehicle_number, "time": "yesterday", "soc": 50})
        writer.writerow({"vehicleno": "NOT-OURS", "time": int(START.timestamp() * 1000), "soc": 50})
    return len(rows)


def test_a_vendor_export_is_imported_with_a_summary_and_skipped_when_done(plain_db, two_vehicles, tmp_path):
    path = tmp_path / "intellicar-export.csv"
    good = _vendor_battery_csv(path, two_vehicles)
    summary = history_import.import_file(plain_db, str(path))
    assert summary.stream == "can-data"
    assert (summary.rows, summary.stored, summary.duplicates, summary.rejected) == (good + 2, good, 0, 2)
    assert summary.first_errors == [f"line {good + 2}: no readable time (epoch seconds or milliseconds, or ISO 8601)",
                                    f"line {good + 3}: no battery with this device_id or vehicleno is registered"]
    assert plain_db.scalar("SELECT count(*) FROM telemetry.battery_readings") == good
    assert plain_db.scalar("SELECT count(*) FROM telemetry.rejected_readings") == 2

    again = history_import.import_file(plain_db, str(path))
    assert again.skipped and "imported before" in again.line()
    restarted = history_import.import_file(plain_db, str(path), restart=True)
    assert (restarted.stored, restarted.duplicates) == (0, good)
    assert plain_db.scalar("SELECT count(*) FROM telemetry.rejected_readings") == 2


def test_an_interrupted_import_resumes_after_the_last_batch(plain_db, two_vehicles, tmp_path):
    path = tmp_path / "export.csv"
    good = _vendor_battery_csv(path, two_vehicles, hours=1)

    def stop_after_first_batch(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        history_import.import_file(plain_db, str(path), progress=stop_after_first_batch, batch=100)
    assert plain_db.scalar("SELECT count(*) FROM telemetry.battery_readings") == 100
    resumed = history_import.import_file(plain_db, str(path), batch=100)
    assert resumed.resumed_at == 100
    assert (resumed.stored, resumed.duplicates) == (good - 100, 0)  # the first batch is not read again
    assert plain_db.scalar("SELECT count(*) FROM telemetry.battery_readings") == good


def test_gps_in_our_names_from_xlsx(plain_db, two_vehicles, tmp_path):
    path = tmp_path / "gps.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["device_id", "time", "latitude", "longitude", "speed"])
    v = two_vehicles[0]
    for i in range(30):
        sheet.append([v.device_id, (START + timedelta(minutes=i)).isoformat(), 26.85 + i * 1e-4, 80.95, 12.5])
    sheet.append([v.device_id, START.isoformat(), 95.0, 80.95, 0])
    book.save(path)
    summary = history_import.import_file(plain_db, str(path))
    assert summary.stream == "gps-data" and (summary.stored, summary.rejected) == (30, 1)
    assert plain_db.scalar("SELECT count(*) FROM telemetry.gps_readings WHERE device_id = :d", d=v.device_id) == 30


def test_the_command_line(dash_app, app_db, tmp_path):
    meter = demo.meter_serial(demo.site_chargers(demo.SITES[2])[0])
    path = tmp_path / "meter.csv"
    path.write_text("meterId,kwhConsumedAc,voltage,timestamp\n"
                    f"{meter},0.75,230.5,2025-05-01T10:15:00Z\n{meter},0.80,231,2025-05-01T10:30:00Z\n"
                    f"{meter},lots,231,2025-05-01T10:45:00Z\n")
    runner = dash_app.server.test_cli_runner()
    result = runner.invoke(args=["telemetry", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "(meter): 2 stored, 0 duplicates, 1 rejected" in result.output
    assert "line 4: kwh_ac is not a number" in result.output
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 not really a workbook")
    bad = runner.invoke(args=["telemetry", "import", str(junk), str(tmp_path / "missing.csv")])
    assert bad.exit_code == 1 and "not a readable XLSX workbook" in bad.output and "no such file" in bad.output
    assert "Traceback" not in bad.output
