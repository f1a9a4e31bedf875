"""Vendor rows → typed readings, and the data-quality rules that decide what is stored.

Values are documented as placeholders: numbers may arrive as strings, times as epoch seconds or
milliseconds, any CAN field may be missing (missing is None, never zero). A reading that fails a
rule is kept as rejected with its reason codes and the payload as received.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

NOMINAL_VOLTAGE = 51.2
SECONDS_THRESHOLD = 1e11  # below this an epoch value is seconds, not milliseconds
FUTURE_SLACK = timedelta(minutes=10)  # device clocks drift; further ahead than this is wrong
IST = timezone(timedelta(hours=5, minutes=30))  # fleet-local time: days, shifts, daily trips


def number(value) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else math.nan
    text = str(value).strip()
    if text == "" or text.lower() in {"null", "none", "na", "n/a", "-"}:
        return None
    try:
        parsed = float(text)
    except ValueError:
        return math.nan  # present but unreadable: a data-quality failure, not a missing value
    return parsed if math.isfinite(parsed) else math.nan


def timestamp(value) -> datetime | None:
    raw = number(value)
    if raw is None or math.isnan(raw) or raw <= 0:
        return None
    seconds = raw if raw < SECONDS_THRESHOLD else raw / 1000.0
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def flag(value) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"on", "1", "true", "yes"}:
        return True
    if text in {"off", "0", "false", "no"}:
        return False
    return None


@dataclass
class Parsed:
    """One stream's rows from one vendor answer, split into what is stored and what is rejected."""
    valid: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)

    @property
    def newest(self) -> datetime | None:
        times = [r["time"] for r in self.valid] + [r["time"] for r in self.rejected if r["time"] is not None]
        return max(times) if times else None


def battery_problems(r: dict, nominal: float, latest_allowed: datetime) -> list[str]:
    """Reason codes for a battery reading (seed 000 section 6, voltages scaled to the pack)."""
    scale = nominal / NOMINAL_VOLTAGE
    reasons = []
    if r["time"] is None:
        reasons.append("time_missing")
    elif r["time"] > latest_allowed:
        reasons.append("time_in_future")
    checks = (("soc", 0.0, 100.0), ("soh", 0.0, 100.0), ("voltage", 30.0 * scale, 70.0 * scale),
              ("current", -200.0, 200.0), ("temperature", -10.0, 80.0), ("charge_cycle", 0.0, 100000.0))
    for name, low, high in checks:
        value = r[name]
        if value is None:
            continue
        if isinstance(value, float) and math.isnan(value):
            reasons.append(f"{name}_unreadable")
        elif not low <= value <= high:
            reasons.append(f"{name}_out_of_range")
    if all(r[k] is None for k in ("soc", "voltage", "current")):
        reasons.append("no_measurements")
    return reasons


def gps_problems(r: dict, latest_allowed: datetime) -> list[str]:
    reasons = []
    if r["time"] is None:
        reasons.append("time_missing")
    elif r["time"] > latest_allowed:
        reasons.append("time_in_future")
    lat, lng = r["latitude"], r["longitude"]
    if lat is None or lng is None or math.isnan(lat) or math.isnan(lng):
        reasons.append("position_missing")
    elif not (-90 <= lat <= 90 and -180 <= lng <= 180) or (lat == 0 and lng == 0):
        reasons.append("position_out_of_range")
    if r["speed"] is not None and (math.isnan(r["speed"]) or not 0 <= r["speed"] <= 150):
        reasons.append("speed_out_of_range")
    # Fields nobody alerts on still go into real columns: a value past their range would make the
    # database refuse the whole window, and the device's cursor would never move again.
    for name, (low, high) in GPS_EXTRA_RANGES.items():
        value = r[name]
        if value is not None and (math.isnan(value) or not low <= value <= high):
            reasons.append(f"{name}_out_of_range")
    return reasons


GPS_EXTRA_RANGES = {"altitude": (-500.0, 9000.0), "heading": (0.0, 360.0), "device_battery": (0.0, 1000.0),
                    "vehicle_battery": (0.0, 1000.0)}
# Daily summaries have no reject path: a value outside these is not a measurement, so it is missing.
SUMMARY_RANGES = {"distance_km": (0.0, 2000.0), "start_odometer": (0.0, 1e8), "end_odometer": (0.0, 1e8),
                  "energy_used_kwh": (0.0, 1000.0), "start_soc": (0.0, 100.0), "end_soc": (0.0, 100.0),
                  "start_latitude": (-90.0, 90.0), "end_latitude": (-90.0, 90.0),
                  "start_longitude": (-180.0, 180.0), "end_longitude": (-180.0, 180.0)}


