"""Fade and remaining useful life of one battery, with its uncertainty.

Model: SOH(age) = s0 - b · (age / 1 year)^z.
LFP fade is sub-linear in time (calendar loss goes with the square root of time, cycle loss with
the ampere-hour throughput to the power 0.55), so a power law with z around 0.5-0.6 describes a
pack's life; heat and heavy use change b (how fast) more than z (how the fade bends).

Per battery, Bayesian:
- (s0, b) by linear regression for a given z, with a prior anchored at sale: s0 ~ N(100, s0_sd)
  (a new pack is 100 % of its rating, give or take) and b ~ N(b_mean, b_sd) (the population's
  fade, as wide as b itself so a weak pack's own data decides);
- z on a grid, its prior the population's N(exponent, exponent_sd), weighted by how well each z
  explains the pack's own history (the regression's marginal likelihood);
- each SOH point counts with its own standard deviation plus ``residual``, the model's own error
  (a fade that runs faster in summer is not a perfect power law). Points are thinned to one per
  ``thin_days``: a day's estimate from charging is a median over a trailing month of sessions,
  so neighbouring days are not independent evidence; such a point (``window_days``) stands for
  the middle of its window.
End of life is the age at which SOH crosses ``eol_soh``: its 10th, 50th and 90th percentiles come
from Monte Carlo draws of z and (s0, b); p10 is the pessimistic (earliest) age, p90 the optimistic.
Draws that cross before today are dropped (the pack is above end of life today). Two calibrations
follow, both measured by ``train`` on packs with known truth: the remaining life (end of life minus
today) is scaled by ``remaining_scale`` (on the simulator the curve runs about 9 % long: the
estimate from charging reads a little high and lags a fast fade, and a worn pack's deeper daily
discharge speeds its fade), and the band about p50 by ``band_scale`` (the posterior's own width
is not calibrated: the residuals of a seasonal fade are not independent).

``train`` fits the population parameters on simulated whole-life histories with known truth and
reports their error (``bench/rul.py`` runs it and prints the figures; DEFAULT holds its result).

The rule, checked in this order:
1. "not enough data" when there is no SOH point at all (nothing measured, nothing estimated from
   charging) or the pack's age is unknown;
2. "not enough data" when there is no SOH point in the last ``STALE_DAYS`` days (a gap of months:
   the pack may have changed since);
3. "reached" when the median of the newest ``RECENT_DAYS`` days of points is under ``eol_soh``;
4. "not enough data" when the pack is younger than ``MIN_AGE_DAYS`` or has SOH values on fewer
   than ``MIN_DAYS`` days;
5. "not enough data" when the fitted loss since sale is under twice its own uncertainty, or under
   ``MIN_LOSS`` points (too flat to give a rate: all-100 histories land here);
6. "not enough data" when the optimistic end of life (p90) is more than ``HORIZON_YEARS`` years
   away (no honest date to give);
7. otherwise "forecast", with p10 >= today + 1 day.
Fade rates (points lost since sale per month of age and per 100 charge cycles; the cycles from
``cycles_now``, else the newest point's) are given from rule 3 on: "reached" and a pack with
too few days of history state them from the recent level, the others from the fitted curve.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Sequence

import numpy as np

YEAR = 365.25
MONTH = YEAR / 12
STALE_DAYS = 60
MIN_DAYS = 7
MIN_AGE_DAYS = 60
MIN_LOSS = 1.0
HORIZON_YEARS = 15
RECENT_DAYS = 30           # "the newest month of points": what "reached" and the level now look at
DRAWS = 2000
CURVE_POINTS = 30
Z_GRID = np.round(np.arange(0.25, 1.2001, 0.01), 4)
Z_STEP = 0.01


@dataclass
class Point:
    age_days: float
    soh: float
    sd: float
    cycles: float | None = None
    window_days: float = 0.0    # the value sums up the trailing window (a median of a month's charges)


@dataclass
class History:
    """A whole life for ``train``: the points a pack would have shown, and, for simulated packs,
    the age at which its true SOH crossed the end-of-life level (None when unknown)."""
    points: Sequence[Point]
    eol_age: float | None = None


@dataclass
class FadeParams:
    version: str = ""
    exponent: float = 0.55          # population mean of z
    exponent_sd: float = 0.06       # its spread between packs (the prior on one pack's z)
    s0_sd: float = 1.0              # SOH at sale ~ N(100, s0_sd)
    b_mean: float = 5.0             # loss in the first year at z, points (population prior on b)
    b_sd: float = 6.0
    residual: float = 0.7           # the model's own error per thinned point, SOH points
    thin_days: float = 30.0
    remaining_scale: float = 1.0    # the remaining life against the fitted curve's (calibrated by ``train``)
    band_scale: float = 1.0         # the 10-90 % band's width against the posterior's own (calibrated
                                    # by ``train`` on packs with known truth)
    trained_on: str = "defaults: z from the LFP literature (calendar 0.5, cycle 0.55)"

    def __post_init__(self):
        if not self.version:
            body = json.dumps({k: v for k, v in asdict(self).items() if k not in ("version", "trained_on")},
                              sort_keys=True)
            self.version = "fade-1." + hashlib.sha1(body.encode()).hexdigest()[:8]

    @classmethod
    def from_dict(cls, values: dict) -> "FadeParams":
        """From stored JSON, ignoring keys an older or newer version kept."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


