"""Alerts you can act on: status and owner, reopen links, fleet-wide alerts, rule history,
evaluation marks, routed and signed notifications, API keys.

- ``alerts.status`` (open / acknowledged / resolved) and ``owner_id``; ``reopened_from`` links an
  alert to the one a user resolved while its condition was still present. ``device_id`` may be
  NULL for a fleet-wide alert (feed silence), one open per type.
- ``alert_rules.notify`` and new default durations: every threshold rule now honours
  ``duration_minutes``, and the defaults reject a one-reading spike at the vendor's 30 s cadence
  (rules an admin already changed keep their values). ``alert_rule_changes`` keeps who changed what.
- ``alert_marks``: per device, the earliest stored reading not yet evaluated. The writer lowers it
  in the transaction that stores the rows; the engine clears it in the transaction that records
  the evaluation's outcome, so every stored reading is evaluated whatever is killed and when.
- ``notification_outbox``: a target per row (operator, dealer or escalation contacts), a kind
  (opened, escalated, reminder, digest), rows held until their evaluation ends (flood control),
  and a claim with a lease, so no row lock is held while a message is sent.
- ``dealers``: their own alert contacts and webhook signing secret.
- ``api_keys``: only a hash of each key is kept.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Durations in minutes. The vendor's cadence is 30 s, so a duration of d minutes needs at least
# 2d + 1 readings in a row past the threshold: a single spike never opens an alert.
DEFAULT_DURATIONS = {
    "low_soc": 5, "high_temp": 2, "overcurrent": 1, "overvoltage": 2, "undervoltage": 2,
    "soh_degradation": 60, "rapid_soh_drop": 60, "excessive_cycles": 30,
}


def upgrade() -> None:
    op.execute("""
        ALTER TABLE alerts ALTER COLUMN device_id DROP NOT NULL;
        ALTER TABLE alerts
            ADD COLUMN status varchar(16) NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'acknowledged', 'resolved')),
            ADD COLUMN owner_id integer REFERENCES users(id) ON DELETE SET NULL,
            ADD COLUMN reopened_from bigint REFERENCES alerts(id) ON DELETE SET NULL,
            ADD COLUMN escalated_at timestamptz,
            ADD COLUMN reminded_at timestamptz;
        UPDATE alerts SET status = CASE WHEN resolved_at IS NOT NULL THEN 'resolved'
                                        WHEN acknowledged_at IS NOT NULL THEN 'acknowledged' ELSE 'open' END;
        CREATE UNIQUE INDEX alerts_one_open_fleet ON alerts (alert_type)
            WHERE device_id IS NULL AND resolved_at IS NULL;
        CREATE INDEX alerts_last_seen ON alerts (last_seen_at DESC, id DESC);
        CREATE INDEX alerts_status_last_seen ON alerts (status, last_seen_at DESC);
        CREATE INDEX alerts_type_last_seen ON alerts (alert_type, last_seen_at DESC);
        CREATE INDEX alerts_unacknowledged_critical ON alerts (first_seen_at)
            WHERE severity = 'critical' AND status = 'open';
        -- every open screen asks "any new critical alert?" every few seconds: an index-only answer
        CREATE INDEX alerts_critical_id ON alerts (id) WHERE severity = 'critical';
        CREATE INDEX alerts_device_critical_id ON alerts (device_id, id) WHERE severity = 'critical';
        -- foreign keys pointing at alerts: without these, deleting alerts (retention, clean-up) scans per row
        CREATE INDEX alerts_reopened_from ON alerts (reopened_from) WHERE reopened_from IS NOT NULL;

        ALTER TABLE alert_events DROP CONSTRAINT alert_events_event_check;
        ALTER TABLE alert_events
            ADD CONSTRAINT alert_events_event_check CHECK (event IN (
                'opened', 'repeated', 'acknowledged', 'assigned', 'escalated', 'reminded', 'resolved',
                'reopened')),
            ADD COLUMN comment text CHECK (char_length(comment) <= 1000),
            ADD COLUMN actor text;

        ALTER TABLE alert_rules ADD COLUMN notify boolean NOT NULL DEFAULT true;
        INSERT INTO alert_rules (alert_type, description, severity, threshold, clear_threshold, duration_minutes)
        VALUES ('feed_silence', 'No reading from any device for longer than duration (fleet-wide)', 'critical',
                NULL, NULL, 30);

        CREATE TABLE alert_rule_changes (
            id          bigserial   PRIMARY KEY,
            alert_type  varchar(32) NOT NULL REFERENCES alert_rules(alert_type),
            changed_at  timestamptz NOT NULL DEFAULT now(),
            changed_by  text        NOT NULL,
            before      jsonb       NOT NULL,
            after       jsonb       NOT NULL
        );
        CREATE INDEX alert_rule_changes_at ON alert_rule_changes (changed_at DESC);

        CREATE TABLE alert_marks (
            device_id     varchar(50) PRIMARY KEY REFERENCES devices(device_id) ON DELETE CASCADE,
            pending_from  timestamptz,
            version       bigint      NOT NULL DEFAULT 0,
            evaluated_at  timestamptz
        );
        CREATE INDEX alert_marks_pending ON alert_marks (device_id) WHERE pending_from IS NOT NULL;

        ALTER TABLE notification_outbox ALTER COLUMN alert_id DROP NOT NULL;
        ALTER TABLE notification_outbox DROP CONSTRAINT notification_outbox_status_check;
        ALTER TABLE notification_outbox
            ADD CONSTRAINT notification_outbox_status_check
                CHECK (status IN ('held', 'pending', 'sending', 'delivered', 'failed', 'digested', 'skipped')),
            ADD COLUMN kind varchar(16) NOT NULL DEFAULT 'opened'
                CHECK (kind IN ('opened', 'escalated', 'reminder', 'digest')),
            ADD COLUMN target text,
            ADD COLUMN audience varchar(16) NOT NULL DEFAULT 'operator'
                CHECK (audience IN ('operator', 'dealer', 'escalation')),
            ADD COLUMN dealer_id integer REFERENCES dealers(id) ON DELETE CASCADE,
            ADD COLUMN evaluation_id bigint,
            ADD COLUMN claimed_until timestamptz;
        CREATE INDEX notification_outbox_held ON notification_outbox (evaluation_id) WHERE status = 'held';
        CREATE INDEX notification_outbox_alert ON notification_outbox (alert_id);
        CREATE INDEX notification_outbox_sending ON notification_outbox (claimed_until) WHERE status = 'sending';
        CREATE SEQUENCE alert_evaluation_seq;

        ALTER TABLE dealers
            ADD COLUMN alert_webhook_url text,
            ADD COLUMN alert_emails text,
            ADD COLUMN webhook_secret text;

        CREATE TABLE api_keys (
            id           serial      PRIMARY KEY,
            name         varchar(64) NOT NULL UNIQUE,
            key_hash     text        NOT NULL UNIQUE,
            role         varchar(16) NOT NULL CHECK (role IN ('admin', 'manager', 'engineer', 'dealer', 'viewer')),
            dealer_id    integer REFERENCES dealers(id),
            created_at   timestamptz NOT NULL DEFAULT now(),
            revoked_at   timestamptz,
            last_used_at timestamptz,
            CONSTRAINT dealer_keys_have_a_dealer CHECK ((role = 'dealer') = (dealer_id IS NOT NULL))
        );
        ALTER TABLE alert_events ADD COLUMN api_key_id integer REFERENCES api_keys(id) ON DELETE SET NULL;
    """)
    for alert_type, minutes in DEFAULT_DURATIONS.items():
        op.execute(f"UPDATE alert_rules SET duration_minutes = {minutes} "
                   f"WHERE alert_type = '{alert_type}' AND updated_by IS NULL")


def downgrade() -> None:
    op.execute("""
        ALTER TABLE alert_events DROP COLUMN api_key_id;
        DROP TABLE api_keys;
        ALTER TABLE dealers DROP COLUMN alert_webhook_url, DROP COLUMN alert_emails, DROP COLUMN webhook_secret;
        DROP SEQUENCE alert_evaluation_seq;
        DELETE FROM notification_outbox WHERE alert_id IS NULL OR status IN ('held', 'sending', 'digested', 'skipped');
        DROP INDEX notification_outbox_alert;
        ALTER TABLE notification_outbox DROP CONSTRAINT notification_outbox_status_check;
        ALTER TABLE notification_outbox
            DROP COLUMN kind, DROP COLUMN target, DROP COLUMN audience, DROP COLUMN dealer_id,
            DROP COLUMN evaluation_id, DROP COLUMN claimed_until,
            ADD CONSTRAINT notification_outbox_status_check CHECK (status IN ('pending', 'delivered', 'failed'));
        ALTER TABLE notification_outbox ALTER COLUMN alert_id SET NOT NULL;
        DROP TABLE alert_marks;
        DROP TABLE alert_rule_changes;
        DELETE FROM alerts WHERE alert_type = 'feed_silence' OR device_id IS NULL;
        DELETE FROM alert_rules WHERE alert_type = 'feed_silence';
        ALTER TABLE alert_rules DROP COLUMN notify;
        DELETE FROM alert_events WHERE event NOT IN ('opened', 'repeated', 'acknowledged', 'resolved', 'escalated');
        ALTER TABLE alert_events DROP CONSTRAINT alert_events_event_check;
        ALTER TABLE alert_events DROP COLUMN comment, DROP COLUMN actor,
            ADD CONSTRAINT alert_events_event_check
                CHECK (event IN ('opened', 'repeated', 'acknowledged', 'resolved', 'escalated'));
        DROP INDEX alerts_one_open_fleet, alerts_last_seen, alerts_status_last_seen, alerts_type_last_seen,
                   alerts_unacknowledged_critical, alerts_critical_id, alerts_device_critical_id, alerts_reopened_from;
        ALTER TABLE alerts DROP COLUMN status, DROP COLUMN owner_id, DROP COLUMN reopened_from,
                           DROP COLUMN escalated_at, DROP COLUMN reminded_at;
        ALTER TABLE alerts ALTER COLUMN device_id SET NOT NULL;
        UPDATE alert_rules SET duration_minutes = 0
            WHERE alert_type IN ('low_soc', 'high_temp', 'overcurrent', 'overvoltage', 'undervoltage',
                                 'soh_degradation', 'rapid_soh_drop', 'excessive_cycles') AND updated_by IS NULL;
    """)
