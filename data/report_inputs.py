"""The report dataclasses (reports/model.py) filled from the database, within a scope: what an
evidence pack and a fleet health report hold. reports/ lays them out."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pandas as pd

from data import fleet_health, warranty
from data.scope import Scope
from reports.model import EvidencePack, FleetReport, SohPoint

VIOLATIONS = (("deep_discharge_min", "deep discharge", "lowest_soc", "lowest SOC {:.0f} %"),
              ("over_temp_min", "over-temperature", "worst_temperature", "{:.1f} °C"),
              ("over_current_min", "over-current", "worst_current", "{:.0f} A"),
              ("hot_charge_min", "charging when hot", "worst_temperature", "{:.1f} °C"))
RISK_COLUMNS = ("battery_serial", "vehicle_number", "dealer", "soh", "soh_source", "warranty_floor", "eol_p50",
                "warranty_end", "evidence")


def _value(v):
    if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    return v.item() if hasattr(v, "item") else v


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _value(v) for k, v in row.items()} for row in frame.to_dict("records")]


def warranty_curve(sold_at: date | None, months: int | None, floor: float | None) -> list[tuple[date, float]]:
    """The guaranteed SOH: from 100 % at sale, straight down to the floor at the warranty's end."""
    if not sold_at or not months or floor is None:
        return []
    end = sold_at + timedelta(days=round(months * 30.44))
    return [(sold_at, 100.0), (end, float(floor))]


def evidence_pack(db, scope: Scope, device_id: str, generated_by: str, now: datetime | None = None) -> EvidencePack | None:
    data = warranty.evidence(db, scope, device_id)
    if data is None:
        return None
    ident, ledger = data["identity"], data["ledger"]
    now = now or datetime.now(timezone.utc)
    floor = ident["warranty_floor"] or ident["warranty_soh_floor"] or 80.0
    history = [SohPoint(day=r["day"], bms=_value(r["bms_soh"]) if r["bms_status"] == "reported" else None,
                        estimated=_value(r["est_soh"]), low=_value(r["est_low"]), high=_value(r["est_high"]))
               for r in ledger.to_dict("records")]
    violations = []
    for r in ledger.to_dict("records"):
        for column, kind, worst_col, fmt in VIOLATIONS:
            minutes = r[column] or 0
            if minutes > 0:
                worst = _value(r[worst_col])
                violations.append({"day": r["day"], "kind": kind, "minutes": round(float(minutes)),
                                   "worst": fmt.format(worst) if worst is not None else "—"})
    span = data["span"] or {}
    sold = ident["sold_at"]
    period_start = sold or span.get("first_day")
    period_end = min(now.date(), ident["warranty_end"]) if ident["warranty_end"] else now.date()
    days_in_period = (period_end - period_start).days + 1 if period_start else 0
    days_with_data = int((ledger["readings"] > 0).sum()) if len(ledger) else 0
    forecast = None
    if ident["rul_status"]:
        forecast = {k: _value(ident[k]) for k in ("rul_status", "rul_reason", "eol_p10", "eol_p50", "eol_p90",
                                                  "fade_per_month", "fade_per_100_cycles")}
        forecast["status"], forecast["reason"] = forecast.pop("rul_status"), forecast.pop("rul_reason")
    soh_now = _value(ident["soh"])
    if soh_now is not None and soh_now < floor:
        reason = (f"SOH {soh_now:.1f} % ({ident['soh_source'].replace('_', ' ')}) is under the {floor:g} % "
                  f"warranty floor" + (f", inside the warranty ending {ident['warranty_end']:%d %b %Y}."
                                       if ident["warranty_end"] else "."))
    elif soh_now is None:
        reason = "SOH is not measured for this battery: the pack documents the data there is."
    else:
        reason = f"Requested by {generated_by}: SOH {soh_now:.1f} % against a {floor:g} % floor."
    return EvidencePack(
        generated_at=now, generated_by=generated_by, battery_serial=ident["battery_serial"] or "—",
        device_id=ident["device_id"], vehicle_number=ident["vehicle_number"] or "—", model=ident["model"] or "—",
        dealer=ident["dealer"] or "—", customer=ident["customer_name"] or "—", city=ident["city"] or "—",
        sold_at=sold, warranty_months=ident["warranty_months"] or 0, warranty_cycles=ident["warranty_cycles"] or 0,
        warranty_floor=float(floor), warranty_end=ident["warranty_end"], soh_now=soh_now,
        soh_source=ident["soh_source"] or "not_measured", cycles_now=_value(ident["charge_cycles"]),
        history=history, warranty_curve=warranty_curve(sold, ident["warranty_months"], floor),
        forecast=forecast, violations=violations,
        alerts=[{k: _value(v) for k, v in a.items()} for a in data["alerts"]],
        coverage={"days_in_period": days_in_period, "days_with_data": days_with_data,
                  "share": days_with_data / days_in_period if days_in_period else 0.0,
                  "first_reading": span.get("first_day"), "last_reading": span.get("last_day")},
        reason=reason)


