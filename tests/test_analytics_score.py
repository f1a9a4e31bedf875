"""analytics.score: the dealer performance score. Fixed anchors (a dealer's score never depends on
the other dealers), the documented weights, unknown parts left out, and bad input."""
from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from analytics import score

BEST = {"dealer": "best", "batteries": 80, "avg_soh": 96, "fade_per_month": 0.1, "misuse_per_1000": 0,
        "alerts_per_1000": 0, "uptime_pct": 99}
WORST = {"dealer": "worst", "batteries": 80, "avg_soh": 70, "fade_per_month": 2, "misuse_per_1000": 500,
         "alerts_per_1000": 300, "uptime_pct": 50}
MIDDLE = {"dealer": "middle", "batteries": 80, "avg_soh": 85, "fade_per_month": 0.7, "misuse_per_1000": 100,
          "alerts_per_1000": 50, "uptime_pct": 84}


def scored(*rows) -> pd.DataFrame:
    return score.dealer_scores(pd.DataFrame(list(rows))).set_index("dealer")


def test_the_anchors_give_100_and_0_and_halfway_gives_50():
    out = scored(BEST, WORST, MIDDLE)
    assert out.loc["best", "score"] == pytest.approx(100)
    assert out.loc["worst", "score"] == pytest.approx(0)
    assert out.loc["middle", "score"] == pytest.approx(50)
    assert out.loc["middle", "points_avg_soh"] == pytest.approx(15)
    assert out.loc["middle", "points_fade_per_month"] == pytest.approx(12.5)
    assert out.loc["middle", "points_uptime_pct"] == pytest.approx(7.5)
    assert (out["parts_known"] == 5).all()


def test_the_weights_are_the_documented_ones_and_sum_to_100():
    assert sum(w for _, w, _, _ in score.PARTS) == 100
    for column, weight, good, bad in score.PARTS:
        assert f"``{column}``" in score.__doc__ and f"| {weight} | {good:g} | {bad:g} |" in score.__doc__
    out = scored(BEST)
    assert sum(out.loc["best", f"points_{c}"] for c, *_ in score.PARTS) == pytest.approx(100)


def test_a_score_never_depends_on_the_other_dealers():
    alone = scored(MIDDLE).loc["middle", "score"]
    with_others = scored(MIDDLE, BEST, WORST, {**WORST, "dealer": "another"}).loc["middle", "score"]
    assert alone == pytest.approx(with_others)


@pytest.mark.parametrize("column,better", [("avg_soh", 90), ("fade_per_month", 0.5), ("misuse_per_1000", 50),
                                           ("alerts_per_1000", 20), ("uptime_pct", 95)])
def test_doing_better_on_any_part_raises_the_score(column, better):
    out = scored(MIDDLE, {**MIDDLE, "dealer": "better", column: better})
    assert out.loc["better", "score"] > out.loc["middle", "score"]


def test_unknown_parts_are_left_out_not_counted_as_good_or_bad():
    unknown_health = {**BEST, "dealer": "no soh yet", "avg_soh": None, "fade_per_month": np.nan}
    out = scored(unknown_health, {**MIDDLE, "avg_soh": None, "fade_per_month": None})
    assert out.loc["no soh yet", "score"] == pytest.approx(100)
    assert out.loc["no soh yet", "parts_known"] == 3
    assert np.isnan(out.loc["no soh yet", "points_avg_soh"])
    # Middle on what is known: misuse 10/20, alerts 5/10, uptime 7.5/15 -> 22.5 of 45.
    assert out.loc["middle", "score"] == pytest.approx(50)


def test_nothing_known_or_no_batteries_means_no_score():
    nothing = {"dealer": "new", "batteries": 5}
    empty = {**BEST, "dealer": "empty", "batteries": 0}
    out = scored(nothing, empty)
    assert np.isnan(out.loc["new", "score"]) and out.loc["new", "parts_known"] == 0
    assert np.isnan(out.loc["empty", "score"]) and out.loc["empty", "parts_known"] == 0


def test_database_numbers_and_odd_values_are_read_or_left_out():
    row = {"dealer": "db", "batteries": Decimal("12"), "avg_soh": Decimal("85.0"), "fade_per_month": "0.7",
           "misuse_per_1000": Decimal("100"), "alerts_per_1000": "n/a", "uptime_pct": float("inf")}
    out = scored(row)
    assert out.loc["db", "points_avg_soh"] == pytest.approx(15)
    assert out.loc["db", "points_fade_per_month"] == pytest.approx(12.5)
    assert out.loc["db", "parts_known"] == 3
    assert out.loc["db", "score"] == pytest.approx(100 * (15 + 12.5 + 10) / 75)


def test_values_past_the_anchors_are_clipped():
    out = scored({**BEST, "avg_soh": 101, "uptime_pct": 100, "fade_per_month": -0.5})
    assert out.loc["best", "score"] == pytest.approx(100)
    out = scored({**WORST, "avg_soh": 10, "misuse_per_1000": 1e9})
    assert out.loc["worst", "score"] == pytest.approx(0)


def test_an_empty_table_and_missing_columns_are_fine():
    empty = score.dealer_scores(pd.DataFrame(columns=["dealer", "batteries", "avg_soh"]))
    assert empty.empty and "score" in empty and "parts_known" in empty
    partial = score.dealer_scores(pd.DataFrame([{"dealer": "x", "avg_soh": 95}]))
    assert partial.loc[0, "score"] == pytest.approx(100) and partial.loc[0, "parts_known"] == 1
