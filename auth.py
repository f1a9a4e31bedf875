"""Who is logged in, and the guard in front of every route.

Flask-Login keeps the session; ``/login`` and ``/logout`` are plain Flask routes so that signing in
works before any Dash JavaScript loads. The guard answers 401 to anonymous requests for Dash's
endpoints and the API, and redirects anonymous page requests to ``/login``. Under ``/api/`` a request
may instead carry an API key (``Authorization: Bearer <key>``), which is its principal for that
request only; keys open nothing outside ``/api/``.
"""
from __future__ import annotations

import logging
import secrets
from urllib.parse import urlparse

from flask import Flask, Response, abort, g, jsonify, redirect, render_template_string, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

import config
from data import apikeys, passwords, sessions, users
from data.db import Database, DatabaseUnavailable
from data.scope import Scope

log = logging.getLogger(__name__)

# Reachable without a session: the login page itself and static files that hold no data.
PUBLIC_PREFIXES = ("/login", "/logout", "/healthz", "/assets/", "/_dash-component-suites/", "/_favicon.ico")
# Answer 401 rather than redirect: these are called by scripts, not navigated to.
API_PREFIXES = ("/_dash-", "/api/", "/_reload-hash")
# Where an API key (``Authorization: Bearer <key>``) signs a request in; everywhere else it is ignored.
KEY_PREFIXES = ("/api/",)

ROLE_RANK = {"viewer": 0, "dealer": 1, "manager": 2, "engineer": 2, "admin": 3}


def _address() -> str | None:
    """The client's address as the server saw it (behind a proxy, the proxy's unless it is trusted)."""
    try:
        return (request.remote_addr or "")[:64] or None
    except RuntimeError:  # outside a request (the CLI builds no SessionUser, but be safe)
        return None


class SessionUser(UserMixin):
    """The logged-in user as the web app sees it. Flask-Login keeps ``id`` in the signed cookie: it is
    the server-side session's token, not the user's id, so ending the session on the server ends it."""

    def __init__(self, user: users.User, token: str):
        self.user = user
        self.id = token

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def scope(self) -> Scope:
        dealer = self.user.dealer_id if self.user.role == "dealer" else None
        return Scope(role=self.user.role, user_id=self.user.id, dealer_id=dealer, actor=self.user.username,
                     address=_address())


class KeyPrincipal(UserMixin):
    """An API key as the principal of one request. It never enters the session: the next request
    must carry the key again."""

    user = None  # no person behind it: code that needs a user (the page shell) never runs under /api/

    def __init__(self, key: apikeys.ApiKey):
        self.key = key
        self.id = f"key:{key.id}"

    @property
    def role(self) -> str:
        return self.key.role

    @property
    def scope(self) -> Scope:
        dealer = self.key.dealer_id if self.key.role == "dealer" else None
        return Scope(role=self.key.role, user_id=None, dealer_id=dealer, api_key_id=self.key.id,
                     actor=f"key:{self.key.name}", address=_address())


