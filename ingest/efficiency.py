"""The worker's charging-efficiency pass: sessions for batteries whose readings were pushed, each
closed session reconciled against its meters, and the settled ones judged through the alerts.

Judging: a session below the ``charging_loss`` threshold opens (or repeats) that alert on its
vehicle, one above ``meter_mismatch``'s opens that one, and a session in between resolves both (the
charger or the mapping was put right). Each session is judged once, in the transaction that writes
its alert, so a crash judges nothing twice and skips nothing.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import config
from data import alerts as store
from data import energy, telemetry
from data.db import Database
from ingest import health, notify

log = logging.getLogger(__name__)

LOOKBACK = timedelta(days=3)  # late meter readings are taken into account this long


def track_pushed_sessions(db: Database, now: datetime) -> int:
    """Sessions of batteries whose readings arrived by push: the poller tracks its own devices."""
    behind = telemetry.sessions_behind(db)
    if not behind:
        return 0
    devices = {d["device_id"]: d for d in telemetry.active_devices(db)}
    found = 0
    for device_id in behind:
        device = devices.get(device_id)
        if device is not None:
            found += health.track_sessions(db, device, now)
    return found


def _message(session: dict, kind: str) -> str:
    where = ", ".join(x for x in (f"charger {session['charger']}" if session["charger"] else None,
                                  f"meter {session['meter']}" if session["meter"] else None,
                                  session["site"]) if x)
    cause = "charger fault or leakage" if kind == "low" else "meter or mapping error"
    return (f"Charging efficiency {session['efficiency']:.2f}: {session['energy_kwh']:.2f} kWh DC into the pack "
            f"for {session['ac_kwh']:.2f} kWh AC at the meter ({where}): {cause}")


def judge(db: Database, settings: config.Settings, now: datetime) -> dict:
    limits = energy.thresholds(db)
    opened = resolved = 0
    for session in energy.to_judge(db, now - energy.SETTLE):
        flag = session["efficiency_flag"]
        rule = limits["rules"].get(flag) if flag else None
        with db.transaction() as conn:
            if rule is not None and rule["enabled"]:
                targets = ()
                if rule["notify"]:
                    targets = tuple(notify.operator_targets(settings) + notify.dealer_targets(
                        store.dealer_of(conn, session["device_id"]), settings))
                outcome = store.raise_alert(
                    conn, device_id=session["device_id"], alert_type=rule["alert_type"], severity=rule["severity"],
                    message=_message(session, flag), value=round(session["efficiency"], 3),
                    threshold=rule["threshold"], at=session["end_time"], count=1, targets=targets)
                opened += outcome == "opened"
            elif session["efficiency"] is not None and flag is None and session["energy_kwh"] >= energy.MIN_JUDGED_KWH:
                for alert_type in ("charging_loss", "meter_mismatch"):
                    resolved += store.resolve(conn, device_id=session["device_id"], alert_type=alert_type,
                                              at=session["end_time"], value=round(session["efficiency"], 3))
            energy.mark_judged(conn, session["id"])
    return {"opened": opened, "resolved": resolved}


def run(db: Database, settings: config.Settings, now: datetime, since: datetime | None = None) -> dict:
    """One pass: sessions of pushed readings, reconciliation, judging. ``since``: reconcile from
    there (a history seed); by default the last ``LOOKBACK``, older unjudged sessions are let go."""
    tracked = track_pushed_sessions(db, now)
    since = since or now - LOOKBACK
    energy.let_go(db, since)
    reconciled = energy.reconcile(db, since)
    judged = judge(db, settings, now)
    if judged["opened"] or judged["resolved"]:
        log.info("charging efficiency: %d alerts opened, %d resolved", judged["opened"], judged["resolved"])
    return {"sessions_tracked": tracked, "reconciled": reconciled, **judged}
