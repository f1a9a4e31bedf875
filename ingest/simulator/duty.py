"""An e-rickshaw's duty cycle: how far it is driven on a given day, when, and when it charges.

The kilometres planned for a (vehicle, day) are a closed-form function of the vehicle's usual work,
the weekday, the season and the day's luck, so the odometer at the start of any day is a plain sum
over the days before it and each day can still be simulated on its own. The day's speed profile is
then laid out to drive exactly those kilometres: distance is the integral of the speed the GPS
reports, never a separate number.

A simulated day runs from 05:00 to 05:00 IST, not midnight to midnight: every pack is parked and
charged by then, while at midnight a driver who plugged in late is still charging, as on real fleets.
"""
from __future__ import annotations

import random
import zlib
from datetime import date, datetime, timedelta, timezone

from data.demo import DemoVehicle
from ingest.readings import IST

STEP_SECONDS = 30
STEPS_PER_DAY = 86400 // STEP_SECONDS
STEPS_PER_HOUR = 3600 // STEP_SECONDS
DAY_START_HOUR = 5

# Monday..Sunday: Saturday is market day, on Sunday many drivers take the day or the afternoon off.
WEEKDAY_FACTOR = (1.0, 0.98, 1.0, 1.0, 1.03, 1.1, 0.6)
DAY_OFF_CHANCE = (0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.12)
# January..December, north-Indian plains: winter fog, May-June heat (riders stay in at midday),
# July-September monsoon (flooded lanes, fewer riders), October-November festivals and weddings.
SEASON_FACTOR = (0.9, 0.95, 1.0, 0.95, 0.85, 0.85, 0.8, 0.78, 0.86, 1.05, 1.08, 0.95)
MONSOON = (7, 8, 9)
SUMMER = (5, 6)
WINTER = (12, 1)

# Charge the model's traction load draws (0.84-0.87 Ah/km at 15-20 km/h) with a margin for the
# parked drain: a day is planned to leave about 20 % of a worn pack, so ordinary days never trip
# the low-SOC alert (10 %) and the driving always fits in the charge.
AH_PER_KM = 0.9
USABLE_SHARE = 0.8
PLANNING_SOH = 0.9
HARD_END_HOUR = 23.0        # nobody is still driving or plugging in after this


def seed(*parts) -> int:
    return zlib.crc32("|".join(map(str, parts)).encode())


def _unit(*parts) -> float:
    """A deterministic number in [0, 1) for these parts."""
    return seed(*parts) / 2 ** 32


def day_start(day: date) -> datetime:
    """The moment the simulated ``day`` begins (05:00 IST), in UTC."""
    return datetime(day.year, day.month, day.day, DAY_START_HOUR, tzinfo=IST).astimezone(timezone.utc)


def day_of(t: datetime) -> date:
    """The simulated day that ``t`` falls in."""
    return (t.astimezone(IST) - timedelta(hours=DAY_START_HOUR)).date()


def _step(hour: float) -> int:
    """Step index of a local clock hour within a simulated day."""
    return int((hour - DAY_START_HOUR) * STEPS_PER_HOUR)


def planned_km(vehicle: DemoVehicle, day: date) -> float:
    """Kilometres the vehicle drives on ``day`` (0 on a day off). Closed form: cheap to sum."""
    name, ordinal, weekday = vehicle.vehicle_number, day.toordinal(), day.weekday()
    if day < vehicle.sold_at or _unit(name, ordinal, "day_off") < DAY_OFF_CHANCE[weekday]:
        return 0.0  # still at the dealer's, or the driver's day off
    usual = 55.0 + 35.0 * _unit(name, "usual_km")
    # Sum of three uniforms: a bell-shaped day-to-day spread (sd 12 %) that never passes +-36 %.
    luck = sum(_unit(name, ordinal, "luck", k) for k in range(3)) - 1.5
    raw = usual * WEEKDAY_FACTOR[weekday] * SEASON_FACTOR[day.month - 1] * (1 + 0.24 * luck)
    # Busy days saturate smoothly at what the pack can give, instead of all hitting one ceiling.
    ceiling = USABLE_SHARE * vehicle.capacity_ah * PLANNING_SOH / AH_PER_KM
    return raw / (1 + (raw / ceiling) ** 6) ** (1 / 6)


_odometer: dict[tuple[str, int], float] = {}


