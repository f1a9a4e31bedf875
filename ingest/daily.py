"""The worker's once-a-day jobs, run at the end of a cycle when due: the health refresh (ledger,
forecasts, dealer scores). Each is claimed per day in ``job_runs``, so several workers run it
once; a failure is logged and the next cycle tries again, without stopping ingest.
"""
from __future__ import annotations

import logging
from datetime import datetime

import config
from data.db import Database, DatabaseUnavailable
from ingest import health

log = logging.getLogger(__name__)


def run(db: Database, settings: config.Settings, now: datetime) -> None:
    try:
        health.run_daily(db, settings, now)
    except DatabaseUnavailable:
        raise
    except Exception:  # a model bug must not stop ingest; the job is retried next cycle
        log.exception("daily health jobs failed; the next cycle tries again")
