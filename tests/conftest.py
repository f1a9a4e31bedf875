"""Fixtures: a real PostgreSQL (the embedded one, or TEST_DATABASE_URL), migrated per storage mode.

The suite makes its own databases on that server (bfm_test_<mode>), so it never touches the
demo's data. With TEST_DATABASE_URL pointing at a TimescaleDB server, every data test runs in
both modes; without it, TimescaleDB tests skip and say why.
"""
from __future__ import annotations

import os
import socket
from datetime import timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"

# The app module builds itself at import: give it demo mode and the test database first.
os.environ["DEMO_MODE"] = "1"
os.environ.pop("SECRET_KEY", None)
# This machine has no internet: one transparent tile for every map tile, so the browser logs no
# failed requests (and the tests never depend on a tile server).
os.environ["MAP_TILE_URL"] = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNk"
                              "YAAAAAYAAjCB0C8AAAAASUVORK5CYII=")

import config  # noqa: E402
from data import db as database  # noqa: E402
from data import demo, embedded, migrate, storage  # noqa: E402

# Two suites on one server (parallel development runs) must not drop each other's databases.
DB_SUFFIX = "".join(ch for ch in os.environ.get("TEST_DB_SUFFIX", "") if ch.isalnum() or ch == "_")[:20]

TIMESCALE_SKIP = ("TimescaleDB not available: set TEST_DATABASE_URL to a PostgreSQL server with the "
                  "timescaledb extension preloaded to run these tests")


def _server_url() -> str:
    settings = config.get()
    if settings.test_database_url:
        return database.resolve_url(config.load({"DATABASE_URL": settings.test_database_url, "DEMO_MODE": "1"}))
    return embedded.url(settings.data_dir)


def _fresh_database(name: str, mode: str) -> str:
    return migrated(database.ensure_database(_server_url(), name, drop_first=True), mode)


def migrated(url: str, mode: str) -> str:
    """Migrate the database at ``url`` to head in storage ``mode``; returns the URL."""
    os.environ["STORAGE_MODE"] = mode
    config.reset()
    try:
        migrate.upgrade(url)
    finally:
        os.environ.pop("STORAGE_MODE", None)
        config.reset()
    return url


@pytest.fixture(scope="session")
def server_url() -> str:
    return _server_url()


@pytest.fixture(scope="session")
def timescale_available(server_url) -> bool:
    db = database.Database(server_url)
    try:
        with db.connect() as conn:
            return storage.timescaledb_available(conn)
    finally:
        db.dispose()


def _mode_db(request, mode: str, timescale_available: bool):
    if mode == storage.TIMESCALEDB and not timescale_available:
        pytest.skip(TIMESCALE_SKIP)
    url = _fresh_database(f"bfm_test_{mode}{DB_SUFFIX}", mode)
    db = database.Database(url)
    request.addfinalizer(db.dispose)
    assert db.storage_mode == mode
    return db


@pytest.fixture(params=[storage.POSTGRES, storage.TIMESCALEDB], ids=["postgres", "timescaledb"])
def any_db(request, timescale_available) -> database.Database:
    """A freshly migrated database, once per storage mode: data tests run in both."""
    return _mode_db(request, request.param, timescale_available)


@pytest.fixture
def plain_db(request, timescale_available) -> database.Database:
    return _mode_db(request, storage.POSTGRES, timescale_available)


@pytest.fixture
def timescale_db(request, timescale_available) -> database.Database:
    return _mode_db(request, storage.TIMESCALEDB, timescale_available)


APP_FLEET = 40


def _seed_alerts(db: database.Database, vehicles) -> None:
    """Open alerts on the first devices of each dealer: the feeds and pins need some."""
    from datetime import datetime, timezone

    from data import alerts

    now = datetime.now(timezone.utc)
    with db.transaction() as conn:
        for i, v in enumerate(vehicles[:8]):
            kind, severity = (("high_temp", "critical") if i % 2 else ("overcurrent", "warning"))
            alerts.raise_alert(conn, device_id=v.device_id, alert_type=kind, severity=severity,
                               message=f"{kind.replace('_', ' ')} on {v.vehicle_number}", value=61.0,
                               threshold=55.0, at=now, count=1, channels=())


@pytest.fixture(scope="session")
def app_db(timescale_available) -> database.Database:
    """The database behind the web app under test: migrated, the demo fleet and users, three days of
    simulated history (through the real parser and writer) and a few open alerts."""
    from ingest import history

    mode = storage.TIMESCALEDB if timescale_available else storage.POSTGRES
    url = _fresh_database(f"bfm_test_app{DB_SUFFIX}", mode)
    db = database.Database(url)
    vehicles = demo.fleet(size=APP_FLEET)
    demo.seed_registry(db, vehicles)
    demo.seed_users(db)
    plan = history.demo_plan(3, full_hours=2)
    history.seed(db, vehicles, plan)
    if mode == storage.TIMESCALEDB:  # continuous aggregates: make the seeded days part of them now
        from data import rollups
        rollups.refresh_range(db, plan.start - timedelta(days=1), plan.now + timedelta(hours=1))
    _seed_alerts(db, vehicles)
    os.environ["DATABASE_URL"] = url
    config.reset()
    database.use(db)
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def dash_app(app_db):
    import app as app_module

    return app_module.app


@pytest.fixture
def client(dash_app, app_db):
    app_db.execute("DELETE FROM login_failures")
    return dash_app.server.test_client()


