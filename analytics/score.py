"""The dealer performance score (seed 000 section 12.4): one number, 0-100, higher is better.

Five parts, each scaled linearly between a fixed "bad" and "good" anchor (so a dealer's score never
depends on the other dealers) and weighted:

| part | weight | good (full points) | bad (no points) |
|---|---|---|---|
| average SOH of its batteries | 30 | 95 % | 75 % |
| median fade rate | 25 | 0.2 points/month | 1.2 points/month |
| misuse: battery-days with deep discharge, over-temperature, over-current or hot charging, per 1,000 | 20 | 0 | 200 |
| alerts per 1,000 battery-days | 10 | 0 | 100 |
| communication uptime: battery-days with data / battery-days | 15 | 98 % | 70 % |

A part with no data (e.g. no SOH measured or estimated yet) is left out and the others are scaled
up to 100, so a dealer is neither punished nor rewarded for what nobody knows; ``parts_known``
says how many parts the score stands on.
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


def points(value: float, weight: float, good: float, bad: float) -> float:
    if value is None or not np.isfinite(value):
        return np.nan
    share = (value - bad) / (good - bad)
    return weight * float(np.clip(share, 0.0, 1.0))


def dealer_scores(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    earned = np.zeros(len(out))
    possible = np.zeros(len(out))
    for column, weight, good, bad in PARTS:
        values = pd.to_numeric(out.get(column), errors="coerce").to_numpy(float)
        part = np.array([points(v, weight, good, bad) for v in values])
        out[f"points_{column}"] = part
        known = np.isfinite(part)
        earned += np.where(known, part, 0.0)
        possible += np.where(known, weight, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["score"] = np.where(possible > 0, 100.0 * earned / possible, np.nan)
    out["parts_known"] = [sum(np.isfinite(out.loc[i, f"points_{c}"]) for c, *_ in PARTS) for i in out.index]
    return out
