"""Admins managing users in the app: create, edit role and dealer, reset a password, disable,
enable, delete; and any user changing its own password.

Every change is one transaction with its audit line. An edit names the ``updated_at`` it was
opened with and is refused when the row changed since (someone else's change is never
overwritten). The last active admin can be neither demoted, disabled nor deleted, and nobody
disables or deletes their own account (that is how a team locks itself out).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from data import audit, passwords, sessions
from data.db import Database, text
from data.forms import FormError, refuse_if_stale
from data.scope import Scope
from data.users import ROLES, find

USERNAME_MAX = 64
NAME_MAX = 100
GENERATED_LENGTH = 14
# The alphabet of generated passwords: no 0/O, 1/l/I, so one read aloud or copied by hand survives.
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class UserFormError(FormError):
    """A user change refused."""


@dataclass(frozen=True)
class UserFields:
    display_name: str | None
    role: str
    dealer_code: str | None


def generate_password() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(GENERATED_LENGTH))


def listing(db: Database) -> list[dict]:
    """Every user as the users page shows it (never the password hash)."""
    return db.query(
        """SELECT u.id, u.username, u.display_name, u.role, d.code AS dealer_code, d.name AS dealer,
                  u.is_active, u.is_demo, u.last_login_at, u.created_at, u.updated_at
           FROM users u LEFT JOIN dealers d ON d.id = u.dealer_id ORDER BY u.username""")


_ONE = """SELECT u.id, u.username, u.display_name, u.role, d.code AS dealer_code, u.is_active, u.updated_at
          FROM users u LEFT JOIN dealers d ON d.id = u.dealer_id WHERE u.id = :id"""


def one(db: Database, user_id: int) -> dict | None:
    return db.one(_ONE, id=user_id)


def dealer_options(db: Database) -> list[dict]:
    return db.query("SELECT code, name FROM dealers ORDER BY name")


def _validate_fields(db: Database, fields: UserFields) -> tuple[dict, int | None]:
    errors: dict[str, str] = {}
    if fields.display_name is not None and len(fields.display_name) > NAME_MAX:
        errors["display_name"] = f"At most {NAME_MAX} characters."
    if fields.role not in ROLES:
        errors["role"] = f"Choose one of: {', '.join(ROLES)}."
    dealer_id = None
    if fields.role == "dealer":
        if not fields.dealer_code:
            errors["dealer"] = "A dealer user needs its dealer."
        else:
            dealer_id = db.scalar("SELECT id FROM dealers WHERE code = :c", c=fields.dealer_code)
            if dealer_id is None:
                errors["dealer"] = f"No dealer {fields.dealer_code!r}."
    elif fields.dealer_code:
        errors["dealer"] = "Only dealer users belong to a dealer: clear it or choose the dealer role."
    return errors, dealer_id


def _password_errors(password: str | None) -> dict:
    if password is None:
        return {}
    why = passwords.weakness(password)
    return {"password": why[0].upper() + why[1:] + "."} if why else {}


def _password_or_generated(errors: dict, password: str | None) -> tuple[str, str | None]:
    """Refuse on ``errors``; else the password to set, and the generated one to show once (or None)."""
    if errors:
        raise UserFormError(errors)
    if password is None:
        generated = generate_password()
        return generated, generated
    return password, None


def create(db: Database, scope: Scope, username: str | None, fields: UserFields,
           password: str | None) -> tuple[dict, str | None]:
    """A new user. Without ``password`` one is generated and returned, to be shown once."""
    errors, dealer_id = _validate_fields(db, fields)
    name = (username or "").strip().lower()
    if not name:
        errors["username"] = "A username is needed."
    elif len(name) > USERNAME_MAX or not name.replace("_", "").replace(".", "").replace("-", "").isalnum():
        errors["username"] = f"Letters, digits, '.', '_' or '-', at most {USERNAME_MAX}."
    elif find(db, name):
        errors["username"] = f"{name!r} is taken."
    errors.update(_password_errors(password))
    password, shown = _password_or_generated(errors, password)
    with db.transaction() as conn:
        new_id = conn.execute(text(
            """INSERT INTO users (username, display_name, password_hash, role, dealer_id)
               VALUES (:u, :n, :h, :r, :d) ON CONFLICT (username) DO NOTHING RETURNING id"""),
            {"u": name, "n": fields.display_name or name, "h": passwords.hash_password(password),
             "r": fields.role, "d": dealer_id}).scalar()
        if new_id is None:
            raise UserFormError({"username": f"{name!r} is taken."})
        audit.record(conn, scope, "user.create", "user", name, None,
                     {"role": fields.role, "dealer": fields.dealer_code, "display_name": fields.display_name or name})
    return one(db, new_id), shown


def _current(conn, user_id: int, seen: datetime | str | None) -> dict:
    """The row, locked for this transaction; refused when missing or changed since it was opened."""
    row = conn.execute(text(_ONE + " FOR UPDATE OF u"), {"id": user_id}).mappings().first()
    if row is None:
        raise UserFormError({"form": "That user no longer exists."})
    row = dict(row)
    refuse_if_stale(UserFormError, row["username"], row["updated_at"], seen)
    return row


def _other_active_admins(conn, user_id: int) -> int:
    return conn.execute(text("SELECT count(*) FROM users WHERE role = 'admin' AND is_active AND id <> :id"),
                        {"id": user_id}).scalar()


def _lock_admins(conn) -> None:
    # Two admins demoting each other at once must not both succeed: serialise changes to admins.
    conn.execute(text("SELECT id FROM users WHERE role = 'admin' ORDER BY id FOR UPDATE"))


def update(db: Database, scope: Scope, user_id: int, seen, fields: UserFields) -> dict:
    errors, dealer_id = _validate_fields(db, fields)
    if errors:
        raise UserFormError(errors)
    with db.transaction() as conn:
        _lock_admins(conn)
        row = _current(conn, user_id, seen)
        if row["role"] == "admin" and fields.role != "admin" and row["is_active"] \
                and _other_active_admins(conn, user_id) == 0:
            raise UserFormError({"role": "This is the last active admin: make another admin first."})
        before = {"role": row["role"], "dealer": row["dealer_code"], "display_name": row["display_name"]}
        after = {"role": fields.role, "dealer": fields.dealer_code,
                 "display_name": fields.display_name or row["display_name"]}
        old, new = audit.changed(before, after)
        if not new:
            return one(db, user_id)
        conn.execute(text("""UPDATE users SET role = :r, dealer_id = :d, display_name = :n, updated_at = now()
                             WHERE id = :id"""),
                     {"r": fields.role, "d": dealer_id, "n": after["display_name"], "id": user_id})
        if "role" in new or "dealer" in new:
            # What the user may see changed: its open sessions end, the next sign-in gets the new scope.
            conn.execute(text("DELETE FROM user_sessions WHERE user_id = :id"), {"id": user_id})
        audit.record(conn, scope, "user.update", "user", row["username"], old, new)
    return one(db, user_id)


def reset_password(db: Database, scope: Scope, user_id: int, seen, password: str | None) -> str | None:
    """A new password (generated when none is given: returned to be shown once); sessions end."""
    password, shown = _password_or_generated(_password_errors(password), password)
    with db.transaction() as conn:
        row = _current(conn, user_id, seen)
        conn.execute(text("""UPDATE users SET password_hash = :h, is_demo = false, updated_at = now()
                             WHERE id = :id"""), {"h": passwords.hash_password(password), "id": user_id})
        conn.execute(text("DELETE FROM user_sessions WHERE user_id = :id"), {"id": user_id})
        audit.record(conn, scope, "user.password_reset", "user", row["username"],
                     note="generated and shown once" if shown else "set by the admin")
    return shown


def set_active(db: Database, scope: Scope, user_id: int, seen, active: bool) -> dict:
    with db.transaction() as conn:
        _lock_admins(conn)
        row = _current(conn, user_id, seen)
        if not active:
            if user_id == scope.user_id:
                raise UserFormError({"form": "You cannot disable your own account."})
            if row["role"] == "admin" and _other_active_admins(conn, user_id) == 0:
                raise UserFormError({"form": "This is the last active admin: it cannot be disabled."})
        if row["is_active"] == active:
            return row
        conn.execute(text("UPDATE users SET is_active = :a, updated_at = now() WHERE id = :id"),
                     {"a": active, "id": user_id})
        if not active:
            conn.execute(text("DELETE FROM user_sessions WHERE user_id = :id"), {"id": user_id})
        audit.record(conn, scope, "user.enable" if active else "user.disable", "user", row["username"],
                     {"active": row["is_active"]}, {"active": active})
    return one(db, user_id)


_HISTORY = """SELECT (SELECT count(*) FROM alert_events WHERE user_id = :id)
                   + (SELECT count(*) FROM alerts WHERE acknowledged_by = :id OR resolved_by = :id)
                   + (SELECT count(*) FROM claim_packs WHERE created_by = :id)"""


def delete(db: Database, scope: Scope, user_id: int, seen, typed_username: str | None) -> str:
    """Delete after the admin typed the username. A user whose name is on alert or claim history is
    kept (disable it instead): deleting it would erase who acted."""
    with db.transaction() as conn:
        _lock_admins(conn)
        row = _current(conn, user_id, seen)
        if (typed_username or "").strip().lower() != row["username"]:
            raise UserFormError({"confirm": f"Type {row['username']} to confirm."})
        if user_id == scope.user_id:
            raise UserFormError({"form": "You cannot delete your own account."})
        if row["role"] == "admin" and row["is_active"] and _other_active_admins(conn, user_id) == 0:
            raise UserFormError({"form": "This is the last active admin: it cannot be deleted."})
        acted = conn.execute(text(_HISTORY), {"id": user_id}).scalar()
        if acted:
            raise UserFormError({"form": f"{row['username']} is named on {acted} alert or claim records; deleting "
                                         "would erase who acted. Disable the account instead."})
        conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": user_id})
        audit.record(conn, scope, "user.delete", "user", row["username"],
                     {"role": row["role"], "dealer": row["dealer_code"], "active": row["is_active"]}, None)
    return row["username"]


def change_own_password(db: Database, scope: Scope, current: str | None, new: str | None,
                        repeated: str | None, session_token: str | None = None) -> None:
    """The signed-in user's own password; its other sessions end, this one (``session_token``) goes on."""
    errors: dict[str, str] = {}
    row = db.one("SELECT username, password_hash FROM users WHERE id = :id", id=scope.user_id) \
        if scope.user_id is not None else None
    if row is None:
        raise UserFormError({"form": "Only a signed-in user can change its password."})
    if not current or not passwords.verify(row["password_hash"], current):
        errors["current"] = "That is not your current password."
    if not new:
        errors["new"] = "Type the new password."
    else:
        errors.update({"new": m for m in _password_errors(new).values()})
        if new == current:
            errors["new"] = "The new password must differ from the current one."
    if new and repeated != new:
        errors["repeat"] = "The two new passwords differ."
    if errors:
        raise UserFormError(errors)
    with db.transaction() as conn:
        conn.execute(text("""UPDATE users SET password_hash = :h, is_demo = false, updated_at = now()
                             WHERE id = :id"""), {"h": passwords.hash_password(new), "id": scope.user_id})
        conn.execute(text("DELETE FROM user_sessions WHERE user_id = :id AND token_hash <> :keep"),
                     {"id": scope.user_id, "keep": sessions.token_hash(session_token) if session_token else ""})
        audit.record(conn, scope, "user.password_change", "user", row["username"], note="by the user")
