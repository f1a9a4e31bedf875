"""Report jobs the worker runs: draft claim evidence packs for batteries that fell under their
warranty floor, and the daily fleet health report (stored, then e-mailed to its recipients at
HEALTH_REPORT_TIME IST; a dealer recipient gets a report of its own scope only).
"""
from __future__ import annotations

import logging
import smtplib
from datetime import datetime, time, timezone
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import config
from data import health_reports, health_store, report_inputs, warranty
from data.db import Database
from data.scope import Scope
from reports.evidence import evidence_pack_pdf
from reports.fleet import fleet_report_pdf, fleet_report_xlsx

log = logging.getLogger(__name__)
IST = ZoneInfo("Asia/Kolkata")
SYSTEM = Scope(role="admin", actor="system")
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def draft_claims(db: Database, now: datetime | None = None) -> int:
    """One automatic draft per battery that is under its floor inside warranty."""
    made = 0
    for device_id in warranty.needing_draft(db):
        pack = report_inputs.evidence_pack(db, SYSTEM, device_id, "automatic draft", now)
        if pack is None:
            continue
        if warranty.save_claim(db, device_id, pack.battery_serial, pack.reason, pack.soh_now,
                               evidence_pack_pdf(pack), None, automatic=True):
            made += 1
    return made


def build_fleet_report(db: Database, scope: Scope, label: str, now: datetime | None = None) -> tuple[object, bytes, bytes]:
    report = report_inputs.fleet_report(db, scope, label, now)
    return report, fleet_report_pdf(report), fleet_report_xlsx(report)


def _send(settings: config.Settings, to: list[str], subject: str, body: str, pdf: bytes, xlsx: bytes,
          stem: str) -> None:
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, settings.smtp_from, ", ".join(to)
    message.set_content(body)
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{stem}.pdf")
    message.add_attachment(xlsx, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=f"{stem}.xlsx")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_username:
            smtp.starttls()
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)


def report_due(settings: config.Settings, now: datetime) -> bool:
    hour, minute = settings.health_report_time
    return now.astimezone(IST).time() >= time(hour, minute)


def daily_report(db: Database, settings: config.Settings, now: datetime | None = None, force: bool = False) -> int:
    """Make today's fleet report (whole fleet, and one per dealer with recipients), store it, and
    e-mail it; returns how many reports were made. Runs once a day (claimed in job_runs)."""
    now = now or datetime.now(timezone.utc)
    today = now.astimezone(IST).date()
    if not force and (not report_due(settings, now) or not health_store.claim_job(db, "health_report", today)):
        return 0
    recipients = health_reports.recipients(db)
    scopes = [(None, "Whole fleet", Scope(role="admin", actor="system"))]
    scopes += [(d["id"], d["name"], Scope(role="dealer", dealer_id=d["id"], actor="system"))
               for d in health_reports.dealer_scopes(db)]
    made = 0
    for dealer_id, label, scope in scopes:
        report, pdf, xlsx = build_fleet_report(db, scope, label, now)
        report_id = health_reports.save_report(db, today, dealer_id, label, len(report.batteries), pdf, xlsx)
        if report_id is None:   # made already today (a forced run, or a second worker)
            continue
        made += 1
        to = [r["email"] for r in recipients if r["dealer_id"] == dealer_id]
        if not to:
            continue
        if not settings.smtp_host:
            health_reports.report_sent(db, report_id, [], "SMTP_HOST is not set: the report is stored, not sent")
            continue
        try:
            _send(settings, to, f"Fleet health report {today:%d %b %Y} - {label}",
                  f"The fleet health report for {label} as of {today:%d %b %Y} is attached (PDF and XLSX).\n"
                  f"{report.summary.get('batteries', 0)} batteries; "
                  f"{report.summary.get('below_floor', 0)} under their warranty floor, "
                  f"{report.summary.get('at_risk', 0)} at risk.\n",
                  pdf, xlsx, f"fleet-health-{today:%Y%m%d}")
            health_reports.report_sent(db, report_id, to, None)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("fleet health report %s: e-mail failed: %s", label, exc)
            health_reports.report_sent(db, report_id, [], f"e-mail failed: {exc}")
    if not force:
        health_store.finish_job(db, "health_report", today, f"{made} reports")
    return made
