"""Delivering queued alert notifications: a JSON webhook (n8n, Slack) and SMTP e-mail.

Rows come from ``notification_outbox``, written in each alert's own transaction. Each delivery
carries its idempotency key, failures back off and retry a bounded number of times, and nothing
here can block ingest: a dead receiver only leaves rows pending or failed.
"""
from __future__ import annotations

import json
import logging
import smtplib
from email.message import EmailMessage

import requests

import config
from data import alerts as store
from data.db import Database

log = logging.getLogger(__name__)


def channels(settings: config.Settings) -> tuple[str, ...]:
    configured = []
    if settings.alert_webhook_url:
        configured.append("webhook")
    if settings.smtp_host and settings.alert_email_to:
        configured.append("email")
    return tuple(configured)


def _send_webhook(settings: config.Settings, key: str, payload: dict, session: requests.Session) -> None:
    response = session.post(settings.alert_webhook_url, json=dict(payload, idempotency_key=key),
                            headers={"Idempotency-Key": key}, timeout=10)
    if response.status_code >= 300:
        raise RuntimeError(f"webhook answered HTTP {response.status_code}")


def _send_email(settings: config.Settings, key: str, payload: dict) -> None:
    message = EmailMessage()
    message["Subject"] = f"[{payload['severity'].upper()}] {payload['alert_type']} on {payload['device_id']}"
    message["From"], message["To"] = settings.smtp_from, settings.alert_email_to
    message["Message-ID"] = f"<{key}@battery-fleet-monitor>"  # receivers drop repeats of one id
    message.set_content(f"{payload['message']}\n\nAt {payload['at']}.\n\n{json.dumps(payload, indent=2)}")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        if settings.smtp_username:
            smtp.starttls()
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)


def deliver_due(db: Database, settings: config.Settings, session: requests.Session | None = None,
                limit: int = 50) -> dict:
    """Send what is due (at most ``limit``); returns counts of delivered and failed attempts.

    Each notification is claimed, sent and marked in a transaction of its own: if the database goes
    away, only the one in hand is sent again later (with its idempotency key, which receivers use to
    drop the repeat), and the ``DatabaseUnavailable`` ends this round for the worker's loop to retry."""
    session = session or requests.Session()
    delivered = failed = 0
    for _ in range(limit):
        with db.transaction() as conn:
            due = store.due_notifications(conn, limit=1)
            if not due:
                break
            row = due[0]
            payload = row["payload"] if isinstance(row["payload"], dict) else json.loads(row["payload"])
            try:
                if row["channel"] == "webhook":
                    _send_webhook(settings, row["idempotency_key"], payload, session)
                else:
                    _send_email(settings, row["idempotency_key"], payload)
            except Exception as exc:  # any delivery failure is retried later, never raised into ingest
                attempts = row["attempts"] + 1
                retry = None if attempts >= settings.notify_max_attempts else min(30 * 2 ** attempts, 3600)
                store.mark_failed(conn, row["id"], f"{exc.__class__.__name__}: {exc}", retry)
                log.warning("notification %s attempt %d failed: %s", row["idempotency_key"], attempts, exc)
                failed += 1
            else:
                store.mark_delivered(conn, row["id"])
                delivered += 1
    return {"delivered": delivered, "failed": failed}
