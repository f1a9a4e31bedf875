"""The alerts page at scale: 100,000 alerts over 22,000 batteries, paged and filtered on the server.

    .venv/bin/python -m bench.alerts [--alerts 100000] [--devices 22000] [--repeat 15] [--database-url URL]

Seeds (set-based SQL, its own database bfm_bench_alerts) the bench fleet of bench/dashboard.py and
``--alerts`` alerts of every type, severity and status spread over 90 days, with their events.
Then, through the real app (Flask test client, signed in, real callbacks), measures p50/p95 of the
grid's block callback (first block, a filtered block, a sorted block, a block 90 % deep), the
counts, an alert's detail and the CSV export of a filtered table, as a manager and as a dealer.

Baseline, in the same run: reading every alert in scope once (what a grid paged in the browser
would have to load). The ratio holds on a noisy machine; the absolute times do not.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("DEMO_MODE", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import config  # noqa: E402
from bench.dashboard import CITIES, DEALERS, SEED, callback_payload, login, percentiles, start_app  # noqa: E402
from components.alerts_page import grid_rows  # noqa: E402
from data import alert_views, demo, embedded, migrate, storage  # noqa: E402
from data import db as database  # noqa: E402
from data.scope import Scope  # noqa: E402

ALERTS_SQL = [
    # One open alert per (device, type), as the engine keeps them: only the first ``devices`` alerts
    # (whose (device, type) pairs are distinct) may be open or acknowledged; every later one is resolved.
    """INSERT INTO alerts (device_id, alert_type, severity, message, reading_value, threshold_value, first_seen_at,
                           last_seen_at, occurrence_count, status, acknowledged_at, resolved_at, created_at)
       SELECT d.device_id, t.alert_type, t.severity, t.alert_type || ' on ' || d.vehicle_number, 60, 55,
              now() - make_interval(mins => (g * 37) % 129600), now() - make_interval(mins => (g * 37) % 129600 - 5),
              1 + g % 40, s.status, CASE WHEN s.status = 'acknowledged' THEN now() END,
              CASE WHEN s.status = 'resolved' THEN now() - make_interval(mins => (g * 37) % 129600 - 30) END, now()
       FROM generate_series(0, :alerts - 1) g
       CROSS JOIN LATERAL (SELECT CASE WHEN g >= :devices OR g % 10 < 7 THEN 'resolved'
                                       WHEN g % 10 < 9 THEN 'acknowledged' ELSE 'open' END AS status) s
       JOIN (SELECT row_number() OVER (ORDER BY device_id) - 1 AS k, device_id, vehicle_number FROM devices) d
         ON d.k = (g * 7919) % :devices
       JOIN (SELECT row_number() OVER (ORDER BY alert_type) - 1 AS k, alert_type, severity FROM alert_rules
             WHERE alert_type <> 'feed_silence') t ON t.k = g % 10""",
    """INSERT INTO alert_events (alert_id, event, at, details)
       SELECT id, 'opened', first_seen_at, '{}' FROM alerts""",
]


def seed(db: database.Database, devices: int, alerts: int) -> None:
    params = {"devices": devices, "dealers": DEALERS, "alerts": alerts, "n_cities": len(CITIES),
              "cities": json.dumps([{"city": c, "lat": la, "lng": lo} for c, la, lo in CITIES])}
    demo.seed_registry(db, [])
    demo.seed_users(db)
    for sql in [*SEED[:4], *ALERTS_SQL]:
        with db.transaction() as conn:
            conn.execute(database.text(sql), params)
    with db.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")


def timed(call, repeat: int) -> tuple[float, float]:
    call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--devices", type=int, default=22_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database-url")
    args = parser.parse_args(argv)

    server = args.database_url or embedded.url(config.get().data_dir)
    url = database.ensure_database(server, "bfm_bench_alerts", drop_first=True)
    os.environ["STORAGE_MODE"] = storage.POSTGRES
    config.reset()
    migrate.upgrade(url)
    db = database.Database(url)
    started = time.perf_counter()
    seed(db, args.devices, args.alerts)
    total = db.scalar("SELECT count(*) FROM alerts")
    print(f"seeded {total:,} alerts over {args.devices:,} batteries in {time.perf_counter() - started:.0f}s")

    app = start_app(db, url)
    grid = "alerts-grid.getRowsResponse"
    summary = "alerts-summary.children"
    detail = next(k for k in app.callback_map if "alerts-detail.children" in k)
    export = "alerts-download.data"
    base = {"alerts-status.value": ["open", "acknowledged", "resolved"]}
    cases = {
        "first block": (grid, {**base, "alerts-grid.getRowsRequest": {"startRow": 0, "endRow": 100}}),
        "filtered block": (grid, {**base, "alerts-severity.value": ["critical"], "alerts-type.value": ["high_temp"],
                                  "alerts-grid.getRowsRequest": {"startRow": 0, "endRow": 100}}),
        "sorted block": (grid, {**base, "alerts-grid.getRowsRequest": {
            "startRow": 0, "endRow": 100, "sortModel": [{"colId": "vehicle_number", "sort": "asc"}]}}),
        "block 90 % deep": (grid, {**base, "alerts-grid.getRowsRequest": {
            "startRow": int(total * 0.9), "endRow": int(total * 0.9) + 100}}),
        "counts": (summary, base),
        "CSV export (critical)": (export, {**base, "alerts-severity.value": ["critical"],
                                           "alerts-export-csv.n_clicks": 1}),
    }
    print(f"\n{'user':<9} {'call':<24} {'p50 ms':>8} {'p95 ms':>8}")
    worst = 0.0
    for user in ("manager", "dealer1"):
        client = app.server.test_client()
        login(client, user)
        for name, (key, values) in cases.items():
            changed = ("alerts-export-csv.n_clicks",) if key == export else ()
            payload = callback_payload(app, key, values, changed)

            def call():
                response = client.post("/_dash-update-component", json=payload)
                assert response.status_code in (200, 204), (name, response.status_code, response.get_data()[:200])
            p50, p95 = timed(call, args.repeat)
            worst = max(worst, p95) if "export" not in name else worst
            print(f"{user:<9} {name:<24} {p50:8.1f} {p95:8.1f}")
        one = db.scalar("SELECT a.id FROM alerts a JOIN devices d USING (device_id) JOIN dealers dl "
                        "ON dl.id = d.dealer_id WHERE dl.code = 'LKO01' ORDER BY a.id DESC LIMIT 1")
        payload = callback_payload(app, detail, {"alerts-grid.cellClicked": {"rowId": str(one), "value": one,
                                                                          "colId": "vehicle_number"}},
                                   ("alerts-grid.cellClicked",))

        def open_detail():
            assert client.post("/_dash-update-component", json=payload).status_code == 200
        p50, p95 = timed(open_detail, args.repeat)
        print(f"{user:<9} {'alert detail':<24} {p50:8.1f} {p95:8.1f}")

    whole = Scope("manager", None, None)
    dealer = Scope("dealer", None, db.scalar("SELECT id FROM dealers WHERE code = 'LKO01'"))
    for name, scope in (("manager", whole), ("dealer1", dealer)):
        p50, p95 = timed(lambda: alert_views.latest_critical_id(db, scope), args.repeat)
        print(f"{name:<9} {'toast poll (newest id)':<24} {p50:8.1f} {p95:8.1f}")

    def browser_paged():
        """What a grid paged in the browser needs first: every alert read and serialised."""
        everything = alert_views.list_after(db, whole, alert_views.NO_FILTER, None, total)
        return len(json.dumps(grid_rows(everything), default=str))

    size = browser_paged()
    load_all = timed(browser_paged, max(3, args.repeat // 5))
    def one_block():
        return len(json.dumps(grid_rows(alert_views.list_alerts(db, whole, limit=100)), default=str))

    block_size = one_block()
    block = timed(one_block, args.repeat)
    print(f"\nbaseline, same run: all {total:,} alerts read and serialised (a browser-paged grid) "
          f"p50 {load_all[0]:.0f} ms, {size / 1e6:.1f} MB of JSON;")
    print(f"one server-paged block of 100 p50 {block[0]:.1f} ms, {block_size / 1e3:.0f} kB: "
          f"{load_all[0] / block[0]:.0f}x less time, {size / block_size:.0f}x less data")
    print(f"slowest grid/counts callback p95: {worst:.1f} ms")
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
