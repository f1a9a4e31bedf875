"""The AC side of the simulated fleet: a meter on every charger and the power of the sites with solar.

A charger meter counts, per ``INTERVAL``, the DC energy its vehicles' packs took in that interval
(from the same model days the vendor mock serves) divided by the charger's efficiency, plus the
charger's standby draw. Healthy chargers convert 90-94 % (LFP packs behind on-board or wall-box
chargers); ``data.demo.FAULTY_CHARGER`` converts 72 %. Which vehicle charges where, and what the
operator's mapping claims, is ``data.demo.charging_plan`` (one mis-mapped meter).

Sites with a solar array (the charging hubs) also report seed 004's site power: solar on a clear-sky
curve dimmed by the day's clouds, the load of the site's chargers plus its lights and office, a
stationary battery that soaks up the midday surplus and covers the evening peak, and the grid for
the rest (import positive, export negative).

Rows come out in the shapes pushers send (``{meterId, kwhConsumedAc, voltage, timestamp}`` and
seed 004's camelCase), so the demo pushes them through our API like any meter would.
"""
from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from data import demo
from data.demo import DemoVehicle
from ingest.simulator.duty import STEP_SECONDS, seed
from ingest.simulator.fleet import SimulatedFleet

INTERVAL = timedelta(minutes=15)
HOURS = INTERVAL.total_seconds() / 3600
STANDBY_KW = 0.02
FAULTY_EFFICIENCY = 0.72
SOLAR_KWP = 30.0
BASE_LOAD_KW = 1.5
STORAGE_KW = 8.0
IST = timezone(timedelta(hours=5, minutes=30))


def interval_ends(start: datetime, end: datetime) -> list[datetime]:
    """Ends of the whole intervals in (start, end], on the quarter hour."""
    step = INTERVAL.total_seconds()
    first = math.floor(start.timestamp() / step) * step + step
    return [datetime.fromtimestamp(t, timezone.utc) for t in range(int(first), int(end.timestamp()) + 1, int(step))]


def charger_efficiency(charger: str) -> float:
    if charger == demo.faulty_charger():
        return FAULTY_EFFICIENCY
    return 0.90 + (seed(charger, "efficiency") % 5) * 0.01


def charged_kwh(fleet: SimulatedFleet, vehicle_no: str, start: datetime, end: datetime) -> dict[datetime, float]:
    """DC energy the pack took in each interval ending in (start, end] (charging steps only)."""
    vehicle = fleet.vehicles[vehicle_no]
    out: dict[datetime, float] = defaultdict(float)
    step = INTERVAL.total_seconds()
    for sim, lo, hi in fleet._spans(vehicle, start, end):
        base = sim.start.timestamp()
        for i in range(lo, hi):
            current = sim.current[i]
            if current > 0:
                t = base + i * STEP_SECONDS
                bucket = datetime.fromtimestamp(math.ceil(t / step) * step, timezone.utc)
                out[bucket] += current * sim.voltage[i] * STEP_SECONDS / 3600 / 1000
    return out