def odometer_at_start(vehicle: DemoVehicle, day: date) -> float:
    """Kilometres driven since the sale, before ``day``: the sum of every earlier day's plan.

    Requests come day after day (history, polling), so the sum carries on from the nearest day
    already summed instead of starting again from the sale.
    """
    name, first, target = vehicle.vehicle_number, vehicle.sold_at.toordinal(), day.toordinal()
    if target <= first:
        return 0.0
    k = target
    while k > first and target - k < 45 and (name, k) not in _odometer:
        k -= 1
    if (name, k) in _odometer:
        total = _odometer[(name, k)]
    else:
        k, total = first, 0.0
    for o in range(k, target):
        total += planned_km(vehicle, date.fromordinal(o))
    if len(_odometer) > 200_000:  # a long-running server: forget, it is only a shortcut
        _odometer.clear()
    _odometer[(name, target)] = total
    return total


def charger_c_rate(vehicle: DemoVehicle) -> float:
    """Constant-current charge rate of the vehicle's charger (0.18-0.30 C: 19-36 A on 105-120 Ah)."""
    return 0.18 + 0.12 * _unit(vehicle.vehicle_number, "charger")


def plugs_in_late(vehicle: DemoVehicle) -> bool:
    """About a third of drivers charge late at night (cheaper tariff, home after dinner)."""
    return _unit(vehicle.vehicle_number, "late_charger") < 0.33


def schedule(vehicle: DemoVehicle, day: date, rng: random.Random) -> tuple[list[float], int]:
    """Speed (km/h) per step of the simulated day and the step the charger is plugged in.

    Trips of 5-20 minutes and stops between them inside a shift with a midday break; the stops
    are as long as the day's kilometres leave time for, and the last step is cut so that the
    integral of the speed is exactly ``planned_km``.
    """
    km, month, weekday = planned_km(vehicle, day), day.month, day.weekday()
    speed = [0.0] * STEPS_PER_DAY
    cruise_low, cruise_high = (10.0, 19.0) if month in MONSOON else (12.0, 24.0)
    start_hour = rng.uniform(6.5, 8.5) + (1.0 if month in WINTER else 0.0) + (1.0 if weekday == 6 else 0.0)
    if month in SUMMER:  # out early, indoors through the afternoon heat
        start_hour -= 0.5
        pause = (_step(12.5), _step(rng.uniform(15.0, 16.0)))
    else:
        pause = (_step(13.0), _step(rng.uniform(13.5, 14.2)))
    hard_end = _step(HARD_END_HOUR)
    mean_cruise = (cruise_low + cruise_high) / 2
    driving_steps = km / mean_cruise * STEPS_PER_HOUR
    trips = max(driving_steps / 25.0, 1.0)
    # Working time grows with the work (about 7 km an hour on the clock), so light days end early;
    # the stops between trips are as long as that leaves.
    working_steps = min(max(km / 7.0, 3.0), 12.0) * STEPS_PER_HOUR
    mean_stop = min(max((working_steps - driving_steps) / trips, 6.0), 60.0)

    i, remaining, last_moving = _step(start_hour), km, None
    while remaining > 1e-9 and i < hard_end:
        if pause[0] <= i < pause[1]:
            i = pause[1]
            continue
        cruise = rng.uniform(cruise_low, cruise_high)
        for _ in range(rng.randint(10, 40)):
            if i >= hard_end or i == pause[0]:
                break
            v = max(0.5, cruise + rng.gauss(0, 3))
            if v / STEPS_PER_HOUR >= remaining:
                v = remaining * STEPS_PER_HOUR
            speed[i] = v
            remaining -= v / STEPS_PER_HOUR
            last_moving = i
            i += 1
            if remaining <= 1e-9:
                break
        i += int(rng.uniform(0.5, 1.5) * mean_stop)
    if remaining > 1e-9 and remaining < km:
        # Out of day before out of work (rare): the trips were a little faster, the plan still holds.
        scale = km / (km - remaining)
        speed = [v * scale for v in speed]
    if last_moving is None:  # a day off: the pack is topped up in the evening all the same
        last_moving = _step(18.0)
    plug_in = last_moving + int(rng.uniform(0.3, 1.2) * STEPS_PER_HOUR)
    if plugs_in_late(vehicle):
        plug_in = max(plug_in, _step(rng.uniform(21.5, HARD_END_HOUR)))
    return speed, min(plug_in, hard_end)
