"""API keys for scripts and integrations (n8n, a vendor's push): a role and, for dealers, a dealer.

The key is shown once when created; only its SHA-256 is stored (a key is 256 random bits, so a
slow password hash would add nothing but latency to every API call).
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from data.db import Database
from data.users import ROLES

PREFIX = "bfm_"
# A key may also be an ``ingest`` key: it may push data (POST /api/v1/ingest/..., /telemetry) and
# do nothing else, so a charger's or meter gateway's key opens no fleet data.
KEY_ROLES = (*ROLES, "ingest")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ApiKeyError(Exception):
    """An API key command cannot be carried out; the message says why in one line."""


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    role: str
    dealer_id: int | None


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create(db: Database, name: str, role: str, dealer_code: str | None = None) -> str:
    """Create a key; returns it (the only time it exists in clear)."""
    if not NAME.match(name or ""):
        raise ApiKeyError("name: letters, digits, '.', '_' or '-', at most 64 characters")
    if role not in KEY_ROLES:
        raise ApiKeyError(f"role must be one of {', '.join(KEY_ROLES)}")
    dealer_id = None
    if role == "dealer":
        if not dealer_code:
            raise ApiKeyError("a dealer key needs --dealer CODE")
        dealer_id = db.scalar("SELECT id FROM dealers WHERE code = :c", c=dealer_code)
        if dealer_id is None:
            raise ApiKeyError(f"no dealer with code {dealer_code!r}")
    elif dealer_code:
        raise ApiKeyError("only dealer keys belong to a dealer")
    if db.scalar("SELECT 1 FROM api_keys WHERE name = :n", n=name):
        raise ApiKeyError(f"an API key named {name!r} exists already")
    key = PREFIX + secrets.token_urlsafe(32)
    db.execute("INSERT INTO api_keys (name, key_hash, role, dealer_id) VALUES (:n, :h, :r, :d)",
               n=name, h=_hash(key), r=role, d=dealer_id)
    return key


def rotate(db: Database, name: str, role: str) -> str:
    """A fresh key under ``name``, the old one gone (the demo's simulator gets one per start)."""
    db.execute("DELETE FROM api_keys WHERE name = :n", n=name)
    return create(db, name, role)


def list_all(db: Database) -> list[dict]:
    return db.query(
        """SELECT k.name, k.role, dl.code AS dealer, k.created_at, k.last_used_at, k.revoked_at
           FROM api_keys k LEFT JOIN dealers dl ON dl.id = k.dealer_id ORDER BY k.name""")


def revoke(db: Database, name: str) -> None:
    if not db.execute("UPDATE api_keys SET revoked_at = now() WHERE name = :n AND revoked_at IS NULL", n=name):
        raise ApiKeyError(f"no active API key named {name!r}")


def authenticate(db: Database, key: str) -> ApiKey | None:
    """The active key matching ``key``, or None. Last use is written at most once a minute."""
    if not isinstance(key, str) or not key.startswith(PREFIX) or len(key) > 200:
        return None
    row = db.one("""SELECT id, name, role, dealer_id FROM api_keys WHERE key_hash = :h AND revoked_at IS NULL""",
                 h=_hash(key))
    if row is None:
        return None
    db.execute("""UPDATE api_keys SET last_used_at = now()
                  WHERE id = :id AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')""",
               id=row["id"])
    return ApiKey(**row)
