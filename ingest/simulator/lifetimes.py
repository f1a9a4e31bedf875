"""Simulated whole lives of packs with known truth, as the product would have observed them: what
the fade model is trained on (``flask --app app rul train``) and what ``bench/rul.py`` scores it
against.

A pack's sale is moved back to 2010 (same day of the year, so seasons still vary) so that it
reaches the end of life inside the simulator's horizon. Truth: ``ingest.simulator.ageing``; a
pack's life is the age at which its true SOH first falls under the end-of-life level.
Observations are what the ledger holds for a pack whose BMS SOH is stuck at 100: every
``every``-th day is simulated in full, sampled once a minute, its charge sessions found by
``analytics.charging.advance`` and valued by ``analytics.soh.session_soh``; each sampled day's
SOH point is ``analytics.soh.estimate`` over the sessions of the trailing 30 days (the ledger's
window), its sd from the 80 % band, as ``ingest.health`` turns ledger rows into fade points.
"""
from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import numpy as np
import pandas as pd

from analytics import charging, fade, soh
from data import demo
from ingest.simulator import ageing
from ingest.simulator.duty import STEP_SECONDS
from ingest.simulator.model import simulate_day

WINDOW_DAYS = 30            # as ingest.health.ESTIMATE_WINDOW
SAMPLE_STEPS = 60 // STEP_SECONDS   # one reading a minute, as production
SALE_YEAR = 2010
# The simulator caches whole days (~0.7 MB each); a whole life never asks for a day twice.
_simulate = getattr(simulate_day, "__wrapped__", simulate_day)


@dataclasses.dataclass
class Pack:
    vehicle: demo.DemoVehicle
    life: float | None                       # days from sale to true SOH < EOL
    points: list[fade.Point] = dataclasses.field(default_factory=list)


def moved_back(vehicle: demo.DemoVehicle) -> demo.DemoVehicle:
    sold = vehicle.sold_at
    return dataclasses.replace(vehicle, sold_at=date(SALE_YEAR, 1, 1) + timedelta(days=sold.timetuple().tm_yday - 1))


def day_readings(vehicle: demo.DemoVehicle, day: date) -> pd.DataFrame:
    """One simulated day as the product stores it: one reading a minute, silent stretches missing,
    from the last reading before the day's first SOC rise (nothing earlier can start a charge)."""
    d = _simulate(vehicle, day)
    idx = np.arange(0, len(d.soc), SAMPLE_STEPS)
    idx = idx[~np.asarray(d.silent, bool)[idx]]
    soc = np.asarray(d.soc)[idx]
    rises = np.flatnonzero(np.diff(soc) > 0)
    idx = idx[rises[0]:] if len(rises) else idx[:0]
    return pd.DataFrame({
        "time": pd.Timestamp(d.start) + pd.to_timedelta(idx * STEP_SECONDS, unit="s"),
        "soc": np.asarray(d.soc)[idx], "current": np.asarray(d.current)[idx],
        "voltage": np.asarray(d.voltage)[idx], "temperature": np.asarray(d.temperature)[idx]})


def trimming_is_exact(vehicle: demo.DemoVehicle, days: int = 5) -> bool:
    """The sessions found in the trimmed day equal those found in the whole day."""
    def key(sessions):
        return [(s.start_time, s.end_time, round(s.ah_in, 9)) for s in sessions]
    for k in range(1, days + 1):
        day = vehicle.sold_at + timedelta(days=k)
        d = _simulate(vehicle, day)
        idx = np.arange(0, len(d.soc), SAMPLE_STEPS)
        idx = idx[~np.asarray(d.silent, bool)[idx]]
        whole = pd.DataFrame({
            "time": pd.Timestamp(d.start) + pd.to_timedelta(idx * STEP_SECONDS, unit="s"),
            **{c: np.asarray(getattr(d, c))[idx] for c in ("soc", "current", "voltage", "temperature")}})
        if key(charging.advance(None, whole)[0]) != key(charging.advance(None, day_readings(vehicle, day))[0]):
            return False
    return True


def observe(vehicle: demo.DemoVehicle, until_age: float, every: int) -> list[fade.Point]:
    """The SOH points the ledger would hold for this pack (BMS stuck) up to ``until_age`` days."""
    sessions: list[tuple[int, float]] = []
    points = []
    for age in range(every, int(until_age) + 1, every):
        closed, _ = charging.advance(None, day_readings(vehicle, vehicle.sold_at + timedelta(days=age)))
        sessions += [(age, v) for v in (soh.session_soh(s, vehicle.capacity_ah) for s in closed) if v is not None]
        est = soh.estimate([v for a, v in sessions if age - WINDOW_DAYS < a <= age])
        if est is not None:
            sd = max((est.high - est.low) / 2 / 1.2816, 0.3)     # as ingest.health._points
            points.append(fade.Point(float(age), est.soh, sd, window_days=WINDOW_DAYS))
    return points


def packs(size: int, seed: int, share_of_life: float, every: int, eol_soh: float = 80.0) -> tuple[list[Pack], int]:
    """The packs of ``demo.fleet(size, seed)`` that reach ``eol_soh``, observed for ``share_of_life``
    of their lives, and how many never reach it."""
    out, never = [], 0
    for vehicle in demo.fleet(size=size, seed=seed):
        vehicle = moved_back(vehicle)
        end = ageing.end_of_life(vehicle, eol_soh)
        if end is None:
            never += 1
            continue
        life = float((end - vehicle.sold_at).days)
        out.append(Pack(vehicle, life, observe(vehicle, life * share_of_life, every)))
    return out, never


def histories(size: int, seed: int, every: int = 7, eol_soh: float = 80.0) -> list[fade.History]:
    """Whole-life histories to train the fade model on."""
    return [fade.History(p.points, p.life) for p in packs(size, seed, 1.0, every, eol_soh)[0]]
