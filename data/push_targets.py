"""What pushed rows name: batteries (by device id or vehicle number), energy meters (by serial) and
sites (by code), looked up once per batch."""
from __future__ import annotations

from data.db import Database


def devices(db: Database, names: set[str]) -> dict[str, dict]:
    """{name: device} for every name that is a registered device id or vehicle number."""
    rows = db.query(
        """SELECT d.device_id, d.vehicle_number, d.battery_serial, coalesce(b.nominal_voltage, 51.2) AS nominal_voltage
           FROM devices d LEFT JOIN batteries b ON b.serial = d.battery_serial
           WHERE d.device_id = ANY(:names) OR d.vehicle_number = ANY(:names)""", names=sorted(names))
    out = {}
    for r in rows:
        for key in (r["vehicle_number"], r["device_id"]):  # a device id wins over a look-alike plate
            if key in names:
                out[key] = r
    return out


def meters(db: Database, serials: set[str]) -> dict[str, int]:
    return {r["serial"]: r["id"] for r in db.query(
        "SELECT serial, id FROM equipment WHERE kind = 'energy_meter' AND serial = ANY(:s)", s=sorted(serials))}


def sites(db: Database, codes: set[str]) -> dict[str, int]:
    return {r["code"]: r["id"] for r in db.query("SELECT code, id FROM sites WHERE code = ANY(:c)", c=sorted(codes))}
