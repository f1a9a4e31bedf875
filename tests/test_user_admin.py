"""Admins managing users, on a real database: every refusal says why per field and changes nothing;
the last admin stays; a stale edit never overwrites; each change leaves one audit line."""
from __future__ import annotations

import pytest

from data import audit, demo, passwords, sessions, user_admin, users
from data.scope import Scope


@pytest.fixture
def db(plain_db):
    demo.seed_registry(plain_db, demo.fleet(size=6))
    demo.seed_users(plain_db)
    return plain_db


@pytest.fixture
def admin_scope(db):
    """The admin acting, as auth.py builds its scope (with the request's address)."""
    return Scope(role="admin", user_id=users.find(db, "admin").id, actor="admin", address="10.1.2.3")


def _fields(role="manager", dealer=None, name=None):
    return user_admin.UserFields(display_name=name, role=role, dealer_code=dealer)


def _row(db, username):
    return db.one("SELECT id, updated_at FROM users WHERE username = :u", u=username)


def _audit(db):
    return db.query("SELECT actor, remote_addr, action, target, before, after, note FROM audit_log ORDER BY id")


def test_create_generates_a_password_once_and_audits(db, admin_scope):
    row, shown = user_admin.create(db, admin_scope, "Priya.K", _fields("dealer", "LKO01", "Priya K"), None)
    assert row["username"] == "priya.k" and row["role"] == "dealer" and row["dealer_code"] == "LKO01"
    assert shown and len(shown) == user_admin.GENERATED_LENGTH
    assert passwords.verify(users.find(db, "priya.k").password_hash, shown)
    line = _audit(db)[-1]
    assert (line["actor"], line["remote_addr"], line["action"], line["target"]) == (
        "admin", "10.1.2.3", "user.create", "priya.k")
    assert line["after"] == {"role": "dealer", "dealer": "LKO01", "display_name": "Priya K"}
    assert shown not in str(_audit(db))


@pytest.mark.parametrize("username, fields, password, field, words", [
    ("", _fields(), None, "username", "needed"),
    ("bad name!", _fields(), None, "username", "Letters"),
    ("manager", _fields(), None, "username", "taken"),
    ("newbie", _fields("dealer"), None, "dealer", "needs its dealer"),
    ("newbie", _fields("dealer", "NOPE"), None, "dealer", "No dealer"),
    ("newbie", _fields("manager", "LKO01"), None, "dealer", "Only dealer users"),
    ("newbie", _fields("superuser"), None, "role", "Choose one of"),
    ("newbie", _fields(), "short", "password", "at least 8"),
])
def test_create_refuses_bad_fields_one_message_each(db, admin_scope, username, fields, password, field, words):
    before = db.scalar("SELECT count(*) FROM users")
    with pytest.raises(user_admin.UserFormError) as exc:
        user_admin.create(db, admin_scope, username, fields, password)
    assert words in exc.value.errors[field]
    assert db.scalar("SELECT count(*) FROM users") == before
    assert _audit(db) == []


def test_the_last_admin_cannot_be_demoted_disabled_or_deleted(db, admin_scope):
    admin = _row(db, "admin")
    for change in (lambda: user_admin.update(db, admin_scope, admin["id"], admin["updated_at"], _fields("manager")),
                   lambda: user_admin.delete(db, admin_scope, admin["id"], admin["updated_at"], "admin")):
        with pytest.raises(user_admin.UserFormError) as exc:
            change()
        assert "own account" in str(exc.value) or "last active admin" in str(exc.value)
    # Another admin acting on the only admin: refused because it is the last one.
    other = user_admin.create(db, admin_scope, "ops", _fields("manager"), "a-long-password")[0]
    ops = Scope(role="admin", user_id=other["id"], actor="ops")
    for change in (lambda: user_admin.update(db, ops, admin["id"], admin["updated_at"], _fields("manager")),
                   lambda: user_admin.set_active(db, ops, admin["id"], admin["updated_at"], False),
                   lambda: user_admin.delete(db, ops, admin["id"], admin["updated_at"], "admin")):
        with pytest.raises(user_admin.UserFormError, match="last active admin"):
            change()
    assert users.find(db, "admin").role == "admin" and users.find(db, "admin").is_active
    # With a second admin, the first may be demoted.
    seen = _row(db, "ops")["updated_at"]
    user_admin.update(db, admin_scope, other["id"], seen, _fields("admin"))
    user_admin.update(db, ops, admin["id"], admin["updated_at"], _fields("manager"))
    assert users.find(db, "admin").role == "manager"


