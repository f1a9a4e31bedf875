"""The worker's once-a-day jobs, run at the end of a cycle when due: the health refresh (ledger,
forecasts, dealer scores), draft claim packs for batteries under their warranty floor, and the
fleet health report at HEALTH_REPORT_TIME IST. Each is claimed per day in ``job_runs``, so several
workers run it once; a failure is logged and the next cycle tries again, without stopping ingest.
"""
from __future__ import annotations

import logging
from datetime import datetime

import config
from data.db import Database, DatabaseUnavailable
from ingest import health, report_jobs

log = logging.getLogger(__name__)


def run(db: Database, settings: config.Settings, now: datetime) -> None:
    try:
        health.run_daily(db, settings, now)
        drafted = report_jobs.draft_claims(db, now)   # one query when there is nothing to draft
        if drafted:
            log.info("health: %d warranty claim evidence packs drafted", drafted)
        made = report_jobs.daily_report(db, settings, now)
        if made:
            log.info("health: %d fleet health reports made", made)
    except DatabaseUnavailable:
        raise
    except Exception:  # a report or model bug must not stop ingest; the job is retried next cycle
        log.exception("daily health jobs failed; the next cycle tries again")
