"""A digital twin's cross-check of the BMS's state of charge.

The pack is modelled as an equivalent circuit with one RC pair: terminal voltage = OCV(SOC) +
I·R0 + V1, where V1 relaxes through R1·C1 (charging current positive). An extended Kalman filter
tracks x = (SOC, V1): it predicts by coulomb counting with the pack's capacity (as given: rated
capacity times its SOH) and corrects with the measured voltage through the LFP open-circuit-
voltage curve, linearised at the predicted SOC.

LFP's curve is flat between about 20 and 90 % (16 cells move 0.3 V over 60 points; a 10 mV error
in the curve would be 10 points of SOC), so the voltage is only trusted where the curve is steep:
at the top of a charge (every night, the constant-voltage end) and near empty. Elsewhere the
filter counts coulombs and its uncertainty grows with the current sensor's error. So a day has
stretches where the filter knows the SOC well (after a full charge, for the hours of driving that
follow) and stretches where it does not (before the day's first anchor).

``soc_check`` runs the filter over one day and compares it with the BMS's SOC where the filter is
confident (its SOC standard deviation under ``CONFIDENT_SD`` points, after at least one anchor)
and the BMS is not pinned at 0 or 100 (a BMS that reads high sits at 100 while the pack is not
full, which says nothing of its offset): "calibration" when the median absolute difference over
those readings exceeds ``limit`` points. A median, not a mean, so a few minutes of lag at the
end of a charge do not decide it; a capacity 15 % off (a pack whose SOH nobody measured) moves
the median by about 5 points at most, under the limit, while a BMS that is offset is off all day.

"not_checked" (with the reason) when it cannot judge: fewer than ``MIN_READINGS`` readings with
SOC and voltage, current reported without a sign (never below -0.5 A: coulomb counting would only
go up), readings sparser than ``MAX_STEP_S`` (coulomb counting between sparse samples of a driving
current is a guess), or fewer than ``MIN_COMPARED`` confident readings (no full charge and no
near-empty all day). A BMS that reports charging as negative current is recognised (its SOC rises
while the current is negative) and its current turned round.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

CELLS = 16
# LFP (LiFePO4/graphite) cell open-circuit voltage against SOC (%), rested, about 25 degC: the usual
# shape of the curve (a steep knee under 10 %, a plateau from 3.24 to 3.35 V, a rise to 3.5 V over
# the last 10 %). Real cells sit up to ~10 mV off it on the plateau, which is why the plateau is
# not trusted (OCV_ERROR, STEEP).
OCV_TABLE = ((0, 2.70), (5, 3.05), (10, 3.18), (20, 3.24), (40, 3.28), (60, 3.30), (80, 3.33), (90, 3.35),
             (95, 3.40), (100, 3.50))
R0, R1, C1 = 0.045, 0.02, 2000.0     # ohm, ohm, farad (pack); tau = 40 s
VOLTAGE_NOISE = 0.1                  # V, the BMS's voltage readout
OCV_ERROR = 0.1                      # V per pack: how far a real pack's curve may sit from the table
R0_ERROR = 0.015                     # ohm: resistance differs between packs and with temperature
GAIN_ERROR = 0.02                    # share of the current: the current sensor's gain error
OFFSET_ERROR = 0.3                   # A: its offset
STEEP = 0.08                         # V per SOC point (pack): the curve is steep enough to correct SOC
ACQUIRE_SD = 10.0                    # SOC points: while this unsure, even the plateau's voltage helps
CONFIDENT_SD = 5.0                   # SOC points: the filter is sure enough to judge the BMS
PINNED = (0.5, 99.5)                 # a BMS SOC at or beyond these may be clamped
INITIAL_SD = 30.0
MIN_READINGS = 60
MIN_COMPARED = 60
MAX_STEP_S = 120
MAX_GAP_S = 1800                     # a longer silence: the pack may have changed unseen, start afresh
VOLTS = (2.0 * CELLS, 4.0 * CELLS)   # outside: a decoding error, not a voltage
MAX_AMPS = 1000.0

_S = np.array([s for s, _ in OCV_TABLE], dtype=float)
_V = np.array([v for _, v in OCV_TABLE], dtype=float) * CELLS
_SLOPES = np.diff(_V) / np.diff(_S)


_SOCS = [float(x) for x in _S]
_VOLTS = [float(x) for x in _V]
_SLOPE_LIST = [float(x) for x in _SLOPES]


def _segment(soc: float) -> int:
    return min(max(bisect.bisect_right(_SOCS, soc) - 1, 0), len(_SLOPE_LIST) - 1)


def ocv(soc: float) -> float:
    """Pack open-circuit voltage at ``soc`` % (flat beyond 0 and 100)."""
    soc = min(max(soc, 0.0), 100.0)
    i = _segment(soc)
    return _VOLTS[i] + _SLOPE_LIST[i] * (soc - _SOCS[i])


# Voltages that only a pack near full or near empty shows, whatever its own curve's offset.
_TOP_KNEE = ocv(90) + OCV_ERROR
_BOTTOM_KNEE = ocv(10) - OCV_ERROR


def slope(soc: float) -> float:
    """d OCV / d SOC (V per point, pack) at ``soc``: the segment's slope (the right one at a knot)."""
    return _SLOPE_LIST[_segment(min(max(soc, 0.0), 100.0))]


