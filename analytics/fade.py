"""Fade and remaining useful life of one battery, with its uncertainty.

Model: SOH(age) = s0 - b · (age / 1 year)^z. LFP fade is sub-linear in time (calendar loss goes
with the square root of time, cycle loss with throughput^0.55), so ``z`` is a population exponent
(fitted by ``train`` on simulated fleet histories; FadeParams keeps it with its spread) and (s0, b)
are fitted per battery by Bayesian linear regression: a new pack is 100 % at sale (prior s0 ~
N(100, s0_sd)), b has a broad population prior, and every SOH point counts with its own standard
deviation plus a model residual. Points are thinned to one per week (the daily estimate is a
trailing median, so neighbouring days are not independent evidence).

End of life: the age at which SOH crosses ``eol_soh``, drawn by Monte Carlo over z and the
posterior of (s0, b); p10 is the pessimistic (earliest) date, p90 the optimistic one.

"Not enough data yet" when any of these holds (the rule, in order):
1. no SOH point at all, or none in the last ``STALE_DAYS`` days (a gap of months);
2. the pack is younger than ``MIN_AGE_DAYS`` (its fade is still inside the measurement noise);
3. the loss so far is under twice its own uncertainty (too flat to say a rate);
4. the optimistic date is more than ``HORIZON_YEARS`` away (no honest date to give).
"reached" when the newest SOH is already under ``eol_soh``. A forecast date is never in the past:
draws that would put it before today are conditioned away (the pack is above EOL today).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np

YEAR = 365.25
MONTH = YEAR / 12
MIN_AGE_DAYS = 90
STALE_DAYS = 60
HORIZON_YEARS = 20
DRAWS = 400
CURVE_POINTS = 30


@dataclass
class Point:
    age_days: float
    soh: float
    sd: float
    cycles: float | None = None


@dataclass
class FadeParams:
    version: str = ""
    exponent: float = 0.6
    exponent_sd: float = 0.08
    s0_sd: float = 1.0
    b_mean: float = 5.0
    b_sd: float = 6.0
    residual: float = 0.7
    trained_on: str = "defaults: z from the LFP literature (calendar 0.5, cycle 0.55, mixed use ~0.6)"

    def __post_init__(self):
        if not self.version:
            body = json.dumps({k: v for k, v in asdict(self).items() if k not in ("version", "trained_on")},
                              sort_keys=True)
            self.version = "fade-1." + hashlib.sha1(body.encode()).hexdigest()[:8]


DEFAULT = FadeParams()


@dataclass
class Forecast:
    status: str
    reason: str
    eol_age_p10: float | None = None
    eol_age_p50: float | None = None
    eol_age_p90: float | None = None
    fade_per_month: float | None = None
    fade_per_100_cycles: float | None = None
    curve: list[tuple[float, float, float, float]] = field(default_factory=list)


def _weekly(points: Sequence[Point]) -> list[Point]:
    """One point per 7 days of age: the newest of each week."""
    by_week: dict[int, Point] = {}
    for p in sorted(points, key=lambda p: p.age_days):
        by_week[int(p.age_days // 7)] = p
    return list(by_week.values())


def _posterior(points: list[Point], z: float, params: FadeParams) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of (s0, b) given the points, for exponent z."""
    x = np.array([(max(p.age_days, 0.0) / YEAR) ** z for p in points])
    y = np.array([p.soh for p in points])
    var = np.array([p.sd ** 2 + params.residual ** 2 for p in points])
    design = np.column_stack([np.ones_like(x), -x])
    prior_mean = np.array([100.0, params.b_mean])
    prior_prec = np.diag([1 / params.s0_sd ** 2, 1 / params.b_sd ** 2])
    prec = prior_prec + design.T @ (design / var[:, None])
    cov = np.linalg.inv(prec)
    mean = cov @ (prior_prec @ prior_mean + design.T @ (y / var))
    return mean, cov


