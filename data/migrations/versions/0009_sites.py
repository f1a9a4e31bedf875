"""Sites, their equipment and its maintenance; each device's home site.

- ``sites``: dealer showrooms, charging hubs and depots, each belonging to one dealer (a dealer sees
  only its own), with address, position and climate zone (the five zones of India's National
  Building Code: heat is what ages an LFP pack, so managers compare batteries by zone).
- ``equipment``: what a site holds (chargers, energy meters, inverters, solar arrays, stationary
  batteries) with make, model, serial, install date and status.
- ``maintenance_records``: work done on a piece of equipment, by whom, and when it is next due.
- ``devices.site_id``: the site a battery is based at; the locations grid counts batteries by it.

Plain tables in both storage modes. Changes to all of them are kept in ``audit_log``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE sites (
            id           serial PRIMARY KEY,
            code         varchar(32)  NOT NULL UNIQUE,
            name         text         NOT NULL,
            kind         varchar(16)  NOT NULL CHECK (kind IN ('showroom', 'charging_hub', 'depot')),
            dealer_id    integer      NOT NULL REFERENCES dealers(id),
            address      text,
            city         text         NOT NULL,
            state        text,
            latitude     double precision CHECK (latitude BETWEEN -90 AND 90),
            longitude    double precision CHECK (longitude BETWEEN -180 AND 180),
            climate_zone varchar(16)  NOT NULL
                         CHECK (climate_zone IN ('hot_dry', 'warm_humid', 'composite', 'temperate', 'cold')),
            created_at   timestamptz  NOT NULL DEFAULT now(),
            updated_at   timestamptz  NOT NULL DEFAULT now(),
            CONSTRAINT sites_position_whole CHECK ((latitude IS NULL) = (longitude IS NULL))
        );
        CREATE INDEX sites_dealer ON sites (dealer_id);

        CREATE TABLE equipment (
            id           serial PRIMARY KEY,
            site_id      integer      NOT NULL REFERENCES sites(id),
            kind         varchar(24)  NOT NULL CHECK (kind IN ('charger', 'energy_meter', 'inverter', 'solar_array',
                                                               'stationary_battery')),
            make         text         NOT NULL,
            model        text         NOT NULL,
            serial       varchar(100) NOT NULL UNIQUE,
            rating       text,
            installed_on date,
            status       varchar(20)  NOT NULL DEFAULT 'in_service'
                         CHECK (status IN ('in_service', 'faulty', 'under_maintenance', 'retired')),
            created_at   timestamptz  NOT NULL DEFAULT now(),
            updated_at   timestamptz  NOT NULL DEFAULT now()
        );
        CREATE INDEX equipment_site ON equipment (site_id);

        CREATE TABLE maintenance_records (
            id           bigserial PRIMARY KEY,
            equipment_id integer      NOT NULL REFERENCES equipment(id) ON DELETE CASCADE,
            done_on      date         NOT NULL,
            work         text         NOT NULL,
            done_by      text         NOT NULL,
            next_due     date CHECK (next_due > done_on),
            recorded_by  text,
            created_at   timestamptz  NOT NULL DEFAULT now()
        );
        CREATE INDEX maintenance_equipment ON maintenance_records (equipment_id, done_on DESC, id DESC);

        ALTER TABLE devices ADD COLUMN site_id integer REFERENCES sites(id);
        CREATE INDEX devices_site ON devices (site_id);
    """)


def downgrade() -> None:
    op.execute("""
        ALTER TABLE devices DROP COLUMN site_id;
        DROP TABLE maintenance_records;
        DROP TABLE equipment;
        DROP TABLE sites;
    """)
