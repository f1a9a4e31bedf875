"""The database object: every SQL call of the product goes through one ``Database``.

Queries are plain SQL text with named parameters (``:name``); results come back as lists of
dicts or DataFrames. Every failure of the connection (the server down, restarting or dropping the
session, on connect, mid-statement, on commit, rollback or return to the pool) becomes
``DatabaseUnavailable`` with one readable line; a value the database refuses becomes
``InvalidQueryInput``. Anything else (a mistake in SQL) surfaces as itself.
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
    """The database cannot be reached or dropped the connection; the message is one line for an operator."""


class InvalidQueryInput(ValueError):
    """The database refused a value it was given (a NUL character in a string, a number out of its
    column's range): the caller's input is wrong, not the server, so the web layer answers 400."""


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable DATABASE_URL>"


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return " ".join(text.splitlines()[0].split()) if text else exc.__class__.__name__


# psycopg2 checks this itself and raises a plain ValueError before anything reaches the server.
_NUL_IN_STRING = "cannot contain NUL (0x00) characters"

# Failures of the connection rather than of the statement. The pool raises psycopg2's own errors
# unwrapped (a failed reconnect after pre-ping), so both layers are listed.
_UNAVAILABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DisconnectionError, sa.exc.TimeoutError,
                psycopg2.OperationalError, psycopg2.InterfaceError)
_REFUSED_VALUE = (sa.exc.DataError, psycopg2.DataError)


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

    # -- errors -----------------------------------------------------------------------------
    def _translated(self, exc: BaseException, doing: str) -> Exception | None:
        """The product's exception for a driver or pool failure; None for anything else, so a
        mistake in SQL (ProgrammingError, IntegrityError) still surfaces as itself."""
        if isinstance(exc, _REFUSED_VALUE) or (isinstance(exc, ValueError) and _NUL_IN_STRING in str(exc)):
            return InvalidQueryInput(f"the database refused a value: {_first_line(exc)}")
        dead = (isinstance(exc, _UNAVAILABLE)
                or (isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated)
                or (isinstance(exc, psycopg2.Error) and self.engine.dialect.is_disconnect(exc, None, None)))
        if dead:
            return DatabaseUnavailable(f"{doing} {redact(self.url)}: {_first_line(exc)}")
        return None

    @contextmanager
    def _failures_translated(self, doing: str = "database error at") -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            translated = self._translated(exc, doing)
            if translated is None:
                raise
            raise translated from exc

    def _open(self) -> Connection:
        with self._failures_translated("cannot reach the database at"):
            return self.engine.connect()

    # -- health -----------------------------------------------------------------------------
    def check(self) -> None:
        """Connect once; raise DatabaseUnavailable with one line if the server is not there."""
        with self._failures_translated("cannot reach the database at"):
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")

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

    def returning(self, sql: str, **params: Any) -> Any:
        """A write whose statement returns one value (INSERT ... RETURNING id), committed."""
        with self.transaction() as conn:
            return conn.execute(sa.text(sql), params).scalar()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection inside one transaction: committed on success, rolled back on error.

        A failure to roll back or to return the connection (the server went away) wins over the
        error that caused the rollback: the connection is what the caller has to hear about."""
        conn = self._open()
        with self._failures_translated(), conn, conn.begin():
            yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        conn = self._open()
        with self._failures_translated(), conn:
            yield conn

    @contextmanager
    def raw(self) -> Iterator[Any]:
        """A DB-API (psycopg2) connection in a transaction, for COPY."""
        with self._failures_translated("cannot reach the database at"):
            conn = self.engine.raw_connection()
        try:
            with self._failures_translated():
                try:
                    yield conn.driver_connection
                    conn.commit()
                except BaseException as failure:
                    try:
                        conn.rollback()
                    except Exception:
                        conn.invalidate()  # it cannot roll back, so it is dead: it must not go back to the pool
                        if self._translated(failure, "") is None:
                            raise  # the caller's error hid a dead connection: the connection is the news
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


def like_escaped(value: str) -> str:
    """``value`` with LIKE's wildcards and escape character taken literally (PostgreSQL's default ESCAPE)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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
