"""The demo fleet: dealers in Indian cities, their sites and equipment, their batteries, devices,
vehicles and customers, and the demo users. Deterministic, so the simulator (ingest/simulator) serves the same vehicles that
the registry holds, and idempotent, so every ``make run`` can call it.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

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

@dataclass(frozen=True)
class DemoSite:
    code: str
    dealer_code: str
    kind: str
    name: str
    address: str
    city: str
    state: str
    latitude: float
    longitude: float
    climate_zone: str


# Each dealer: a showroom in town, a charging hub and a depot where its drivers park overnight.
SITES = (
    DemoSite("LKO01-SHOW", "LKO01", "showroom", "Lucknow E-Mobility, Hazratganj", "14 Ashok Marg, Hazratganj",
             "Lucknow", "Uttar Pradesh", 26.8496, 80.9462, "composite"),
    DemoSite("LKO01-HUB", "LKO01", "charging_hub", "Gomti Nagar charging hub", "Plot 7, Vibhuti Khand, Gomti Nagar",
             "Lucknow", "Uttar Pradesh", 26.8560, 81.0040, "composite"),
    DemoSite("LKO01-DEPOT", "LKO01", "depot", "Alambagh depot", "Kanpur Road, near Alambagh bus stand",
             "Lucknow", "Uttar Pradesh", 26.8140, 80.9020, "composite"),
    DemoSite("DEL01-SHOW", "DEL01", "showroom", "Delhi Green Wheels, Karol Bagh", "22 Pusa Road, Karol Bagh",
             "Delhi", "Delhi", 28.6448, 77.1900, "composite"),
    DemoSite("DEL01-HUB", "DEL01", "charging_hub", "Okhla charging hub", "B-41 Okhla Industrial Area Phase II",
             "Delhi", "Delhi", 28.5355, 77.2710, "composite"),
    DemoSite("DEL01-DEPOT", "DEL01", "depot", "Shahdara depot", "GT Road, Shahdara",
             "Delhi", "Delhi", 28.6730, 77.2890, "composite"),
    DemoSite("JAI01-SHOW", "JAI01", "showroom", "Pink City EV, MI Road", "101 Mirza Ismail Road",
             "Jaipur", "Rajasthan", 26.9170, 75.8040, "hot_dry"),
    DemoSite("JAI01-HUB", "JAI01", "charging_hub", "Sitapura charging hub", "G-12 Sitapura Industrial Area",
             "Jaipur", "Rajasthan", 26.7800, 75.8480, "hot_dry"),
    DemoSite("JAI01-DEPOT", "JAI01", "depot", "Jhotwara depot", "Kalwar Road, Jhotwara",
             "Jaipur", "Rajasthan", 26.9560, 75.7400, "hot_dry"),
    DemoSite("PAT01-SHOW", "PAT01", "showroom", "Patna Power Rides, Fraser Road", "5 Fraser Road",
             "Patna", "Bihar", 25.6110, 85.1400, "composite"),
    DemoSite("PAT01-HUB", "PAT01", "charging_hub", "Danapur charging hub", "Saguna More, Danapur",
             "Patna", "Bihar", 25.6180, 85.0480, "composite"),
    DemoSite("PAT01-DEPOT", "PAT01", "depot", "Kankarbagh depot", "Main Road, Kankarbagh",
             "Patna", "Bihar", 25.5950, 85.1600, "composite"),
)
# (kind, make, model, rating, count) per kind of site.
EQUIPMENT = {
    "showroom": (("charger", "Exicom", "Spin Air 3.3", "3.3 kW AC", 2), ("energy_meter", "Secure Meters", "Apex 100",
                                                                          "3-phase", 1)),
    "charging_hub": (("charger", "Delta", "DC Wallbox 25", "25 kW DC", 4), ("charger", "Exicom", "Spin Air 3.3",
                                                                             "3.3 kW AC", 6),
                     ("energy_meter", "Secure Meters", "Apex 150", "3-phase", 1),
                     ("solar_array", "Waaree", "Arka 545", "30 kWp", 1), ("inverter", "Delta", "M30A", "30 kW", 1),
                     ("stationary_battery", "Amara Raja", "ESS-100", "100 kWh LFP", 1)),
    "depot": (("charger", "Exicom", "Spin Air 3.3", "3.3 kW AC", 8), ("energy_meter", "L&T", "ER300P", "3-phase", 1)),
}
SERVICE_MONTHS = {"charger": 6, "energy_meter": 12, "inverter": 6, "solar_array": 3, "stationary_battery": 6}
TECHNICIANS = ("Rakesh Verma (Exicom service)", "Sunil Yadav", "Amit Jha (Delta service)", "Imran Khan")
WORK = {"charger": "Connector and cable check, firmware updated, earth resistance measured",
        "energy_meter": "Calibration checked against a reference meter",
        "inverter": "Fans cleaned, DC insulation resistance measured",
        "solar_array": "Panels washed, string voltages checked",
        "stationary_battery": "Cell balance checked, BMS log downloaded"}

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
            seed_sites(conn, ids, vehicles)
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
        seed_sites(conn, ids, vehicles)


# Where a dealer's vehicles park overnight: depot and hub twice as often as the showroom.
HOME_KINDS = ("depot", "charging_hub", "depot", "charging_hub", "showroom")


def _home_site(v: DemoVehicle, index: int) -> str:
    kind = HOME_KINDS[index % len(HOME_KINDS)]
    return next(s.code for s in SITES if s.dealer_code == v.dealer_code and s.kind == kind)


# Every charger has its own meter (the AC side, seeds 001/003). One charger at the Lucknow hub has
# a failing power stage (it wastes about a quarter of the energy); at the Delhi depot one vehicle
# charges alone on the first charger while the meter mapping puts it on the spare (the last one),
# which draws only its standby: the faulty charger and the mis-mapped meter of the simulator.
CHARGE_METER = ("Secure Meters", "Elite 100", "1-phase 60 A")
FAULTY_CHARGER = ("LKO01-HUB", 1)
MISMAPPED_SITE = "DEL01-DEPOT"


def equipment_serial(make: str, site_code: str, kind: str, n: int) -> str:
    return f"{make[:3].upper()}-{site_code}-{kind[:3].upper()}{n + 1:02d}"


def meter_serial(charger_serial: str) -> str:
    return f"MTR-{charger_serial}"


def site_chargers(site: DemoSite) -> list[str]:
    """The site's charger serials, in the order the equipment is seeded."""
    return [equipment_serial(make, site.code, kind, n)
            for kind, make, _, _, count in EQUIPMENT[site.kind] if kind == "charger" for n in range(count)]