@dataclass
class SocCheck:
    status: str                       # "ok" | "calibration" | "not_checked"
    mean_abs_diff: float | None       # the median absolute difference, points (the figure judged)
    max_diff: float | None            # the largest absolute difference among the compared readings
    reason: str


@dataclass
class Track:
    """The filter's path over the readings."""
    soc: np.ndarray                   # SOC estimate after each reading
    sd: np.ndarray                    # its standard deviation
    anchored: np.ndarray              # True once a steep part of the curve has corrected it


def _seconds(times: pd.Series) -> np.ndarray:
    """Seconds since the epoch, whatever resolution pandas keeps the times in."""
    stamps = pd.to_datetime(times, utc=True)
    return (stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()


def run(times: np.ndarray, amps: np.ndarray, volts: np.ndarray, capacity_ah: float, soc0: float) -> Track:
    """The filter over readings at ``times`` (seconds), current ``amps`` (+ charging, NaN unknown)
    and ``volts`` (NaN unknown), starting from ``soc0`` with a wide uncertainty. Plain floats, not
    numpy, for the 2x2 algebra: a day is 1,440 steps and the fleet 22,000 packs."""
    n = len(times)
    to_points = 100.0 / 3600.0 / capacity_ah
    tau = R1 * C1
    t_list, a_list, v_list = times.tolist(), amps.tolist(), volts.tolist()
    soc, v1 = min(max(float(soc0), 0.0), 100.0), 0.0
    p00, p01, p11 = INITIAL_SD ** 2, 0.0, 0.05 ** 2
    out_soc, out_sd, out_anchor = np.empty(n), np.empty(n), np.zeros(n, bool)
    anchored = False
    for k in range(n):
        a1 = a_list[k]
        if k:
            dt = t_list[k] - t_list[k - 1]
            if dt > MAX_GAP_S:            # unseen for long: start afresh from what we believed
                p00, p01, p11 = INITIAL_SD ** 2, 0.0, 0.05 ** 2
                anchored = False
            a0 = a_list[k - 1]
            if a0 != a0:                  # NaN: the other end of the step stands for it
                a0 = a1 if a1 == a1 else 0.0
            if a1 != a1:
                a1 = a0
            mean_amps = (a0 + a1) / 2      # trapezoid between the two readings
            decay = math.exp(-dt / tau)
            soc = min(max(soc + mean_amps * dt * to_points, 0.0), 100.0)
            v1 = v1 * decay + R1 * (1 - decay) * mean_amps
            step_sd = (GAIN_ERROR * abs(mean_amps) + OFFSET_ERROR + 0.5 * abs(a1 - a0)) * dt * to_points
            p00 += step_sd ** 2
            p01 *= decay
            p11 = p11 * decay * decay + (R1 * 0.2 * abs(a1 - a0)) ** 2 + 1e-6
        elif a1 != a1:
            a1 = 0.0
        volt = v_list[k]
        unsure = p00 > ACQUIRE_SD ** 2
        rested = volt - a1 * R0 - v1
        steep = rested >= _TOP_KNEE or rested <= _BOTTOM_KNEE
        # On the plateau a pack's own curve sits up to OCV_ERROR off the table, an offset that
        # does not average away: its voltage only helps while the filter knows next to nothing.
        if volt == volt and (unsure or steep):
            soc, v1, p00, p01, p11, g = _update(soc, v1, p00, p01, p11, volt, a1, unsure)
            # An anchor is a voltage that is itself on a steep part of the curve, not only an
            # estimate that has wandered onto one.
            anchored = anchored or (steep and g >= STEEP and p00 < CONFIDENT_SD ** 2)
        out_soc[k], out_sd[k], out_anchor[k] = soc, math.sqrt(max(p00, 0.0)), anchored
    return Track(out_soc, out_sd, out_anchor)


def _update(soc: float, v1: float, p00: float, p01: float, p11: float, volts: float, amps: float,
            unsure: bool) -> tuple[float, float, float, float, float, float]:
    """The measurement update with h = (slope, 1), iterated (the curve is re-linearised at each new
    estimate until it settles): a plain EKF linearised at a wrong SOC on the steep top of the
    curve would take the plateau for the top and grow sure of it. Returns the new state, its
    covariance and the curve's slope at the estimate."""
    r = VOLTAGE_NOISE ** 2 + OCV_ERROR ** 2 + (R0_ERROR * amps) ** 2
    si, vi = soc, v1
    for i in range(8):
        g = slope(si)
        ph0, ph1 = p00 * g + p01, p01 * g + p11
        s = g * ph0 + ph1 + r
        innovation = volts - (ocv(si) + amps * R0 + vi) - (g * (soc - si) + (v1 - vi))
        if i == 0 and not unsure and innovation * innovation > 25 * s:   # a 5-sigma jump is a glitch
            return soc, v1, p00, p01, p11, g
        new_s = min(max(soc + ph0 / s * innovation, 0.0), 100.0)
        new_v = v1 + ph1 / s * innovation
        settled = abs(new_s - si) < 0.01
        si, vi = new_s, new_v
        if settled:
            break
    g = slope(si)
    ph0, ph1 = p00 * g + p01, p01 * g + p11
    s = g * ph0 + ph1 + r
    k0, k1 = ph0 / s, ph1 / s
    return si, vi, p00 - k0 * ph0, p01 - k0 * ph1, p11 - k1 * ph1, g


def _clean(readings: pd.DataFrame) -> pd.DataFrame:
    frame = readings.loc[:, ["time", "soc", "current", "voltage"]].copy()
    for c in ("soc", "current", "voltage"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce")
    frame.loc[(frame["voltage"] < VOLTS[0]) | (frame["voltage"] > VOLTS[1]), "voltage"] = np.nan
    frame.loc[frame["current"].abs() > MAX_AMPS, "current"] = np.nan
    frame.loc[(frame["soc"] < 0) | (frame["soc"] > 100), "soc"] = np.nan
    frame["time"] = pd.to_datetime(frame["time"], utc=True, errors="coerce")
    frame = frame.dropna(subset=["time", "soc", "voltage"]).sort_values("time")
    return frame.drop_duplicates(subset="time", keep="last")


def _charging_sign(soc: np.ndarray, amps: np.ndarray) -> float:
    """+1 when the current is positive while the SOC rises (our convention), -1 when a BMS reports
    charging as negative."""
    rising = np.diff(soc) > 0.3
    mid = (amps[1:] + amps[:-1]) / 2
    known = rising & np.isfinite(mid) & (np.abs(mid) > 1)
    if known.sum() < 5:
        return 1.0
    return -1.0 if np.mean(mid[known] < 0) > 0.8 else 1.0


def soc_check(readings: pd.DataFrame, capacity_ah: float, *, limit: float = 10.0) -> SocCheck:
    """Judge one day's BMS SOC against the filter. ``readings``: time, soc, current, voltage."""
    if readings is None or len(readings) == 0 or not capacity_ah or not math.isfinite(capacity_ah) \
            or capacity_ah <= 0:
        n = 0 if readings is None else len(readings)
        return SocCheck("not_checked", None, None, f"{n} readings; the check needs {MIN_READINGS}."
                        if capacity_ah and capacity_ah > 0 else "The pack's capacity is unknown.")
    frame = _clean(readings)
    if len(frame) < MIN_READINGS:
        return SocCheck("not_checked", None, None, f"{len(frame)} readings; the check needs {MIN_READINGS}.")
    amps = frame["current"].to_numpy(float)
    if not np.any(amps < -0.5):
        return SocCheck("not_checked", None, None, "This BMS reports current without a sign.")
    t = _seconds(frame["time"])
    step = float(np.median(np.diff(t)))
    if step > MAX_STEP_S:
        return SocCheck("not_checked", None, None, f"Readings every {step / 60:.0f} min; the check needs one "
                                                   f"every {MAX_STEP_S // 60} min or more often.")
    bms = frame["soc"].to_numpy(float)
    amps = amps * _charging_sign(bms, amps)
    track = run(t, amps, frame["voltage"].to_numpy(float), capacity_ah, bms[0])
    compared = track.anchored & (track.sd < CONFIDENT_SD) & (bms > PINNED[0]) & (bms < PINNED[1])
    if compared.sum() < MIN_COMPARED:
        return SocCheck("not_checked", None, None, "The model was never sure of the SOC long enough today "
                                                   "(no full charge and no near-empty reading).")
    diff = np.abs(bms[compared] - track.soc[compared])
    median, worst = float(np.median(diff)), float(np.max(diff))
    if median > limit:
        return SocCheck("calibration", median, worst, f"BMS SOC differs from the model by {median:.1f} points "
                                                      f"(median over {compared.sum()} readings); limit {limit:g}.")
    return SocCheck("ok", median, worst, f"BMS SOC agrees with the model within {median:.1f} points "
                                         f"(median over {compared.sum()} readings).")
