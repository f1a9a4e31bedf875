"""Users, roles and login throttling."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from data import passwords
from data.db import Database, text

ROLES = ("admin", "manager", "engineer", "dealer", "viewer")


class UserError(Exception):
    """A user command cannot be carried out; the message says why in one line."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str | None
    role: str
    dealer_id: int | None
    dealer_name: str | None
    is_active: bool
    is_demo: bool
    password_hash: str
    last_login_at: datetime | None = None
    updated_at: datetime | None = None


_SELECT = """SELECT u.id, u.username, u.display_name, u.role, u.dealer_id, d.name AS dealer_name,
                    u.is_active, u.is_demo, u.password_hash, u.last_login_at, u.updated_at
             FROM users u LEFT JOIN dealers d ON d.id = u.dealer_id"""


def get(db: Database, user_id: int) -> User | None:
    row = db.one(f"{_SELECT} WHERE u.id = :id", id=user_id)
    return User(**row) if row else None


def find(db: Database, username: str) -> User | None:
    row = db.one(f"{_SELECT} WHERE u.username = :u", u=username.strip().lower())
    return User(**row) if row else None


def list_all(db: Database) -> list[User]:
    return [User(**r) for r in db.query(f"{_SELECT} ORDER BY u.username")]


def create(db: Database, username: str, password: str, role: str, *, dealer_code: str | None = None,
           display_name: str | None = None, is_demo: bool = False, check_strength: bool = True) -> User:
    username = username.strip().lower()
    if not username or len(username) > 64 or not username.replace("_", "").replace(".", "").replace("-", "").isalnum():
        raise UserError(f"invalid username {username!r}: use letters, digits, '.', '_' or '-' (at most 64)")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
    if (role == "dealer") != bool(dealer_code):
        raise UserError("a dealer user needs --dealer CODE, and only dealer users take one")
    if check_strength and (why := passwords.weakness(password)):
        raise UserError(why)
    dealer_id = None
    if dealer_code:
        dealer_id = db.scalar("SELECT id FROM dealers WHERE code = :c", c=dealer_code)
        if dealer_id is None:
            raise UserError(f"no dealer with code {dealer_code!r}")
    if find(db, username):
        raise UserError(f"user {username!r} already exists")
    db.execute(
        """INSERT INTO users (username, display_name, password_hash, role, dealer_id, is_demo)
           VALUES (:u, :n, :h, :r, :d, :demo)""",
        u=username, n=display_name or username, h=passwords.hash_password(password), r=role, d=dealer_id,
        demo=is_demo,
    )
    return find(db, username)


def set_password(db: Database, username: str, password: str) -> None:
    """New password; every session of the user ends with the old one."""
    if why := passwords.weakness(password):
        raise UserError(why)
    _update_and_end_sessions(db, """UPDATE users SET password_hash = :h, is_demo = false, updated_at = now()
                                WHERE username = :u RETURNING id""",
                             username, h=passwords.hash_password(password))


def set_active(db: Database, username: str, active: bool) -> None:
    """Enable or disable; disabling ends every session of the user at once."""
    _update_and_end_sessions(db, "UPDATE users SET is_active = :a, updated_at = now() WHERE username = :u RETURNING id", username,
                             a=active, end=not active)


def _update_and_end_sessions(db: Database, sql: str, username: str, end: bool = True, **params) -> None:
    with db.transaction() as conn:
        user_id = conn.execute(text(sql), {"u": username.strip().lower(), **params}).scalar()
        if user_id is None:
            raise UserError(f"no user {username!r}")
        if end:
            conn.execute(text("DELETE FROM user_sessions WHERE user_id = :id"), {"id": user_id})


def record_login(db: Database, user_id: int) -> None:
    db.execute("UPDATE users SET last_login_at = now() WHERE id = :id", id=user_id)


def record_failure(db: Database, username: str, remote_addr: str | None) -> None:
    db.execute("INSERT INTO login_failures (username, remote_addr) VALUES (:u, :a)",
               u=username.strip().lower()[:64], a=(remote_addr or "")[:64])


def recent_failures(db: Database, username: str, remote_addr: str | None, minutes: int) -> int:
    """Failed logins in the last ``minutes`` for this username, or a quarter of those from this
    address (a control room shares one address), whichever is more."""
    return db.scalar(
        """SELECT greatest(
               count(*) FILTER (WHERE username = :u),
               count(*) FILTER (WHERE remote_addr = :a AND :a <> '') / 4)
           FROM login_failures WHERE at > now() - make_interval(mins => :m)""",
        u=username.strip().lower()[:64], a=(remote_addr or "")[:64], m=minutes,
    )


def clear_failures(db: Database, username: str) -> None:
    db.execute("DELETE FROM login_failures WHERE username = :u OR at < now() - INTERVAL '1 day'",
               u=username.strip().lower())
