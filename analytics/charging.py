"""Charge sessions found in a pack's readings, as they arrive.

A step between two readings is *charging* when the SOC rose, or when a session is already under
way and the pack sits at the top of its charge (SOC >= 99) still taking current (the
constant-voltage taper). The sign of the current is not trusted: about a fifth of BMSs report it
unsigned, and some report charging as negative, so energy and ampere-hours count |current|.

A session runs from its first charging reading to its last one. It ends at the first step that
is not charging, or at a gap between readings longer than ``gap_minutes`` (the pack may have been
unplugged in the gap). Ampere-hours and energy are trapezoids over the steps inside the session
only, so a charge that started between two readings is counted from the first reading that saw it,
together with the SOC it had then: ampere-hours and SOC change always cover the same stretch,
which is what a capacity estimate needs. Sessions shorter than ``MIN_SOC_RISE`` points or
``MIN_MINUTES`` are noise and dropped.

``advance`` is streaming: feed it each poll's new readings with the open session (and, when none
is open, the last reading already judged) and it returns the same sessions as one call over the
whole day would.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
import pandas as pd

MIN_SOC_RISE = 2.0
MIN_MINUTES = 10.0
TOP_OF_CHARGE = 99.0
TAPER_AMPS = 0.5


@dataclass
class Session:
    start_time: datetime
    end_time: datetime
    soc_start: float
    soc_end: float
    ah_in: float = 0.0
    energy_kwh: float = 0.0
    peak_current: float | None = None
    peak_temperature: float | None = None
    mean_temperature: float | None = None
    readings: int = 1
    max_gap_s: float = 0.0
    open: bool = True
    # The last reading's current and voltage, so the next poll's first step is a whole trapezoid.
    last_current: float | None = None
    last_voltage: float | None = None
    temperature_readings: int = 0


@dataclass(frozen=True)
class Reading:
    time: datetime
    soc: float
    current: float
    voltage: float
    temperature: float


def _finite(x) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _rows(frame: pd.DataFrame):
    times = pd.to_datetime(frame["time"], utc=True)
    cols = [frame[c].to_numpy(dtype=float) if c in frame else np.full(len(frame), np.nan)
            for c in ("soc", "current", "voltage", "temperature")]
    for t, soc, cur, volt, temp in zip(times, *cols):
        yield Reading(t.to_pydatetime(), float(soc), float(cur), float(volt), float(temp))


def _keep(session: Session) -> bool:
    minutes = (session.end_time - session.start_time).total_seconds() / 60
    return session.soc_end - session.soc_start >= MIN_SOC_RISE and minutes >= MIN_MINUTES


def _begin(r: Reading) -> Session:
    temp = _finite(r.temperature)
    return Session(start_time=r.time, end_time=r.time, soc_start=r.soc, soc_end=r.soc,
                   peak_current=_finite(abs(r.current)) if not math.isnan(r.current) else None,
                   peak_temperature=temp, mean_temperature=temp, readings=1, open=True,
                   last_current=_finite(r.current), last_voltage=_finite(r.voltage),
                   temperature_readings=1 if temp is not None else 0)


def _extend(s: Session, r: Reading) -> Session:
    dt_s = (r.time - s.end_time).total_seconds()
    hours = dt_s / 3600
    a0 = abs(s.last_current) if s.last_current is not None else abs(r.current)
    a1 = abs(r.current) if not math.isnan(r.current) else a0
    amps = (a0 + a1) / 2 if not math.isnan(a0) else 0.0
    v0 = s.last_voltage if s.last_voltage is not None else r.voltage
    v1 = r.voltage if not math.isnan(r.voltage) else v0
    volts = (v0 + v1) / 2 if v0 is not None and not math.isnan(v0) else 0.0
    temp = _finite(r.temperature)
    n = s.temperature_readings
    mean = s.mean_temperature
    if temp is not None:
        mean = temp if mean is None else (mean * n + temp) / (n + 1)
        n += 1
    peak_t = s.peak_temperature if temp is None else max(temp, s.peak_temperature or temp)
    peak_i = s.peak_current if math.isnan(r.current) else max(abs(r.current), s.peak_current or 0.0)
    return replace(s, end_time=r.time, soc_end=r.soc, ah_in=s.ah_in + amps * hours,
                   energy_kwh=s.energy_kwh + amps * volts * hours / 1000, peak_current=peak_i,
                   peak_temperature=peak_t, mean_temperature=mean, readings=s.readings + 1,
                   max_gap_s=max(s.max_gap_s, dt_s), last_current=_finite(r.current),
                   last_voltage=_finite(r.voltage) if not math.isnan(r.voltage) else s.last_voltage,
                   temperature_readings=n)


def _charging_step(prev: Reading | None, r: Reading, in_session: bool) -> bool:
    if prev is None or math.isnan(r.soc) or math.isnan(prev.soc):
        return False
    if r.soc > prev.soc:
        return True
    return (in_session and r.soc >= TOP_OF_CHARGE and r.soc >= prev.soc
            and not math.isnan(r.current) and abs(r.current) > TAPER_AMPS)


def advance(open_session: Session | None, readings: pd.DataFrame, *, gap_minutes: float = 45,
            previous: dict | None = None) -> tuple[list[Session], Session | None]:
    """Judge ``readings`` (time, soc, current, voltage, temperature; sorted; only rows newer than
    what was judged before). ``open_session``: the session still open after the last call;
    ``previous``: when none is open, the last reading judged before (time, soc, current, voltage,
    temperature), so the first new step can be judged. Returns (closed sessions, the open one)."""
    closed: list[Session] = []
    session = open_session
    if session is not None:
        prev = Reading(session.end_time, session.soc_end, session.last_current if session.last_current is not None
                       else math.nan, session.last_voltage if session.last_voltage is not None else math.nan, math.nan)
    elif previous is not None:
        prev = Reading(pd.Timestamp(previous["time"]).to_pydatetime(),
                       *(float(previous.get(k)) if previous.get(k) is not None else math.nan
                         for k in ("soc", "current", "voltage", "temperature")))
    else:
        prev = None
    gap = gap_minutes * 60
    for r in _rows(readings):
        gap_before = prev is not None and (r.time - prev.time).total_seconds() > gap
        if gap_before:
            prev = None   # unplugged in the gap, perhaps: what follows starts afresh
        if _charging_step(prev, r, session is not None):
            session = _begin(r) if session is None else _extend(session, r)
        elif session is not None:
            session.open = False
            if _keep(session):
                closed.append(session)
            session = None
        prev = r
    return closed, session