def login(client, username: str, password: str = "demo"):
    """Sign in through the real form (CSRF token included); returns the response."""
    page = client.get("/login")
    token = page.get_data(as_text=True).split('name="csrf" value="')[1].split('"')[0]
    return client.post("/login", data={"csrf": token, "username": username, "password": password})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pytest_setup_options():
    """Chromium flags for dash[testing]: headless as root, and no calls to Google's services
    (this machine's network is closed, and each refused connection is noise in the console log)."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
    for flag in ("--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1600,1000"):
        options.add_argument(flag)
    return options


@pytest.fixture
def signed_in(dash_duo, dash_app, app_db):
    """A browser signed in through the real login form; call it with a username."""
    app_db.execute("DELETE FROM login_failures")
    # navigate=False: Dash's runner would wait for its page at "/", which redirects us to /login.
    dash_duo.start_server(dash_app, navigate=False, port=free_port())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def sign_in(username: str, password: str = "demo"):
        dash_duo.driver.delete_all_cookies()
        dash_duo.driver.get(dash_duo.server.url + "/login")
        dash_duo.wait_for_element("#username").send_keys(username)
        dash_duo.find_element("#password").send_keys(password)
        dash_duo.find_element("#login-submit").click()
        if password == "demo":  # wait until signed in: navigating earlier races the sign-in request
            dash_duo.wait_for_element("#logout-link, .login-error", timeout=20)
        return dash_duo

    return sign_in


@pytest.fixture
def restore_alerts(app_db):
    """Alert rules, their change history and alerts as they were before the test: the app database is
    shared by every module."""
    rules = app_db.query("SELECT * FROM alert_rules")
    last_change = app_db.scalar("SELECT coalesce(max(id), 0) FROM alert_rule_changes")
    last_alert = app_db.scalar("SELECT coalesce(max(id), 0) FROM alerts")
    last_event = app_db.scalar("SELECT coalesce(max(id), 0) FROM alert_events")
    kept = app_db.query("""SELECT id, status, acknowledged_at, acknowledged_by, resolved_at, resolved_by, owner_id,
                                  occurrence_count, last_seen_at, reading_value, message, escalated_at, reminded_at
                           FROM alerts""")
    yield
    for r in rules:
        app_db.execute("""UPDATE alert_rules SET enabled = :enabled, threshold = :threshold, severity = :severity,
                                 duration_minutes = :duration_minutes, clear_threshold = :clear_threshold,
                                 notify = :notify, updated_at = :updated_at, updated_by = :updated_by
                          WHERE alert_type = :alert_type""", **{k: r[k] for k in (
            "enabled", "threshold", "severity", "duration_minutes", "clear_threshold", "notify", "updated_at",
            "updated_by", "alert_type")})
    app_db.execute("DELETE FROM alert_rule_changes WHERE id > :id", id=last_change)
    app_db.execute("DELETE FROM alerts WHERE id > :id", id=last_alert)
    for a in kept:  # a worker cycle or a click may have resolved or acknowledged the seeded ones
        app_db.execute("""UPDATE alerts SET status = :status, acknowledged_at = :acknowledged_at,
                                 acknowledged_by = :acknowledged_by, resolved_at = :resolved_at,
                                 resolved_by = :resolved_by, owner_id = :owner_id, occurrence_count = :occurrence_count,
                                 last_seen_at = :last_seen_at, reading_value = :reading_value, message = :message,
                                 escalated_at = :escalated_at, reminded_at = :reminded_at WHERE id = :id""", **a)
    app_db.execute("DELETE FROM alert_events WHERE id > :id AND alert_id <= :alert", id=last_event, alert=last_alert)


# -- the browser tests' module-wide browser ---------------------------------------------------
class Session:
    """The module's browser, signed in as one role at a time."""

    def __init__(self, duo, app_db):
        self.duo, self.app_db, self.role = duo, app_db, None

    def sign_in(self, role: str):
        if role == self.role:
            return self.duo
        self.app_db.execute("DELETE FROM login_failures")
        driver = self.duo.driver
        driver.delete_all_cookies()
        driver.get(self.duo.server.url + "/login")
        self.duo.wait_for_element("#username").send_keys(role)
        self.duo.find_element("#password").send_keys("demo")
        self.duo.find_element("#login-submit").click()
        self.duo.wait_for_element(".topbar", timeout=15)
        self.role = role
        return self.duo

    def sign_out(self):
        self.duo.driver.delete_all_cookies()
        self.role = None
        return self.duo


@pytest.fixture(scope="module")
def session(request, dash_app, app_db, tmp_path_factory):
    """One app server and one headless Chromium per browser-test module (one per test would triple the time)."""
    from dash.testing.application_runners import ThreadedRunner
    from dash.testing.composite import DashComposite

    options = request.config
    chrome = options.hook.pytest_setup_options()  # a list: one Options per conftest that sets it
    with ThreadedRunner() as server, DashComposite(
        server=server,
        browser=options.getoption("webdriver"),
        remote=options.getoption("remote"),
        remote_url=options.getoption("remote_url"),
        headless=options.getoption("headless"),
        options=chrome,
        download_path=str(tmp_path_factory.mktemp("download")),
        percy_assets_root=options.getoption("percy_assets"),
        percy_finalize=options.getoption("nopercyfinalize"),
    ) as duo:
        # navigate=False: Dash's runner would wait for its page at "/", which redirects to /login.
        duo.start_server(dash_app, navigate=False, port=free_port())
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        yield Session(duo, app_db)
