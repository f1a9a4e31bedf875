"""The battery-health ledger: charge sessions as readings arrive, then once a day each battery's SOH
(measured, estimated from charging, or not measured), misuse, the EKF SOC cross-check, its fade
and remaining useful life, and its warranty standing.

``track_sessions`` runs right after a device's readings are stored (worker and history seed);
``refresh`` runs once a day from the worker (after ``REFRESH_AFTER`` IST, claimed in ``job_runs``
so two workers never run it twice) and on demand from ``flask --app app rul refresh``.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta, timezone

import numpy as np
import pandas as pd

import config
from analytics import charging, ekf, fade, score, soh
from data import charge_sessions, health_store, health_views
from data.db import Database
from ingest.readings import IST

log = logging.getLogger(__name__)

ESTIMATE_WINDOW = timedelta(days=30)   # charge sessions behind a day's SOH estimate
CATCH_UP_DAYS = 45                     # the most days one refresh adds to a device's ledger
FIRST_SESSION_LOOKBACK = timedelta(days=2)  # a device seen for the first time: sessions from here
HOT_CHARGE_C = 45.0                    # LFP cells are charged between 0 and 45 degC (cell data sheets)
MAX_STEP = timedelta(minutes=15)       # a reading stands for at most this long when minutes are counted
MEASURED_SD = 1.0                      # SOH points: a BMS's own estimate is no better than this
REFRESH_AFTER = time(0, 30)            # IST: yesterday's readings have arrived by then
CHUNK = 100                            # devices per query


# -- charge sessions ---------------------------------------------------------------------------
def _session(d: dict | None) -> charging.Session | None:
    return charging.Session(**d, open=True) if d else None


def track_sessions(db: Database, device: dict, until: datetime, first: datetime | None = None) -> int:
    """Feed the device's readings not judged yet to the session detector; store what closes.
    A device judged for the first time starts at ``first`` (default: FIRST_SESSION_LOOKBACK ago)."""
    device_id = device["device_id"]
    state = charge_sessions.pending(db, [device_id])[device_id]
    judged = state["judged_until"]
    after = judged if judged is not None else (first or until - FIRST_SESSION_LOOKBACK)
    frame = charge_sessions.readings_after(db, device_id, after, until)
    previous = None
    if judged is not None and len(frame) and frame["time"].iloc[0] == judged:
        previous = frame.iloc[0].to_dict()
        frame = frame.iloc[1:]
    if frame.empty:
        return 0
    closed, still_open = charging.advance(_session(state["open"]), frame, previous=previous)
    rated = device.get("capacity_ah")
    rows = []
    for s in closed:
        row = asdict(s)
        row["soh_estimate"] = soh.session_soh(s, rated)
        rows.append(row)
    return charge_sessions.save(db, device_id, device.get("battery_serial"), rows,
                                asdict(still_open) if still_open else None, frame["time"].iloc[-1])


# -- one device-day ----------------------------------------------------------------------------
def _durations(times: pd.Series) -> np.ndarray:
    """Minutes each reading stands for: until the next one, at most MAX_STEP."""
    t = times.to_numpy(dtype="datetime64[ns]")
    if len(t) == 0:
        return np.array([])
    step = np.diff(t, append=t[-1:]).astype("timedelta64[s]").astype(float)
    step[-1] = np.median(step[:-1]) if len(step) > 1 else 60.0
    return np.minimum(step, MAX_STEP.total_seconds()) / 60.0


def _misuse(day: pd.DataFrame, limits: dict) -> dict:
    minutes = _durations(day["time"])
    soc, temp, cur = day["soc"].to_numpy(float), day["temperature"].to_numpy(float), day["current"].to_numpy(float)
    rising = np.concatenate([[False], np.diff(soc) > 0])
    with np.errstate(invalid="ignore"):
        return {
            "deep_discharge_min": float(minutes[soc < limits["deep_soc"]].sum()),
            "over_temp_min": float(minutes[temp > limits["hot"]].sum()),
            "over_current_min": float(minutes[np.abs(cur) > limits["current"]].sum()),
            "hot_charge_min": float(minutes[rising & (temp > HOT_CHARGE_C)].sum()),
            "worst_temperature": None if np.all(np.isnan(temp)) else float(np.nanmax(temp)),
            "worst_current": None if np.all(np.isnan(cur)) else float(np.nanmax(np.abs(cur))),
            "lowest_soc": None if np.all(np.isnan(soc)) else float(np.nanmin(soc)),
        }


UNSIGNED_MIN_READINGS = 10
UNSIGNED_MIN_FALL = 10.0   # SOC points lost in a day: the pack surely discharged


def current_looks_unsigned(day: pd.DataFrame) -> bool | None:
    """A day on which the pack discharged (SOC fell by 10+ points) with no negative current at all:
    the BMS reports a magnitude. None when the day cannot tell (no current, or no discharge)."""
    current = day["current"].dropna()
    if len(current) < UNSIGNED_MIN_READINGS:
        return None
    if (current < -0.5).any():
        return False
    fall = -day["soc"].dropna().diff().clip(upper=0).sum()
    return True if fall >= UNSIGNED_MIN_FALL else None


def _none_if_nan(value):
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else value


def day_row(battery: dict, day: date, readings: pd.DataFrame, session_sohs: list[float], limits: dict) -> dict:
    """One line of the ledger: what can honestly be said of this battery on ``day``."""
    bms_values = [None if pd.isna(v) else float(v) for v in readings["soh"]] if len(readings) else []
    bms = soh.bms_status(bms_values)
    estimate = soh.estimate(session_sohs) if session_sohs else None
    source = soh.label(bms, estimate)
    bms_soh = float(np.median([v for v in bms_values if v is not None])) if bms == "reported" else None
    shown = bms_soh if source == "measured" else estimate.soh if source == "estimated" else None
    temps = readings["temperature"].dropna() if len(readings) else pd.Series(dtype=float)
    row = {
        "device_id": battery["device_id"], "day": day, "battery_serial": battery["battery_serial"],
        "readings": int(len(readings)), "bms_soh": bms_soh, "bms_status": bms,
        "est_soh": estimate.soh if estimate else None, "est_low": estimate.low if estimate else None,
        "est_high": estimate.high if estimate else None, "est_sessions": estimate.sessions if estimate else 0,
        "soh": shown, "soh_source": source,
        "charge_cycles": int(readings["charge_cycle"].max()) if len(readings) and readings["charge_cycle"].notna().any() else None,
        "age_days": (day - battery["sold_at"]).days if battery["sold_at"] else None,
        "temp_readings": int(len(temps)), "mean_temperature": float(temps.mean()) if len(temps) else None,
        "deep_discharge_min": 0.0, "over_temp_min": 0.0, "over_current_min": 0.0, "hot_charge_min": 0.0,
        "worst_temperature": None, "worst_current": None, "lowest_soc": None, "soc_check": None, "soc_diff": None,
    }
    row["unsigned_current"] = current_looks_unsigned(readings) if len(readings) else None
    if len(readings):
        row.update(_misuse(readings, limits))
        capacity = battery["rated_ah"] * (shown or 100.0) / 100.0
        check = ekf.soc_check(readings[["time", "soc", "current", "voltage"]], capacity)
        row["soc_check"], row["soc_diff"] = check.status, _none_if_nan(check.mean_abs_diff)
    return row


# -- the current row: fade, RUL, warranty --------------------------------------------------------
def _date_at(sold_at: date, age_days: float | None) -> date | None:
    if age_days is None or not np.isfinite(age_days) or sold_at is None:
        return None
    return sold_at + timedelta(days=int(round(age_days)))


def _points(history: pd.DataFrame) -> list[fade.Point]:
    points = []
    for r in history.itertuples():
        if pd.isna(r.soh) or pd.isna(r.age_days):
            continue
        if r.soh_source == "estimated" and not pd.isna(r.est_low):
            sd = max((r.est_high - r.est_low) / 2 / 1.2816, 0.3)   # the band is an 80 % interval
        else:
            sd = MEASURED_SD
        cycles = None if pd.isna(r.charge_cycles) else float(r.charge_cycles)
        points.append(fade.Point(age_days=float(r.age_days), soh=float(r.soh), sd=sd, cycles=cycles))
    return points


def current_row(battery: dict, history: pd.DataFrame, today: date, eol_soh: float, params) -> dict:
    last = history.iloc[-1]
    sold = battery["sold_at"]
    age_now = (today - sold).days if sold else None
    cycles = None if pd.isna(last.charge_cycles) else int(last.charge_cycles)
    points = _points(history)
    floor = battery["warranty_soh_floor"] or eol_soh
    if age_now is None:
        forecast = floor_forecast = None
    else:
        forecast = fade.forecast(points, age_now=age_now, cycles_now=cycles, eol_soh=eol_soh, params=params)
        floor_forecast = (forecast if floor == eol_soh else
                          fade.forecast(points, age_now=age_now, cycles_now=cycles, eol_soh=floor, params=params))
    warranty_end = _add_months(sold, battery["warranty_months"]) if sold else None
    shown = None if pd.isna(last.soh) else float(last.soh)
    status = _warranty_status(shown, floor, today, warranty_end, cycles, battery["warranty_cycles"],
                              _date_at(sold, floor_forecast.eol_age_p50) if floor_forecast else None)
    recent = history.tail(30)
    readings = recent["readings"].sum()
    temp_share = float(recent["temp_readings"].sum() / readings) if readings else None
    temps = history["mean_temperature"].dropna()
    low = high = None
    if last.soh_source == "estimated":
        low, high = _none_if_nan(last.est_low), _none_if_nan(last.est_high)
    elif last.soh_source == "measured":
        low, high = shown - MEASURED_SD * 1.2816, shown + MEASURED_SD * 1.2816
    return {
        "device_id": battery["device_id"], "battery_serial": battery["battery_serial"], "as_of": last.day,
        "soh": shown, "soh_source": last.soh_source, "soh_low": low, "soh_high": high,
        "bms_status": last.bms_status, "est_sessions": int(last.est_sessions), "charge_cycles": cycles,
        "age_days": age_now,
        "fade_per_month": forecast.fade_per_month if forecast else None,
        "fade_per_100_cycles": forecast.fade_per_100_cycles if forecast else None,
        "rul_status": forecast.status if forecast else "not_enough_data",
        "rul_reason": forecast.reason if forecast else "The battery has no sale date, so its age is unknown.",
        "eol_p10": _date_at(sold, forecast.eol_age_p10) if forecast else None,
        "eol_p50": _date_at(sold, forecast.eol_age_p50) if forecast else None,
        "eol_p90": _date_at(sold, forecast.eol_age_p90) if forecast else None,
        "forecast_curve": ([[str(_date_at(sold, a)), lo, mid, hi] for a, lo, mid, hi in forecast.curve]
                           if forecast and forecast.curve else None),
        "model_version": getattr(params, "version", None),
        "warranty_end": warranty_end, "warranty_floor": floor, "warranty_status": status,
        "floor_p50": _date_at(sold, floor_forecast.eol_age_p50) if floor_forecast else None,
        "soc_check": _none_if_nan(last.soc_check), "soc_diff": _none_if_nan(last.soc_diff),
        "temp_share": temp_share, "mean_temperature": float(temps.mean()) if len(temps) else None,
    }


def _add_months(d: date, months: int) -> date:
    year, month = divmod(d.month - 1 + months, 12)
    year, month = d.year + year, month + 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise ValueError(d)


def _warranty_status(soh_now, floor, today, warranty_end, cycles, warranty_cycles, floor_expected) -> str:
    """below_floor / at_risk (expected to cross the floor before the warranty ends) / ok, inside
    warranty; expired after it; unknown when SOH is not measured (never counted as healthy)."""
    if soh_now is None:
        return "unknown"
    if (warranty_end and today > warranty_end) or (cycles is not None and warranty_cycles and cycles > warranty_cycles):
        return "expired"
    if soh_now < floor:
        return "below_floor"
    if floor_expected and warranty_end and floor_expected <= warranty_end:
        return "at_risk"
    return "ok"


# -- the daily refresh ---------------------------------------------------------------------------
@dataclass
class Refreshed:
    batteries: int = 0
    days: int = 0
    forecasts: int = 0
    below_floor: int = 0
    dealers: int = 0

    def line(self) -> str:
        return (f"health: {self.batteries} batteries, {self.days} battery-days added to the ledger, "
                f"{self.forecasts} end-of-life forecasts, {self.below_floor} below their warranty floor, "
                f"{self.dealers} dealers scored")


def _ist_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), IST)
    return start.astimezone(timezone.utc), (start + timedelta(days=1)).astimezone(timezone.utc)


def active_params(db: Database) -> fade.FadeParams:
    """The fade model forecasts use; the first refresh records the default as version one."""
    row = health_store.active_model(db)
    if row:
        return fade.FadeParams.from_dict(row["params"])
    params = fade.DEFAULT
    health_store.save_model(db, params.version, "fade (Bayesian, population prior)", params.trained_on,
                            asdict(params), {})
    return params


def refresh(db: Database, settings: config.Settings, now: datetime | None = None,
            device_ids: list[str] | None = None, include_today: bool = False) -> Refreshed:
    """Add every missing day up to yesterday (today too with ``include_today``) to the ledger, then
    recompute each battery's current health and forecast."""
    now = now or datetime.now(timezone.utc)
    today = now.astimezone(IST).date()
    last_day = today if include_today else today - timedelta(days=1)
    params = active_params(db)
    limits = health_store.misuse_thresholds(db)
    done = Refreshed()
    everyone = health_store.batteries(db, device_ids)
    known = health_store.last_days(db)
    for i in range(0, len(everyone), CHUNK):
        chunk = everyone[i:i + CHUNK]
        ids = [b["device_id"] for b in chunk]
        firsts = health_store.first_readings(db, ids)
        starts = {}
        for b in chunk:
            first = firsts.get(b["device_id"])
            if first is None:
                continue
            start = max(first.astimezone(IST).date(), last_day - timedelta(days=CATCH_UP_DAYS - 1))
            if b["device_id"] in known and not include_today:
                start = max(start, known[b["device_id"]] + timedelta(days=1))
            elif b["device_id"] in known:
                start = max(start, min(known[b["device_id"]], last_day))
            if start <= last_day:
                starts[b["device_id"]] = start
        rows = _ledger_rows(db, [b for b in chunk if b["device_id"] in starts], starts, last_day, limits)
        done.days += health_store.save_daily(db, rows)
        history = health_store.ledger(db, ids)
        current = []
        for b in chunk:
            mine = history[history["device_id"] == b["device_id"]]
            if mine.empty:
                continue
            row = current_row(b, mine, today, settings.eol_soh, params)
            done.forecasts += row["rul_status"] == "forecast"
            done.below_floor += row["warranty_status"] == "below_floor"
            current.append(row)
        done.batteries += health_store.save_current(db, current)
    done.dealers = score_dealers(db, today)
    return done


