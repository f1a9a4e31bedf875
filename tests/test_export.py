"""CSV and XLSX export: what the file holds equals what the database holds for the user's scope,
and a cell that a spreadsheet would run as a formula arrives as text."""
from __future__ import annotations

import base64
import io
import json

import pandas as pd
import pytest

from components.export import table_file
from conftest import login
from test_authorization import _payload

KEY = "battery-trips-download.data"


def _export(dash_app, client, device_id, kind):
    values = {"battery-device.data": device_id, f"battery-trips-export-{kind}.n_clicks": 1}
    payload = _payload(dash_app, KEY, values)
    payload["changedPropIds"] = [f"battery-trips-export-{kind}.n_clicks"]
    return client.post("/_dash-update-component", json=payload)


def _device(app_db, code):
    return app_db.scalar("""SELECT d.device_id FROM devices d JOIN dealers dl ON dl.id = d.dealer_id
                            JOIN telemetry.trips t USING (device_id)
                            WHERE dl.code = :c ORDER BY d.device_id LIMIT 1""", c=code)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_trip_export_holds_every_trip_of_the_battery(dash_app, client, app_db, kind):
    login(client, "dealer1")
    device = _device(app_db, "LKO01")
    response = _export(dash_app, client, device, kind)
    assert response.status_code == 200
    sent = json.loads(response.get_data())["response"]["battery-trips-download"]["data"]
    assert sent["filename"].endswith(f".{kind}")
    raw = base64.b64decode(sent["content"]) if sent["base64"] else sent["content"].encode()
    frame = pd.read_excel(io.BytesIO(raw)) if kind == "xlsx" else pd.read_csv(io.StringIO(raw.decode()))
    trips = app_db.query("""SELECT distance_km FROM telemetry.trips WHERE device_id = :d
                            ORDER BY start_time DESC""", d=device)
    assert len(frame) == len(trips) > 0
    assert frame["Distance km"].round(3).tolist() == [round(t["distance_km"], 3) for t in trips]
    assert list(frame.columns)[:2] == ["Day (IST)", "Distance km"]


def test_export_of_another_dealers_battery_is_nothing(dash_app, client, app_db):
    login(client, "dealer1")
    for device in (_device(app_db, "DEL01"), "NO-SUCH-DEVICE"):  # foreign answers exactly like unknown
        response = _export(dash_app, client, device, "csv")
        assert response.status_code in (200, 204)
        body = response.get_data(as_text=True)
        assert "content" not in body and "filename" not in body, body[:200]


def test_formulas_arrive_as_text():
    frame = pd.DataFrame({"vehicle": ["=HYPERLINK(\"http://x\")", "+1", "@SUM(A1)", "UP32AB1000"], "km": [1, 2, 3, 4]})
    csv = base64.b64decode(table_file(frame, "csv", "t")["content"]).decode() \
        if table_file(frame, "csv", "t").get("base64") else table_file(frame, "csv", "t")["content"]
    assert "'=HYPERLINK" in csv and "'+1" in csv and "'@SUM" in csv and "\nUP32AB1000," in csv
    xlsx = pd.read_excel(io.BytesIO(base64.b64decode(table_file(frame, "xlsx", "t")["content"])))
    assert xlsx["vehicle"].tolist()[0].startswith("'=") and xlsx["km"].tolist() == [1, 2, 3, 4]
    assert table_file(frame, "csv", "../../etc/passwd")["filename"] == "....etcpasswd.csv"
