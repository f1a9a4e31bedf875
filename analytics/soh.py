"""State of health we can trust: the BMS's own figure when it is really measured, otherwise our
estimate from charging, otherwise "not measured" (never counted as healthy).

Our estimate (coulomb counting over a charge): a pack whose SOC rose by dSOC points while it took
Q ampere-hours holds Q / dSOC * 100 Ah when full; against the rated capacity that is its SOH. One
session qualifies only when it spans at least ``QUALIFYING_SOC_SPAN`` SOC points (SOC rounding and
the BMS's own SOC errors shrink with the span) with no gap between readings longer than
``MAX_GAP_MINUTES`` (a trapezoid over a longer gap is a guess) and enough readings.

A day's estimate is the median of the qualifying sessions of a trailing window (robust to one bad
session); its band is an 80 % confidence interval for that median from the sessions' spread
(median absolute deviation scaled to a standard deviation, divided by the square root of the
count, times the t quantile), never narrower than ``MIN_HALF_WIDTH``.

BMS SOH: "stuck" when every value is 100.0 (real BMSs that do not measure report 100.0 for life; a
new pack that truly is at 100 % loses nothing by it, our estimate covers it), "absent" when there
is none, else "reported". A day's SOH that does not change is normal (BMSs update it rarely).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

QUALIFYING_SOC_SPAN = 40.0
MAX_GAP_MINUTES = 20.0
MIN_READINGS = 4
MIN_HALF_WIDTH = 0.5        # SOH points: the SOC readout's own resolution limits us
PLAUSIBLE = (40.0, 120.0)   # a session outside this is a counting error, not a pack
# Two-sided 80 % t quantiles by degrees of freedom (1..10); 1.2816 beyond.
_T80 = (3.078, 1.886, 1.638, 1.533, 1.476, 1.440, 1.415, 1.397, 1.383, 1.372)

BMS_STATUSES = ("reported", "stuck", "absent")
STUCK_VALUE = 100.0
SOURCES = ("measured", "estimated", "not_measured")


def session_soh(session, rated_ah: float | None) -> float | None:
    """The SOH (% of rated) one charge session implies, or None if it does not qualify."""
    if not rated_ah or getattr(session, "open", False):
        return None
    span = session.soc_end - session.soc_start
    if (span < QUALIFYING_SOC_SPAN or session.readings < MIN_READINGS
            or session.max_gap_s > MAX_GAP_MINUTES * 60 or not session.ah_in or session.ah_in <= 0):
        return None
    value = float(session.ah_in / span * 100.0 / rated_ah * 100.0)
    return value if PLAUSIBLE[0] <= value <= PLAUSIBLE[1] else None


@dataclass
class Estimate:
    soh: float
    low: float
    high: float
    sessions: int


def estimate(session_sohs: Sequence[float]) -> Estimate | None:
    values = sorted(float(v) for v in session_sohs if v is not None and math.isfinite(v))
    if not values:
        return None
    n = len(values)
    median = _median(values)
    if n == 1:
        half = 3.0   # one session: the spread is unknown, so a wide band
    else:
        mad = _median([abs(v - median) for v in values]) * 1.4826
        t = _T80[min(n - 1, len(_T80)) - 1] if n - 1 <= len(_T80) else 1.2816
        half = max(MIN_HALF_WIDTH, t * 1.2533 * mad / math.sqrt(n))   # 1.2533: the median's efficiency
    return Estimate(soh=median, low=median - half, high=median + half, sessions=n)


def _median(values: Sequence[float]) -> float:
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def bms_status(values: Sequence[float | None]) -> str:
    known = [v for v in values if v is not None and math.isfinite(v)]
    if not known:
        return "absent"
    if min(known) >= STUCK_VALUE:
        return "stuck"
    return "reported"


def label(bms: str, estimate_: Estimate | None) -> str:
    if bms == "reported":
        return "measured"
    if estimate_ is not None:
        return "estimated"
    return "not_measured"
