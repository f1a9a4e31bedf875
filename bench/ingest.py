"""Ingest throughput: N devices x 1 hour at one reading a minute, through the real pipeline
(parse, validate, COPY + ON CONFLICT writer with state, cursors and rollups, alert rules), against
in the same run (a) a plain COPY of the same rows into the same table and (b) row-by-row INSERTs;
and (c) the same rows pushed over HTTP to ``POST /api/v1/ingest/can-data`` in 1,000-row requests
(the app under gunicorn, two workers, two client threads; bodies encoded before the clock starts).

    .venv/bin/python -m bench.ingest [--devices 22000] [--database-url URL] [--no-push]

Prints rows/s of each and the ratios. Uses its own database (bfm_bench) on the embedded
server unless --database-url is given.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

os.environ.setdefault("DEMO_MODE", "1")

import config  # noqa: E402
from data import db as database  # noqa: E402
from data import apikeys, embedded, migrate, telemetry  # noqa: E402
from ingest.alert_rules import AlertEngine  # noqa: E402
from ingest.readings import parse_battery  # noqa: E402

BATCH_DEVICES = 1000


def vendor_rows(devices: int, start: datetime, minutes: int = 60, seed: int = 1) -> dict[str, list[dict]]:
    """Vendor-shaped rows (some numbers as strings, some garbage) for every device."""
    rng = random.Random(seed)
    out = {}
    base_ms = int(start.timestamp() * 1000)
    for d in range(devices):
        soc = rng.uniform(30, 95)
        rows = []
        for m in range(minutes):
            soc = max(1.0, soc - rng.uniform(0, 0.5))
            row = {"soc": round(soc, 2), "soh": 97.5, "battery_temp": round(rng.uniform(25, 40), 1),
                   "battery_voltage": round(50 + soc / 20, 2), "charge_cycle": 400 + d % 500,
                   "current": round(-rng.uniform(0, 35), 2), "time": base_ms + m * 60000}
            if d % 7 == 0:
                row = {k: str(v) for k, v in row.items()}
            if rng.random() < 0.001:
                row["battery_voltage"] = 875712
            rows.append(row)
        out[f"BENCH-{d:06d}"] = rows
    return out


def reset(db: database.Database) -> None:
    db.execute("""TRUNCATE telemetry.battery_readings, telemetry.rejected_readings, ingest_cursors, device_state,
                  alert_events, alerts, alert_marks CASCADE""")
    if db.storage_mode == "postgres":
        db.execute("TRUNCATE telemetry.battery_hourly, telemetry.battery_daily")


def pipeline(db: database.Database, rows: dict[str, list[dict]]) -> tuple[int, float]:
    devices = list(rows)
    engine = AlertEngine(db, config.get())
    evaluation = engine.begin()
    stored = 0
    started = time.perf_counter()
    for i in range(0, len(devices), BATCH_DEVICES):
        valid, rejected, cursors = [], [], {}
        for device in devices[i:i + BATCH_DEVICES]:
            parsed = parse_battery(device, None, rows[device])
            valid += parsed.valid
            rejected += parsed.rejected
            cursors[(device, "battery")] = parsed.newest
        stored += telemetry.store(db, battery=valid, rejected=rejected, cursors=cursors).battery_stored
        engine.evaluate_pending(evaluation, devices[i:i + BATCH_DEVICES])
    return stored, time.perf_counter() - started


def plain_copy(db: database.Database, rows: dict[str, list[dict]]) -> tuple[int, float]:
    flat = [{"time": datetime.fromtimestamp(int(r["time"]) / 1000, tz=timezone.utc), "device_id": d,
             "soc": r["soc"], "soh": r["soh"], "voltage": r["battery_voltage"], "current": r["current"],
             "charge_cycle": r["charge_cycle"], "temperature": r["battery_temp"]}
            for d, rs in rows.items() for r in rs if float(r["battery_voltage"]) < 1000]
    started = time.perf_counter()
    with db.raw() as conn, conn.cursor() as cur:
        cur.copy_expert(f"COPY telemetry.battery_readings ({', '.join(telemetry.BATTERY_COLUMNS)}) FROM STDIN",
                        telemetry.copy_text(flat, telemetry.BATTERY_COLUMNS))
    return len(flat), time.perf_counter() - started


def row_by_row(db: database.Database, rows: dict[str, list[dict]], limit_rows: int) -> tuple[int, float]:
    sample = [(d, r) for d, rs in rows.items() for r in rs][:limit_rows]
    started = time.perf_counter()
    with db.raw() as conn, conn.cursor() as cur:
        for d, r in sample:
            cur.execute("""INSERT INTO telemetry.battery_readings (time, device_id, soc, soh, voltage, current,
                                                                   charge_cycle, temperature)
                           VALUES (to_timestamp(%s / 1000.0), %s, %s, %s, %s, %s, %s, %s)
                           ON CONFLICT DO NOTHING""",
                        (int(r["time"]), d, r["soc"], r["soh"], r["battery_voltage"], r["current"], r["charge_cycle"],
                         r["battery_temp"]))
    return len(sample), time.perf_counter() - started


PUSH_ROWS = 1000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("bench.ingest: the app under gunicorn exited; see its messages above")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("bench.ingest: the app did not answer /healthz in time")


def push_api(db: database.Database, url: str, rows: dict[str, list[dict]]) -> tuple[int, float, int]:
    """(rows sent, seconds, rows stored) for every row pushed in PUSH_ROWS-row requests."""
    key = apikeys.rotate(db, "bench-push", "ingest")
    flat = [dict(r, device_id=d) for d, rs in rows.items() for r in rs]
    bodies = [json.dumps(flat[i:i + PUSH_ROWS]).encode() for i in range(0, len(flat), PUSH_ROWS)]
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=url, DEMO_MODE="1")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "app:server", "--bind", f"127.0.0.1:{port}",
                             "--workers", "2", "--threads", "2", "--worker-class", "gthread", "--timeout", "120",
                             "--log-level", "warning"], env=env, cwd=config.ROOT)
    try:
        _wait(f"http://127.0.0.1:{port}/healthz", proc)

        def send(body: bytes) -> int:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/ingest/can-data", data=body,
                                             method="POST", headers={"Content-Type": "application/json",
                                                                     "Authorization": f"Bearer {key}"})
            with urllib.request.urlopen(request, timeout=120) as response:
                return json.loads(response.read())["stored"]

        started = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            stored = sum(pool.map(send, bodies))
        return len(flat), time.perf_counter() - started, stored
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=22000)
    parser.add_argument("--database-url")
    parser.add_argument("--row-by-row-sample", type=int, default=50000)
    parser.add_argument("--no-push", action="store_true", help="skip the push API over HTTP")
    args = parser.parse_args()
    server = args.database_url or embedded.url(config.get().data_dir)
    url = database.ensure_database(server, "bfm_bench", drop_first=True)
    migrate.upgrade(url)
    db = database.Database(url)
    db.execute("INSERT INTO devices (device_id, vehicle_number) SELECT 'BENCH-' || lpad(g::text, 6, '0'), "
               "'BV' || g FROM generate_series(0, :n - 1) g", n=args.devices)
    start = (datetime.now(timezone.utc) - timedelta(hours=2)).replace(second=0, microsecond=0)
    rows = vendor_rows(args.devices, start)
    total = sum(len(r) for r in rows.values())
    print(f"{args.devices} devices x 60 readings = {total:,} vendor rows; storage mode {db.storage_mode}")

    reset(db)
    n_copy, t_copy = plain_copy(db, rows)
    reset(db)
    n_pipe, t_pipe = pipeline(db, rows)
    stored = db.scalar("SELECT count(*) FROM telemetry.battery_readings")
    reset(db)
    n_naive, t_naive = row_by_row(db, rows, args.row_by_row_sample)
    push = None
    if not args.no_push:
        reset(db)
        push = push_api(db, url, rows)

    copy_rate, pipe_rate, naive_rate = n_copy / t_copy, total / t_pipe, n_naive / t_naive
    print(f"plain COPY (ceiling)      {copy_rate:>12,.0f} rows/s  ({n_copy:,} rows in {t_copy:.1f} s)")
    print(f"pipeline                  {pipe_rate:>12,.0f} rows/s  ({total:,} rows in {t_pipe:.1f} s, "
          f"{stored:,} stored)")
    print(f"row-by-row INSERT (naive) {naive_rate:>12,.0f} rows/s  ({n_naive:,} rows in {t_naive:.1f} s)")
    print(f"pipeline / plain COPY     {pipe_rate / copy_rate:>12.2f}   (target >= 0.50)")
    print(f"pipeline / row-by-row     {pipe_rate / naive_rate:>12.1f}x")
    if push:
        n_push, t_push, push_stored = push
        push_rate = n_push / t_push
        print(f"push API over HTTP        {push_rate:>12,.0f} rows/s  ({n_push:,} rows in {t_push:.1f} s, "
              f"{push_stored:,} stored, {PUSH_ROWS:,}-row requests)")
        print(f"push API / plain COPY     {push_rate / copy_rate:>12.2f}")
        print(f"push API / pipeline       {push_rate / pipe_rate:>12.2f}")
    db.dispose()


if __name__ == "__main__":
    main()
