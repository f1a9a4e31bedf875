"""The web app: ``create_app()`` wires settings, database, auth, pages and CLI; nothing else.

gunicorn serves ``app:server``; ``flask --app app users ...`` manages users.
"""
from __future__ import annotations

import logging
import secrets
import sys

import dash
from dash import Dash
from flask import Flask
from flask_login import current_user

import api
import auth
import cli
import config
import downloads
import security
from components.search import create_search_box
from components import shell
from data.db import Database, DatabaseUnavailable, get_db

log = logging.getLogger(__name__)


def _session_secret(settings: config.Settings) -> str:
    """The configured key, or in demo mode one kept beside the embedded data (sessions survive restarts)."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "demo_secret_key"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _nav_links(role: str) -> list[tuple[str, str]]:
    pages = sorted((p for p in dash.page_registry.values() if "nav_order" in p), key=lambda p: p["nav_order"])
    return [(p["name"], p["path"]) for p in pages if role in p.get("roles", auth.ROLE_RANK)]


def serve_layout():
    """Built per page load, for the logged-in user: the nav shows only what the role may open."""
    if not current_user or not current_user.is_authenticated or current_user.user is None:
        # Dash's start-up validation, on the app's first request: anonymous, or an API key (no person)
        return shell.create_shell([], None)
    user = current_user.user
    badge = shell.create_user_badge(user.display_name or user.username, user.role, user.dealer_name)
    return shell.create_shell(_nav_links(user.role), badge, search=create_search_box())


def create_app(db: Database | None = None) -> Dash:
    settings = config.get()
    config.check_secret_key(settings)
    db = db or get_db()
    db.check()

    server = Flask(__name__)
    server.config.update(
        SECRET_KEY=_session_secret(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,  # behind HTTPS: never send the cookie in clear
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=settings.cookie_secure,
    )
    auth.init(server, db, settings)
    api.init(server)  # /api/v1: the alert API (sessions or API keys, checked by the guard above)
    downloads.init(server)  # /download: claim evidence packs and fleet health reports (PDF, XLSX)
    cli.register(server, db)

    app = Dash(
        __name__,
        server=server,
        use_pages=True,
        title="Battery Fleet Monitor",
        update_title=None,
        suppress_callback_exceptions=True,
        compress=True,  # the map payload at 22,000 devices is mostly repeated keys: gzip takes it to a fifth
    )
    app.layout = serve_layout
    import pages._search  # noqa: F401  (the top bar's callbacks; pages/ with "_" are not pages themselves)
    import pages._live  # noqa: F401  (live toasts of every page's shell)
    import pages._alert_actions  # noqa: F401  (acknowledge / assign / resolve on /alerts and battery pages)
    import pages._alert_rules  # noqa: F401  (the thresholds section's callbacks, shown on /alerts to admins)
    security.init(app, settings)
    return app


def _build() -> Dash:
    logging.basicConfig(level=config.get().log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return create_app()
    except (config.ConfigError, DatabaseUnavailable) as exc:
        # One readable line and a non-zero exit: gunicorn and flask both stop here.
        print(f"battery-fleet-monitor: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


app = _build()
server = app.server
