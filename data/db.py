"""The database object: every SQL call of the product goes through one ``Database``.

Queries are plain SQL text with named parameters (``:name``); results come back as lists of
dicts or DataFrames. Connection failures become ``DatabaseUnavailable`` with one readable line.
"""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import Any, Iterator

import pandas as pd
import psycopg2
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

import config
from data import embedded

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "bfm"


class DatabaseUnavailable(Exception):
    """The database cannot be reached; the message is one line for an operator."""


class InvalidQueryInput(ValueError):
    """The database refused a value (NUL in text, an integer out of range): the caller's input is bad."""


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable DATABASE_URL>"


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


class Database:
    """One engine and the handful of ways the product talks to it."""

    def __init__(self, url: str, *, pool_size: int = 5, echo: bool = False):
        self.url = url
        self.engine: Engine = sa.create_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            echo=echo,
            connect_args={"connect_timeout": 10, "application_name": "battery-fleet-monitor"},
        )
        self._storage_mode: str | None = None

    # -- health -----------------------------------------------------------------------------
    def check(self) -> None:
        """Connect once; raise DatabaseUnavailable with one line if the server is not there."""
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except sa.exc.DBAPIError as exc:
            raise DatabaseUnavailable(f"cannot reach the database at {redact(self.url)}: {_first_line(exc)}") from None

    # -- reads ------------------------------------------------------------------------------
    def query(self, sql: str, **params: Any) -> list[dict]:
        with self.connect() as conn:
            return [dict(r) for r in conn.execute(sa.text(sql), params).mappings()]

    def one(self, sql: str, **params: Any) -> dict | None:
        rows = self.query(sql, **params)
        return rows[0] if rows else None

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()

    def frame(self, sql: str, **params: Any) -> pd.DataFrame:
        with self.connect() as conn:
            result = conn.execute(sa.text(sql), params)
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))

    def columns(self, sql: str, **params: Any) -> dict[str, list]:
        """Column-wise rows straight from the driver, for the few wide reads (the fleet map at
        22,000 devices) where SQLAlchemy's per-row processing would cost more than the query."""
        statement = str(sa.text(sql).compile(dialect=self.engine.dialect))
        with self.raw() as conn, conn.cursor() as cur:
            cur.execute(statement, params)
            names = [d[0] for d in cur.description]
            rows = cur.fetchall()
        return {name: list(values) for name, values in zip(names, zip(*rows))} if rows else {n: [] for n in names}

    # -- writes -----------------------------------------------------------------------------
    def execute(self, sql: str, **params: Any) -> int:
        with self.transaction() as conn:
            return conn.execute(sa.text(sql), params).rowcount

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.OperationalError as exc:
            raise DatabaseUnavailable(f"database error at {redact(self.url)}: {_first_line(exc)}") from exc

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except sa.exc.OperationalError as exc:
            raise DatabaseUnavailable(f"database error at {redact(self.url)}: {_first_line(exc)}") from exc

    @contextmanager
    def raw(self) -> Iterator[Any]:
        """A DB-API (psycopg2) connection in a transaction, for COPY."""
        try:
            conn = self.engine.raw_connection()
        except sa.exc.DBAPIError as exc:
            raise DatabaseUnavailable(f"cannot reach the database at {redact(self.url)}: {_first_line(exc)}") from None
        try:
            yield conn.driver_connection
            conn.commit()
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            conn.invalidate()  # the server went away: this connection must not return to the pool
            raise DatabaseUnavailable(f"database error at {redact(self.url)}: {_first_line(exc)}") from exc
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()

    # -- storage mode -------------------------------------------------------------------------
    @property
    def storage_mode(self) -> str:
        """'timescaledb' or 'postgres', as chosen when the schema was migrated."""
        if self._storage_mode is None:
            self._storage_mode = self.scalar("SELECT value FROM app_meta WHERE key = 'storage_mode'") or "postgres"
        return self._storage_mode

    def dispose(self) -> None:
        self.engine.dispose()


def text(sql: str) -> sa.TextClause:
    """A SQL text clause, for code in data/ that runs statements on a Connection it was given."""
    return sa.text(sql)


def ensure_database(server_url: str, name: str, *, drop_first: bool = False) -> str:
    """Create database ``name`` on the server of ``server_url`` if missing; return its URL."""
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if drop_first:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.DBAPIError as exc:
        raise DatabaseUnavailable(f"cannot reach the database at {redact(server_url)}: {_first_line(exc)}") from None
    finally:
        admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def resolve_url(settings: config.Settings | None = None) -> str:
    """DATABASE_URL, or the embedded server's database (started or attached to)."""
    settings = settings or config.get()
    if settings.database_url:
        url = make_url(settings.database_url)
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg2")
        return url.render_as_string(hide_password=False)
    try:
        server = embedded.url(settings.data_dir)
    except embedded.EmbeddedServerError as exc:
        raise DatabaseUnavailable(str(exc)) from None
    return ensure_database(server, EMBEDDED_DATABASE)


_default: Database | None = None
_lock = threading.Lock()


def get_db() -> Database:
    """The process's database, created on first use."""
    global _default
    with _lock:
        if _default is None:
            _default = Database(resolve_url())
        return _default


def use(db: Database | None) -> None:
    """Make ``db`` the process's database (tests, the launcher after migrating)."""
    global _default
    with _lock:
        _default = db
