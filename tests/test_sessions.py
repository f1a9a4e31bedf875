"""Sessions end on the server: a copied cookie is worthless after sign-out, a password change,
disabling the user, or the idle limit. And every response carries the security headers."""
from __future__ import annotations

import pytest

import config
from conftest import login
from data import users

PROBES = ("/_dash-layout", "/_dash-dependencies")
KPI_CALL = {"output": "overview-kpis.children", "outputs": {"id": "overview-kpis", "property": "children"},
            "inputs": [{"id": "overview-refresh", "property": "n_intervals", "value": 1},
                       {"id": "overview-dealer", "property": "value", "value": None},
                       {"id": "overview-city", "property": "value", "value": None},
                       {"id": "overview-status", "property": "value", "value": None}],
            "changedPropIds": ["overview-refresh.n_intervals"]}


def _status(client) -> list[int]:
    return [client.get(p).status_code for p in PROBES] + [client.post("/_dash-update-component", json=KPI_CALL).status_code]


@pytest.fixture
def session_user(app_db):
    """A user of its own, so ending its sessions does not touch the demo logins other tests use."""
    app_db.execute("DELETE FROM user_sessions WHERE user_id IN (SELECT id FROM users WHERE username = 'sess_user')")
    app_db.execute("DELETE FROM users WHERE username = 'sess_user'")
    users.create(app_db, "sess_user", "correct horse battery staple 1", "manager")
    yield "sess_user"
    app_db.execute("DELETE FROM users WHERE username = 'sess_user'")


def _login(client, username):
    page = client.get("/login")
    token = page.get_data(as_text=True).split('name="csrf" value="')[1].split('"')[0]
    return client.post("/login", data={"csrf": token, "username": username,
                                        "password": "correct horse battery staple 1"})


def _copy_own_session(dash_app, username):
    owner = dash_app.server.test_client()
    assert _login(owner, username).status_code == 302
    thief = dash_app.server.test_client()
    cookie = owner.get_cookie("session")
    thief.set_cookie("session", cookie.value, domain=cookie.domain or "localhost")
    return owner, thief


def test_copied_cookie_works_until_sign_out_then_401(dash_app, app_db, session_user):
    owner, thief = _copy_own_session(dash_app, session_user)
    assert _status(thief) == [200, 200, 200]  # the copy is as good as the original: the check below can fail
    owner.get("/logout")
    assert _status(thief) == [401, 401, 401]
    assert _status(owner) == [401, 401, 401]


def test_sign_out_ends_only_that_session(dash_app, app_db, session_user):
    wall, desk = dash_app.server.test_client(), dash_app.server.test_client()
    assert _login(wall, session_user).status_code == 302
    assert _login(desk, session_user).status_code == 302
    desk.get("/logout")
    assert _status(wall) == [200, 200, 200]  # the control room's wall stays signed in


def test_password_change_ends_every_session(dash_app, app_db, session_user):
    owner, thief = _copy_own_session(dash_app, session_user)
    users.set_password(app_db, session_user, "another horse battery staple 2")
    assert _status(thief) == [401, 401, 401]
    assert _status(owner) == [401, 401, 401]


def test_disabling_the_user_ends_every_session(dash_app, app_db, session_user):
    owner, thief = _copy_own_session(dash_app, session_user)
    users.set_active(app_db, session_user, False)
    assert _status(thief) == [401, 401, 401]
    users.set_active(app_db, session_user, True)  # enabling again does not bring an old session back
    assert _status(thief) == [401, 401, 401]


def test_idle_session_expires(dash_app, app_db, session_user):
    owner, _ = _copy_own_session(dash_app, session_user)
    assert _status(owner) == [200, 200, 200]
    idle = config.get().session_idle_minutes
    app_db.execute("""UPDATE user_sessions SET last_seen_at = now() - make_interval(mins => :m)
                      WHERE user_id = (SELECT id FROM users WHERE username = :u)""", m=idle + 1, u=session_user)
    assert _status(owner) == [401, 401, 401]


def test_use_keeps_a_session_alive(dash_app, app_db, session_user):
    owner, _ = _copy_own_session(dash_app, session_user)
    idle = config.get().session_idle_minutes
    app_db.execute("""UPDATE user_sessions SET last_seen_at = now() - make_interval(mins => :m)
                      WHERE user_id = (SELECT id FROM users WHERE username = :u)""", m=idle - 1, u=session_user)
    assert _status(owner) == [200, 200, 200]
    fresh = app_db.scalar("""SELECT last_seen_at > now() - interval '1 minute' FROM user_sessions
                             WHERE user_id = (SELECT id FROM users WHERE username = :u)""", u=session_user)
    assert fresh


def test_only_a_hash_of_the_token_is_stored(dash_app, app_db, session_user):
    owner, _ = _copy_own_session(dash_app, session_user)
    stored = app_db.scalar("SELECT token_hash FROM user_sessions WHERE user_id = (SELECT id FROM users "
                           "WHERE username = :u)", u=session_user)
    assert len(stored) == 64 and stored not in owner.get_cookie("session").value


@pytest.mark.parametrize("path", ["/login", "/", "/_dash-layout", "/assets/app.css", "/healthz", "/nope"])
def test_security_headers_on_every_response(dash_app, path):
    client = dash_app.server.test_client()
    login(client, "viewer")
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp
    assert "'unsafe-eval'" not in csp and "script-src 'self'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_dash_inline_scripts_are_allowed_by_hash(dash_app):
    """The page's inline scripts must match a hash in the policy, or the browser would refuse them."""
    import base64
    import hashlib
    import re

    client = dash_app.server.test_client()
    login(client, "viewer")
    response = client.get("/")
    html = re.sub(r"<!--.*?-->", "", response.get_data(as_text=True), flags=re.S)  # IE-only scripts never run
    scripts = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>", html, re.S)
    assert scripts
    csp = response.headers["Content-Security-Policy"]
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp, script[:80]


def test_cookie_secure_setting(app_db):
    """With COOKIE_SECURE=1 (served over HTTPS) the session cookie is marked Secure, and HSTS is sent."""
    import os
    import subprocess
    import sys

    from conftest import ROOT

    script = """
import app
client = app.server.test_client()
page = client.get('/login')
print(page.headers.get('Set-Cookie'))
print(page.headers.get('Strict-Transport-Security'))
"""
    env = dict(os.environ, COOKIE_SECURE="1")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    cookie, hsts = out.stdout.strip().splitlines()[-2:]
    assert "session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie, out.stderr[-500:]
    assert hsts.startswith("max-age=")
    client_cookie = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=dict(os.environ, COOKIE_SECURE="0"),
                                   capture_output=True, text=True, timeout=120).stdout.strip().splitlines()[-2]
    assert "Secure" not in client_cookie
