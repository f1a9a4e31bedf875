"""Seed past weeks of the simulated fleet straight into the store: the demo and the tests start with
history instead of waiting for real time to pass.

Rows take the path the worker's rows take (simulator answer → ``readings`` parser → ``telemetry.store``),
minus the HTTP, so rejects, device state, cursors and rollups come out as they would from ingest.
Older days are thinned (one reading every ``coarse_minutes``); the last ``full_hours`` are kept at
the vendor's full 30 s resolution. Cursors end at ``now``, so the worker carries on from there.
"""
from __future__ import annotations

import logging
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import config
from data import alerts, telemetry
from data.db import Database
from data.demo import DemoVehicle
from ingest import efficiency, health, push, report_jobs
from ingest.readings import IST, parse_battery, parse_energy, parse_gps, parse_trip
from ingest.simulator import meters
from ingest.simulator.fleet import SimulatedFleet
from ingest.simulator.model import STEP_SECONDS, Faults

log = logging.getLogger(__name__)


CHARGING_EVERY = 4  # model steps (30 s): a reading every 2 minutes while the pack charges


@dataclass(frozen=True)
class Plan:
    start: datetime
    now: datetime
    full_hours: float = 6
    coarse_minutes: int = 10
    faults: Faults = Faults()


@dataclass
class Seeded:
    devices: int = 0
    rows: int = 0
    rejected: int = 0
    trips: int = 0
    meter_rows: int = 0


def _local_midnight(t: datetime) -> datetime:
    return t.astimezone(IST).replace(hour=0, minute=0, second=0, microsecond=0)


def _vehicle_batch(vehicle: DemoVehicle, plan: Plan) -> dict:
    """Everything one vehicle contributes: parsed readings, rejects, daily trips and energy."""
    sim = SimulatedFleet([vehicle], plan.faults)
    plate, device = vehicle.vehicle_number, vehicle.device_id
    split = max(plan.start, plan.now - timedelta(hours=plan.full_hours))
    every = max(1, plan.coarse_minutes * 60 // STEP_SECONDS)
    # Charging is kept at 2 min: the meters' efficiency is judged per charge session, and a session
    # seen only every 15 min would lose up to a quarter hour of charge at each end.
    raw_battery = (sim.battery_history(plate, plan.start, split, every, charging_every=CHARGING_EVERY)
                   + sim.battery_history(plate, split, plan.now))
    raw_gps = sim.gps_history(plate, plan.start, split, every) + sim.gps_history(plate, split, plan.now)
    battery = parse_battery(device, vehicle.battery_serial, raw_battery)
    gps = parse_gps(device, raw_gps)
    trips, energy = [], []
    day, today = _local_midnight(plan.start), _local_midnight(plan.now)
    while day < today:
        end = day + timedelta(days=1)
        trip = parse_trip(device, sim.distance(plate, day, end))
        if trip and (trip["distance_km"] or 0) > 0:
            trips.append(trip)
        used = parse_energy(device, sim.fuel_used(plate, day, end))
        if used:
            energy.append(used)
        day = end
    return {"device": device, "battery": battery.valid, "gps": gps.valid,
            "rejected": battery.rejected + gps.rejected, "trips": trips, "energy": energy,
            "charged": meters.charged_kwh(sim, plate, plan.start, plan.now)}


def _seed_meters(db: Database, vehicles: list[DemoVehicle], plan: Plan, charged: dict) -> int:
    """The chargers' meters and the solar sites over the same past, through the push API's path."""
    meter_rows, power_rows = meters.MeterFeed(vehicles).readings(plan.start, plan.now, charged)
    stored = 0
    for stream, rows in (("meter", meter_rows), ("site-power", power_rows)):
        for i in range(0, len(rows), push.MAX_ROWS):
            stored += push.ingest(db, stream, rows[i:i + push.MAX_ROWS]).stored
    return stored


# The alert engine judges only the last day of a seeded past: the demo gets a day of alert history
# without its first worker cycle judging weeks of readings (about 20 ms a device-day).
EVALUATE_SEEDED = timedelta(days=1)


def seed(db: Database, vehicles: list[DemoVehicle], plan: Plan, processes: int | None = None,
         batch_devices: int = 16, health_ledger: bool = True) -> Seeded:
    """Simulate and store ``vehicles`` over ``[plan.start, plan.now]``; safe to repeat (nothing is stored twice).
    Charge sessions are found in the stored readings, and (``health_ledger``) the health ledger and
    forecasts are computed up to the day before ``plan.now``, as the worker's daily job would."""
    processes = processes or min(2, os.cpu_count() or 1)
    done = Seeded()
    today = _local_midnight(plan.now)
    pending: list[dict] = []
    charged: dict[str, dict] = {}

    def flush():
        if not pending:
            return
        cursors = {}
        for b in pending:
            charged[b["device"]] = b.pop("charged")
            cursors.update({(b["device"], "battery"): plan.now, (b["device"], "gps"): plan.now,
                            (b["device"], "daily"): today})
        result = telemetry.store(
            db, battery=[r for b in pending for r in b["battery"]], gps=[r for b in pending for r in b["gps"]],
            rejected=[r for b in pending for r in b["rejected"]], trips=[r for b in pending for r in b["trips"]],
            energy=[r for b in pending for r in b["energy"]], cursors=cursors)
        done.devices += len(pending)
        done.rows += result.rows
        done.rejected += result.rejected_stored
        done.trips += result.trips_stored
        pending.clear()

    if processes > 1:
        with ProcessPoolExecutor(processes) as pool:
            for batch in pool.map(_vehicle_batch, vehicles, [plan] * len(vehicles), chunksize=4):
                pending.append(batch)
                if len(pending) >= batch_devices:
                    flush()
    else:
        for vehicle in vehicles:
            pending.append(_vehicle_batch(vehicle, plan))
            if len(pending) >= batch_devices:
                flush()
    flush()
    done.meter_rows = _seed_meters(db, vehicles, plan, charged)
    alerts.evaluate_only_after(db, plan.now - EVALUATE_SEEDED)
    devices = {d["device_id"]: d for d in telemetry.active_devices(db)}
    for vehicle in vehicles:
        if vehicle.device_id in devices:
            health.track_sessions(db, devices[vehicle.device_id], plan.now, first=plan.start)
    efficiency.run(db, config.get(), plan.now, since=plan.start)
    if health_ledger:
        health.refresh(db, config.get(), now=plan.now)
        report_jobs.draft_claims(db, plan.now)
    return done


def demo_plan(days: float, now: datetime | None = None, **kwargs) -> Plan:
    now = now or datetime.now(timezone.utc)
    return Plan(start=now - timedelta(days=days), now=now, **kwargs)
