"""Server-side sign-in sessions: what makes sign-out, a password change and disabling a user final.

The browser holds a random token in its (signed) session cookie; the database holds only the
token's SHA-256, the user, and when the session was last used. A session is valid while its row
exists and it has been used within the idle limit.
"""
from __future__ import annotations

import hashlib
import secrets

from data.db import Database
from data.users import _SELECT, User

# Writing last_seen_at on every callback would be a write per request; once a minute is precise enough.
TOUCH_AFTER_SECONDS = 60


def token_hash(token: str) -> str:
    """What the database keeps of a session token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


_hash = token_hash


def start(db: Database, user_id: int, remote_addr: str | None, user_agent: str | None) -> str:
    """A new session for ``user_id``; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    db.execute(
        """INSERT INTO user_sessions (token_hash, user_id, remote_addr, user_agent) VALUES (:h, :u, :a, :ua)""",
        h=_hash(token), u=user_id, a=(remote_addr or "")[:64], ua=(user_agent or "")[:300])
    return token


def load(db: Database, token: str, idle_minutes: int) -> User | None:
    """The session's user if the session exists and was used within ``idle_minutes``; marks it used."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    row = db.one(
        f"""SELECT x.*, s.last_seen_at < now() - make_interval(secs => :touch) AS stale
            FROM user_sessions s JOIN ({_SELECT}) x ON x.id = s.user_id
            WHERE s.token_hash = :h AND s.last_seen_at > now() - make_interval(mins => :idle)""",
        h=_hash(token), idle=idle_minutes, touch=TOUCH_AFTER_SECONDS)
    if row is None:
        return None
    if row.pop("stale"):
        db.execute("UPDATE user_sessions SET last_seen_at = now() WHERE token_hash = :h", h=_hash(token))
    return User(**row)


def end(db: Database, token: str | None) -> None:
    """Sign-out: this session is over, whoever still holds a copy of the cookie."""
    if isinstance(token, str):
        db.execute("DELETE FROM user_sessions WHERE token_hash = :h", h=_hash(token))


def purge_idle(db: Database, idle_minutes: int) -> int:
    """Forget sessions past the idle limit (they no longer open anything; this only keeps the table small).
    A password change or disabling ends a user's sessions in data.users, in that change's transaction."""
    return db.execute("DELETE FROM user_sessions WHERE last_seen_at < now() - make_interval(mins => :idle)",
                      idle=idle_minutes)