def forecast(points: Sequence[Point], *, age_now: float, cycles_now: float | None, eol_soh: float = 80.0,
             params: FadeParams = DEFAULT, seed: int = 0) -> Forecast:
    pts = [p for p in points if p.soh is not None and np.isfinite(p.soh) and p.age_days is not None]
    if not pts:
        return Forecast("not_enough_data", "No SOH measured or estimated yet.")
    newest = max(pts, key=lambda p: p.age_days)
    if age_now - newest.age_days > STALE_DAYS:
        return Forecast("not_enough_data", f"No SOH for the last {int(age_now - newest.age_days)} days; "
                                           f"a forecast needs one within {STALE_DAYS}.")
    weekly = _weekly(pts)
    mean, cov = _posterior(weekly, params.exponent, params)
    x_now = (max(age_now, 0.0) / YEAR) ** params.exponent
    fitted_now = mean[0] - mean[1] * x_now
    loss = mean[0] - fitted_now
    loss_sd = float(np.sqrt(np.array([0, x_now]) @ cov @ np.array([0, x_now])))
    per_month = loss / (age_now / MONTH) if age_now >= 30 else None
    per_cycles = loss / cycles_now * 100 if cycles_now and cycles_now >= 20 else None
    rates = dict(fade_per_month=per_month, fade_per_100_cycles=per_cycles)
    if newest.soh < eol_soh:
        return Forecast("reached", f"SOH {newest.soh:.1f} % is under the {eol_soh:g} % end-of-life level.", **rates)
    if age_now < MIN_AGE_DAYS:
        return Forecast("not_enough_data", f"The pack is {int(age_now)} days old; its fade is still inside the "
                                           f"measurement noise (a forecast needs {MIN_AGE_DAYS} days).", **rates)
    if loss < 2 * max(loss_sd, 0.25):
        return Forecast("not_enough_data", f"The fade so far ({loss:.1f} ± {loss_sd:.1f} points) is too small to "
                                           "give a rate.", **rates)
    rng = np.random.default_rng(seed)
    zs = np.clip(rng.normal(params.exponent, params.exponent_sd, DRAWS), 0.2, 1.5)
    ages = np.empty(DRAWS)
    draws = []
    for k, z in enumerate(zs):
        m, c = _posterior(weekly, z, params)
        s0, b = rng.multivariate_normal(m, c)
        draws.append((s0, b, z))
        if b <= 0 or s0 <= eol_soh:
            ages[k] = np.inf if b <= 0 else age_now
            continue
        ages[k] = YEAR * ((s0 - eol_soh) / b) ** (1 / z)
    ages = np.maximum(ages, age_now + 1)   # it is above EOL today: no date in the past
    p10, p50, p90 = (float(np.quantile(ages, q)) for q in (0.1, 0.5, 0.9))
    if not np.isfinite(p90) or p90 - age_now > HORIZON_YEARS * YEAR:
        return Forecast("not_enough_data", f"The fade is too slow to date: the optimistic end of life is more "
                                           f"than {HORIZON_YEARS} years away.", **rates)
    end = min(p90 + 90, age_now + HORIZON_YEARS * YEAR)
    grid = np.linspace(age_now, end, CURVE_POINTS)
    sohs = np.array([[s0 - b * (a / YEAR) ** z for a in grid] for s0, b, z in draws])
    lo, mid, hi = (np.quantile(sohs, q, axis=0) for q in (0.1, 0.5, 0.9))
    curve = [(float(a), float(l), float(m), float(h)) for a, l, m, h in zip(grid, lo, mid, hi)]
    return Forecast("forecast", f"Fitted on {len(weekly)} weekly SOH points and the pack's state at sale "
                                f"(model {params.version}).", p10, p50, p90, curve=curve, **rates)


def train(histories: Sequence[Sequence[Point]], exponents: Sequence[float] = tuple(np.arange(0.4, 1.01, 0.05))
          ) -> tuple[FadeParams, dict]:
    """Population parameters from whole-life histories (simulated packs with known truth): the
    exponent that fits them best, its spread across packs, the prior on b and the residual."""
    best_z, per_pack = [], []
    for points in histories:
        pts = _weekly(points)
        if len(pts) < 5:
            continue
        fits = []
        for z in exponents:
            x = np.array([(p.age_days / YEAR) ** z for p in pts])
            y = np.array([p.soh for p in pts])
            b = float(np.sum(x * (100 - y)) / max(np.sum(x * x), 1e-9))
            fits.append((float(np.mean((100 - b * x - y) ** 2)), z, b))
        err, z, b = min(fits)
        best_z.append(z)
        per_pack.append((b, err))
    if not best_z:
        return DEFAULT, {"packs": 0}
    bs = np.array([b for b, _ in per_pack])
    params = FadeParams(exponent=round(float(np.median(best_z)), 3),
                        exponent_sd=round(max(float(np.std(best_z)), 0.03), 3),
                        b_mean=round(float(np.median(bs)), 3), b_sd=round(max(float(np.std(bs)) * 1.5, 1.0), 3),
                        residual=round(max(float(np.sqrt(np.median([e for _, e in per_pack]))), 0.3), 3),
                        trained_on=f"{len(best_z)} simulated whole-life pack histories")
    return params, {"packs": len(best_z)}