def fleet_report(db, scope: Scope, scope_label: str, now: datetime | None = None,
                 filt: fleet_health.HealthFilter = fleet_health.EVERYTHING) -> FleetReport:
    now = now or datetime.now(timezone.utc)
    summary = fleet_health.summary(db, scope, filt)
    buckets: dict[str, dict] = {}
    for r in fleet_health.distribution(db, scope, filt, width=5):
        label = "not measured" if r["bucket"] is None else f"{int(r['bucket'])}-{int(r['bucket']) + 5}"
        buckets.setdefault(label, {s: 0 for s in fleet_health.SOURCES})[r["source"]] += r["batteries"]
    histogram = [(label, c["measured"], c["estimated"], c["not_measured"]) for label, c in buckets.items()]
    risk = fleet_health.warranty_risk(db, scope, filt)
    league = fleet_health.league(db, scope)
    dealers = [{k: _value(r.get(k)) for k in ("dealer", "batteries", "avg_soh", "fade_per_month", "misuse_per_1000",
                                                "alerts_per_1000", "uptime_pct", "score")} for r in league["rows"]]
    if not scope.whole_fleet and league["median"]:
        dealers.append(dict({k: _value(v) for k, v in league["median"].items()}, dealer="Fleet median"))
    misuse = []
    for r in fleet_health.misuse(db, scope, filt):
        per = 1000.0 / r["battery_days"] if r["battery_days"] else 0.0
        misuse.append({"dealer": r["dealer"] or "—", "deep_discharge": r["deep_discharge"] * per,
                       "over_temperature": r["over_temp"] * per, "over_current": r["over_current"] * per,
                       "hot_charging": r["hot_charge"] * per})
    batteries = fleet_health.batteries(db, scope, filt)
    battery_rows = []
    for r in _records(batteries):
        band = (f"{r['soh_low']:.1f}-{r['soh_high']:.1f}" if r["soh_low"] is not None and r["soh_high"] is not None
                else "")
        rul = (f"{r['eol_p50']:%b %Y} ({r['eol_p10']:%b %Y} - {r['eol_p90']:%b %Y})" if r["rul_status"] == "forecast"
               else "reached" if r["rul_status"] == "reached" else "not enough data")
        battery_rows.append({"serial": r["battery_serial"], "vehicle": r["vehicle_number"], "dealer": r["dealer"],
                             "model": r["model"], "soh": r["soh"], "source": r["soh_source"], "band": band,
                             "cycles": r["charge_cycles"], "age_days": r["age_days"], "rul": rul})
    summary_out = {k: _value(v) for k, v in summary.items()}
    return FleetReport(
        generated_at=now, scope_label=scope_label, as_of=summary.get("as_of") or now.date(),
        summary=summary_out, soh_histogram=histogram,
        warranty_risk=[{k: r[k] for k in RISK_COLUMNS} for r in _records(risk)],
        dealers=dealers, misuse=misuse, batteries=battery_rows)
