"""Fleet administration: the audit log and stale-edit checks.

- ``audit_log``: every change made in the app (users, devices, thresholds, warranty terms, alert
  actions, sites) with who, when, what, the values before and after, and the address it came from.
  Append-only; the device history on ``/devices`` is this table filtered to one device.
- ``users.updated_at``: an edit carries the value it was opened with and is refused when the row
  changed since, instead of overwriting someone else's change (devices have ``updated_at`` already).

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
    """)


def downgrade() -> None:
    op.execute("""
        ALTER TABLE users DROP COLUMN updated_at;
        DROP TABLE audit_log;
    """)
