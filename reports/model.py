"""What a report is made of: plain dataclasses the data layer fills and the builders read.

Nothing here knows about the database. Values may be missing anywhere the type says ``| None`` (and a
NaN or NaT from a DataFrame is read as missing). Times are tz-aware datetimes (UTC); a naive datetime
is taken as UTC. Dates may also be given as ISO strings.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass
class SohPoint:
    """One day of a battery's health ledger: the BMS value and our estimate with its 80 % band."""
    day: date
    bms: float | None
    estimated: float | None
    low: float | None
    high: float | None


@dataclass
class EvidencePack:
    """A warranty claim evidence pack for one battery.

    forecast: {"status": "forecast" | "not_enough_data" | "reached", "reason": str,
               "eol_p10", "eol_p50", "eol_p90": dates (p10 = pessimistic, the earliest),
               "fade_per_month", "fade_per_100_cycles": SOH points lost,
               "curve" (optional): [(date, soh_p10, soh_p50, soh_p90), ...] from now on, for the chart}
    violations: [{"day": date, "kind": "deep discharge" | "over-temperature" | "over-current" |
                  "charging when hot", "minutes": float, "worst": lowest SOC % for a deep discharge,
                  °C for over-temperature and charging when hot, A for over-current}]
    alerts: [{"opened": datetime, "type": str, "severity": str, "value": float | None, "status": str,
              "resolved": datetime | None}]
    coverage: {"days_in_period": int, "days_with_data": int, "share": 0-1, "first_reading": datetime,
               "last_reading": datetime, and optionally "period_start", "period_end": dates}
    """
    generated_at: datetime
    generated_by: str                      # "automatic draft" or a user name
    battery_serial: str
    device_id: str
    vehicle_number: str
    model: str
    dealer: str
    customer: str
    city: str
    sold_at: date | None
    warranty_months: int
    warranty_cycles: int
    warranty_floor: float
    warranty_end: date | None
    soh_now: float | None
    soh_source: str                        # "measured" | "estimated" | "not_measured"
    cycles_now: int | None
    history: list[SohPoint]
    warranty_curve: list[tuple[date, float]]
    forecast: dict | None
    violations: list[dict]
    alerts: list[dict]
    coverage: dict
    reason: str                            # why the pack was made
    # Optional extras (the builder does without them).
    eol_soh: float = 80.0                  # the end-of-life SOH the forecast aims at
    soh_low: float | None = None           # 80 % band of soh_now when it is an estimate
    soh_high: float | None = None
    notes: list[str] = field(default_factory=list)   # e.g. the misuse thresholds in force


AUTOMATIC = "automatic draft"


@dataclass
class FleetReport:
    """The fleet health report of one scope (the whole fleet, or one dealer's batteries).

    summary: {"batteries", "measured", "estimated", "not_measured", "median_soh", "below_floor",
              "at_risk"}; other keys are shown too, under their own names.
    soh_histogram: [(bucket label e.g. "95-100", measured, estimated, not_measured), ...]
    warranty_risk: [{"serial", "vehicle", "dealer", "soh", "source", "floor", "eol_p50" (date),
                     "warranty_end" (date), "evidence" (text)}]
    dealers: [{"dealer", "batteries", "avg_soh", "fade_per_month", "misuse_per_1000", "alerts_per_1000",
               "uptime_pct", "score"}]   (a dealer's report: its own row and a "Fleet median" row)
    misuse: [{"dealer", "deep_discharge", "over_temperature", "over_current", "hot_charging"}]
            per 1,000 battery-days
    batteries: [{"serial", "vehicle", "dealer", "model", "soh", "source", "band" ((low, high) or None),
                 "cycles", "age_days", "rul" (expected end-of-life date, or a text such as
                 "not enough data")}]
    """
    generated_at: datetime
    scope_label: str
    as_of: date
    summary: dict
    soh_histogram: list[tuple[str, int, int, int]]
    warranty_risk: list[dict]
    dealers: list[dict]
    misuse: list[dict]
    batteries: list[dict]
    eol_soh: float = 80.0
    notes: list[str] = field(default_factory=list)
    generated_by: str | None = None         # "daily report" or a user name; shown when given
