"""Warranty: terms per battery model (admins edit them, every change kept), the tracker of
batteries nearing a limit, claim evidence packs, and what an evidence pack is made of.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import pandas as pd

from data import audit
from data.db import Database, text
from data.forms import FormError
from data.scope import Scope

# Physical and contractual ranges a term must fall in (months, cycles, SOH floor %).
LIMITS = {"warranty_months": (1, 240), "warranty_cycles": (1, 20000), "warranty_soh_floor": (50.0, 100.0)}
LABELS = {"warranty_months": "Warranty months", "warranty_cycles": "Warranty cycles",
          "warranty_soh_floor": "SOH floor (%)"}
# "Nearing a limit": inside the last NEAR_MONTHS of the warranty, past NEAR_CYCLES of its cycles,
# or within NEAR_SOH points of the floor.
NEAR_MONTHS, NEAR_CYCLES, NEAR_SOH = 3, 0.9, 3.0


class TermsError(FormError):
    """A change of warranty terms refused."""


@dataclass(frozen=True)
class Terms:
    model: str
    warranty_months: int
    warranty_cycles: int
    warranty_soh_floor: float


def terms(db: Database) -> list[dict]:
    return db.query("""SELECT m.model, m.rated_capacity_ah, m.warranty_months, m.warranty_cycles, m.warranty_soh_floor,
                              m.updated_at, m.updated_by,
                              (SELECT count(*) FROM batteries b WHERE b.model = m.model) AS batteries
                       FROM battery_models m ORDER BY m.model""")


def validate(model: str, months, cycles, floor) -> Terms:
    """Terms from form or API values, or TermsError with one message per bad field."""
    errors, values = {}, {}
    for name, raw, kind in (("warranty_months", months, int), ("warranty_cycles", cycles, int),
                            ("warranty_soh_floor", floor, float)):
        lo, hi = LIMITS[name]
        try:
            value = kind(raw)
            if kind is int and float(raw) != value:
                raise ValueError
        except (TypeError, ValueError):
            errors[name] = f"{LABELS[name]} must be a {'whole ' if kind is int else ''}number"
            continue
        if not lo <= value <= hi:
            errors[name] = f"{LABELS[name]} must be between {lo:g} and {hi:g}"
        values[name] = value
    if errors:
        raise TermsError(errors)
    return Terms(model, **values)


def update(db: Database, scope: Scope, new: Terms) -> bool:
    """Save ``new`` (admins only; the caller checks the role) and keep the change; False if the
    model is unknown. Saving the same values changes nothing and records nothing."""
    with db.transaction() as conn:
        before = conn.execute(text(
            """SELECT warranty_months, warranty_cycles, warranty_soh_floor FROM battery_models
               WHERE model = :model FOR UPDATE"""), {"model": new.model}).mappings().first()
        if before is None:
            return False
        after = {"warranty_months": new.warranty_months, "warranty_cycles": new.warranty_cycles,
                 "warranty_soh_floor": new.warranty_soh_floor}
        if {k: float(v) for k, v in before.items()} == {k: float(v) for k, v in after.items()}:
            return True
        conn.execute(text(
            """UPDATE battery_models SET warranty_months = :warranty_months, warranty_cycles = :warranty_cycles,
                      warranty_soh_floor = :warranty_soh_floor, updated_at = now(), updated_by = :actor
               WHERE model = :model"""), dict(after, model=new.model, actor=scope.actor))
        conn.execute(text(
            """INSERT INTO battery_model_changes (model, changed_by, before, after)
               VALUES (:model, :actor, CAST(:before AS jsonb), CAST(:after AS jsonb))"""),
            {"model": new.model, "actor": scope.actor or "unknown", "before": json.dumps(dict(before)),
             "after": json.dumps(after)})
        audit.record(conn, scope, "warranty.update", "warranty", new.model,
                     *audit.changed({k: float(v) for k, v in before.items()}, after))
    return True


def changes(db: Database, limit: int = 500) -> pd.DataFrame:
    return db.frame("""SELECT changed_at, model, changed_by, before, after FROM battery_model_changes
                       ORDER BY changed_at DESC, id DESC LIMIT :limit""", limit=limit)


def tracker(db: Database, scope: Scope, today: date | None = None, limit: int = 5000) -> pd.DataFrame:
    """Batteries inside warranty nearing a limit (months, cycles or SOH floor), with which one."""
    today = today or date.today()
    return db.frame(f"""
        SELECT h.device_id, d.battery_serial, d.vehicle_number, dl.name AS dealer, b.model,
               h.warranty_end, (h.warranty_end - CAST(:today AS date)) AS days_left,
               h.charge_cycles, coalesce(m.warranty_cycles, b.warranty_cycles) AS warranty_cycles,
               round(h.soh::numeric, 1) AS soh, h.soh_source, h.warranty_floor, h.warranty_status,
               concat_ws('; ',
                 CASE WHEN h.warranty_end - CAST(:today AS date) <= :near_days THEN 'warranty ends soon' END,
                 CASE WHEN h.charge_cycles >= :near_cycles * coalesce(m.warranty_cycles, b.warranty_cycles)
                      THEN 'cycles near the limit' END,
                 CASE WHEN h.soh < h.warranty_floor THEN 'SOH under the floor'
                      WHEN h.soh < h.warranty_floor + :near_soh THEN 'SOH near the floor' END,
                 CASE WHEN h.warranty_status = 'at_risk' THEN 'expected under the floor before the end' END) AS limits
        FROM battery_health h JOIN devices d ON d.device_id = h.device_id
        JOIN batteries b ON b.serial = d.battery_serial
        LEFT JOIN battery_models m ON m.model = b.model
        LEFT JOIN dealers dl ON dl.id = d.dealer_id
        WHERE {scope.devices("d")} AND h.warranty_status NOT IN ('expired')
          AND h.warranty_end >= CAST(:today AS date)
          AND (h.warranty_end - CAST(:today AS date) <= :near_days
               OR h.charge_cycles >= :near_cycles * coalesce(m.warranty_cycles, b.warranty_cycles)
               OR h.soh < h.warranty_floor + :near_soh OR h.warranty_status = 'at_risk')
        ORDER BY h.warranty_status = 'below_floor' DESC, days_left, h.device_id LIMIT :limit""",
        today=today, near_days=NEAR_MONTHS * 30, near_cycles=NEAR_CYCLES, near_soh=NEAR_SOH, limit=limit,
        **scope.params())


# -- claim evidence packs -------------------------------------------------------------------------
def claim_packs(db: Database, scope: Scope, device_id: str | None = None, limit: int = 500) -> pd.DataFrame:
    return db.frame(f"""
        SELECT c.id, c.device_id, c.battery_serial, d.vehicle_number, dl.name AS dealer, c.created_at,
               CASE WHEN c.automatic THEN 'automatic draft' ELSE u.username END AS created_by,
               c.status, c.reason, round(c.soh::numeric, 1) AS soh, length(c.pdf) AS bytes
        FROM claim_packs c JOIN devices d ON d.device_id = c.device_id
        LEFT JOIN dealers dl ON dl.id = d.dealer_id LEFT JOIN users u ON u.id = c.created_by
        WHERE {scope.devices("d")} AND (CAST(:device_id AS text) IS NULL OR c.device_id = :device_id)
        ORDER BY c.created_at DESC LIMIT :limit""", device_id=device_id, limit=limit, **scope.params())


def claim_pdf(db: Database, scope: Scope, pack_id: int) -> dict | None:
    """A stored pack's PDF, or None when unknown or outside scope (the two look the same)."""
    return db.one(f"""SELECT c.id, c.battery_serial, c.created_at, c.pdf FROM claim_packs c
                      JOIN devices d ON d.device_id = c.device_id
                      WHERE c.id = :id AND {scope.devices("d")}""", id=pack_id, **scope.params())