def _plausible(row: dict) -> dict:
    for name, (low, high) in SUMMARY_RANGES.items():
        value = row.get(name)
        if value is not None and (math.isnan(value) or not low <= value <= high):
            row[name] = None
    return row


def storable_payload(value):
    """The vendor's payload as received, less NUL characters, which PostgreSQL's jsonb cannot hold."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {storable_payload(str(k)): storable_payload(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable_payload(v) for v in value]
    return value


def parse_battery(device_id: str, battery_id: str | None, rows: list[dict], nominal: float = NOMINAL_VOLTAGE) -> Parsed:
    out = Parsed()
    latest_allowed = datetime.now(timezone.utc) + FUTURE_SLACK
    for raw in rows:
        soc, voltage, current = number(raw.get("soc")), number(raw.get("battery_voltage")), number(raw.get("current"))
        cycle = number(raw.get("charge_cycle"))
        r = {
            "time": timestamp(raw.get("time")),
            "device_id": device_id,
            "battery_id": battery_id,
            "soc": soc,
            "soh": number(raw.get("soh")),
            "voltage": voltage,
            "current": current,
            "charge_cycle": cycle,
            "temperature": number(raw.get("battery_temp")),
        }
        reasons = battery_problems(r, nominal, latest_allowed)
        if reasons:
            out.rejected.append({"device_id": device_id, "stream": "battery", "time": r["time"], "reasons": reasons,
                                 "payload": storable_payload(raw)})
            continue
        r["charge_cycle"] = int(cycle) if cycle is not None else None
        r["power_watts"] = voltage * current if voltage is not None and current is not None else None
        out.valid.append(r)
    return out


def parse_gps(device_id: str, rows: list[dict]) -> Parsed:
    out = Parsed()
    latest_allowed = datetime.now(timezone.utc) + FUTURE_SLACK
    for raw in rows:
        speed = number(raw.get("speed"))
        r = {
            "time": timestamp(raw.get("commtime") if raw.get("commtime") is not None else raw.get("time")),
            "device_id": device_id,
            "latitude": number(raw.get("lat")),
            "longitude": number(raw.get("lng")),
            "altitude": number(raw.get("alti")),
            "speed": speed,
            "heading": number(raw.get("heading")),
            "device_battery": number(raw.get("devbattery")),
            "vehicle_battery": number(raw.get("vehbattery")),
            "ignition_on": flag(raw.get("ignstatus")),
            "is_moving": None if speed is None or math.isnan(speed) else speed > 1.0,
            "immobilized": flag(raw.get("mobili")),
        }
        reasons = gps_problems(r, latest_allowed)
        if reasons:
            out.rejected.append({"device_id": device_id, "stream": "gps", "time": r["time"], "reasons": reasons,
                                 "payload": storable_payload(raw)})
            continue
        out.valid.append(r)
    return out


def parse_trip(device_id: str, data: dict) -> dict | None:
    start, end = timestamp(data.get("starttime")), timestamp(data.get("endtime"))
    if start is None or end is None:
        return None
    start_loc, end_loc = data.get("startLoc") or [None, None], data.get("endLoc") or [None, None]
    return _plausible({
        "device_id": device_id, "start_time": start, "end_time": end,
        "start_odometer": number(data.get("startodo")), "end_odometer": number(data.get("endodo")),
        "distance_km": number(data.get("distance")),
        "start_latitude": number(start_loc[0]), "start_longitude": number(start_loc[1]),
        "end_latitude": number(end_loc[0]), "end_longitude": number(end_loc[1]),
        "last_ign_on": timestamp(data.get("lastignon")), "last_ign_off": timestamp(data.get("lastignoff")),
    })


def parse_energy(device_id: str, data: dict) -> dict | None:
    """getfuelused on an electric account: start/end 'fuel level' are SOC and 'fuel used' is energy.

    This mapping is an inference from the vendor's fields (intellicar-api.md); it lives only here.
    """
    start, end = timestamp(data.get("starttime")), timestamp(data.get("endtime"))
    if start is None or end is None:
        return None
    return _plausible({
        "device_id": device_id, "start_time": start, "end_time": end,
        "energy_used_kwh": number(data.get("fuelused")),
        "start_soc": number(data.get("startfl")), "end_soc": number(data.get("endfl")),
        "last_ign_on": timestamp(data.get("lastignon")), "last_ign_off": timestamp(data.get("lastignoff")),
        "charging_events": storable_payload(data.get("refueling_events") or []),
    })
