"""Rows that are pushed to us (chargers, meters, n8n flows, vendors) or imported from files, into the
worker's own parse, validate and write path.

A pushed row names its battery by ``device_id`` or ``vehicleno``, its time as epoch seconds or
milliseconds or ISO 8601, and its values by our column names or the vendor's. ``normalise`` turns
it into the vendor's shape, and from there it is the worker's path: ``ingest.readings`` judges it
and ``data.telemetry.store`` writes it (idempotent: a replay stores nothing twice). Every row that
fails gets its index and its reasons in the answer, and is kept as rejected; the rest is stored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from data import push_targets, telemetry
from data.db import Database
from ingest.readings import (FUTURE_SLACK, number, parse_battery, parse_energy, parse_gps, parse_meter, parse_site_power,
                             parse_trip, parse_vehicle_energy, storable_payload, time_problems)

STREAMS = ("can-data", "gps-data", "trips", "energy", "meter", "site-power", "telemetry")
MAX_ROWS = 10_000

# Our column names → the vendor's (ingest/readings reads the vendor's).
BATTERY_NAMES = {"voltage": "battery_voltage", "temperature": "battery_temp", "timestamp": "time"}
GPS_NAMES = {"latitude": "lat", "longitude": "lng", "altitude": "alti", "ignition_on": "ignstatus",
             "immobilized": "mobili", "device_battery": "devbattery", "vehicle_battery": "vehbattery",
             "time": "commtime", "timestamp": "commtime"}
TRIP_NAMES = {"start_time": "starttime", "end_time": "endtime", "start_odometer": "startodo",
              "end_odometer": "endodo", "distance_km": "distance", "last_ign_on": "lastignon",
              "last_ign_off": "lastignoff"}
ENERGY_NAMES = {"start_time": "starttime", "end_time": "endtime", "energy_used_kwh": "fuelused",
                "start_soc": "startfl", "end_soc": "endfl", "last_ign_on": "lastignon", "last_ign_off": "lastignoff",
                "charging_events": "refueling_events"}
SUMMARY_NUMBERS = {"distance_km": "distance", "start_odometer": "startodo", "end_odometer": "endodo",
                   "energy_used_kwh": "fuelused", "start_soc": "startfl", "end_soc": "endfl"}
DEVICE_KEYS = ("device_id", "vehicleno", "vehicle_number", "vehicleId")
REASON_TEXT = {
    "unknown_device": "no battery with this device_id or vehicleno is registered",
    "device_missing": "the row names no device_id or vehicleno",
    "unknown_meter": "no energy meter with this meterId is registered",
    "unknown_site": "no site with this siteId is registered",
    "not_an_object": "the row is not a JSON object",
    "unknown_shape": "a telemetry row needs meterId (a meter reading) or vehicleId (a vehicle reading)",
    "time_missing": "no readable time (epoch seconds or milliseconds, or ISO 8601)",
    "time_in_future": "the time is in the future",
    "time_before_2015": "the time is before 2015",
    "no_measurements": "the row has none of the measurements this stream takes",
    "kwh_ac_missing": "kwhConsumedAc is missing",
    "window_invalid": "the window's end is before its start",
}


@dataclass
class PushResult:
    """What the answer to a push says: counts, and each rejected row's index and reasons."""
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: list[dict] = field(default_factory=list)

    def body(self, stream: str) -> dict:
        return {"stream": stream, "received": self.received, "stored": self.stored, "duplicates": self.duplicates,
                "rejected": len(self.rejected), "errors": self.rejected}


def explain(reasons: list[str]) -> str:
    """One sentence per reason code; a range code reads as '<field> is out of range'."""
    out = []
    for code in reasons:
        if code in REASON_TEXT:
            out.append(REASON_TEXT[code])
        elif code.endswith("_out_of_range"):
            out.append(f"{code[:-len('_out_of_range')]} is out of range")
        elif code.endswith("_unreadable"):
            out.append(f"{code[:-len('_unreadable')]} is not a number")
        else:
            out.append(code.replace("_", " "))
    return "; ".join(out)


