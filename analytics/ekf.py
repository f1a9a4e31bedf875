"""A digital twin's cross-check of the BMS's state of charge.

The pack is modelled as an equivalent circuit with one RC pair: terminal voltage = OCV(SOC) +
I·R0 + V1, where V1 relaxes through R1·C1 (charging current positive). An extended Kalman filter
tracks x = (SOC, V1) by coulomb counting with the pack's capacity and corrects it with the measured
voltage through the LFP open-circuit-voltage curve. LFP's curve is flat between about 20 and 90 %,
so the voltage only pulls the estimate where it is steep: at the top of a charge (every night) and
near empty. That is enough: a BMS whose SOC is offset shows it at every full charge and the filter
carries the truth through the day by counting.

``soc_check`` runs the filter over one day and compares it with the BMS's SOC: the median absolute
difference after the first hour, over the readings where both are under ``SATURATED`` % (a BMS
that reads high sits at 100 while the pack is not full, which hides its offset at the top); over
``limit`` points means the BMS needs an SOC calibration.
It does not judge when it cannot: current reported without a sign, readings sparser than
``MAX_STEP_S`` (coulomb counting between sparse samples of a driving current is a guess), or too
few readings.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

CELLS = 16
# LFP cell open-circuit voltage against SOC (%), from cell data sheets' rest curves.
OCV_TABLE = ((0, 2.70), (5, 3.05), (10, 3.18), (20, 3.24), (40, 3.28), (60, 3.30), (80, 3.33), (90, 3.35),
             (95, 3.40), (100, 3.50))
R0, R1, C1 = 0.045, 0.02, 2000.0     # ohm, ohm, farad (pack); tau = 40 s
VOLTAGE_NOISE = 0.15                 # V, the BMS's voltage readout
SOC_PROCESS = 0.02                   # SOC points per sqrt(second): current sensor drift
MIN_READINGS = 60
MAX_STEP_S = 120
BURN_IN_S = 3600
SATURATED = 95.0

_S = np.array([s for s, _ in OCV_TABLE], dtype=float)
_V = np.array([v for _, v in OCV_TABLE], dtype=float) * CELLS


def ocv(soc: float) -> float:
    return float(np.interp(soc, _S, _V))


def _slope(soc: float) -> float:
    i = int(np.clip(np.searchsorted(_S, soc) - 1, 0, len(_S) - 2))
    return float((_V[i + 1] - _V[i]) / (_S[i + 1] - _S[i]))


def _seconds(times: pd.Series) -> np.ndarray:
    """Seconds since the epoch, whatever resolution pandas keeps the times in."""
    stamps = pd.to_datetime(times, utc=True)
    return (stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()


def _soc_from_voltage(volts: float) -> float:
    return float(np.interp(volts, _V, _S))


@dataclass
class SocCheck:
    status: str
    mean_abs_diff: float | None
    max_diff: float | None
    reason: str


def run(readings: pd.DataFrame, capacity_ah: float) -> np.ndarray:
    """The filter's SOC at each reading (time, soc, current, voltage; current signed, + charging)."""
    t = _seconds(readings["time"])
    soc_bms = readings["soc"].to_numpy(float)
    amps = np.nan_to_num(readings["current"].to_numpy(float))
    volts = readings["voltage"].to_numpy(float)
    first_v = volts[0] - amps[0] * R0
    x = np.array([_soc_from_voltage(first_v) if abs(amps[0]) < 2 and np.isfinite(first_v) else soc_bms[0], 0.0])
    p = np.diag([15.0 ** 2, 0.05 ** 2])
    out = np.empty(len(t))
    out[0] = x[0]
    for k in range(1, len(t)):
        dt = max(t[k] - t[k - 1], 0.0)
        decay = math.exp(-dt / (R1 * C1))
        i = amps[k - 1]
        x = np.array([x[0] + i * dt / 3600 / capacity_ah * 100, x[1] * decay + R1 * (1 - decay) * i])
        f = np.array([[1.0, 0.0], [0.0, decay]])
        q = np.diag([SOC_PROCESS ** 2 * dt + 1e-6, 1e-4])
        p = f @ p @ f.T + q
        if np.isfinite(volts[k]):
            h = np.array([_slope(float(np.clip(x[0], 0, 100))), 1.0])
            predicted = ocv(float(np.clip(x[0], 0, 100))) + amps[k] * R0 + x[1]
            s = h @ p @ h + VOLTAGE_NOISE ** 2
            gain = p @ h / s
            x = x + gain * (volts[k] - predicted)
            p = (np.eye(2) - np.outer(gain, h)) @ p
        x[0] = float(np.clip(x[0], 0, 100))
        out[k] = x[0]
    return out


def soc_check(readings: pd.DataFrame, capacity_ah: float, *, limit: float = 10.0) -> SocCheck:
    frame = readings.dropna(subset=["soc", "voltage"])
    if len(frame) < MIN_READINGS:
        return SocCheck("not_checked", None, None, f"{len(frame)} readings; the check needs {MIN_READINGS}.")
    current = frame["current"].to_numpy(float)
    if not np.any(current < -0.5):
        return SocCheck("not_checked", None, None, "This BMS reports current without a sign.")
    t = _seconds(frame["time"])
    step = float(np.median(np.diff(t)))
    if step > MAX_STEP_S:
        return SocCheck("not_checked", None, None, f"Readings every {step / 60:.0f} min; the check needs one "
                                                   f"every {MAX_STEP_S // 60} min or more often.")
    model = run(frame, capacity_ah)
    bms = frame["soc"].to_numpy(float)
    after = (t - t[0] >= BURN_IN_S) & (bms < SATURATED) & (model < SATURATED)
    if after.sum() < MIN_READINGS // 2:
        return SocCheck("not_checked", None, None, "Too little of the day below full charge after the filter settles.")
    diff = np.abs(bms[after] - model[after])
    median, worst = float(np.median(diff)), float(np.max(diff))
    if median > limit:
        return SocCheck("calibration", median, worst, f"BMS SOC differs from the model by {median:.1f} points "
                                                      f"(median over the day); limit {limit:g}.")
    return SocCheck("ok", median, worst, f"BMS SOC agrees with the model within {median:.1f} points.")
