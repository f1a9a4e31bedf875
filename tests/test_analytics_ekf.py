"""analytics.ekf: the equivalent-circuit model and Kalman filter that cross-check the BMS's SOC, on
simulated packs (ingest.simulator.model.simulate_day on demo vehicles, one reading a minute): a
true BMS SOC passes, the same day with the simulator's "soc_bias" scenario (+15 points) is
flagged, and what cannot be judged says so."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from analytics import ekf
from data import demo
from ingest.readings import IST
from ingest.simulator import ageing
from ingest.simulator.duty import day_start
from ingest.simulator.model import SOC_BIAS, Scenario, simulate_day

FLEET = demo.fleet(size=12, seed=5)
DAY = date(2026, 10, 12)


def readings(vehicle, day: date = DAY, *, every_s: int = 60, biased: bool = False,
             calendar_day: bool = False) -> pd.DataFrame:
    """One day of readings as the product stores them. ``calendar_day``: midnight to midnight IST
    (the ledger's day) instead of the simulator's 05:00-05:00."""
    scenarios = (Scenario(vehicle.vehicle_number, "soc_bias", day_start(day) - timedelta(days=2),
                          day_start(day) + timedelta(days=2)),) if biased else ()
    rows = []
    for d in (day - timedelta(days=1), day) if calendar_day else (day,):
        sim = simulate_day(vehicle, d, scenarios)
        for i in range(0, len(sim.soc), every_s // 30):
            if not sim.silent[i]:
                rows.append((sim.start + timedelta(seconds=30 * i), sim.soc[i], sim.current[i], sim.voltage[i]))
    frame = pd.DataFrame(rows, columns=["time", "soc", "current", "voltage"])
    if calendar_day:
        start = datetime(day.year, day.month, day.day, tzinfo=IST)
        frame = frame[(frame["time"] >= start) & (frame["time"] < start + timedelta(days=1))]
    return frame.reset_index(drop=True)


def capacity(vehicle, day: date = DAY) -> float:
    return ageing.true_capacity_ah(vehicle, day)


@pytest.mark.parametrize("calendar_day", [False, True])
def test_a_true_bms_soc_passes_and_the_same_day_15_points_high_is_flagged(calendar_day):
    for vehicle in FLEET:
        good = ekf.soc_check(readings(vehicle, calendar_day=calendar_day), capacity(vehicle))
        bad = ekf.soc_check(readings(vehicle, biased=True, calendar_day=calendar_day), capacity(vehicle))
        assert good.status == "ok" and good.mean_abs_diff < 3, (vehicle.vehicle_number, good)
        assert bad.status == "calibration", (vehicle.vehicle_number, bad)
        assert abs(bad.mean_abs_diff - SOC_BIAS) < 3 and bad.max_diff >= bad.mean_abs_diff
        assert "differs" in bad.reason and "agrees" in good.reason


def test_the_filter_follows_the_true_soc_once_a_full_charge_has_anchored_it():
    vehicle = FLEET[3]
    frame = readings(vehicle, biased=True)
    truth = readings(vehicle)["soc"].to_numpy()
    t = ekf._seconds(frame["time"])
    track = ekf.run(t, frame["current"].to_numpy(float), frame["voltage"].to_numpy(float), capacity(vehicle),
                    frame["soc"].iloc[0])
    sure = track.anchored & (track.sd < ekf.CONFIDENT_SD)
    assert sure.mean() > 0.8
    assert np.median(np.abs(track.soc[sure] - truth[sure])) < 1.0
    assert np.max(np.abs(track.soc[sure] - truth[sure])) < 5.0


def test_the_plateau_is_not_trusted_an_ocv_curve_10_mv_per_cell_off_changes_nothing():
    # Real cells sit up to ~10 mV off any table on the LFP plateau: 16 cells, 0.16 V. Trusting the
    # plateau would read that as 10+ points of SOC.
    for vehicle in FLEET[:6]:
        for shift in (-0.16, 0.16):
            good = readings(vehicle)
            bad = readings(vehicle, biased=True)
            assert ekf.soc_check(good.assign(voltage=good["voltage"] + shift), capacity(vehicle)).status == "ok"
            assert ekf.soc_check(bad.assign(voltage=bad["voltage"] + shift),
                                 capacity(vehicle)).status == "calibration"


def test_sensor_noise_and_decoding_garbage_do_not_change_the_verdict():
    rng = np.random.default_rng(2)
    for vehicle in FLEET[:6]:
        for biased, expected in ((False, "ok"), (True, "calibration")):
            frame = readings(vehicle, biased=biased)
            frame = frame.assign(voltage=frame["voltage"] + rng.normal(0, 0.05, len(frame)),
                                 current=frame["current"] + rng.normal(0, 0.5, len(frame)))
            garbage = rng.choice(len(frame), 12, replace=False)
            frame.loc[[0, *garbage[:4]], "voltage"] = 875712.0          # the first one too: no anchor from it
            frame.loc[garbage[4:8], "current"] = 1396060.0
            frame.loc[garbage[8:], "soc"] = 123.71
            assert ekf.soc_check(frame, capacity(vehicle)).status == expected


def test_a_bms_that_reports_charging_as_negative_is_understood():
    for vehicle in FLEET[:4]:
        for biased, expected in ((False, "ok"), (True, "calibration")):
            frame = readings(vehicle, biased=biased)
            assert ekf.soc_check(frame.assign(current=-frame["current"]), capacity(vehicle)).status == expected


def test_an_unsigned_current_is_not_checked():
    frame = readings(FLEET[0])
    check = ekf.soc_check(frame.assign(current=frame["current"].abs()), capacity(FLEET[0]))
    assert check.status == "not_checked" and "sign" in check.reason and check.mean_abs_diff is None


@pytest.mark.parametrize("frame", [
    pd.DataFrame(columns=["time", "soc", "current", "voltage"]),
    readings(FLEET[0]).head(30),
    readings(FLEET[0]).assign(voltage=np.nan),
], ids=["empty", "30 readings", "no voltage"])
def test_too_few_readings_are_not_checked(frame):
    check = ekf.soc_check(frame, capacity(FLEET[0]))
    assert check.status == "not_checked" and "readings" in check.reason


def test_sparse_readings_are_not_checked():
    check = ekf.soc_check(readings(FLEET[0], every_s=900), capacity(FLEET[0]))
    assert check.status == "not_checked" and "every 15 min" in check.reason


def test_a_day_the_filter_is_never_sure_of_is_not_judged():
    # Only the driving on the plateau (true SOC 85 % down to 25 %), from a BMS that reads 15 high:
    # no full charge, no near-empty, so nothing tells the filter the true SOC.
    truth = readings(FLEET[1])["soc"]
    lowest = int(truth.idxmin())
    first = int((truth < 85).idxmax())
    plateau = [i for i in range(first, lowest) if truth[i] > 25]
    assert len(plateau) > 200
    check = ekf.soc_check(readings(FLEET[1], biased=True).loc[plateau], capacity(FLEET[1]))
    assert check.status == "not_checked" and "never sure" in check.reason


@pytest.mark.parametrize("cap", [0, None, float("nan"), -5])
def test_an_unknown_capacity_is_not_checked(cap):
    assert ekf.soc_check(readings(FLEET[0]), cap).status == "not_checked"


def test_the_open_circuit_curve_is_monotonic_and_steep_only_at_the_ends():
    socs = np.linspace(0, 100, 201)
    volts = np.array([ekf.ocv(s) for s in socs])
    assert np.all(np.diff(volts) > 0)
    assert 40 < volts[0] < volts[-1] < 60
    assert ekf.slope(50) < ekf.STEEP and ekf.slope(97) >= ekf.STEEP and ekf.slope(3) >= ekf.STEEP
