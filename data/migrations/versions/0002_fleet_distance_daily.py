"""Fleet kilometres per local day, dealer and city: the overview's distance calendar at 22,000
batteries reads 30 x dealers x cities rows instead of aggregating every trip on every refresh.

Kept by telemetry.store in the transaction that inserts the trips; filled here from the trips
already stored. Dealer 0 and city '' stand for unassigned devices (key columns cannot be null).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE telemetry.fleet_distance_daily (
            day       date    NOT NULL,
            dealer_id integer NOT NULL DEFAULT 0,
            city      text    NOT NULL DEFAULT '',
            km        double precision NOT NULL DEFAULT 0,
            trips     integer NOT NULL DEFAULT 0,
            PRIMARY KEY (day, dealer_id, city)
        );
        INSERT INTO telemetry.fleet_distance_daily (day, dealer_id, city, km, trips)
        SELECT (t.start_time AT TIME ZONE 'Asia/Kolkata')::date, coalesce(d.dealer_id, 0), coalesce(d.city, ''),
               coalesce(sum(t.distance_km), 0), count(*)
        FROM telemetry.trips t JOIN devices d ON d.device_id = t.device_id
        GROUP BY 1, 2, 3;
    """)


def downgrade() -> None:
    op.execute("DROP TABLE telemetry.fleet_distance_daily")