def _nan(value) -> bool:
    return value is not None and value != value


def _renamed(raw: dict, names: dict[str, str]) -> dict:
    """The row in the vendor's names; a vendor name given as well wins over ours."""
    out = dict(raw)
    for ours, theirs in names.items():
        if ours in raw and theirs not in raw:
            out[theirs] = raw[ours]
    return out


def _device_name(raw: dict) -> str | None:
    for key in DEVICE_KEYS:
        value = raw.get(key)
        if value is not None and str(value).strip():
            return str(value).strip()[:100]
    return None


class _Batch:
    """One request's rows on their way to one ``telemetry.store`` call."""

    def __init__(self, db: Database, stream: str, rows: list):
        self.db, self.stream, self.rows = db, stream, rows
        self.latest_allowed = datetime.now(timezone.utc) + FUTURE_SLACK
        self.result = PushResult(received=len(rows))
        self.valid: dict[str, list] = {}
        self.rejects: list[dict] = []

    def refuse(self, index: int, reasons: list[str], name: str | None, raw, time=None, stream=None) -> None:
        self.result.rejected.append({"index": index, "reasons": reasons, "message": explain(reasons)})
        self.rejects.append({"device_id": (name or "")[:50] or None, "stream": stream or self.stream, "time": time,
                             "reasons": reasons, "payload": storable_payload(raw)})

    def keep(self, kind: str, row: dict) -> None:
        self.valid.setdefault(kind, []).append(row)


def _device(batch: _Batch, index: int, raw: dict, devices: dict, stream: str) -> tuple[str | None, dict | None]:
    """(the name the row gives, its registered device); a row naming none or an unknown one is refused."""
    name = _device_name(raw)
    device = devices.get(name) if name else None
    if device is None:
        batch.refuse(index, ["unknown_device" if name else "device_missing"], name, raw, stream=stream)
    return name, device


def _battery_or_gps(batch: _Batch, index: int, raw: dict, devices: dict) -> None:
    _, device = _device(batch, index, raw, devices, "battery" if batch.stream == "can-data" else "gps")
    if device is None:
        return
    if batch.stream == "can-data":
        parsed = parse_battery(device["device_id"], device["battery_serial"], [_renamed(raw, BATTERY_NAMES)],
                               device["nominal_voltage"])
        kind = "battery"
    else:
        parsed = parse_gps(device["device_id"], [_renamed(raw, GPS_NAMES)])
        kind = "gps"
    for row in parsed.valid:
        batch.keep(kind, row)
    for rej in parsed.rejected:
        rej["payload"] = storable_payload(raw)
        batch.rejects.append(rej)
        batch.result.rejected.append({"index": index, "reasons": rej["reasons"], "message": explain(rej["reasons"])})


def _summary(batch: _Batch, index: int, raw: dict, devices: dict) -> None:
    name, device = _device(batch, index, raw, devices, batch.stream)
    if device is None:
        return
    vendor = _renamed(raw, TRIP_NAMES if batch.stream == "trips" else ENERGY_NAMES)
    # The worker's summary parser drops an implausible value quietly (the vendor's daily answer has
    # no reject path); a pusher is told instead.
    unreadable = [f"{ours}_unreadable" for ours, theirs in SUMMARY_NUMBERS.items()
                  if vendor.get(theirs) is not None and _nan(number(vendor.get(theirs)))]
    if unreadable:
        batch.refuse(index, unreadable, name, raw, stream=batch.stream)
        return
    if batch.stream == "trips":
        row = parse_trip(device["device_id"], vendor)
    else:
        row = parse_energy(device["device_id"], vendor)
    if row is None:
        batch.refuse(index, ["time_missing"], name, raw, stream=batch.stream)
        return
    reasons = time_problems(row["start_time"], batch.latest_allowed) or time_problems(row["end_time"],
                                                                                      batch.latest_allowed)
    if not reasons and row["end_time"] < row["start_time"]:
        reasons = ["window_invalid"]
    if reasons:
        batch.refuse(index, reasons, name, raw, time=row["start_time"], stream=batch.stream)
        return
    batch.keep(batch.stream, row)


