"""Fleet-wide figures for the overview, always within the caller's scope."""
from __future__ import annotations

from data.db import Database
from data.scope import Scope


def overview_counts(db: Database, scope: Scope) -> dict:
    """Counts of what the fleet holds right now, for the user's part of it."""
    where = scope.devices("d")
    return db.one(
        f"""
        WITH fleet AS (SELECT d.device_id, d.dealer_id, d.is_active FROM devices d WHERE {where})
        SELECT
          (SELECT count(*) FROM fleet)                                   AS devices,
          (SELECT count(*) FROM fleet WHERE is_active)                   AS active_devices,
          (SELECT count(DISTINCT dealer_id) FROM fleet)                  AS dealers,
          (SELECT count(*) FROM device_state s JOIN fleet f USING (device_id)
             WHERE s.reading_time > now() - INTERVAL '24 hours')         AS reporting_24h,
          (SELECT count(*) FROM alerts a JOIN fleet f USING (device_id)
             WHERE a.resolved_at IS NULL AND a.severity = 'critical')    AS critical_alerts,
          (SELECT count(*) FROM alerts a JOIN fleet f USING (device_id)
             WHERE a.resolved_at IS NULL AND a.severity = 'warning')     AS warning_alerts,
          (SELECT max(finished_at) FROM ingest_runs)                     AS last_ingest
        """,
        **scope.params(),
    )
