"""Which storage mode a database gets: TimescaleDB when the extension can be created, else plain
PostgreSQL with our own rollup tables (ARCHITECTURE.md, storage table)."""
from __future__ import annotations

import logging

from sqlalchemy.engine import Connection

from data.db import text

log = logging.getLogger(__name__)

TIMESCALEDB = "timescaledb"
POSTGRES = "postgres"


class StorageModeError(Exception):
    """STORAGE_MODE asks for TimescaleDB but this server cannot provide it."""


def timescaledb_available(conn: Connection) -> bool:
    return bool(conn.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")).scalar())


def choose(conn: Connection, requested: str) -> str:
    """Create the extension if we can and return the mode; ``requested`` is STORAGE_MODE."""
    if requested == POSTGRES:
        return POSTGRES
    if not timescaledb_available(conn):
        if requested == TIMESCALEDB:
            raise StorageModeError("STORAGE_MODE=timescaledb but the server has no timescaledb extension")
        log.info("timescaledb extension not available: using plain PostgreSQL storage")
        return POSTGRES
    savepoint = conn.begin_nested()
    try:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS timescaledb"))
        savepoint.commit()
    except Exception as exc:  # typically: not in shared_preload_libraries
        savepoint.rollback()
        if requested == TIMESCALEDB:
            raise StorageModeError(f"cannot create the timescaledb extension: {str(exc).splitlines()[0]}") from None
        log.warning("timescaledb is installed but cannot be loaded (%s): using plain PostgreSQL storage",
                    str(exc).splitlines()[0])
        return POSTGRES
    return TIMESCALEDB


def current(conn: Connection) -> str:
    return conn.execute(text("SELECT value FROM app_meta WHERE key = 'storage_mode'")).scalar() or POSTGRES