@dataclass(frozen=True)
class ChargingPlace:
    site: str
    charger: str   # where the vehicle really charges
    mapped: str    # the charger whose meter the mapping names


def charging_plan(vehicles: list[DemoVehicle]) -> dict[str, ChargingPlace]:
    """Per device: its home site, the charger it uses there, and the charger the mapping says."""
    sites = {s.code: s for s in SITES}
    seen: dict[str, int] = {}
    plan = {}
    for i, v in enumerate(vehicles):
        code = _home_site(v, i // len(DEALERS))
        chargers = site_chargers(sites[code])
        k = seen[code] = seen.get(code, -1) + 1
        if code == MISMAPPED_SITE and len(chargers) > 2:
            physical = chargers[0] if k == 0 else chargers[1 + (k - 1) % (len(chargers) - 2)]
            mapped = chargers[-1] if k == 0 else physical
        else:
            physical = mapped = chargers[k % len(chargers)]
        plan[v.device_id] = ChargingPlace(code, physical, mapped)
    return plan


def faulty_charger() -> str:
    site, index = FAULTY_CHARGER
    return site_chargers(next(s for s in SITES if s.code == site))[index]


def seed_sites(conn, ids: dict[str, int], vehicles: list[DemoVehicle], today: date | None = None) -> None:
    """Each demo dealer's sites, their equipment and its maintenance history; each new device is
    based at one of its dealer's sites. Rows that exist are left alone."""
    today = today or date.today()
    conn.execute(text(
        """INSERT INTO sites (code, name, kind, dealer_id, address, city, state, latitude, longitude, climate_zone)
           VALUES (:code, :name, :kind, :dealer_id, :address, :city, :state, :latitude, :longitude, :climate_zone)
           ON CONFLICT (code) DO NOTHING"""),
        [dict(s.__dict__, dealer_id=ids[s.dealer_code]) for s in SITES])
    rng = random.Random(11)
    equipment, records = [], []
    for site_number, site in enumerate(SITES):
        for kind, make, model, rating, count in EQUIPMENT[site.kind]:
            for n in range(count):
                serial = equipment_serial(make, site.code, kind, n)
                installed = today - timedelta(days=rng.randrange(200, 900))
                status = ("faulty" if (site_number, kind, n) in ((1, "charger", 2), (7, "charger", 0))
                          else "under_maintenance" if (site_number, kind, n) == (4, "inverter", 0) else "in_service")
                equipment.append({"serial": serial, "site": site.code, "kind": kind, "make": make, "model": model,
                                  "rating": rating, "installed_on": installed, "status": status})
                every = SERVICE_MONTHS[kind] * 30
                # The last service: most are on time, one in ten overdue, a few due within the month.
                last = today - timedelta(days=rng.choice((every // 4, every // 3, every // 3, every // 2, every // 2,
                                                          every // 2, every - 60, every - 20, every - 10, every + 25)))
                for done in (last - timedelta(days=every), last):
                    if done > installed:
                        records.append({"serial": serial, "done_on": done, "work": WORK[kind],
                                        "done_by": rng.choice(TECHNICIANS), "next_due": done + timedelta(days=every)})
    conn.execute(text(
        """INSERT INTO equipment (site_id, kind, make, model, serial, rating, installed_on, status)
           SELECT s.id, :kind, :make, :model, :serial, :rating, :installed_on, :status FROM sites s WHERE s.code = :site
           ON CONFLICT (serial) DO NOTHING"""), equipment)
    conn.execute(text(
        """INSERT INTO maintenance_records (equipment_id, done_on, work, done_by, next_due, recorded_by)
           SELECT e.id, :done_on, :work, :done_by, :next_due, 'demo' FROM equipment e
           WHERE e.serial = :serial AND NOT EXISTS (SELECT 1 FROM maintenance_records m WHERE m.equipment_id = e.id
                                                                                         AND m.recorded_by = 'demo'
                                                                                         AND m.done_on = :done_on)"""),
        records)
    make, model, rating = CHARGE_METER
    conn.execute(text(
        """INSERT INTO equipment (site_id, kind, make, model, serial, rating, installed_on, status, measures_id)
           SELECT c.site_id, 'energy_meter', :make, :model, :serial, :rating, c.installed_on, 'in_service', c.id
           FROM equipment c WHERE c.serial = :charger
           ON CONFLICT (serial) DO NOTHING"""),
        [{"make": make, "model": model, "rating": rating, "serial": meter_serial(c), "charger": c}
         for site in SITES for c in site_chargers(site)])
    if vehicles:
        plan = charging_plan(vehicles)
        conn.execute(text(
            """INSERT INTO meter_assignments (meter_id, device_id, valid_from, created_by)
               SELECT m.id, d.device_id, :since, 'demo' FROM equipment m, devices d
               WHERE m.serial = :meter AND d.device_id = :device_id
                 AND NOT EXISTS (SELECT 1 FROM meter_assignments a WHERE a.device_id = d.device_id)"""),
            [{"meter": meter_serial(plan[v.device_id].mapped), "device_id": v.device_id,
              "since": datetime.combine(v.sold_at, datetime.min.time(), timezone.utc)} for v in vehicles])
        conn.execute(text(
            """UPDATE devices SET site_id = (SELECT id FROM sites WHERE code = :site)
               WHERE device_id = :device_id AND site_id IS NULL AND updated_at = created_at"""),
            [{"device_id": v.device_id, "site": _home_site(v, i // len(DEALERS))} for i, v in enumerate(vehicles)])


def seed_users(db: Database) -> None:
    """The demo logins (password ``demo``, accepted only while DEMO_MODE is on)."""
    for username, role, dealer, name in DEMO_USERS:
        if users.find(db, username) is None:
            users.create(db, username, DEMO_PASSWORD, role, dealer_code=dealer, display_name=name,
                         is_demo=True, check_strength=False)
