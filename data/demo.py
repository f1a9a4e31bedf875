"""The demo fleet: dealers in Indian cities, their batteries, devices, vehicles and customers, and
the demo users. Deterministic, so the simulator (ingest/simulator) serves the same vehicles that
the registry holds, and idempotent, so every ``make run`` can call it.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from data import users
from data.db import Database, text

DEMO_PASSWORD = "demo"
DEMO_USERS = (
    ("admin", "admin", None, "Asha Admin"),
    ("manager", "manager", None, "Manoj Manager"),
    ("engineer", "engineer", None, "Esha Engineer"),
    ("viewer", "viewer", None, "Control Room"),
    ("dealer1", "dealer", "LKO01", "Lucknow E-Mobility"),
    ("dealer2", "dealer", "DEL01", "Delhi Green Wheels"),
)


@dataclass(frozen=True)
class DemoDealer:
    code: str
    name: str
    city: str
    state: str
    latitude: float
    longitude: float
    plate_prefix: str


DEALERS = (
    DemoDealer("LKO01", "Lucknow E-Mobility", "Lucknow", "Uttar Pradesh", 26.8467, 80.9462, "UP32"),
    DemoDealer("DEL01", "Delhi Green Wheels", "Delhi", "Delhi", 28.6139, 77.2090, "DL1E"),
    DemoDealer("JAI01", "Pink City EV", "Jaipur", "Rajasthan", 26.9124, 75.7873, "RJ14"),
    DemoDealer("PAT01", "Patna Power Rides", "Patna", "Bihar", 25.5941, 85.1376, "BR01"),
)

FIRST = ("Ramesh", "Suresh", "Sunita", "Anil", "Pooja", "Rajesh", "Imran", "Kavita", "Vijay", "Neha",
         "Mohan", "Farhan", "Geeta", "Arjun", "Lakshmi", "Deepak", "Salma", "Ravi", "Meena", "Sanjay")
LAST = ("Kumar", "Yadav", "Singh", "Verma", "Gupta", "Khan", "Sharma", "Mishra", "Prasad", "Ansari",
        "Chauhan", "Tiwari", "Pandey", "Jha", "Meena", "Saini")
MODELS = (("LFP-51V105-A", 105.0), ("LFP-51V105-B", 105.0), ("LFP-51V120-X", 120.0))
# Warranty terms per model: (months, cycles, SOH floor %). Admins edit them on the health page.
WARRANTY = {"LFP-51V105-A": (36, 2000, 80.0), "LFP-51V105-B": (36, 2000, 80.0), "LFP-51V120-X": (48, 2500, 75.0)}


@dataclass(frozen=True)
class DemoVehicle:
    device_id: str
    battery_serial: str
    vehicle_number: str
    dealer_code: str
    city: str
    customer_name: str
    customer_phone: str
    model: str
    capacity_ah: float
    sold_at: date
    home_latitude: float
    home_longitude: float


def fleet(size: int = 320, seed: int = 7, today: date | None = None) -> list[DemoVehicle]:
    """``size`` vehicles spread over the demo dealers, with packs from weeks to years old."""
    rng = random.Random(seed)
    today = today or date(2026, 11, 1)
    vehicles = []
    for i in range(size):
        dealer = DEALERS[i % len(DEALERS)]
        model, capacity = MODELS[rng.randrange(len(MODELS))]
        age_days = int(rng.triangular(20, 3 * 365, 300))
        plate = f"{dealer.plate_prefix}{rng.choice('ABCDEFGHJKLMNPRT')}{rng.choice('ABCDEFGHJKLMNPRT')}{1000 + i:04d}"
        vehicles.append(DemoVehicle(
            device_id=f"TK-{51100 + i // 100}-{i:04d}",
            battery_serial=f"ITB{24 + (i % 3):02d}{i:06d}",
            vehicle_number=plate,
            dealer_code=dealer.code,
            city=dealer.city,
            customer_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            customer_phone=f"+91 9{rng.randrange(10**8, 10**9):09d}",
            model=model,
            capacity_ah=capacity,
            sold_at=today - timedelta(days=age_days),
            home_latitude=dealer.latitude + rng.uniform(-0.06, 0.06),
            home_longitude=dealer.longitude + rng.uniform(-0.06, 0.06),
        ))
    return vehicles


def seed_registry(db: Database, vehicles: list[DemoVehicle]) -> None:
    """Dealers, batteries and devices for ``vehicles``; rows that exist are left alone."""
    with db.transaction() as conn:
        conn.execute(text(
            """INSERT INTO dealers (code, name, city, state, latitude, longitude, contact_email)
               VALUES (:code, :name, :city, :state, :latitude, :longitude, :email)
               ON CONFLICT (code) DO NOTHING"""),
            [dict(d.__dict__, email=f"{d.code.lower()}@dealers.example") for d in DEALERS])
        conn.execute(text(
            """INSERT INTO battery_models (model, rated_capacity_ah, warranty_months, warranty_cycles, warranty_soh_floor)
               VALUES (:model, :capacity, :months, :cycles, :floor) ON CONFLICT (model) DO NOTHING"""),
            [{"model": m, "capacity": c, "months": WARRANTY[m][0], "cycles": WARRANTY[m][1], "floor": WARRANTY[m][2]}
             for m, c in MODELS])
        ids = dict(conn.execute(text("SELECT code, id FROM dealers")).all())
        if not vehicles:  # an executemany with no rows would be a bare INSERT with unbound values
            return
        conn.execute(text(
            """INSERT INTO batteries (serial, model, chemistry, nominal_voltage, capacity_ah, warranty_months,
                                      warranty_cycles, dealer_id, manufactured_at, sold_at)
               VALUES (:battery_serial, :model, 'LFP', 51.2, :capacity_ah, :months, :cycles, :dealer_id,
                       :made, :sold_at)
               ON CONFLICT (serial) DO NOTHING"""),
            [dict(v.__dict__, dealer_id=ids[v.dealer_code], made=v.sold_at - timedelta(days=45),
                  months=WARRANTY[v.model][0], cycles=WARRANTY[v.model][1]) for v in vehicles])
        conn.execute(text(
            """INSERT INTO devices (device_id, battery_serial, vehicle_number, dealer_id, customer_name,
                                    customer_phone, city, activated_at)
               VALUES (:device_id, :battery_serial, :vehicle_number, :dealer_id, :customer_name,
                       :customer_phone, :city, :sold_at)
               ON CONFLICT (device_id) DO NOTHING"""),
            [dict(v.__dict__, dealer_id=ids[v.dealer_code]) for v in vehicles])


def seed_users(db: Database) -> None:
    """The demo logins (password ``demo``, accepted only while DEMO_MODE is on)."""
    for username, role, dealer, name in DEMO_USERS:
        if users.find(db, username) is None:
            users.create(db, username, DEMO_PASSWORD, role, dealer_code=dealer, display_name=name,
                         is_demo=True, check_strength=False)
