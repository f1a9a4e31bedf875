"""Housekeeping the worker runs each cycle: what TimescaleDB's policies do in production."""
from __future__ import annotations

import logging

import config
from data import retention
from data.db import Database

log = logging.getLogger(__name__)


def run(db: Database, settings: config.Settings) -> dict:
    deleted = retention.apply(db, settings.retention_days)
    if deleted:
        log.info("retention: deleted %d raw rows older than %d days", deleted, settings.retention_days)
    return {"retention_deleted": deleted}