def test_a_stale_edit_is_refused_and_changes_nothing(db, admin_scope):
    target = _row(db, "manager")
    user_admin.update(db, admin_scope, target["id"], target["updated_at"], _fields("engineer"))
    with pytest.raises(user_admin.UserFormError, match="changed by someone else"):
        user_admin.update(db, admin_scope, target["id"], target["updated_at"], _fields("viewer"))
    assert users.find(db, "manager").role == "engineer"
    lines = [line for line in _audit(db) if line["target"] == "manager"]
    assert len(lines) == 1 and lines[0]["before"] == {"role": "manager"} and lines[0]["after"] == {"role": "engineer"}


def test_a_role_change_ends_the_users_sessions(db, admin_scope):
    target = users.find(db, "dealer1")
    sessions.start(db, target.id, "1.1.1.1", "x")
    row = _row(db, "dealer1")
    user_admin.update(db, admin_scope, row["id"], row["updated_at"], _fields("dealer", "DEL01"))
    assert db.scalar("SELECT count(*) FROM user_sessions WHERE user_id = :id", id=target.id) == 0
    assert users.find(db, "dealer1").dealer_id == db.scalar("SELECT id FROM dealers WHERE code = 'DEL01'")


def test_disable_reset_and_delete(db, admin_scope):
    row = _row(db, "engineer")
    token = sessions.start(db, row["id"], "1.1.1.1", "x")
    user_admin.set_active(db, admin_scope, row["id"], row["updated_at"], False)
    assert sessions.load(db, token, 60) is None and not users.find(db, "engineer").is_active
    row = _row(db, "engineer")
    shown = user_admin.reset_password(db, admin_scope, row["id"], row["updated_at"], None)
    assert passwords.verify(users.find(db, "engineer").password_hash, shown)
    row = _row(db, "engineer")
    with pytest.raises(user_admin.UserFormError) as exc:
        user_admin.delete(db, admin_scope, row["id"], row["updated_at"], "enginer")
    assert "Type engineer" in exc.value.errors["confirm"]
    assert user_admin.delete(db, admin_scope, row["id"], row["updated_at"], "engineer") == "engineer"
    assert users.find(db, "engineer") is None
    actions = [line["action"] for line in _audit(db) if line["target"] == "engineer"]
    assert actions == ["user.disable", "user.password_reset", "user.delete"]
    assert audit.history(db, "user", "engineer")[0]["action"] == "user.delete"


def test_a_user_named_on_alert_history_is_kept(db, admin_scope):
    manager = users.find(db, "manager")
    device = db.scalar("SELECT device_id FROM devices LIMIT 1")
    alert_id = db.returning("""INSERT INTO alerts (device_id, alert_type, severity, message, first_seen_at, last_seen_at)
                               VALUES (:d, 'low_soc', 'warning', 'x', now(), now()) RETURNING id""", d=device)
    db.execute("INSERT INTO alert_events (alert_id, event, user_id) VALUES (:a, 'acknowledged', :u)",
               a=alert_id, u=manager.id)
    row = _row(db, "manager")
    with pytest.raises(user_admin.UserFormError, match="Disable the account instead"):
        user_admin.delete(db, admin_scope, row["id"], row["updated_at"], "manager")
    assert users.find(db, "manager") is not None


def test_change_own_password_keeps_this_session_only(db, admin_scope):
    me = users.find(db, "viewer")
    scope = Scope(role="viewer", user_id=me.id, actor="viewer")
    mine, other = sessions.start(db, me.id, "a", "b"), sessions.start(db, me.id, "c", "d")
    with pytest.raises(user_admin.UserFormError) as exc:
        user_admin.change_own_password(db, scope, "wrong", "new-password-1", "new-password-2")
    assert set(exc.value.errors) == {"current", "repeat"}
    with pytest.raises(user_admin.UserFormError) as exc:
        user_admin.change_own_password(db, scope, "demo", "short", "short")
    assert "at least 8" in exc.value.errors["new"]
    user_admin.change_own_password(db, scope, "demo", "new-password-1", "new-password-1", session_token=mine)
    assert passwords.verify(users.find(db, "viewer").password_hash, "new-password-1")
    assert sessions.load(db, mine, 60) is not None and sessions.load(db, other, 60) is None
    assert _audit(db)[-1]["action"] == "user.password_change"