def score_dealers(db: Database, today: date) -> int:
    """Today's dealer league table from the current health rows and the ledger."""
    inputs = health_views.league_inputs(db, today)
    if inputs.empty:
        return 0
    return health_views.save_league(db, today, score.dealer_scores(inputs))


def _ledger_rows(db: Database, chunk: list[dict], starts: dict, last_day: date, limits: dict) -> list[dict]:
    if not chunk:
        return []
    ids = [b["device_id"] for b in chunk]
    first_day = min(starts.values())
    lo, _ = _ist_day_bounds(first_day)
    _, hi = _ist_day_bounds(last_day)
    frame = health_store.readings(db, ids, lo, hi)
    sessions = charge_sessions.qualifying(db, ids, lo - ESTIMATE_WINDOW, hi)
    if len(frame):
        frame["day"] = frame["time"].dt.tz_convert(IST).dt.date
    by_device = dict(tuple(frame.groupby("device_id"))) if len(frame) else {}
    sessions_by = dict(tuple(sessions.groupby("device_id"))) if len(sessions) else {}
    empty = pd.DataFrame(columns=["time", "soc", "soh", "voltage", "current", "temperature", "charge_cycle"])
    rows = []
    for b in chunk:
        mine = by_device.get(b["device_id"])
        days = dict(tuple(mine.groupby("day"))) if mine is not None else {}
        own = sessions_by.get(b["device_id"])
        day = starts[b["device_id"]]
        while day <= last_day:
            readings = days.get(day, empty)
            _, day_end = _ist_day_bounds(day)
            session_sohs = ([] if own is None else
                            own.loc[(own["end_time"] < day_end) & (own["end_time"] >= day_end - ESTIMATE_WINDOW),
                                    "soh_estimate"].astype(float).tolist())
            if len(readings) or session_sohs:
                rows.append(day_row(b, day, readings.reset_index(drop=True), session_sohs, limits))
            day += timedelta(days=1)
    return rows


def due(db: Database, settings: config.Settings, now: datetime) -> bool:
    """Whether the daily refresh should run now (the caller then claims it)."""
    return now.astimezone(IST).time() >= REFRESH_AFTER


def run_daily(db: Database, settings: config.Settings, now: datetime | None = None) -> Refreshed | None:
    """The worker's once-a-day refresh; None when it is not due or another worker has it."""
    now = now or datetime.now(timezone.utc)
    today = now.astimezone(IST).date()
    if not due(db, settings, now) or not health_store.claim_job(db, "health", today):
        return None
    try:
        done = refresh(db, settings, now)
    except Exception:
        health_store.release_job(db, "health", today)
        raise
    health_store.finish_job(db, "health", today, done.line())
    log.info("%s", done.line())
    return done
