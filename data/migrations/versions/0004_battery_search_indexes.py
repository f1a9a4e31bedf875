"""Prefix indexes for the top bar's battery search (device id, vehicle number, serial, customer).

Case-insensitive prefix matching (``lower(x) LIKE 'abc%'``) can use a btree only with
text_pattern_ops on the same expression; vehicle numbers are compared without spaces or dashes
("UP 32 AB 1000" finds UP32AB1000).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEXES = {
    "devices_search_device_id": "lower(device_id) text_pattern_ops",
    "devices_search_vehicle": "upper(replace(replace(vehicle_number, ' ', ''), '-', '')) text_pattern_ops",
    "devices_search_serial": "lower(battery_serial) text_pattern_ops",
    "devices_search_customer": "lower(customer_name) text_pattern_ops",
}


def upgrade() -> None:
    for name, expression in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON devices ({expression})")


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX {name}")
