"""Fleet administration: the audit log and stale-edit checks.

- ``audit_log``: every change made in the app (users, devices, thresholds, warranty terms, alert
  actions, sites) with who, when, what, the values before and after, and the address it came from.
  Append-only; the device history on ``/devices`` is this table filtered to one device.
- ``users.updated_at``: an edit carries the value it was opened with and is refused when the row
  changed since, instead of overwriting someone else's change (devices have ``updated_at`` already).
- ``ingest_runs``: the vendor calls of each cycle, its retries, 429s and re-logins, for the system page.
- ``battery_health_daily.unsigned_current``: the day's current looked like a magnitude (the pack
  discharged and no reading was negative), for the data health page.

Plain tables in both storage modes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE audit_log (
            id          bigserial PRIMARY KEY,
            at          timestamptz NOT NULL DEFAULT now(),
            actor       text        NOT NULL,
            user_id     integer,
            remote_addr varchar(64),
            action      varchar(40) NOT NULL,
            target_kind varchar(20) NOT NULL,
            target      text        NOT NULL,
            before      jsonb,
            after       jsonb,
            note        text
        );
        CREATE INDEX audit_log_at ON audit_log (at DESC);
        CREATE INDEX audit_log_target ON audit_log (target_kind, target, at DESC);

        ALTER TABLE users ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

        ALTER TABLE ingest_runs ADD COLUMN vendor_calls integer, ADD COLUMN vendor_retries integer,
                                ADD COLUMN vendor_throttled integer, ADD COLUMN vendor_reauths integer;

        ALTER TABLE battery_health_daily ADD COLUMN unsigned_current boolean;
    """)


def downgrade() -> None:
    op.execute("""
        ALTER TABLE battery_health_daily DROP COLUMN unsigned_current;
        ALTER TABLE ingest_runs DROP COLUMN vendor_calls, DROP COLUMN vendor_retries, DROP COLUMN vendor_throttled,
                                DROP COLUMN vendor_reauths;
        ALTER TABLE users DROP COLUMN updated_at;
        DROP TABLE audit_log;
    """)