def _api_unauthorized(error: str):
    response = jsonify(error=error)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _sign_in_key(db: Database):
    """Make the request's API key its principal, or answer 401. A request that names a key is the
    key's, whatever session cookie comes along: a script never acts as the browser's user, and a bad
    key is refused rather than silently replaced by the cookie."""
    scheme, _, key = (request.headers.get("Authorization") or "").partition(" ")
    found = apikeys.authenticate(db, key.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        return _api_unauthorized("invalid or revoked API key")
    g._login_user = KeyPrincipal(found)  # Flask-Login's user for this request only; the session is untouched
    return None


def current_scope() -> Scope:
    """The logged-in user's scope; aborts with 401 when nobody is. Every callback starts here."""
    if not current_user or not current_user.is_authenticated:
        abort(401)
    return current_user.scope


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect would hand our login page to a phishing site."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def init(server: Flask, db: Database, settings: config.Settings) -> None:
    manager = LoginManager()
    manager.init_app(server)
    manager.session_protection = "strong"

    @manager.user_loader
    def load_user(token: str):
        try:
            user = sessions.load(db, token, settings.session_idle_minutes)
        except DatabaseUnavailable:
            return None
        if user is None or not user.is_active or (user.is_demo and not settings.demo_mode):
            return None
        return SessionUser(user, token)

    @server.before_request
    def guard():
        path = request.path
        if path.startswith(PUBLIC_PREFIXES):
            return None
        if path.startswith(KEY_PREFIXES) and "Authorization" in request.headers:
            return _sign_in_key(db)
        if current_user.is_authenticated:
            return None
        if path.startswith(KEY_PREFIXES):
            return _api_unauthorized("authentication required")
        if path.startswith(API_PREFIXES):
            return jsonify(error="authentication required"), 401
        return redirect(url_for("login", next=request.full_path.rstrip("?")))

    @server.route("/healthz")
    def healthz():
        try:
            db.check()
        except DatabaseUnavailable as exc:
            return jsonify(status="unavailable", error=str(exc)), 503
        return jsonify(status="ok")

    @server.route("/login", methods=["GET", "POST"])
    def login():
        if request.method in ("GET", "HEAD"):  # uptime probes send HEAD: answer as to GET
            if current_user.is_authenticated:
                return redirect(_safe_next(request.args.get("next")))
            return _login_page(settings)
        return _attempt_login(db, settings)

    @server.route("/logout")
    def logout():
        if current_user.is_authenticated:
            sessions.end(db, current_user.get_id())
        logout_user()
        session.clear()
        return redirect(url_for("login"))

    @server.errorhandler(DatabaseUnavailable)
    def database_down(exc):
        log.error("%s", exc)
        return Response("The database is unavailable right now; try again in a minute.", 503)


def _attempt_login(db: Database, settings: config.Settings):
    expected, sent = session.get("login_csrf") or "", request.form.get("csrf") or ""
    if not expected or not secrets.compare_digest(expected, sent):
        return _login_page(settings, "Your sign-in form expired; please try again.", 400)
    username = (request.form.get("username") or "").strip().lower()
    password = request.form.get("password") or ""
    addr = request.remote_addr
    if users.recent_failures(db, username, addr, settings.login_lockout_minutes) >= settings.login_max_failures:
        log.warning("login throttled for %r from %s", username, addr)
        return _login_page(settings, f"Too many failed sign-ins. Try again in {settings.login_lockout_minutes} "
                                     "minutes.", 429)
    user = users.find(db, username) if username else None
    if user is None or not passwords.verify(user.password_hash, password):
        users.record_failure(db, username, addr)
        return _login_page(settings, "Wrong username or password.", 401)
    if not user.is_active:
        return _login_page(settings, "This account is disabled; ask an administrator.", 403)
    if user.is_demo and not settings.demo_mode:
        return _login_page(settings, "Demo accounts work only in demo mode.", 403)
    users.clear_failures(db, username)
    users.record_login(db, user.id)
    sessions.purge_idle(db, settings.session_idle_minutes)
    token = sessions.start(db, user.id, addr, request.user_agent.string)
    session.clear()  # a fresh session on sign-in, so a planted session id is worthless
    login_user(SessionUser(user, token))
    return redirect(_safe_next(request.args.get("next")))


def _login_page(settings: config.Settings, error: str | None = None, status: int = 200):
    session["login_csrf"] = session.get("login_csrf") or secrets.token_urlsafe(24)
    html = render_template_string(LOGIN_TEMPLATE, error=error, csrf=session["login_csrf"],
                                  demo=settings.demo_mode, next=request.args.get("next", ""))
    return Response(html, status=status)


LOGIN_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Battery Fleet Monitor</title><link rel="stylesheet" href="/assets/login.css"></head>
<body class="login-body"><main class="login-card">
<h1>Battery Fleet Monitor</h1><p class="login-sub">Sign in to the fleet dashboard</p>
{% if error %}<p class="login-error" role="alert">{{ error }}</p>{% endif %}
<form method="post" action="/login{% if next %}?next={{ next|urlencode }}{% endif %}">
<input type="hidden" name="csrf" value="{{ csrf }}">
<label for="username">Username</label><input id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button id="login-submit" type="submit">Sign in</button></form>
{% if demo %}<p class="login-demo">Demo mode: admin, manager, engineer, viewer, dealer1, dealer2 — password <code>demo</code></p>{% endif %}
</main></body></html>"""
