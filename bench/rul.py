"""Remaining useful life on simulated packs with known truth.

    .venv/bin/python -m bench.rul [--packs 40] [--train-packs 30] [--every 7] [--seed 7]

Packs: vehicles of ``data.demo.fleet(size, seed)`` (the evaluated ones) and of another seed (the
training ones), their sale moved back to 2010 (same day of the year, so seasons still vary) so
that their packs reach 80 % inside the simulator's horizon. Truth: ``ingest.simulator.ageing``
(true SOH per day); a pack's life is the age at which its true SOH first falls under 80 %. Packs
that do not get there within the horizon (12 years) are left out and counted.

Observations are what the product would have for a pack whose BMS SOH is stuck at 100: every
``--every``-th day is simulated in full (``simulate_day``: the day's driving and evening charge),
sampled once a minute, its charge sessions found by ``analytics.charging.advance`` and valued by
``analytics.soh.session_soh``; each sampled day's SOH point is ``analytics.soh.estimate`` over the
sessions of the trailing 30 days (the ledger's window, ingest/health.py), its sd from the 80 %
band, as ``ingest.health`` turns ledger rows into fade points. Days in between are not simulated
(one day costs ~13 ms; every day of 70 packs' lives would take ~15 minutes): the ledger's trailing
window then holds 4-5 sessions instead of ~25, so these points are noisier than the product's,
not cleaner. Rows before the day's first SOC rise are not handed to the session finder: they
cannot start a session, and skipping them cuts its time by half (checked: same sessions).

The fade model's population parameters come from ``analytics.fade.train`` on the training packs,
observed the same way over their whole lives; the evaluated packs are never seen by training.
Each evaluated pack is then forecast as seen at 25, 50 and 75 % of its true life.

Printed per fraction: the median absolute error of the expected (p50) end-of-life date as a % of
the true remaining life, the share of packs whose true end of life falls inside [p10, p90], and
how many said "not enough data"; next to two baselines in the same run: a straight line through
the last 60 days of SOH points (its band: the slope's 80 % interval) and a straight line from
100 % at sale through today's SOH. The last line is the summary at mid-life.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from dataclasses import asdict

import numpy as np

from analytics import fade
from data import demo
from ingest.simulator import ageing
from ingest.simulator.lifetimes import WINDOW_DAYS, Pack, moved_back, packs, trimming_is_exact

EOL = 80.0
FRACTIONS = (0.25, 0.5, 0.75)
BASELINE_DAYS = 60


# -- baselines -------------------------------------------------------------------------------------
def linear_recent(points: list[fade.Point], age_now: float) -> tuple[float, float, float] | None:
    """A straight line through the last BASELINE_DAYS of points, extended to EOL; its band from the
    slope's 80 % interval. None when it does not fall (or there are fewer than 3 points)."""
    recent = [p for p in points if p.age_days > age_now - BASELINE_DAYS]
    if len(recent) < 3:
        return None
    x = np.array([p.age_days for p in recent])
    y = np.array([p.soh for p in recent])
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    se = math.sqrt(resid @ resid / max(len(x) - 2, 1) / max(((x - x.mean()) ** 2).sum(), 1e-9))
    level = slope * age_now + intercept

    def crossing(s: float) -> float:
        return age_now + (level - EOL) / -s if s < 0 else math.inf

    if slope >= 0 or level <= EOL:
        return None
    return crossing(slope - 1.2816 * se), crossing(slope), crossing(slope + 1.2816 * se)


def line_from_sale(points: list[fade.Point], age_now: float) -> float | None:
    level = float(np.median([p.soh for p in points if p.age_days > age_now - WINDOW_DAYS] or [math.nan]))
    if not math.isfinite(level) or level >= 100 or level <= EOL:
        return None
    return age_now * (100 - EOL) / (100 - level)


# -- scoring ---------------------------------------------------------------------------------------
@dataclasses.dataclass
class Score:
    errors: list[float] = dataclasses.field(default_factory=list)
    inside: list[bool] = dataclasses.field(default_factory=list)
    none: int = 0

    def add(self, life: float, now: float, p10: float | None, p50: float | None, p90: float | None) -> None:
        if p50 is None:
            self.none += 1
            return
        self.errors.append(abs(p50 - life) / (life - now) * 100)
        if p10 is not None:
            self.inside.append(p10 <= life <= p90)

    @property
    def error(self) -> float:
        return float(np.median(self.errors)) if self.errors else math.nan

    @property
    def coverage(self) -> float:
        return 100 * float(np.mean(self.inside)) if self.inside else math.nan


