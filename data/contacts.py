"""Dealers' own alert contacts: a webhook URL and e-mail addresses their alerts also go to.

Each dealer's webhook is signed with a secret of its own, so one dealer's receiver cannot forge
messages to the operator's or another dealer's.
"""
from __future__ import annotations

import re
import secrets

from data.db import Database

EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")


class ContactError(ValueError):
    """A contact setting is wrong; the message says which and why in one line."""


def clean_emails(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    addresses = [a.strip() for a in re.split(r"[,;\s]+", raw) if a.strip()]
    bad = [a for a in addresses if not EMAIL.match(a)]
    if bad:
        raise ContactError(f"not an e-mail address: {bad[0]!r}")
    return ", ".join(addresses)


def clean_url(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    url = raw.strip()
    if not url.startswith(("http://", "https://")) or len(url) > 2000 or any(c.isspace() for c in url):
        raise ContactError(f"webhook must be an http:// or https:// URL, got {url[:40]!r}")
    return url


def set_contacts(db: Database, dealer_code: str, webhook: str | None, emails: str | None,
                 new_secret: bool = False) -> str | None:
    """Set a dealer's contacts (None clears one). Returns the webhook secret when one was made, so it
    can be shown once: a first webhook, or ``new_secret``."""
    webhook, emails = clean_url(webhook), clean_emails(emails)
    row = db.one("SELECT id, webhook_secret FROM dealers WHERE code = :c", c=dealer_code)
    if row is None:
        raise ContactError(f"no dealer with code {dealer_code!r}")
    secret = row["webhook_secret"]
    made = None
    if webhook and (secret is None or new_secret):
        secret = made = secrets.token_urlsafe(32)
    db.execute("""UPDATE dealers SET alert_webhook_url = :w, alert_emails = :e, webhook_secret = :s WHERE id = :id""",
               w=webhook, e=emails, s=secret, id=row["id"])
    return made


def list_contacts(db: Database) -> list[dict]:
    return db.query("""SELECT code, name, alert_webhook_url, alert_emails, webhook_secret IS NOT NULL AS signed
                       FROM dealers ORDER BY code""")
