"""A physically plausible day of an e-rickshaw's LFP pack (51.2 V, 105/120 Ah), at 30 s steps.

Each (vehicle, day) is computed on its own from a seed, so the mock server can answer any history
window without keeping state: a simulated day runs 05:00-05:00 IST and starts full (the night's
charge has finished by then), drives the day's duty cycle (``duty``: kilometres that vary by
vehicle, weekday and season) with speed-dependent discharge current, then charges CC/CV from
the evening, late chargers past midnight. SOC follows coulomb counting, voltage an LFP
open-circuit curve plus IR drop, temperature the city's climate plus load heating, SOH fades with
cycles, age and heat (``ageing``: published empirical LFP cycle and calendar models).

Faults come at configurable rates (garbage CAN values, null temperature, SOH stuck at 100,
unsigned current, duplicated frames, communication gaps) and scenarios are injected by window.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from data.demo import DemoVehicle
from ingest.simulator import ageing, duty
from ingest.simulator.duty import DAY_START_HOUR, STEP_SECONDS, STEPS_PER_DAY, day_start

R_INTERNAL = 0.045          # ohm, pack
CELLS = 16

# LFP cell open-circuit voltage against SOC: flat in the middle, steep at both ends.
_OCV = ((0, 2.70), (5, 3.05), (10, 3.18), (20, 3.24), (40, 3.28), (60, 3.30), (80, 3.33), (90, 3.35),
        (95, 3.40), (100, 3.50))
# Monthly mean temperature (degC) for the north-Indian plains; daily swing on top.
_CLIMATE = (15, 18, 24, 30, 34, 34, 31, 30, 29, 26, 21, 16)

SCENARIOS = ("deep_discharge", "overheating", "overcurrent", "rapid_soh_drop", "offline", "firmware_glitch",
             "soc_bias")
# A BMS whose SOC is miscalibrated reports this many points above the truth (the EKF cross-check's case).
SOC_BIAS = 15.0
# A firmware glitch reports this temperature while the pack itself stays cool: the fleet-wide
# "flood" of the scenario panel (one bad release, hundreds of identical alerts at once).
GLITCH_TEMPERATURE = 70.0


def ocv(soc: float) -> float:
    for (s0, v0), (s1, v1) in zip(_OCV, _OCV[1:]):
        if soc <= s1:
            return CELLS * (v0 + (v1 - v0) * (max(soc, 0) - s0) / (s1 - s0))
    return CELLS * _OCV[-1][1]


@dataclass(frozen=True)
class Faults:
    garbage_rate: float = 0.002       # per reading: CAN decode garbage (875712 V, 1396060 A, SOC 123.71)
    null_temperature_share: float = 0.2   # of vehicles: no temperature at all
    stuck_soh_share: float = 0.25     # of vehicles: SOH always 100.0
    unsigned_current_share: float = 0.2   # of vehicles: current is a magnitude
    duplicate_rate: float = 0.01      # per reading: the frame is sent twice
    gap_rate: float = 0.1             # per vehicle-day: one silent stretch of 10-60 minutes
    strings_share: float = 0.15       # of vehicles: numbers arrive as strings
    seconds_share: float = 0.1        # of vehicles: GPS times in epoch seconds
    soh_absent_share: float = 0.05    # of vehicles: no SOH field at all (never with a stuck one)

    @classmethod
    def none(cls) -> "Faults":
        return cls(0, 0, 0, 0, 0, 0, 0, 0, 0)


@dataclass(frozen=True)
class Scenario:
    vehicle: str
    kind: str
    start: datetime
    end: datetime

    def covers(self, t: datetime) -> bool:
        return self.start <= t < self.end


_seed = duty.seed


def vehicle_trait(vehicle: str, share: float, name: str) -> bool:
    return share > 0 and (_seed(vehicle, name) % 10000) < share * 10000


@dataclass
class Day:
    """Arrays for one simulated day (05:00-05:00 IST): index i is the time ``start + i * 30 s``,
    and each value is the state at that moment (after the step that ends there)."""
    start: datetime
    soc: list = field(default_factory=list)
    current: list = field(default_factory=list)
    voltage: list = field(default_factory=list)
    temperature: list = field(default_factory=list)
    speed: list = field(default_factory=list)
    lat: list = field(default_factory=list)
    lng: list = field(default_factory=list)
    heading: list = field(default_factory=list)
    odometer: list = field(default_factory=list)
    cycles: list = field(default_factory=list)
    soh: float = 100.0
    silent: list = field(default_factory=list)


def _recovering(scenarios, t: datetime) -> bool:
    """After a deep discharge the pack goes on charge (towed to the charger) for up to 6 h."""
    return any(s.kind == "deep_discharge" and s.end <= t < s.end + timedelta(hours=6) for s in scenarios)


@lru_cache(maxsize=4096)
def simulate_day(vehicle: DemoVehicle, day: date, scenarios: tuple[Scenario, ...] = (),
                 faults: Faults = Faults()) -> Day:
    rng = random.Random(_seed(vehicle.vehicle_number, day.toordinal()))
    speed, plug_in = duty.schedule(vehicle, day, rng)
    start = day_start(day)
    age_days = max((day - vehicle.sold_at).days, 0)
    base_cycles = age_days * 0.85
    capacity = vehicle.capacity_ah
    mean_temp = _CLIMATE[day.month - 1] + (2.0 if vehicle.city in ("Patna", "Jaipur") else 0.0)
    soh = ageing.true_soh(vehicle, day)
    mine = [s for s in scenarios if s.vehicle == vehicle.vehicle_number]
    for s in mine:
        if s.kind == "rapid_soh_drop" and s.start < start + timedelta(days=1):
            progress = min(max((start + timedelta(days=1) - s.start) / (s.end - s.start), 0), 1)
            soh -= 7.0 * progress
    d = Day(start=start, soh=round(max(soh, 50.0), 2))

    # The pack has sat through the night: it starts at the early-morning air temperature.
    soc, cycles = 100.0, base_cycles
    temp = mean_temp + 7.0 * math.sin(2 * math.pi * (DAY_START_HOUR - 9) / 24)
    lat, lng, heading = vehicle.home_latitude, vehicle.home_longitude, rng.uniform(0, 360)
    odo = duty.odometer_at_start(vehicle, day)
    effective_ah = capacity * d.soh / 100.0
    charge_amps = duty.charger_c_rate(vehicle) * capacity
    charging = False
    for i in range(STEPS_PER_DAY):
        # Most vehicle-days have no scenario: skip building a datetime per step for them.
        t = start + timedelta(seconds=i * STEP_SECONDS) if mine else None
        hour = DAY_START_HOUR + (i * STEP_SECONDS) / 3600.0
        ambient = mean_temp + 7.0 * math.sin(2 * math.pi * (hour - 9) / 24)
        v = speed[i]
        active = {s.kind for s in mine if s.covers(t)} if mine else ()
        if "deep_discharge" in active:
            current = 0.0
            soc = 0.0
            v = 0.0
        elif v > 0 and soc > 0.5:
            power = 120 + 38 * v + rng.gauss(0, 40)
            current = -power / max(ocv(soc), 40)
            charging = False
        elif (i >= plug_in or (mine and _recovering(mine, t))) and soc < 99.95:
            charging = True
            # LFP: constant current to ~95 %, then a short constant-voltage taper.
            current = charge_amps if soc < 95 else charge_amps * max((100 - soc) / 5, 0.05)
        else:
            current = -0.15 if not charging else 0.0
            v = 0.0 if soc <= 0.5 else v
        if "overcurrent" in active:
            current = -120.0 - rng.uniform(0, 10)
        soc = min(100.0, max(0.0, soc + current * STEP_SECONDS / 3600.0 / effective_ah * 100.0))
        if current > 0:
            cycles += current * STEP_SECONDS / 3600.0 / capacity
        voltage = ocv(soc) + current * R_INTERNAL
        temp += (ambient - temp) * 0.01 + (current ** 2) * R_INTERNAL * 0.0009
        if "overheating" in active:
            temp = max(temp, 60.5 + rng.uniform(0, 2))
        # GPS: drive around home, turning back when more than ~6 km out.
        if v > 0:
            dist_km = v * STEP_SECONDS / 3600.0
            away = math.hypot(lat - vehicle.home_latitude, lng - vehicle.home_longitude)
            if away > 0.055:
                heading = math.degrees(math.atan2(vehicle.home_longitude - lng, vehicle.home_latitude - lat)) % 360
            heading = (heading + rng.gauss(0, 20)) % 360
            lat += dist_km / 111.0 * math.cos(math.radians(heading))
            lng += dist_km / (111.0 * math.cos(math.radians(lat))) * math.sin(math.radians(heading))
            odo += dist_km
        d.soc.append(min(soc + SOC_BIAS, 100.0) if "soc_bias" in active else soc)
        d.current.append(current)
        d.voltage.append(voltage)
        d.temperature.append(GLITCH_TEMPERATURE if "firmware_glitch" in active else temp)
        d.speed.append(v)
        d.lat.append(lat)
        d.lng.append(lng)
        d.heading.append(heading)
        d.odometer.append(odo)
        d.cycles.append(int(cycles))
        d.silent.append("offline" in active)
    if faults.gap_rate and rng.random() < faults.gap_rate:
        gap_start = rng.randrange(STEPS_PER_DAY)
        for k in range(gap_start, min(gap_start + rng.randint(20, 120), STEPS_PER_DAY)):
            d.silent[k] = True
    return d