def evaluate(evaluated: list[Pack], params: fade.FadeParams) -> dict:
    out = {}
    for frac in FRACTIONS:
        model, recent, sale = Score(), Score(), Score()
        for pack in evaluated:
            now = pack.life * frac
            seen = [p for p in pack.points if p.age_days <= now]
            f = fade.forecast(seen, age_now=now, cycles_now=None, eol_soh=EOL, params=params)
            assert f.status == "reached" or f.eol_age_p10 is None or f.eol_age_p10 >= now, "a date in the past"
            model.add(pack.life, now, f.eol_age_p10, f.eol_age_p50, f.eol_age_p90)
            lin = linear_recent(seen, now)
            recent.add(pack.life, now, *(lin if lin else (None, None, None)))
            sale.add(pack.life, now, None, line_from_sale(seen, now), None)
        out[frac] = (model, recent, sale)
    return out


def _pct(x: float) -> str:
    return "   -" if not math.isfinite(x) else f"{x:5.1f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--packs", type=int, default=40, help="evaluated packs (fleet --seed)")
    ap.add_argument("--train-packs", type=int, default=40, help="training packs (fleet --seed + 1)")
    ap.add_argument("--every", type=int, default=7, help="simulate every n-th day of a pack's life")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    started = time.monotonic()

    if not trimming_is_exact(moved_back(demo.fleet(size=1, seed=args.seed)[0])):
        print("the trimmed days give other sessions than the whole days: fix day_readings", file=sys.stderr)
        return 1
    training, train_never = packs(args.train_packs, args.seed + 1, 1.0, args.every, EOL)
    histories = [fade.History(p.points, p.life) for p in training]
    params, error = fade.train(histories, eol_soh=EOL)
    trained_at = time.monotonic()
    evaluated, never = packs(args.packs, args.seed, max(FRACTIONS), args.every, EOL)
    observed_at = time.monotonic()
    results = evaluate(evaluated, params)

    print(f"RUL bench: {len(evaluated)} evaluated packs (demo.fleet seed {args.seed}; {never} more never reach "
          f"{EOL:g} % within {ageing.HORIZON_DAYS // 365} years), trained on {len(training)} other packs "
          f"(seed {args.seed + 1}; {train_never} never reach it)")
    lives = np.array([p.life for p in evaluated]) / 365.25
    print(f"true lives (years): min {lives.min():.1f}, median {np.median(lives):.1f}, max {lives.max():.1f}")
    print(f"observations: the charge-session SOH estimate of every {args.every}th day (BMS SOH stuck), "
          f"{sum(len(p.points) for p in evaluated)} points on the evaluated packs")
    print(f"trained: {params.version}: exponent {params.exponent:g} ± {params.exponent_sd:g}, "
          f"b {params.b_mean:g} ± {params.b_sd:g} points at one year, s0 100 ± {params.s0_sd:g}, "
          f"residual {params.residual:g}, points every {params.thin_days:g} days, remaining-life scale "
          f"{params.remaining_scale:g}, band scale {params.band_scale:g}")
    print("training backtest (on the training packs): " + "; ".join(
        f"{k}: error {v['median_error_pct']} %, coverage {v['coverage_pct']} %" for k, v in error["backtest"].items()))
    print()
    print(f"{'seen at':<9} | {'fade model (ours)':^32} | {'line, last 60 days':^28} | {'line from sale':^17}")
    print(f"{'':<9} | {'error':>7} {'coverage':>9} {'not enough':>12} | {'error':>7} {'coverage':>9} "
          f"{'no date':>8} | {'error':>7} {'no date':>7}")
    for frac, (model, recent, sale) in results.items():
        print(f"{f'{frac:.0%} life':<9} | {_pct(model.error):>5} % {_pct(model.coverage):>7} % "
              f"{f'{model.none} of {len(evaluated)}':>12} | {_pct(recent.error):>5} % {_pct(recent.coverage):>7} % "
              f"{recent.none:>8} | {_pct(sale.error):>5} % {sale.none:>7}")
    print()
    print("error: median |p50 - true end of life| / true remaining life; coverage: true end of life inside "
          "[p10, p90]; targets at mid-life: error <= 15 %, coverage 70-90 %")
    print(f"time: training packs {trained_at - started:.0f} s, evaluated packs {observed_at - trained_at:.0f} s, "
          f"forecasts {time.monotonic() - observed_at:.0f} s")
    same = "the same as" if params.version == fade.DEFAULT.version else "NOT the same as"
    print(f"trained parameters ({same} analytics.fade.DEFAULT, {fade.DEFAULT.version}): "
          f"{json.dumps(asdict(params))}")
    print(f"training error: {json.dumps(error)}")
    mid = results[0.5][0]
    print(f"RUL: median error {mid.error:.1f} % at mid-life, band coverage {mid.coverage:.0f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
