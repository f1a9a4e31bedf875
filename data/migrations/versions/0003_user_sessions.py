"""Server-side sessions: a signed cookie alone cannot be taken back, a row can.

The browser's cookie holds a random token; only its SHA-256 is stored. Sign-out deletes the row, a
password change or disabling the user deletes all of that user's rows, and a session idle for
longer than SESSION_IDLE_MINUTES stops being accepted.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE user_sessions (
            token_hash   text        PRIMARY KEY,
            user_id      integer     NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            created_at   timestamptz NOT NULL DEFAULT now(),
            last_seen_at timestamptz NOT NULL DEFAULT now(),
            remote_addr  text,
            user_agent   text
        );
        CREATE INDEX user_sessions_user ON user_sessions (user_id);
        CREATE INDEX user_sessions_last_seen ON user_sessions (last_seen_at);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE user_sessions")
