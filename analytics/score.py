"""The dealer performance score (seed 000 section 12.4): one number, 0-100, higher is better.

Five parts. Each is scaled linearly between a fixed "bad" anchor (no points) and a fixed "good"
anchor (full points), clipped at both ends, and weighted. The anchors are fixed numbers, never the
other dealers' figures, so a dealer's score does not change when another dealer's does, and a
dealer shown only its own row and the fleet median can recompute its score by hand.

| part (input column) | weight | good (full points) | bad (no points) | why these anchors |
|---|---|---|---|---|
| average SOH of its batteries, % (``avg_soh``) | 30 | 95 | 75 | 95 %: a fleet of young packs; 75 %: under the usual 80 % end of life |
| median fade, SOH points per month (``fade_per_month``) | 25 | 0.2 | 1.2 | 0.2: an LFP pack that lasts 8 years; 1.2: one that reaches 80 % in 1.5 |
| misuse: battery-days with a deep discharge, over-temperature, over-current or charging when hot, per 1,000 battery-days (``misuse_per_1000``) | 20 | 0 | 200 | 200: one day in five |
| alerts per 1,000 battery-days (``alerts_per_1000``) | 10 | 0 | 100 | 100: one alert every ten battery-days |
| communication uptime, battery-days with data / battery-days, % (``uptime_pct``) | 15 | 98 | 70 | 98 %: a healthy telematics fleet; 70 %: data on fewer than three days in four |

points = weight × clip((value - bad) / (good - bad), 0, 1); score = 100 × sum(points) / sum(weights
of the parts known). A part that is not known (NaN, None, missing column: e.g. no SOH measured or
estimated yet) is left out and the others are scaled up to 100, so a dealer is neither punished
nor rewarded for what nobody knows; ``parts_known`` says how many parts the score stands on, and
a dealer with none known has no score (NaN). A dealer with no batteries (``batteries`` 0) has no
score either.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

PARTS = (  # column, weight, good, bad
    ("avg_soh", 30, 95.0, 75.0),
    ("fade_per_month", 25, 0.2, 1.2),
    ("misuse_per_1000", 20, 0.0, 200.0),
    ("alerts_per_1000", 10, 0.0, 100.0),
    ("uptime_pct", 15, 98.0, 70.0),
)


def points(value, weight: float, good: float, bad: float) -> float:
    """One part's points for ``value`` (NaN when the value is unknown)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return np.nan
    if not np.isfinite(value):
        return np.nan
    return weight * float(np.clip((value - bad) / (good - bad), 0.0, 1.0))


def dealer_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``: one row per dealer (dealer, batteries, avg_soh, fade_per_month, misuse_per_1000,
    alerts_per_1000, uptime_pct). Returns a copy with ``points_<part>`` for each part, ``score``
    (0-100, NaN when nothing is known) and ``parts_known``."""
    out = frame.copy()
    earned = np.zeros(len(out))
    possible = np.zeros(len(out))
    known_parts = np.zeros(len(out), dtype=int)
    for column, weight, good, bad in PARTS:
        values = out[column] if column in out else pd.Series(np.nan, index=out.index)
        part = np.array([points(v, weight, good, bad) for v in values], dtype=float)
        out[f"points_{column}"] = part
        known = np.isfinite(part)
        earned += np.where(known, part, 0.0)
        possible += np.where(known, weight, 0.0)
        known_parts += known
    if "batteries" in out:
        empty = pd.to_numeric(out["batteries"], errors="coerce").fillna(0).to_numpy() <= 0
        possible = np.where(empty, 0.0, possible)
        known_parts = np.where(empty, 0, known_parts)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["score"] = np.where(possible > 0, 100.0 * earned / np.where(possible > 0, possible, 1.0), np.nan)
    out["parts_known"] = known_parts
    return out
