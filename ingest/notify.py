"""Delivering queued notifications: a signed JSON webhook (n8n, Slack bridges, dealers' systems) and
SMTP e-mail.

Rows come from ``notification_outbox``. Each is claimed in a short transaction, sent with no
transaction open, and its result recorded in another (data/outbox.py). Failures back off and
retry a bounded number of times; nothing here can block ingest.

Webhook body (JSON, UTF-8), one of:
  {"event": "alert.opened" | "alert.escalated" | "alert.reminder", "idempotency_key": str, "sent_at": ISO 8601,
   "alert": {id, type, severity, status, device_id, vehicle_number, dealer_code, dealer, city, message, value,
             threshold, first_seen_at, last_seen_at, occurrence_count, reopened_from, url}}
  {"event": "alerts.digest", "idempotency_key": str, "sent_at": ISO 8601,
   "digest": {alert_type, count, total_opened_in_evaluation, alerts: [alert, ... at most 50]}}
Headers: ``Idempotency-Key``; ``X-BFM-Timestamp`` (Unix seconds); ``X-BFM-Signature: sha256=<hex>``, the
HMAC-SHA256 of ``"<timestamp>.<body bytes>"`` under the receiver's secret (the operator's
ALERT_WEBHOOK_SECRET, or the dealer's own secret). A receiver recomputes it and compares in
constant time, and rejects timestamps more than a few minutes old.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import time
from datetime import datetime, timezone
from email.message import EmailMessage

import requests

import config
from data import outbox
from data.alerts import Target
from data.db import Database

log = logging.getLogger(__name__)

EVENTS = {"opened": "alert.opened", "escalated": "alert.escalated", "reminder": "alert.reminder",
          "digest": "alerts.digest"}


def operator_targets(settings: config.Settings) -> list[Target]:
    targets = []
    if settings.alert_webhook_url:
        targets.append(Target("webhook", settings.alert_webhook_url))
    if settings.smtp_host and settings.alert_email_to:
        targets.append(Target("email", settings.alert_email_to))
    return targets


def escalation_targets(settings: config.Settings) -> list[Target]:
    targets = []
    if settings.escalation_webhook_url:
        targets.append(Target("webhook", settings.escalation_webhook_url, "escalation"))
    if settings.smtp_host and settings.escalation_email_to:
        targets.append(Target("email", settings.escalation_email_to, "escalation"))
    return targets


def dealer_targets(dealer: dict | None, settings: config.Settings) -> list[Target]:
    if not dealer:
        return []
    targets = []
    if dealer.get("alert_webhook_url"):
        targets.append(Target("webhook", dealer["alert_webhook_url"], "dealer", dealer["id"]))
    if dealer.get("alert_emails") and settings.smtp_host:
        targets.append(Target("email", dealer["alert_emails"], "dealer", dealer["id"]))
    return targets


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, max_age_seconds: int = 300) -> bool:
    """What a receiver does (documented, and used by the tests)."""
    try:
        fresh = abs(time.time() - int(timestamp)) <= max_age_seconds
    except (TypeError, ValueError):
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def message_body(row: dict, settings: config.Settings) -> dict:
    body = {"event": EVENTS[row["kind"]], "idempotency_key": row["idempotency_key"],
            "sent_at": datetime.now(timezone.utc).isoformat(), **row["payload"]}
    alert = body.get("alert")
    if alert and settings.public_url:
        body["alert"] = dict(alert, url=f"{settings.public_url.rstrip('/')}/alerts?id={alert['id']}")
    return body


def _send_webhook(row: dict, body: dict, secret: str | None, session: requests.Session) -> None:
    data = json.dumps(body, separators=(",", ":"), default=str).encode()
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "Idempotency-Key": row["idempotency_key"],
               "X-BFM-Timestamp": timestamp}
    if secret:
        headers["X-BFM-Signature"] = sign(secret, timestamp, data)
    response = session.post(row["target"], data=data, headers=headers, timeout=10)
    if response.status_code >= 300:
        raise RuntimeError(f"webhook answered HTTP {response.status_code}")


def _subject(body: dict) -> str:
    if "digest" in body:
        d = body["digest"]
        return f"[DIGEST] {d['count']} {d['alert_type'].replace('_', ' ')} alerts opened at once"
    a = body["alert"]
    prefix = {"alert.escalated": "ESCALATED ", "alert.reminder": "REMINDER "}.get(body["event"], "")
    return f"[{prefix}{a['severity'].upper()}] {a['type'].replace('_', ' ')} on {a['vehicle_number'] or a['device_id'] or 'the fleet'}"


def _send_email(settings: config.Settings, row: dict, body: dict) -> None:
    message = EmailMessage()
    message["Subject"] = _subject(body)
    message["From"] = settings.smtp_from
    message["To"] = row["target"]
    message["Message-ID"] = f"<{row['idempotency_key']}@battery-fleet-monitor>"  # receivers drop repeats of one id
    if "digest" in body:
        lines = [f"- {a.get('vehicle_number') or a.get('device_id')}: {a.get('message')}" for a in body["digest"]["alerts"]]
        text = f"{_subject(body)}.\n\n" + "\n".join(lines)
    else:
        a = body["alert"]
        text = f"{a['message']}\n\nFirst seen {a['first_seen_at']}, last seen {a['last_seen_at']}."
        if a.get("url"):
            text += f"\n\n{a['url']}"
    message.set_content(f"{text}\n\n{json.dumps(body, indent=2, default=str)}")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        if settings.smtp_username:
            smtp.starttls()
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)


def _secret(db: Database, settings: config.Settings, row: dict) -> str | None:
    if row["audience"] == "dealer":
        return outbox.dealer_secret(db, row["dealer_id"])
    return settings.alert_webhook_secret or None


def deliver_due(db: Database, settings: config.Settings, session: requests.Session | None = None,
                limit: int = 50) -> dict:
    """Send what is due (at most ``limit``); returns counts of delivered and failed attempts."""
    session = session or requests.Session()
    delivered = failed = 0
    for _ in range(limit):
        row = outbox.claim(db)
        if row is None:
            break
        body = message_body(row, settings)
        try:
            if row["channel"] == "webhook":
                _send_webhook(row, body, _secret(db, settings, row), session)
            else:
                _send_email(settings, row, body)
        except Exception as exc:  # any delivery failure is retried later, never raised into ingest
            attempts = row["attempts"] + 1
            retry = None if attempts >= settings.notify_max_attempts else min(30 * 2 ** attempts, 3600)
            outbox.failed(db, row["id"], f"{exc.__class__.__name__}: {exc}", retry)
            log.warning("notification %s attempt %d failed: %s", row["idempotency_key"], attempts, exc)
            failed += 1
        else:
            outbox.delivered(db, row["id"])
            delivered += 1
    return {"delivered": delivered, "failed": failed}