# What ``python -m bench.rul`` trained: ``train`` on the simulated whole-life histories of demo.fleet
# (size 40, seed 8; sale moved to 2010, BMS SOH stuck, SOH estimated from the charge sessions of
# every 7th day; 35 packs reach 80 %, 34 have enough monthly points). The bench says whether its
# run still gives these. TRAINING_ERROR is its backtest on those same packs (store it with the
# version); the bench's own table is the error on packs training never saw.
DEFAULT = FadeParams(exponent=0.53, exponent_sd=0.03, s0_sd=1.0, b_mean=10.604, b_sd=10.604, residual=2.222,
                     thin_days=30.0, remaining_scale=0.948, band_scale=0.35,
                     trained_on="bench/rul.py: 34 simulated whole-life pack histories (demo.fleet size 40 seed 8)")
TRAINING_ERROR = {
    "packs": 34, "residual_factor": 9.0, "remaining_scale": 0.948, "band_scale": 0.35,
    "backtest": {"0.25": {"median_error_pct": 9.1, "coverage_pct": 77.4, "forecasts": 31, "not_enough_data": 4},
                 "0.5": {"median_error_pct": 4.0, "coverage_pct": 87.9, "forecasts": 33, "not_enough_data": 2},
                 "0.75": {"median_error_pct": 6.6, "coverage_pct": 79.4, "forecasts": 34, "not_enough_data": 1}},
    "exponents": {"median": 0.53, "p10": 0.486, "p90": 0.567},
    # bench/rul.py on 36 other packs (demo.fleet size 40 seed 7), never seen by training:
    "evaluated": {"0.25": {"median_error_pct": 8.8, "coverage_pct": 79.4, "not_enough_data": 2},
                  "0.5": {"median_error_pct": 4.3, "coverage_pct": 85.3, "not_enough_data": 2},
                  "0.75": {"median_error_pct": 5.8, "coverage_pct": 75.0, "not_enough_data": 0}},
}


@dataclass
class Forecast:
    status: str                      # "forecast" | "not_enough_data" | "reached"
    reason: str
    eol_age_p10: float | None = None
    eol_age_p50: float | None = None
    eol_age_p90: float | None = None
    fade_per_month: float | None = None
    fade_per_100_cycles: float | None = None
    curve: list[tuple[float, float, float, float]] = field(default_factory=list)