class MeterFeed:
    """Meter readings and site power for ``vehicles``; deterministic, like the vendor mock."""

    def __init__(self, vehicles: list[DemoVehicle], fleet: SimulatedFleet | None = None):
        self.vehicles = vehicles
        self.fleet = fleet or SimulatedFleet(vehicles)
        self.plan = demo.charging_plan(vehicles)
        self.by_charger: dict[str, list[DemoVehicle]] = defaultdict(list)
        for v in vehicles:
            self.by_charger[self.plan[v.device_id].charger].append(v)
        self.chargers = [(site, c) for site in demo.SITES for c in demo.site_chargers(site)]

    def charged(self, start: datetime, end: datetime) -> dict[str, dict[datetime, float]]:
        """Per device: DC kWh per interval. The history seed computes this per vehicle in its own
        processes and hands it to ``readings``."""
        return {v.device_id: charged_kwh(self.fleet, v.vehicle_number, start, end) for v in self.vehicles}

    def readings(self, start: datetime, end: datetime,
                 charged: dict[str, dict[datetime, float]] | None = None) -> tuple[list[dict], list[dict]]:
        """(meter rows, site power rows) for the intervals ending in (start, end]."""
        end = min(end, datetime.now(timezone.utc))
        charged = charged if charged is not None else self.charged(start, end)
        ends = interval_ends(start, end)
        meters, site_load = [], defaultdict(float)
        for site, charger in self.chargers:
            efficiency = charger_efficiency(charger)
            users = self.by_charger.get(charger, [])
            for t in ends:
                dc = sum(charged.get(v.device_id, {}).get(t, 0.0) for v in users)
                rng = random.Random(seed(charger, int(t.timestamp())))
                ac = dc / efficiency * (1 + rng.gauss(0, 0.004)) + STANDBY_KW * HOURS
                site_load[(site.code, t)] += ac
                meters.append({"meterId": demo.meter_serial(charger), "kwhConsumedAc": round(max(ac, 0.0), 4),
                               "voltage": round(230 + rng.gauss(0, 3), 1), "timestamp": _iso(t)})
        power = [self._site_power(site, t, site_load[(site.code, t)])
                 for site in demo.SITES if _has_solar(site) for t in ends]
        return meters, power

    @staticmethod
    def _site_power(site: demo.DemoSite, t: datetime, chargers_kwh: float) -> dict:
        local = t.astimezone(IST)
        hour = local.hour + local.minute / 60 - HOURS / 2  # the interval's middle
        clouds = 0.55 + 0.45 * random.Random(seed(site.code, local.toordinal())).random()
        daylight = max(0.0, math.sin(math.pi * (hour - 6.0) / 13.0))
        solar = SOLAR_KWP * 0.8 * daylight ** 1.2 * clouds
        load = BASE_LOAD_KW * (1.6 if 9 <= hour < 20 else 1.0) + chargers_kwh / HOURS
        surplus = solar - load
        if surplus > 0 and 9 <= hour < 16:
            storage = min(surplus, STORAGE_KW)        # charging: absorbs the surplus
        elif 18 <= hour < 22:
            storage = -min(STORAGE_KW * 0.6, load)    # discharging: covers the evening peak
        else:
            storage = 0.0
        soc = _storage_soc(hour)
        grid = load + storage - solar
        rng = random.Random(seed(site.code, int(t.timestamp())))
        return {"siteId": site.code, "timestamp": _iso(t), "solarPowerKw": round(solar, 2),
                "solarEnergyKwh": round(solar * HOURS, 3), "inverter1PowerKw": round(solar * 0.97, 2),
                "inverter1Efficiency": 97.0 if solar > 0 else None,
                "inverter1Temperature": round(30 + solar * 0.6 + rng.gauss(0, 0.5), 1),
                "gridPowerKw": round(grid, 2), "gridEnergyKwh": round(grid * HOURS, 3),
                "gridVoltage": round(415 + rng.gauss(0, 4), 1), "gridFrequency": round(50 + rng.gauss(0, 0.03), 2),
                "loadPowerKw": round(load, 2), "loadEnergyKwh": round(load * HOURS, 3),
                "batteryPowerKw": round(storage, 2), "batteryChargeLevel": round(soc, 1)}


def _has_solar(site: demo.DemoSite) -> bool:
    return any(kind == "solar_array" for kind, *_ in demo.EQUIPMENT[site.kind])


def _storage_soc(hour: float) -> float:
    """The stationary battery's charge over a day: filled by midday, drawn down in the evening."""
    if hour < 9:
        return 35.0
    if hour < 16:
        return 35.0 + 55.0 * (hour - 9) / 7
    if hour < 18:
        return 90.0
    if hour < 22:
        return 90.0 - 55.0 * (hour - 18) / 4
    return 35.0


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