def _vehicle(batch: _Batch, index: int, raw: dict, devices: dict) -> None:
    _, device = _device(batch, index, raw, devices, "vehicle_energy")
    if device is None:
        return
    row, rejected = parse_vehicle_energy(device["device_id"], raw, batch.latest_allowed)
    _keep_or_refuse(batch, index, "vehicle_energy", row, rejected)


# Rows about a meter or a site: (the fields that may name it, the reason when unknown, the parser).
NAMED = {"meter": (("meterId", "meter_id"), "unknown_meter", parse_meter),
         "site_power": (("siteId", "site_code", "site_id"), "unknown_site", parse_site_power)}


def _target_name(raw: dict, kind: str) -> str:
    fields = NAMED[kind][0]
    return str(next((raw[f] for f in fields if raw.get(f) is not None), "")).strip()[:100]


def _named(batch: _Batch, index: int, raw: dict, kind: str, ids: dict) -> None:
    _, unknown, parse = NAMED[kind]
    name = _target_name(raw, kind)
    target = ids.get(name)
    if target is None:
        batch.refuse(index, [unknown], name, raw, stream=kind)
        return
    row, rejected = parse(target, name, raw, batch.latest_allowed)
    _keep_or_refuse(batch, index, kind, row, rejected)


def _keep_or_refuse(batch: _Batch, index: int, kind: str, row: dict | None, rejected: dict | None) -> None:
    if row is not None:
        batch.keep(kind, row)
        return
    batch.rejects.append(rejected)
    batch.result.rejected.append({"index": index, "reasons": rejected["reasons"],
                                  "message": explain(rejected["reasons"])})


def is_meter_row(raw: dict) -> bool:
    return "meterId" in raw or "meter_id" in raw


def is_vehicle_row(raw: dict) -> bool:
    return "vehicleId" in raw


def ingest(db: Database, stream: str, rows: list) -> PushResult:
    """Judge and store one batch of ``stream`` rows (``STREAMS``); the answer counts every row once."""
    if stream not in STREAMS:
        raise ValueError(f"unknown stream {stream!r}")
    batch = _Batch(db, stream, rows)
    objects = [r if isinstance(r, dict) else None for r in rows]
    device_names = {_device_name(r) for r in objects if r is not None} - {None}
    devices = push_targets.devices(db, device_names) if device_names else {}
    meter_names = {_target_name(r, "meter") for r in objects if r is not None and is_meter_row(r)}
    meters = push_targets.meters(db, meter_names) if meter_names else {}
    sites = (push_targets.sites(db, {_target_name(r, "site_power") for r in objects if r is not None})
             if stream == "site-power" else {})
    for index, raw in enumerate(rows):
        if not isinstance(raw, dict):
            batch.refuse(index, ["not_an_object"], None, raw, stream=stream)
        elif stream in ("can-data", "gps-data"):
            _battery_or_gps(batch, index, raw, devices)
        elif stream in ("trips", "energy"):
            _summary(batch, index, raw, devices)
        elif stream == "meter" or (stream == "telemetry" and is_meter_row(raw)):
            _named(batch, index, raw, "meter", meters)
        elif stream == "telemetry" and is_vehicle_row(raw):
            _vehicle(batch, index, raw, devices)
        elif stream == "telemetry":
            batch.refuse(index, ["unknown_shape"], None, raw, stream="telemetry")
        else:
            _named(batch, index, raw, "site_power", sites)
    v = batch.valid
    stored = telemetry.store(db, battery=v.get("battery", []), gps=v.get("gps", []), rejected=batch.rejects,
                             trips=v.get("trips", []), energy=v.get("energy", []), meter=v.get("meter", []),
                             vehicle_energy=v.get("vehicle_energy", []), site_power=v.get("site_power", []))
    kept = sum(len(rows) for rows in v.values())
    batch.result.stored = (stored.rows + stored.trips_stored + stored.energy_stored + stored.meter_stored
                           + stored.vehicle_energy_stored + stored.site_power_stored)
    batch.result.duplicates = kept - batch.result.stored
    return batch.result
