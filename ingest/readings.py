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
EARLIEST = datetime(2015, 1, 1, tzinfo=timezone.utc)  # no pack in this fleet reported before: a reset clock
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


def _iso_time(text: str) -> datetime | None:
    """ISO 8601 as pushers send it ("2026-02-10T16:23:00Z"); a time without a zone is UTC."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def timestamp(value) -> datetime | None:
    """Epoch seconds or milliseconds (number or numeric text), or ISO 8601 text."""
    raw = number(value)
    if isinstance(value, str) and raw is not None and math.isnan(raw):
        return _iso_time(value)
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


def time_problems(t: datetime | None, latest_allowed: datetime) -> list[str]:
    if t is None:
        return ["time_missing"]
    if t > latest_allowed:
        return ["time_in_future"]
    if t < EARLIEST:
        return ["time_before_2015"]
    return []


def battery_problems(r: dict, nominal: float, latest_allowed: datetime) -> list[str]:
    """Reason codes for a battery reading (seed 000 section 6, voltages scaled to the pack)."""
    scale = nominal / NOMINAL_VOLTAGE
    reasons = time_problems(r["time"], latest_allowed)
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
    reasons = time_problems(r["time"], latest_allowed)
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


def _range_problems(r: dict, ranges: dict[str, tuple[float, float]]) -> list[str]:
    reasons = []
    for name, (low, high) in ranges.items():
        value = r.get(name)
        if value is None:
            continue
        if math.isnan(value):
            reasons.append(f"{name}_unreadable")
        elif not low <= value <= high:
            reasons.append(f"{name}_out_of_range")
    return reasons


# AC energy a meter counted in one interval (a 3-phase 100 A supply gives ~70 kWh an hour), its voltage.
METER_RANGES = {"kwh_ac": (0.0, 1000.0), "voltage": (0.0, 500.0)}


def parse_meter(meter_id: int, meter_name: str, raw: dict, latest_allowed: datetime) -> tuple[dict | None, dict | None]:
    """One meter reading (seeds 001/003: ``{meterId, kwhConsumedAc, voltage, timestamp}``) → (row, rejected)."""
    r = {"time": timestamp(raw.get("timestamp", raw.get("time"))), "meter_id": meter_id,
         "kwh_ac": number(raw.get("kwhConsumedAc", raw.get("kwh_ac"))), "voltage": number(raw.get("voltage"))}
    reasons = time_problems(r["time"], latest_allowed) + _range_problems(r, METER_RANGES)
    if r["kwh_ac"] is None:
        reasons.append("kwh_ac_missing")
    if reasons:
        return None, {"device_id": meter_name[:50], "stream": "meter", "time": r["time"], "reasons": reasons,
                      "payload": storable_payload(raw)}
    return r, None


VEHICLE_ENERGY_RANGES = {"soc": (0.0, 100.0), "kwh_dc": (0.0, 1000.0), "battery_temp": (-10.0, 80.0)}


def parse_vehicle_energy(device_id: str, raw: dict, latest_allowed: datetime) -> tuple[dict | None, dict | None]:
    """The seed-001 vehicle stream: ``{vehicleId, soc, kwhDeliveredDc, batteryTemp, timestamp}``."""
    r = {"time": timestamp(raw.get("timestamp", raw.get("time"))), "device_id": device_id,
         "soc": number(raw.get("soc")), "kwh_dc": number(raw.get("kwhDeliveredDc", raw.get("kwh_dc"))),
         "battery_temp": number(raw.get("batteryTemp", raw.get("battery_temp")))}
    reasons = time_problems(r["time"], latest_allowed) + _range_problems(r, VEHICLE_ENERGY_RANGES)
    if r["kwh_dc"] is None and r["soc"] is None:
        reasons.append("no_measurements")
    if reasons:
        return None, {"device_id": device_id, "stream": "vehicle_energy", "time": r["time"], "reasons": reasons,
                      "payload": storable_payload(raw)}
    return r, None


# Seed 004's site telemetry: (our column, the pushed names it may come as, plausible range).
SITE_POWER_FIELDS = (
    ("solar_kw", ("solarPowerKw", "solar_kw"), (0.0, 10000.0)),
    ("solar_kwh", ("solarEnergyKwh", "solar_kwh"), (0.0, 10000.0)),
    ("inverter_efficiency", ("inverterEfficiency", "inverter1Efficiency", "inverter_efficiency"), (0.0, 100.0)),
    ("inverter_temp", ("inverterTemperature", "inverter1Temperature", "inverter_temp"), (-20.0, 120.0)),
    ("grid_kw", ("gridPowerKw", "grid_kw"), (-10000.0, 10000.0)),
    ("grid_kwh", ("gridEnergyKwh", "grid_kwh"), (-10000.0, 10000.0)),
    ("grid_voltage", ("gridVoltage", "grid_voltage"), (0.0, 1000.0)),
    ("grid_frequency", ("gridFrequency", "grid_frequency"), (40.0, 70.0)),
    ("load_kw", ("loadPowerKw", "load_kw"), (0.0, 10000.0)),
    ("load_kwh", ("loadEnergyKwh", "load_kwh"), (0.0, 10000.0)),
    ("storage_kw", ("batteryPowerKw", "storage_kw"), (-10000.0, 10000.0)),
    ("storage_soc", ("batteryChargeLevel", "storage_soc"), (0.0, 100.0)),
)


def _first(raw: dict, names: tuple[str, ...]):
    return next((raw[n] for n in names if n in raw), None)


def parse_site_power(site_id: int, site_code: str, raw: dict, latest_allowed: datetime) -> tuple[dict | None, dict | None]:
    r = {"time": timestamp(raw.get("timestamp", raw.get("time"))), "site_id": site_id}
    for column, names, _ in SITE_POWER_FIELDS:
        r[column] = number(_first(raw, names))
    # Two inverters (seed 004) are one inverter power here: the chart shows the site, not each box.
    inverters = [number(raw.get(k)) for k in ("inverter1PowerKw", "inverter2PowerKw", "inverterPowerKw", "inverter_kw")]
    known = [v for v in inverters if v is not None]
    r["inverter_kw"] = sum(known) if known else None
    ranges = {column: bounds for column, _, bounds in SITE_POWER_FIELDS} | {"inverter_kw": (-10000.0, 10000.0)}
    reasons = time_problems(r["time"], latest_allowed) + _range_problems(r, ranges)
    if all(r[c] is None for c, _, _ in SITE_POWER_FIELDS) and r["inverter_kw"] is None:
        reasons.append("no_measurements")
    if reasons:
        return None, {"device_id": site_code[:50], "stream": "site_power", "time": r["time"], "reasons": reasons,
                      "payload": storable_payload(raw)}
    return r, None
