"""Dashboard speed at the design load: 22,000 batteries with 30 days behind them.

    .venv/bin/python -m bench.dashboard [--devices 22000] [--repeat 15] [--database-url URL]

Seeds (with set-based SQL, in its own database bfm_bench_dash) 40 dealers and ``--devices``
batteries with: their latest state, 30 days of hourly and daily rollups for every device, the
last 2 hours of raw readings for every device at one a minute plus 24 hours of raw readings and
GPS for the batteries whose page is measured, 30 days of daily trips and some open alerts.

Then, through the real app (Flask test client, logged in, real callbacks, gzip on), measures the
server time of every overview and battery-page callback, p50 and p95 over ``--repeat`` calls, as a
whole-fleet user and as a dealer; the overview payload in gzip bytes; and in the same run the
latest-state query (device_state) against DISTINCT ON over the raw readings it replaces.
Targets (issue 4): p95 <= 200 ms per callback, overview payload <= 1 MB gzip.

Plain PostgreSQL only: the rollups are seeded as tables, which TimescaleDB keeps as views.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import time

os.environ.setdefault("DEMO_MODE", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import config  # noqa: E402
from data import db as database  # noqa: E402
from data import demo, embedded, migrate, storage  # noqa: E402

DEALERS = 40
PAGE_DEVICES = 20          # batteries whose pages are measured (24 h raw + GPS each)
TARGET_P95_MS = 200
TARGET_PAYLOAD = 1_000_000

CITIES = (("Lucknow", 26.85, 80.95), ("Delhi", 28.61, 77.21), ("Jaipur", 26.91, 75.79), ("Patna", 25.59, 85.14),
          ("Kanpur", 26.45, 80.33), ("Varanasi", 25.32, 82.97), ("Agra", 27.18, 78.01), ("Prayagraj", 25.44, 81.85),
          ("Gorakhpur", 26.76, 83.37), ("Meerut", 28.98, 77.71), ("Ranchi", 23.34, 85.31), ("Indore", 22.72, 75.86))

SEED = [
    # dealers: the demo's four (so the demo dealer logins work) and synthetic ones in more cities
    """INSERT INTO dealers (code, name, city, state, latitude, longitude)
       SELECT 'BD' || lpad(n::text, 3, '0'), 'Bench Dealer ' || n, c.city, 'Bench', c.lat, c.lng
       FROM generate_series(1, :dealers - 4) n
       JOIN (SELECT row_number() OVER () - 1 AS k, * FROM json_to_recordset(CAST(:cities AS json))
             AS x(city text, lat float8, lng float8)) c ON c.k = n % :n_cities""",
    """INSERT INTO batteries (serial, model, dealer_id, sold_at)
       SELECT 'BB' || lpad(i::text, 8, '0'), 'LFP-51V105-A', dl.id, current_date - (i % 1000)
       FROM generate_series(0, :devices - 1) i
       JOIN (SELECT row_number() OVER (ORDER BY id) - 1 AS k, id FROM dealers) dl ON dl.k = i % :dealers""",
    """INSERT INTO devices (device_id, battery_serial, vehicle_number, dealer_id, customer_name, city, activated_at)
       SELECT 'BD-' || lpad(i::text, 6, '0'), 'BB' || lpad(i::text, 8, '0'), 'BV' || lpad(i::text, 6, '0'),
              dl.id, 'Customer ' || i, dl.city, now() - make_interval(days => i % 1000)
       FROM generate_series(0, :devices - 1) i
       JOIN (SELECT row_number() OVER (ORDER BY id) - 1 AS k, id, city FROM dealers) dl ON dl.k = i % :dealers""",
    # latest state: 2 % silent for two days, 5 % stuck at SOH 100, 15 % charging
    """INSERT INTO device_state (device_id, reading_time, soc, soh, voltage, current, temperature, charge_cycle,
                                is_charging, gps_time, latitude, longitude, speed)
       SELECT d.device_id,
              CASE WHEN i % 50 = 0 THEN now() - INTERVAL '2 days' ELSE now() - make_interval(secs => i % 600) END,
              (i * 37) % 100, CASE WHEN i % 20 = 0 THEN 100 ELSE 80 + (i % 200) / 10.0 END,
              48 + (i % 80) / 10.0, CASE WHEN i % 7 = 0 THEN 30 ELSE -15 END, 25 + i % 20, i % 1500,
              i % 7 = 0, now(), dl.latitude + ((i * 7919) % 2000 - 1000) / 10000.0,
              dl.longitude + ((i::bigint * 104729) % 2000 - 1000) / 10000.0, i % 30
       FROM devices d JOIN dealers dl ON dl.id = d.dealer_id
       CROSS JOIN LATERAL (SELECT substr(d.device_id, 4)::int AS i) n""",
    """INSERT INTO telemetry.battery_daily (bucket, device_id, avg_soc, min_soc, max_soc, avg_voltage, avg_current,
                                           avg_temp, max_temp, charge_cycle, min_soh, reading_count)
       SELECT date_trunc('day', now(), 'Asia/Kolkata') - make_interval(days => g), d.device_id, 60, 20, 100, 52, -5, 30, 38,
              greatest(s.charge_cycle - g, 0), least(s.soh + g * 0.01, 100), 1440
       FROM devices d JOIN device_state s USING (device_id) CROSS JOIN generate_series(0, 30) g""",
    """INSERT INTO telemetry.battery_hourly (bucket, device_id, avg_soc, min_soc, max_soc, avg_voltage, min_voltage,
                                            max_voltage, avg_current, avg_temp, max_temp, charge_cycle, avg_soh,
                                            reading_count)
       SELECT date_trunc('hour', now()) - make_interval(hours => g), d.device_id,
              50 + 40 * sin(g / 4.0), 45, 95, 52 + sin(g / 4.0), 50, 55, 10 * cos(g / 4.0), 30, 34,
              s.charge_cycle, s.soh, 60
       FROM devices d JOIN device_state s USING (device_id) CROSS JOIN generate_series(0, 24 * 30) g""",
    # one statement (one now()): the whole fleet's last 2 hours, 24 hours for the measured pages
    """INSERT INTO telemetry.battery_readings (time, device_id, soc, soh, voltage, current, charge_cycle, temperature)
       SELECT date_trunc('minute', now()) - make_interval(mins => g), d.device_id, 50 + 40 * sin(g / 90.0),
              90, 52 + sin(g / 90.0), 20 * cos(g / 90.0), 700, 31
       FROM devices d CROSS JOIN LATERAL generate_series(
              0, CASE WHEN substr(d.device_id, 4)::int < :page_devices THEN 1439 ELSE 119 END) g""",
    """INSERT INTO telemetry.gps_readings (time, device_id, latitude, longitude, speed, ignition_on, is_moving)
       SELECT date_trunc('minute', now()) - make_interval(mins => g), s.device_id,
              s.latitude + sin(g / 60.0) / 50, s.longitude + cos(g / 60.0) / 50, 18, true, true
       FROM (SELECT device_id FROM devices ORDER BY device_id LIMIT :page_devices) d
       JOIN device_state s USING (device_id) CROSS JOIN generate_series(0, 1439) g""",
    """INSERT INTO telemetry.trips (device_id, start_time, end_time, distance_km)
       SELECT d.device_id, date_trunc('day', now(), 'Asia/Kolkata') - make_interval(days => g),
              date_trunc('day', now(), 'Asia/Kolkata') - make_interval(days => g - 1), 40 + (g * 13 + length(d.device_id)) % 60
       FROM devices d CROSS JOIN generate_series(1, 30) g""",
    """INSERT INTO telemetry.fleet_distance_daily (day, dealer_id, city, km, trips)
       SELECT (t.start_time AT TIME ZONE 'Asia/Kolkata')::date, d.dealer_id, d.city, sum(t.distance_km), count(*)
       FROM telemetry.trips t JOIN devices d USING (device_id) GROUP BY 1, 2, 3""",
    """INSERT INTO telemetry.energy_consumption (device_id, start_time, end_time, energy_used_kwh, start_soc, end_soc)
       SELECT device_id, start_time, end_time, distance_km / 22.0, 100, 35 FROM telemetry.trips""",
    """INSERT INTO alerts (device_id, alert_type, severity, message, first_seen_at, last_seen_at)
       SELECT device_id, CASE WHEN n % 2 = 0 THEN 'high_temp' ELSE 'overcurrent' END,
              CASE WHEN n % 2 = 0 THEN 'critical' ELSE 'warning' END, 'bench alert', now() - INTERVAL '1 hour', now()
       FROM (SELECT device_id, row_number() OVER (ORDER BY device_id) AS n FROM devices) d WHERE n % 40 = 0""",
    "INSERT INTO ingest_runs (started_at, finished_at, devices_polled) VALUES (now(), now(), :devices)",
]


# Sites for the locations grid and the site page: every dealer a showroom, a charging hub and a
# depot (120 sites), ten pieces of equipment each with two service records, every battery based at
# one of its dealer's sites. Run on its own, so a --reuse of an older seed gets them too.
SITES_PER_DEALER = 3
SITE_SEED = [
    """INSERT INTO sites (code, name, kind, dealer_id, city, latitude, longitude, climate_zone)
       SELECT dl.code || '-S' || k, dl.name || ' site ' || k, (ARRAY['showroom', 'charging_hub', 'depot'])[k],
              dl.id, dl.city, dl.latitude + k / 100.0, dl.longitude, 'composite'
       FROM dealers dl CROSS JOIN generate_series(1, :per_dealer) k
       WHERE NOT EXISTS (SELECT 1 FROM sites s WHERE s.dealer_id = dl.id)""",
    """INSERT INTO equipment (site_id, kind, make, model, serial, installed_on, status)
       SELECT s.id, CASE WHEN n = 10 THEN 'energy_meter' ELSE 'charger' END, 'Bench', 'B-1',
              'BE-' || s.code || '-' || n, current_date - 400, CASE WHEN n = 3 THEN 'faulty' ELSE 'in_service' END
       FROM sites s CROSS JOIN generate_series(1, 10) n ON CONFLICT (serial) DO NOTHING""",
    """INSERT INTO maintenance_records (equipment_id, done_on, work, done_by, next_due)
       SELECT e.id, current_date - 30 - 180 * g, 'Bench service', 'Bench', current_date + 150 - 180 * g - (e.id % 170)
       FROM equipment e CROSS JOIN generate_series(0, 1) g
       WHERE NOT EXISTS (SELECT 1 FROM maintenance_records m WHERE m.equipment_id = e.id)""",
    """UPDATE devices d SET site_id = s.id
       FROM (SELECT id, dealer_id, row_number() OVER (PARTITION BY dealer_id ORDER BY id) - 1 AS k FROM sites) s
       WHERE d.site_id IS NULL AND s.dealer_id = d.dealer_id
         AND s.k = (substr(d.device_id, 4)::int / 40) % :per_dealer""",
]


def seed_sites(db: database.Database) -> None:
    for sql in SITE_SEED:
        with db.transaction() as conn:
            conn.execute(database.text(sql), {"per_dealer": SITES_PER_DEALER})
    with db.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            "ANALYZE sites; ANALYZE equipment; ANALYZE maintenance_records; ANALYZE devices")


def seed(db: database.Database, devices: int) -> None:
    params = {"devices": devices, "dealers": DEALERS, "page_devices": PAGE_DEVICES, "n_cities": len(CITIES),
              "cities": json.dumps([{"city": c, "lat": la, "lng": lo} for c, la, lo in CITIES])}
    demo.seed_registry(db, [])       # the four demo dealers
    demo.seed_users(db)
    for sql in SEED:
        started = time.perf_counter()
        with db.transaction() as conn:
            conn.execute(database.text(sql), params)
        print(f"  seeded {sql.split()[2]:<32} {time.perf_counter() - started:6.1f}s", flush=True)
    with db.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95


def callback_payload(app, key: str, values: dict, changed: tuple[str, ...] = ()) -> dict:
    spec = app.callback_map[key]
    parts = key.strip(".").split("...") if key.startswith("..") else [key]
    outputs = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in parts]

    def fill(items):
        return [{"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")}
                for i in items]
    return {"output": key, "outputs": outputs if len(outputs) > 1 else outputs[0], "inputs": fill(spec["inputs"]),
            "state": fill(spec.get("state", [])), "changedPropIds": list(changed)}


def measure_callbacks(app, client, keys: list[str], values: dict, repeat: int,
                      changed: tuple[str, ...] = ()) -> dict[str, tuple]:
    results = {}
    for key in keys:
        payload = callback_payload(app, key, values, changed)
        client.post("/_dash-update-component", json=payload)  # warm
        samples, size = [], 0
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.post("/_dash-update-component", json=payload, headers={"Accept-Encoding": "gzip"})
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (key, response.status_code)
            size = len(response.get_data())
        results[key] = (*percentiles(samples), size)
    return results


def latest_state(db: database.Database, repeat: int) -> dict[str, tuple]:
    queries = {
        "device_state (ours)": "SELECT device_id, reading_time, soc, soh, voltage FROM device_state",
        "DISTINCT ON raw": """SELECT DISTINCT ON (device_id) device_id, time, soc, soh, voltage
                              FROM telemetry.battery_readings ORDER BY device_id, time DESC""",
    }
    out = {}
    for name, sql in queries.items():
        db.query(sql)
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            rows = db.query(sql)
            samples.append((time.perf_counter() - started) * 1000)
        out[name] = (*percentiles(samples), len(rows))
    return out


def start_app(db: database.Database, url: str):
    """The real app on the bench database (it builds itself against DATABASE_URL when imported)."""
    os.environ["DATABASE_URL"] = url
    config.reset()
    database.use(db)
    import app as app_module  # noqa: E402

    app_module.app.server.test_client().get("/login")  # registers Dash's routing callbacks
    return app_module.app


def login(client, username: str) -> None:
    """Through the real login form, CSRF token and all."""
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf" value="')[1].split('"')[0]
    response = client.post("/login", data={"csrf": token, "username": username, "password": demo.DEMO_PASSWORD})
    assert response.status_code == 302, f"login as {username} failed"


PAGE_CONTENT = ".._pages_content.children..._pages_store.data.."
EXPORT = "battery-trips-download.data"


def short(key: str) -> str:
    return "page layout" if key == PAGE_CONTENT else key.strip(".").split("...")[0].rsplit(".", 1)[0]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=22000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database-url", help="a server to create bfm_bench_dash on (default: the embedded one)")
    parser.add_argument("--reuse", action="store_true", help="keep the database of the last run if it has --devices")
    args = parser.parse_args(argv)

    server = args.database_url or embedded.url(config.get().data_dir)
    url = database.ensure_database(server, "bfm_bench_dash", drop_first=not args.reuse)
    os.environ["STORAGE_MODE"] = storage.POSTGRES
    config.reset()
    migrate.upgrade(url)
    db = database.Database(url)
    started = time.perf_counter()
    if args.reuse and db.scalar("SELECT count(*) FROM devices") == args.devices:
        print(f"reusing the seeded {args.devices:,} devices of the last run", flush=True)
    else:
        if args.reuse:
            db.dispose()
            url = database.ensure_database(server, "bfm_bench_dash", drop_first=True)
            migrate.upgrade(url)
            db = database.Database(url)
        print(f"seeding {args.devices:,} devices x 30 days (plain PostgreSQL)…", flush=True)
        seed(db, args.devices)
    seed_sites(db)
    raw_rows = db.scalar("SELECT count(*) FROM telemetry.battery_readings")
    hourly_rows = db.scalar("SELECT count(*) FROM telemetry.battery_hourly")
    print(f"seeded in {time.perf_counter() - started:.0f}s: {raw_rows:,} raw readings, {hourly_rows:,} hourly rollups")

    app = start_app(db, url)
    server_side = [k for k, spec in app.callback_map.items() if "callback" in spec]  # not the clientside ones
    overview = [k for k in server_side if k.startswith(("overview-", "..overview-"))]
    # The export answers a click (not a range): measured once below, with the click that triggers it.
    battery_keys = [k for k in server_side if k.startswith(("battery-", "..battery-")) and k != EXPORT]
    device = db.scalar("SELECT device_id FROM devices ORDER BY device_id LIMIT 1")
    sites_keys = [k for k in server_side if k.startswith("..sites-count")]
    site_keys = [k for k in server_side if k.startswith(("..site-kpis", "..site-batteries-grid"))]
    site_of = {user: db.scalar(f"""SELECT s.code FROM sites s JOIN dealers dl ON dl.id = s.dealer_id
                                   WHERE {where} ORDER BY (SELECT count(*) FROM devices d WHERE d.site_id = s.id) DESC
                                   LIMIT 1""")
               for user, where in (("manager", "TRUE"), ("dealer1", "dl.code = 'LKO01'"))}

    figures = []
    for user in ("manager", "dealer1"):
        client = app.server.test_client()
        login(client, user)
        values = {"overview-refresh.n_intervals": 1, "_pages_location.pathname": "/", "_pages_location.search": ""}
        for key, fig in measure_callbacks(app, client, [PAGE_CONTENT, *overview], values, args.repeat).items():
            figures.append((user, "overview", short(key), *fig))
        values = {"sites-refresh.n_intervals": 1}
        for key, fig in measure_callbacks(app, client, sites_keys, values, args.repeat).items():
            figures.append((user, "sites", "locations grid", *fig))
        values = {"site-code.data": site_of[user], "site-status.value": "all", "site-refresh.n_intervals": 1}
        for key, fig in measure_callbacks(app, client, site_keys, values, args.repeat).items():
            figures.append((user, "site", short(key), *fig))
        if user == "manager":
            for range_key in ("1h", "24h", "7d", "30d"):
                values = {"battery-device.data": device, "battery-range.value": range_key,
                          "battery-refresh.n_intervals": 1}
                for key, fig in measure_callbacks(app, client, battery_keys, values, args.repeat).items():
                    figures.append((user, f"battery {range_key}", short(key), *fig))
            values = {"battery-device.data": device, "battery-trips-export-xlsx.n_clicks": 1}
            fig = measure_callbacks(app, client, [EXPORT], values, args.repeat,
                                    changed=("battery-trips-export-xlsx.n_clicks",))[EXPORT]
            figures.append((user, "battery", "trips XLSX export", *fig))

    print(f"\ncallback server time over {args.repeat} calls (target p95 <= {TARGET_P95_MS} ms)")
    print(f"{'user':<9} {'page':<12} {'callback':<18} {'p50 ms':>8} {'p95 ms':>8} {'gzip bytes':>11}")
    worst = 0.0
    for user, page, name, p50, p95, size in figures:
        worst = max(worst, p95)
        print(f"{user:<9} {page:<12} {name:<18} {p50:8.1f} {p95:8.1f} {size:11,}")
    payload = sum(size for user, page, _, _, _, size in figures if user == "manager" and page == "overview")
    busiest = db.scalar("SELECT count(*) FROM devices d JOIN sites s ON s.id = d.site_id WHERE s.code = :c",
                        c=site_of["manager"])
    print(f"\n{db.scalar('SELECT count(*) FROM sites'):,} sites, {db.scalar('SELECT count(*) FROM equipment'):,} "
          f"pieces of equipment; the measured site {site_of['manager']} holds {busiest:,} batteries")
    layout_client = app.server.test_client()
    login(layout_client, "manager")
    page_layout = len(gzip.compress(layout_client.get("/_dash-layout").get_data()))
    print(f"\noverview payload, whole fleet: {payload + page_layout:,} bytes gzip "
          f"(callbacks {payload:,} + shell {page_layout:,}; target <= {TARGET_PAYLOAD:,})")
    print(f"slowest callback p95: {worst:.1f} ms ({'meets' if worst <= TARGET_P95_MS else 'MISSES'} the target)")

    print(f"\nlatest state of {args.devices:,} devices (raw table holds {raw_rows:,} readings)")
    state = latest_state(db, max(5, args.repeat // 3))
    for name, (p50, p95, rows) in state.items():
        print(f"  {name:<22} p50 {p50:8.1f} ms  p95 {p95:8.1f} ms  ({rows:,} rows)")
    ours, baseline = state["device_state (ours)"][0], state["DISTINCT ON raw"][0]
    print(f"  device_state is {baseline / ours:.1f}x faster than DISTINCT ON at this table size")
    db.dispose()
    return 0 if worst <= TARGET_P95_MS and payload + page_layout <= TARGET_PAYLOAD else 1


if __name__ == "__main__":
    sys.exit(main())
