"""Settings from the environment: the only module that reads ``os.environ``.

A bad setting stops the process with one readable line (``ConfigError``), never a traceback.
Every setting is documented in the README's configuration table; keep the two in step.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent

# Secrets shorter than this, or in this list, are refused outside demo mode.
MIN_SECRET_KEY_LENGTH = 32
WEAK_SECRET_KEYS = {"dev", "secret", "changeme", "change-me", "demo", "test"}


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line meant for an operator."""


def _flag(env: dict, name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _number(env: dict, name: str, default, kind=int, minimum=None, maximum=None):
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a {'whole ' if kind is int else ''}number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {raw!r}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, got {raw!r}")
    return value


def _choice(env: dict, name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = (env.get(name) or default).strip().lower()
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def _frame_ancestors(raw: str | None) -> str:
    """Who may show the app in a frame: 'self' (default), 'none', or space-separated https origins."""
    value = (raw or "").strip()
    if not value or value.lower() in ("self", "'self'"):
        return "'self'"
    if value.lower() in ("none", "'none'"):
        return "'none'"
    origins = value.split()
    for origin in origins:
        parsed = urlparse(origin)
        if parsed.scheme not in ("https", "http") or not parsed.netloc or parsed.path not in ("", "/") or ";" in origin:
            raise ConfigError(f"FRAME_ANCESTORS must be self, none or origins like https://wall.example.com, got {origin!r}")
    return " ".join(["'self'", *origins])


# MAP_TILE_URL values that mean "no tiles": the maps draw only the offline basemap.
NO_TILES = {"none", "off"}
DEFAULT_TILE_URL = "https://{s}.basemaps.cartocdn.com/dark_all/{z}/{x}/{y}{r}.png"


def _http_url(env: dict, name: str) -> str:
    """An http(s) URL or nothing: a typo here would otherwise fail only at the first alert."""
    value = (env.get(name) or "").strip()
    if value and not value.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must be an http:// or https:// URL, got {value[:40]!r}")
    return value


def _clock(env: dict, name: str, default: str) -> tuple[int, int]:
    """A time of day as HH:MM (IST), e.g. when the daily report goes out."""
    value = (env.get(name) or default).strip()
    try:
        hour, minute = (int(part) for part in value.split(":"))
    except ValueError:
        hour = minute = -1
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ConfigError(f"{name} must be a time of day as HH:MM (IST), got {value[:20]!r}")
    return hour, minute


def _tile_url(env: dict) -> str:
    """The tile URL template; empty for MAP_TILE_URL=none (a control room with no internet)."""
    raw = (env.get("MAP_TILE_URL") or "").strip()
    if raw.lower() in NO_TILES:
        return ""
    return raw or DEFAULT_TILE_URL


@dataclass(frozen=True)
class Settings:
    demo_mode: bool
    secret_key: str
    database_url: str | None
    test_database_url: str | None
    data_dir: Path
    storage_mode: str
    retention_days: int
    host: str
    port: int
    log_level: str
    map_tile_url: str
    map_attribution: str
    ingest_interval_seconds: int
    ingest_lookback_hours: int
    demo_history_days: float
    intellicar_base_url: str
    intellicar_username: str
    intellicar_password: str
    intellicar_calls_per_second: float
    intellicar_min_interval_ms: int
    intellicar_concurrency: int
    intellicar_timeout_seconds: float
    login_max_failures: int
    login_lockout_minutes: int
    intellicar_retries: int
    history_window_hours: int
    alert_webhook_url: str
    smtp_host: str
    smtp_port: int
    smtp_username: str
    smtp_password: str
    smtp_from: str
    alert_email_to: str
    notify_max_attempts: int
    alert_webhook_secret: str
    escalation_webhook_url: str
    escalation_email_to: str
    alert_flood_limit: int
    tariff_inr_per_kwh: float
    alert_escalation_minutes: int
    alert_reminder_minutes: int
    public_url: str
    session_idle_minutes: int
    cookie_secure: bool
    frame_ancestors: str
    eol_soh: float
    health_report_time: tuple[int, int]
    import_max_bytes: int

    @property
    def embedded_database(self) -> bool:
        return not self.database_url


def load(env: dict | None = None) -> Settings:
    """Read and check every setting; raise ConfigError with one line on the first bad one."""
    env = dict(os.environ if env is None else env)
    demo = _flag(env, "DEMO_MODE", False)

    secret = env.get("SECRET_KEY", "")

    database_url = (env.get("DATABASE_URL") or "").strip() or None
    if database_url and not database_url.startswith(("postgresql", "postgres://")):
        raise ConfigError(f"DATABASE_URL must be a PostgreSQL URL (postgresql://...), got {database_url.split(':')[0]!r}")
    if database_url and database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url[len("postgres://"):]

    data_dir = Path(env.get("DATA_DIR") or ROOT / "var").resolve()

    return Settings(
        demo_mode=demo,
        secret_key=secret,
        database_url=database_url,
        test_database_url=(env.get("TEST_DATABASE_URL") or "").strip() or None,
        data_dir=data_dir,
        storage_mode=_choice(env, "STORAGE_MODE", "auto", ("auto", "timescaledb", "postgres")),
        retention_days=_number(env, "RETENTION_DAYS", 180, minimum=1),
        host=env.get("HOST") or "127.0.0.1",
        port=_number(env, "PORT", 8050, minimum=1, maximum=65535),
        log_level=_choice(env, "LOG_LEVEL", "info", ("debug", "info", "warning", "error")),
        map_tile_url=_tile_url(env),
        map_attribution=env.get("MAP_ATTRIBUTION") or "&copy; OpenStreetMap contributors &copy; CARTO",
        ingest_interval_seconds=_number(env, "INGEST_INTERVAL_SECONDS", 300, minimum=5),
        ingest_lookback_hours=_number(env, "INGEST_LOOKBACK_HOURS", 48, minimum=1),
        demo_history_days=_number(env, "DEMO_HISTORY_DAYS", 15.0, kind=float, minimum=0, maximum=90),
        intellicar_base_url=(env.get("INTELLICAR_BASE_URL") or "https://apiplatform.intellicar.in/api/standard").rstrip("/"),
        intellicar_username=env.get("INTELLICAR_USERNAME") or "",
        intellicar_password=env.get("INTELLICAR_PASSWORD") or "",
        intellicar_calls_per_second=_number(env, "INTELLICAR_CALLS_PER_SECOND", 3.0, kind=float, minimum=0.01),
        intellicar_min_interval_ms=_number(env, "INTELLICAR_MIN_INTERVAL_MS", 400, minimum=0),
        intellicar_concurrency=_number(env, "INTELLICAR_CONCURRENCY", 2, minimum=1, maximum=64),
        intellicar_timeout_seconds=_number(env, "INTELLICAR_TIMEOUT_SECONDS", 30.0, kind=float, minimum=1),
        login_max_failures=_number(env, "LOGIN_MAX_FAILURES", 5, minimum=1),
        login_lockout_minutes=_number(env, "LOGIN_LOCKOUT_MINUTES", 15, minimum=1),
        intellicar_retries=_number(env, "INTELLICAR_RETRIES", 5, minimum=0, maximum=20),
        history_window_hours=_number(env, "INTELLICAR_HISTORY_WINDOW_HOURS", 6, minimum=1, maximum=24),
        alert_webhook_url=_http_url(env, "ALERT_WEBHOOK_URL"),
        smtp_host=(env.get("SMTP_HOST") or "").strip(),
        smtp_port=_number(env, "SMTP_PORT", 587, minimum=1, maximum=65535),
        smtp_username=env.get("SMTP_USERNAME") or "",
        smtp_password=env.get("SMTP_PASSWORD") or "",
        smtp_from=env.get("SMTP_FROM") or "alerts@battery-fleet.local",
        alert_email_to=(env.get("ALERT_EMAIL_TO") or "").strip(),
        notify_max_attempts=_number(env, "NOTIFY_MAX_ATTEMPTS", 8, minimum=1),
        alert_webhook_secret=env.get("ALERT_WEBHOOK_SECRET") or "",
        escalation_webhook_url=_http_url(env, "ESCALATION_WEBHOOK_URL"),
        escalation_email_to=(env.get("ESCALATION_EMAIL_TO") or "").strip(),
        alert_flood_limit=_number(env, "ALERT_FLOOD_LIMIT", 20, minimum=1),
        tariff_inr_per_kwh=_number(env, "TARIFF_INR_PER_KWH", 8.0, kind=float, minimum=0, maximum=1000),
        alert_escalation_minutes=_number(env, "ALERT_ESCALATION_MINUTES", 30, minimum=1),
        eol_soh=_number(env, "EOL_SOH", 80.0, kind=float, minimum=50, maximum=95),
        health_report_time=_clock(env, "HEALTH_REPORT_TIME", "08:00"),
        import_max_bytes=_number(env, "IMPORT_MAX_BYTES", 5_000_000, minimum=1_000, maximum=200_000_000),
        alert_reminder_minutes=_number(env, "ALERT_REMINDER_MINUTES", 60, minimum=1),
        public_url=_http_url(env, "PUBLIC_URL"),
        session_idle_minutes=_number(env, "SESSION_IDLE_MINUTES", 720, minimum=5, maximum=60 * 24 * 30),
        cookie_secure=_flag(env, "COOKIE_SECURE", False),
        frame_ancestors=_frame_ancestors(env.get("FRAME_ANCESTORS")),
    )


def check_secret_key(settings: Settings) -> None:
    """The web app's own check: outside demo mode it needs a strong SECRET_KEY to sign sessions."""
    if settings.demo_mode:
        return
    secret = settings.secret_key
    if not secret:
        raise ConfigError("SECRET_KEY is required outside demo mode (set DEMO_MODE=1 for the demo)")
    if len(secret) < MIN_SECRET_KEY_LENGTH or secret.lower() in WEAK_SECRET_KEYS:
        raise ConfigError(
            f"SECRET_KEY is too weak: use at least {MIN_SECRET_KEY_LENGTH} random characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )


_settings: Settings | None = None


def get() -> Settings:
    """The process's settings, read once."""
    global _settings
    if _settings is None:
        _settings = load()
    return _settings


def reset() -> None:
    """Forget the cached settings (tests and the demo launcher change the environment)."""
    global _settings
    _settings = None


def set_env(name: str, value: str) -> None:
    """Set a variable for this process and its children; the launcher's one way to pass settings on."""
    os.environ[name] = value
    reset()
