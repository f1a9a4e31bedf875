"""Raw-telemetry retention for plain PostgreSQL (TimescaleDB runs its own retention policy)."""
from __future__ import annotations

from data import storage
from data.db import Database


def apply(db: Database, days: int) -> int:
    """Delete raw readings older than ``days``; rollups are kept. Returns rows deleted."""
    if db.storage_mode == storage.TIMESCALEDB:
        return 0
    deleted = 0
    for table in ("telemetry.battery_readings", "telemetry.gps_readings"):
        deleted += db.execute(f"DELETE FROM {table} WHERE time < now() - make_interval(days => :days)", days=days)
    return deleted