def save_claim(db: Database, device_id: str, serial: str | None, reason: str, soh: float | None, pdf: bytes,
               user_id: int | None, automatic: bool) -> int | None:
    """Store a pack; an automatic draft is made once per battery (None if it exists already)."""
    return db.returning(
        """INSERT INTO claim_packs (device_id, battery_serial, reason, soh, pdf, created_by, automatic)
           VALUES (:device_id, :serial, :reason, :soh, :pdf, :user_id, :automatic)
           ON CONFLICT (device_id) WHERE automatic DO NOTHING RETURNING id""",
        device_id=device_id, serial=serial, reason=reason, soh=soh, pdf=pdf, user_id=user_id, automatic=automatic)


def needing_draft(db: Database) -> list[str]:
    """Batteries under their floor inside warranty that have no automatic draft yet."""
    return [r["device_id"] for r in db.query(
        """SELECT h.device_id FROM battery_health h
           WHERE h.warranty_status = 'below_floor'
             AND NOT EXISTS (SELECT 1 FROM claim_packs c WHERE c.device_id = h.device_id AND c.automatic)
           ORDER BY h.device_id""")]


def evidence(db: Database, scope: Scope, device_id: str) -> dict | None:
    """Everything a claim evidence pack holds for one battery, or None outside scope."""
    identity = db.one(f"""
        SELECT d.device_id, d.battery_serial, d.vehicle_number, d.customer_name, d.city, dl.name AS dealer,
               b.model, b.sold_at, coalesce(m.warranty_months, b.warranty_months) AS warranty_months,
               coalesce(m.warranty_cycles, b.warranty_cycles) AS warranty_cycles,
               m.warranty_soh_floor, h.soh, h.soh_source, h.charge_cycles, h.rul_status, h.rul_reason,
               h.eol_p10, h.eol_p50, h.eol_p90, h.fade_per_month, h.fade_per_100_cycles, h.warranty_end,
               h.warranty_floor, h.warranty_status, h.as_of
        FROM devices d LEFT JOIN batteries b ON b.serial = d.battery_serial
        LEFT JOIN battery_models m ON m.model = b.model
        LEFT JOIN dealers dl ON dl.id = d.dealer_id
        LEFT JOIN battery_health h ON h.device_id = d.device_id
        WHERE d.device_id = :device_id AND {scope.devices("d")}""", device_id=device_id, **scope.params())
    if identity is None:
        return None
    ledger = db.frame(
        """SELECT day, bms_soh, bms_status, est_soh, est_low, est_high, soh, soh_source, readings,
                  deep_discharge_min, over_temp_min, over_current_min, hot_charge_min,
                  worst_temperature, worst_current, lowest_soc
           FROM battery_health_daily WHERE device_id = :device_id ORDER BY day""", device_id=device_id)
    alerts = db.query(
        """SELECT first_seen_at AS opened, alert_type AS type, severity, reading_value AS value, status,
                  resolved_at AS resolved
           FROM alerts WHERE device_id = :device_id ORDER BY first_seen_at""", device_id=device_id)
    first_last = db.one(
        """SELECT min(day) AS first_day, max(day) AS last_day FROM battery_health_daily
           WHERE device_id = :device_id AND readings > 0""", device_id=device_id)
    return {"identity": identity, "ledger": ledger, "alerts": alerts, "span": first_last}
