"""The simulated fleet as the Intellicar API would report it: model days → vendor-shaped rows with
the quirks of intellicar-api.md. Answers are deterministic, so asking twice gives the same rows."""
from __future__ import annotations

import math
import threading
from datetime import date, datetime, timedelta, timezone

from data.demo import DemoVehicle
from ingest.simulator.duty import STEP_SECONDS, STEPS_PER_DAY, day_of
from ingest.simulator.model import Day, Faults, Scenario, _seed, simulate_day, vehicle_trait

GARBAGE = {"battery_voltage": 875712, "current": 1396060, "soc": 123.71}


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


class SimulatedFleet:
    def __init__(self, vehicles: list[DemoVehicle], faults: Faults = Faults()):
        self.vehicles = {v.vehicle_number: v for v in vehicles}
        self.faults = faults
        self._scenarios: list[Scenario] = []
        self._lock = threading.Lock()

    # -- scenarios (ground truth) -------------------------------------------------------------
    def inject(self, vehicle: str, kind: str, start: datetime, minutes: float) -> Scenario:
        scenario = Scenario(vehicle, kind, start, start + timedelta(minutes=minutes))
        with self._lock:
            self._scenarios.append(scenario)
        return scenario

    @property
    def scenarios(self) -> tuple[Scenario, ...]:
        with self._lock:
            return tuple(self._scenarios)

    # -- iteration over model steps -----------------------------------------------------------
    def _days(self, vehicle: DemoVehicle, first: date):
        """The vehicle's simulated days from ``first`` on, with its scenarios."""
        mine = tuple(s for s in self.scenarios if s.vehicle == vehicle.vehicle_number)
        day = first
        while True:
            yield simulate_day(vehicle, day, mine, self.faults)
            day = day + timedelta(days=1)

    def _steps(self, vehicle: DemoVehicle, start: datetime, end: datetime, every: int = 1,
               charging_every: int | None = None):
        """(day, index, time) for every ``every``-th reported 30 s step in [start, end], in order;
        while the pack charges, every ``charging_every``-th (a thinned history that keeps charges
        fine enough for the charge-session detector to see them begin and end)."""
        end = min(end, datetime.now(timezone.utc))
        for sim in self._days(vehicle, day_of(start)):
            if sim.start > end:
                return
            # Steps inside [start, end] only: round the start up and the end down, fractions included.
            lo = max(0, math.ceil((start - sim.start).total_seconds() / STEP_SECONDS))
            hi = min(STEPS_PER_DAY - 1, math.floor((end - sim.start).total_seconds() / STEP_SECONDS))
            if charging_every and charging_every < every:
                wanted = (i for i in range(lo + (-lo) % charging_every, hi + 1, charging_every)
                          if i % every == 0 or sim.current[i] > 0 or sim.current[i - 1 if i else 0] > 0)
            else:
                wanted = range(lo + (-lo) % every, hi + 1, every)
            for i in wanted:
                if not sim.silent[i]:
                    yield sim, i, sim.start + timedelta(seconds=i * STEP_SECONDS)

    def _spans(self, vehicle: DemoVehicle, start: datetime, end: datetime):
        """(day, first, stop) index ranges of every model step in (start, end]: what happened between
        a reading at ``start`` and one at ``end``. Silent steps count: the vendor's odometer and energy
        counters keep running through a communication gap."""
        end = min(end, datetime.now(timezone.utc))
        for sim in self._days(vehicle, day_of(start)):
            if sim.start > end:
                return
            lo = max(0, math.floor((start - sim.start).total_seconds() / STEP_SECONDS) + 1)
            hi = min(STEPS_PER_DAY - 1, math.floor((end - sim.start).total_seconds() / STEP_SECONDS))
            if lo <= hi:
                yield sim, lo, hi + 1

    def _state_at(self, vehicle: DemoVehicle, t: datetime) -> tuple[Day, int]:
        """(day, index) of the last model step at or before ``t``: what a reading at ``t`` says."""
        mine = tuple(s for s in self.scenarios if s.vehicle == vehicle.vehicle_number)
        sim = simulate_day(vehicle, day_of(t), mine, self.faults)
        return sim, math.floor((t - sim.start).total_seconds() / STEP_SECONDS)

    def _ignition(self, spans) -> tuple[datetime | None, datetime | None]:
        """Times of the first and the last moving step in ``spans``."""
        moving = [sim.start + timedelta(seconds=i * STEP_SECONDS)
                  for sim, lo, hi in spans for i in range(lo, hi) if sim.speed[i] > 0]
        return (moving[0], moving[-1]) if moving else (None, None)

    def _num(self, vehicle: str, value, digits: int = 2):
        if value is None:
            return None
        value = round(value, digits)
        return str(value) if vehicle_trait(vehicle, self.faults.strings_share, "strings") else value

    def _fault(self, vehicle: str, t: datetime, name: str, rate: float) -> bool:
        return rate > 0 and (_seed(vehicle, _ms(t), name) % 100000) < rate * 100000

    # -- endpoints ----------------------------------------------------------------------------
    def battery_history(self, vehicle_no: str, start: datetime, end: datetime, every: int = 1,
                        charging_every: int | None = None) -> list[dict]:
        """Readings as getbatterydata answers them; ``every`` > 1 thins them (history seeding),
        ``charging_every`` thins charging less."""
        vehicle = self.vehicles[vehicle_no]
        f = self.faults
        null_temp = vehicle_trait(vehicle_no, f.null_temperature_share, "null_temp")
        stuck = vehicle_trait(vehicle_no, f.stuck_soh_share, "stuck_soh")
        absent = not stuck and vehicle_trait(vehicle_no, f.soh_absent_share, "absent_soh")
        unsigned = vehicle_trait(vehicle_no, f.unsigned_current_share, "unsigned")
        rows = []
        for sim, i, t in self._steps(vehicle, start, end, every, charging_every):
            current = abs(sim.current[i]) if unsigned else sim.current[i]
            row = {
                "soc": self._num(vehicle_no, sim.soc[i]),
                "soh": None if absent else self._num(vehicle_no, 100.0 if stuck else sim.soh),
                "battery_temp": None if null_temp else self._num(vehicle_no, sim.temperature[i], 1),
                "battery_voltage": self._num(vehicle_no, sim.voltage[i]),
                "charge_cycle": sim.cycles[i],
                "current": self._num(vehicle_no, current),
                "time": _ms(t),
            }
            if self._fault(vehicle_no, t, "garbage", f.garbage_rate):
                field_name = list(GARBAGE)[_seed(vehicle_no, _ms(t)) % 3]
                row[field_name] = GARBAGE[field_name]
            rows.append(row)
            if self._fault(vehicle_no, t, "duplicate", f.duplicate_rate):
                rows.append(dict(row))
        return rows

    def _gps_row(self, vehicle_no: str, sim, i: int, t: datetime) -> dict:
        seconds = vehicle_trait(vehicle_no, self.faults.seconds_share, "seconds")
        return {
            "commtime": int(t.timestamp()) if seconds else _ms(t),
            "lat": round(sim.lat[i], 6), "lng": round(sim.lng[i], 6), "alti": 123.0,
            "devbattery": 4.1, "vehbattery": round(sim.voltage[i], 1),
            "speed": round(sim.speed[i], 1), "heading": round(sim.heading[i]),
            "ignstatus": "on" if sim.speed[i] > 0 else "off", "mobili": 0,
        }

    def gps_history(self, vehicle_no: str, start: datetime, end: datetime, every: int = 2) -> list[dict]:
        """Fixes as getgpshistory answers them: once a minute (every other 30 s step) unless thinned."""
        vehicle = self.vehicles[vehicle_no]
        return [self._gps_row(vehicle_no, sim, i, t) for sim, i, t in self._steps(vehicle, start, end, every)]

    def last_gps(self, vehicle_no: str) -> dict | None:
        now = datetime.now(timezone.utc)
        rows = self.gps_history(vehicle_no, now - timedelta(minutes=10), now)
        return rows[-1] if rows else None

    def distance(self, vehicle_no: str, start: datetime, end: datetime) -> dict:
        """getdistancetravelled: the integral of the simulated speed over the window, and the
        odometer at its ends (the same number when nothing interrupted the day's plan)."""
        vehicle = self.vehicles[vehicle_no]
        known = min(end, datetime.now(timezone.utc))  # a window still under way: what happened so far
        if known <= start:
            return {"startodo": None, "endodo": None, "starttime": _ms(start), "endtime": _ms(end), "distance": 0}
        spans = list(self._spans(vehicle, start, known))
        km = sum(sum(sim.speed[lo:hi]) for sim, lo, hi in spans) * STEP_SECONDS / 3600.0
        (s0, i0), (s1, i1) = self._state_at(vehicle, start), self._state_at(vehicle, known)
        ign_on, ign_off = self._ignition(spans)
        return {
            "startodo": round(s0.odometer[i0], 2), "endodo": round(s1.odometer[i1], 2),
            "starttime": _ms(start), "endtime": _ms(end),
            "lastignon": _ms(ign_on) if ign_on else None, "lastignoff": _ms(ign_off) if ign_off else None,
            "distance": round(km, 2),
            "startLoc": [round(s0.lat[i0], 6), round(s0.lng[i0], 6)],
            "endLoc": [round(s1.lat[i1], 6), round(s1.lng[i1], 6)],
        }

    def fuel_used(self, vehicle_no: str, start: datetime, end: datetime) -> dict:
        """getfuelused on an electric account: energy is the integral of V*I while discharging;
        start/end "fuel level" is the SOC a reading at the window's start and end reports."""
        vehicle = self.vehicles[vehicle_no]
        known = min(end, datetime.now(timezone.utc))
        if known <= start:
            return {"fuelused": 0, "starttime": _ms(start), "endtime": _ms(end), "refueling_events": []}
        spans = list(self._spans(vehicle, start, known))
        used_wh = sum(-c * v for sim, lo, hi in spans for c, v in zip(sim.current[lo:hi], sim.voltage[lo:hi])
                      if c < 0) * STEP_SECONDS / 3600.0
        events, charging_since = [], None
        for sim, lo, hi in spans:
            for i in range(lo, hi):
                if sim.current[i] > 1 and charging_since is None:
                    charging_since = sim.start + timedelta(seconds=i * STEP_SECONDS)
                elif sim.current[i] <= 1 and charging_since is not None:
                    events.append({"start": _ms(charging_since),
                                   "end": _ms(sim.start + timedelta(seconds=i * STEP_SECONDS))})
                    charging_since = None
        (s0, i0), (s1, i1) = self._state_at(vehicle, start), self._state_at(vehicle, known)
        ign_on, ign_off = self._ignition(spans)
        return {
            "fuelused": round(used_wh / 1000, 3), "starttime": _ms(start), "endtime": _ms(end),
            "startfl": round(s0.soc[i0], 1), "endfl": round(s1.soc[i1], 1),
            "startfl_litres": None, "endfl_litres": None,
            "lastignon": _ms(ign_on) if ign_on else None, "lastignoff": _ms(ign_off) if ign_off else None,
            "refueling_events": events,
        }