# -- the regression --------------------------------------------------------------------------------
def _clean(points: Sequence[Point]) -> list[Point]:
    out = []
    for p in points:
        if p is None or p.age_days is None or p.soh is None:
            continue
        age, value = float(p.age_days), float(p.soh)
        if not (math.isfinite(age) and math.isfinite(value)) or age < 0:
            continue
        sd = float(p.sd) if p.sd is not None and math.isfinite(p.sd) and p.sd > 0 else 1.0
        window = float(getattr(p, "window_days", 0.0) or 0.0)
        out.append(Point(age, value, sd, p.cycles, window if math.isfinite(window) and window > 0 else 0.0))
    return sorted(out, key=lambda p: p.age_days)


def _thin(points: list[Point], days: float) -> list[Point]:
    """The newest point of each ``days``-long stretch of age."""
    kept: dict[int, Point] = {}
    for p in points:
        kept[int(p.age_days // max(days, 1.0))] = p
    return list(kept.values())


def _arrays(points: list[Point], params: FadeParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # A value over a trailing window stands for the middle of it (a fast-fading pack's monthly
    # median lags the truth by half a month).
    ages = np.array([max(p.age_days - p.window_days / 2, 0.0) for p in points]) / YEAR
    y = np.array([p.soh for p in points])
    var = np.array([p.sd for p in points]) ** 2 + params.residual ** 2
    return ages, y, var


def _posterior_grid(ages: np.ndarray, y: np.ndarray, var: np.ndarray, params: FadeParams, zs: np.ndarray):
    """For every z in ``zs``: the posterior mean (G, 2) and covariance (G, 2, 2) of (s0, b), and the
    log marginal likelihood of the points (G,). Closed form (2x2 algebra, Woodbury), vectorised."""
    x = np.power(np.maximum(ages, 1e-9)[None, :], zs[:, None])          # (G, n)
    w = 1.0 / var                                                         # (n,)
    prior_mean = np.array([100.0, params.b_mean])
    prior_var = np.array([params.s0_sd ** 2, params.b_sd ** 2])
    # Design [1, -x]: precision = prior + X' W X.
    a11 = 1 / prior_var[0] + w.sum()
    a12 = -(x * w).sum(axis=1)
    a22 = 1 / prior_var[1] + (x * x * w).sum(axis=1)
    det = a11 * a22 - a12 ** 2
    cov = np.empty((len(zs), 2, 2))
    cov[:, 0, 0], cov[:, 0, 1], cov[:, 1, 0], cov[:, 1, 1] = a22 / det, -a12 / det, -a12 / det, a11 / det
    v1 = prior_mean[0] / prior_var[0] + (w * y).sum()
    v2 = prior_mean[1] / prior_var[1] - (x * w * y).sum(axis=1)
    mean = np.stack([cov[:, 0, 0] * v1 + cov[:, 0, 1] * v2, cov[:, 1, 0] * v1 + cov[:, 1, 1] * v2], axis=1)
    # log N(y; X m0, D + X S0 X'), through the residual from the prior mean and Woodbury.
    r = y[None, :] - (prior_mean[0] - prior_mean[1] * x)                 # (G, n)
    u1 = (w * r).sum(axis=1)
    u2 = -(x * w * r).sum(axis=1)
    quad = (w * r * r).sum(axis=1) - (cov[:, 0, 0] * u1 ** 2 + 2 * cov[:, 0, 1] * u1 * u2 + cov[:, 1, 1] * u2 ** 2)
    logdet = np.log(var).sum() + np.log(prior_var).sum() + np.log(det)
    return mean, cov, -0.5 * (quad + logdet)


def _z_weights(loglik: np.ndarray, params: FadeParams, zs: np.ndarray) -> np.ndarray:
    """Posterior weights of the z grid: the population prior times the marginal likelihood."""
    logp = loglik - 0.5 * ((zs - params.exponent) / max(params.exponent_sd, 1e-3)) ** 2
    logp -= logp.max()
    p = np.exp(logp)
    return p / p.sum()


def _draws(points: list[Point], params: FadeParams, rng: np.random.Generator, n: int = DRAWS):
    """n draws of (s0, b, z) from the posterior."""
    ages, y, var = _arrays(points, params)
    mean, cov, loglik = _posterior_grid(ages, y, var, params, Z_GRID)
    pick = rng.choice(len(Z_GRID), size=n, p=_z_weights(loglik, params, Z_GRID))
    z = Z_GRID[pick] + rng.uniform(-Z_STEP / 2, Z_STEP / 2, n)
    chol = np.linalg.cholesky(cov[pick] + np.eye(2) * 1e-12)              # (n, 2, 2)
    theta = mean[pick] + np.einsum("nij,nj->ni", chol, rng.standard_normal((n, 2)))
    return theta[:, 0], theta[:, 1], z


def _soh_at(s0, b, z, age_days):
    return s0 - b * np.power(max(age_days, 0.0) / YEAR, z)


# -- the forecast ----------------------------------------------------------------------------------
def forecast(points: Sequence[Point], *, age_now: float, cycles_now: float | None, eol_soh: float = 80.0,
             params: FadeParams = DEFAULT, seed: int = 0) -> Forecast:
    """End-of-life ages (days since sale) for a battery whose SOH history is ``points``, seen at
    ``age_now`` days with ``cycles_now`` charge cycles (None when unknown). See the module
    docstring for the statuses and the "not enough data" rule."""
    if age_now is None or not math.isfinite(age_now) or age_now < 0:
        return Forecast("not_enough_data", "The pack's age is unknown.")
    pts = [p for p in _clean(points) if p.age_days <= age_now]
    if not pts:
        return Forecast("not_enough_data", "No SOH measured or estimated yet.")
    newest = pts[-1]
    if age_now - newest.age_days > STALE_DAYS:
        return Forecast("not_enough_data", f"No SOH for the last {int(age_now - newest.age_days)} days; "
                                           f"a forecast needs one within {STALE_DAYS}.")
    level = float(np.median([p.soh for p in pts if p.age_days >= newest.age_days - RECENT_DAYS]))
    if cycles_now is None and newest.cycles is not None and math.isfinite(newest.cycles):
        cycles_now = newest.cycles
    if level < eol_soh:
        return Forecast("reached", f"SOH {level:.1f} % is under the {eol_soh:g} % end-of-life level.",
                        **_rates(max(100.0 - level, 0.0), age_now, cycles_now))
    if age_now < MIN_AGE_DAYS:
        return Forecast("not_enough_data", f"The pack is {int(age_now)} days old; its fade is still inside the "
                                           f"measurement noise (a forecast needs {MIN_AGE_DAYS} days).")
    days = len({int(p.age_days) for p in pts})
    if days < MIN_DAYS:
        # No date yet, but the average fade since sale (100 % then, the recent level now) is known.
        return Forecast("not_enough_data", f"Only {days} day{'s' if days != 1 else ''} of SOH history; "
                                           f"a forecast needs {MIN_DAYS}.",
                        **_rates(max(100.0 - level, 0.0), age_now, cycles_now))
    thinned = _thin(pts, params.thin_days)
    rng = np.random.default_rng(seed)
    s0, b, z = _draws(thinned, params, rng)
    fitted_loss = 100.0 - _soh_at(s0, b, z, age_now)
    loss, loss_sd = float(np.median(fitted_loss)), float(np.std(fitted_loss))
    rates = _rates(max(loss, 0.0), age_now, cycles_now)
    if loss < max(2 * loss_sd, MIN_LOSS):
        return Forecast("not_enough_data", f"The fade so far ({loss:.1f} ± {loss_sd:.1f} points since sale) is "
                                           "too small to give a rate.", **rates)
    ages = np.minimum(_eol_ages(s0, b, z, age_now, eol_soh), age_now + 100 * YEAR)   # inf: never fades
    ahead = ages > age_now
    if ahead.mean() >= 0.5:   # the pack is above end of life today: drop draws that say otherwise
        s0, b, z, ages = s0[ahead], b[ahead], z[ahead], ages[ahead]
    r = params.remaining_scale
    ages = age_now + r * (ages - age_now)
    p10, p50, p90 = _scaled(np.quantile(ages, (0.1, 0.5, 0.9)), params.band_scale)
    p10, p50, p90 = (max(float(a), age_now + 1) for a in (p10, p50, p90))   # never a date in the past
    if not math.isfinite(p90) or p90 - age_now > HORIZON_YEARS * YEAR:
        return Forecast("not_enough_data", f"The fade is too slow to date: the optimistic end of life is more "
                                           f"than {HORIZON_YEARS} years away.", **rates)
    grid = np.linspace(age_now, min(p90 + 90, age_now + HORIZON_YEARS * YEAR), CURVE_POINTS)
    on_curve = np.maximum(age_now + (grid - age_now) / r, 0.0)       # the remaining life runs r times the curve's
    sohs = s0[:, None] - b[:, None] * np.power(on_curve[None, :] / YEAR, z[:, None])
    lo, mid, hi = _scaled(np.quantile(sohs, (0.1, 0.5, 0.9), axis=0), params.band_scale)
    curve = [(float(a), float(l_), float(m_), float(h_)) for a, l_, m_, h_ in zip(grid, lo, mid, hi)]
    return Forecast("forecast", f"Fitted on {len(thinned)} SOH points ({days} days of history) and the pack's "
                                f"state at sale (model {params.version}).", p10, p50, p90, curve=curve, **rates)


def _eol_ages(s0, b, z, age_now: float, eol_soh: float) -> np.ndarray:
    """Age (days) at which each draw's curve crosses ``eol_soh``: inf when it does not fade,
    ``age_now`` when it is already under."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ages = np.where(b > 0, YEAR * np.power(np.maximum(s0 - eol_soh, 0.0) / b, 1 / z), np.inf)
    return np.where((b > 0) & (s0 <= eol_soh), age_now, ages)


def _scaled(quantiles: np.ndarray, scale: float) -> tuple:
    """(p10, p50, p90) with the outer two moved ``scale`` times their distance from p50."""
    lo, mid, hi = quantiles
    with np.errstate(invalid="ignore"):
        return mid + scale * (lo - mid), mid, np.where(np.isfinite(hi), mid + scale * (hi - mid), hi)


def _rates(loss: float, age_now: float, cycles_now: float | None) -> dict:
    per_month = loss / (age_now / MONTH) if age_now >= 30 else None
    per_cycles = loss / cycles_now * 100 if cycles_now is not None and cycles_now >= 20 else None
    return {"fade_per_month": per_month, "fade_per_100_cycles": per_cycles}


# -- training --------------------------------------------------------------------------------------
BACKTEST_FRACTIONS = (0.25, 0.5, 0.75)
RESIDUAL_FACTORS = (1.0, 2.0, 4.0, 6.0, 9.0, 13.0)
BAND_SCALES = tuple(np.round(np.arange(0.1, 2.01, 0.05), 2))


def _pack_fit(points: list[Point], zs: np.ndarray) -> tuple[float, float, float] | None:
    """Weighted least squares of SOH = 100 - b · t^z for each z of a grid (a pack is 100 % at
    sale): (z, b, rms residual) of the best z."""
    if len(points) < 5:
        return None
    t, y, var = _arrays(points, FadeParams(residual=0.0))
    if t.max() <= 0:
        return None
    w, loss = 1 / var, 100.0 - y
    x = np.power(np.maximum(t, 1e-9)[None, :], zs[:, None])
    b = (w * x * loss).sum(axis=1) / np.maximum((w * x * x).sum(axis=1), 1e-12)
    mse = (w * (loss[None, :] - b[:, None] * x) ** 2).sum(axis=1) / w.sum()
    k = int(np.argmin(mse))
    return float(zs[k]), float(b[k]), float(math.sqrt(mse[k]))


def _life(history: History, eol_soh: float) -> float | None:
    if history.eol_age is not None:
        return float(history.eol_age)
    under = [p.age_days for p in _clean(history.points) if p.soh < eol_soh]
    return float(under[0]) if under else None


def backtest(histories: Sequence[History], params: FadeParams, *, eol_soh: float = 80.0,
             fractions: Sequence[float] = BACKTEST_FRACTIONS) -> dict:
    """Forecast each history as seen at ``fractions`` of its life; per fraction: the median absolute
    error of p50 as a % of the true remaining life, the share of true ends inside [p10, p90], and
    how many said "not enough data"."""
    out = {}
    for frac, (rows, unknown) in _backtest_quantiles(histories, params, eol_soh, fractions).items():
        errors = [abs(p50 - life) / (life - now) * 100 for life, now, _, p50, _ in rows]
        inside = [p10 <= life <= p90 for life, _, p10, _, p90 in rows]
        out[frac] = {"median_error_pct": round(float(np.median(errors)), 1) if errors else None,
                     "coverage_pct": round(100 * float(np.mean(inside)), 1) if inside else None,
                     "forecasts": len(errors), "not_enough_data": unknown}
    return out


def _mean_of(result: dict, key: str) -> float:
    values = [r[key] for r in result.values() if r[key] is not None]
    return float(np.mean(values)) if values else float("inf")


def train(histories: Sequence[History | Sequence[Point]], *, eol_soh: float = 80.0,
          coverage_target: float = 0.8) -> tuple[FadeParams, dict]:
    """Population parameters from whole-life histories (simulated packs with known truth).

    1. Each pack's own power law (100 % at sale, best z on a grid, b by weighted least squares): the
       median exponent and its robust spread between packs (the prior on z), b at the median
       exponent (its median, and a spread as wide as b itself: the prior on b), and the median rms
       residual of a pack around its own curve.
    2. A backtest on these same packs seen at 25, 50 and 75 % of their lives: for each factor on
       that residual (a larger residual trusts a pack's own curvature less and the population's
       more), the remaining-life scale (the median of true / forecast remaining life) and the
       median error of the expected date with it; the factor with the smallest error wins. Then
       the band scale that brings the 10-90 % band's coverage of the true end of life nearest
       ``coverage_target`` (the narrower band on a tie).
    Returns the parameters and their error figures (the chosen backtest, on the training packs)."""
    hs = [h if isinstance(h, History) else History(list(h)) for h in histories]
    hs = [History(_clean(h.points), h.eol_age) for h in hs]
    thinned = [_thin(h.points, DEFAULT.thin_days) for h in hs]
    fits = [f for f in (_pack_fit(t, Z_GRID) for t in thinned) if f is not None]
    if len(fits) < 5:
        return DEFAULT, {"packs": len(fits), "note": "too few histories to train on; defaults kept"}
    z_fit = np.array([f[0] for f in fits])
    z_mean = float(np.median(z_fit))
    z_sd = max(1.4826 * float(np.median(np.abs(z_fit - z_mean))), 0.02)
    b_at = np.array([f[1] for f in (_pack_fit(t, np.array([z_mean])) for t in thinned) if f is not None])
    b_mean = float(np.median(b_at))
    # Weak packs fade two or three times faster than the median one: a prior on b as wide as b
    # itself only keeps a young pack's fit from running wild, and lets a weak pack's data speak.
    b_sd = max(b_mean, 2.0 * 1.4826 * float(np.median(np.abs(b_at - b_mean))), 1.0)
    residual = max(float(np.median([f[2] for f in fits])), 0.1)

    def params(res_f: float, remaining: float, scale: float) -> FadeParams:
        return FadeParams(exponent=round(z_mean, 3), exponent_sd=round(z_sd, 3), s0_sd=DEFAULT.s0_sd,
                          b_mean=round(b_mean, 3), b_sd=round(b_sd, 3), residual=round(residual * res_f, 3),
                          thin_days=DEFAULT.thin_days, remaining_scale=remaining, band_scale=float(scale),
                          trained_on="")

    # Both scales only move the quantiles of the draws: draw once per pack, fraction and residual
    # factor, then score the scales on those quantiles.
    candidates = []
    for res_f in RESIDUAL_FACTORS:
        seen = _backtest_quantiles(hs, params(res_f, 1.0, 1.0), eol_soh)
        ratios = [(life - now) / (p50 - now) for rows, _ in seen.values() for life, now, _, p50, _ in rows]
        remaining = round(float(np.clip(np.median(ratios), 0.5, 1.5)), 3) if ratios else 1.0
        error_pct = _mean_of(_coverage(seen, remaining, 1.0), "median_error_pct")
        candidates.append((error_pct, res_f, remaining, seen))
    _, res_f, remaining, seen = min(candidates, key=lambda c: c[:2])
    trials = []
    for scale in BAND_SCALES:
        result = _coverage(seen, remaining, scale)
        trials.append((round(abs(_mean_of(result, "coverage_pct") / 100 - coverage_target), 2), scale, result))
    _, scale, result = min(trials, key=lambda r: r[:2])
    chosen = FadeParams(**{**asdict(params(res_f, remaining, scale)), "version": "",
                           "trained_on": f"{len(fits)} simulated whole-life pack histories"})
    error = {"packs": len(fits), "residual_factor": res_f, "remaining_scale": remaining,
             "band_scale": float(scale), "backtest": result,
             "exponents": {"median": round(z_mean, 3), "p10": round(float(np.quantile(z_fit, 0.1)), 3),
                           "p90": round(float(np.quantile(z_fit, 0.9)), 3)}}
    return chosen, error


def _backtest_quantiles(histories: Sequence[History], params: FadeParams, eol_soh: float,
                        fractions: Sequence[float] = BACKTEST_FRACTIONS) -> dict:
    """Per fraction: (life, age seen, p10, p50, p90 at band scale 1) of every pack with a forecast,
    and how many had none."""
    out = {}
    for frac in fractions:
        rows, unknown = [], 0
        for h in histories:
            life = _life(h, eol_soh)
            if not life:
                continue
            now = life * frac
            f = forecast([p for p in h.points if p.age_days <= now], age_now=now, cycles_now=None,
                         eol_soh=eol_soh, params=params)
            if f.status != "forecast":
                unknown += 1
                continue
            rows.append((life, now, f.eol_age_p10, f.eol_age_p50, f.eol_age_p90))
        out[f"{frac:g}"] = (rows, unknown)
    return out


def _coverage(seen: dict, remaining: float, scale: float) -> dict:
    """The backtest's figures had the quantiles of ``seen`` (at scales 1) been scaled so."""
    out = {}
    for key, (rows, unknown) in seen.items():
        errors, inside = [], []
        for life, now, p10, p50, p90 in rows:
            p10, p50, p90 = (now + remaining * (p - now) for p in (p10, p50, p90))
            lo, hi = max(p50 + scale * (p10 - p50), now + 1), p50 + scale * (p90 - p50)
            errors.append(abs(p50 - life) / (life - now) * 100)
            inside.append(lo <= life <= hi)
        out[key] = {"median_error_pct": round(float(np.median(errors)), 1) if errors else None,
                    "coverage_pct": round(100 * float(np.mean(inside)), 1) if inside else None,
                    "forecasts": len(errors), "not_enough_data": unknown}
    return out
