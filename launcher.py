"""``make run``: the whole product on one machine with nothing to install.

Starts (or attaches to) the embedded PostgreSQL under ./var, migrates, seeds the demo fleet and
users, then runs the web app (gunicorn) and the ingest worker until Ctrl-C, which stops every
process this launcher started. The embedded server stops when its last user exits.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import json
from datetime import datetime, timedelta, timezone

import config
from data import apikeys, demo, migrate, telemetry
from data.db import Database, DatabaseUnavailable, resolve_url
from ingest import history


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


DEMO_PUSH_KEY = "demo-simulator"  # the simulator's meters push with this ingest key, made anew each start
# The simulator has no vendor rate limit to respect, so the demo's first cycle can fetch a day quickly.
DEMO_INGEST = {
    "INTELLICAR_USERNAME": "demo", "INTELLICAR_PASSWORD": "demo", "INTELLICAR_CALLS_PER_SECOND": "200",
    "INTELLICAR_MIN_INTERVAL_MS": "0", "INTELLICAR_CONCURRENCY": "4", "INTELLICAR_HISTORY_WINDOW_HOURS": "24",
    "INGEST_LOOKBACK_HOURS": "24", "INGEST_INTERVAL_SECONDS": "60",
}


def _wait_for_http(url: str, procs: list[subprocess.Popen], timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            time.sleep(0.3)
    return False


# A few live incidents so the alert feed, red pins and notifications have something to show.
DEMO_SCENARIOS = (("overheating", 3, 240), ("overcurrent", 7, 120), ("deep_discharge", 11, 90),
                  ("overheating", 18, 240), ("overcurrent", 25, 180))


def _seed_history(url: str, vehicles: list[demo.DemoVehicle], days: float) -> None:
    """Weeks of history straight from the simulator, so the first `make run` has something to show.

    Later runs only fill the gap since the last stored reading (the worker covers its lookback).
    """
    db = Database(url)
    try:
        now = datetime.now(timezone.utc)
        cursors = telemetry.cursors(db, "battery")
        known = [cursors.get(v.device_id) for v in vehicles]
        earliest = now - timedelta(days=days)
        if days <= 0 or all(known) and now - min(known) < timedelta(hours=1):
            return
        start = max(min(known), earliest) if all(known) else earliest
        days = (now - start).total_seconds() / 86400
        print(f"seeding {days:.1f} days of history for {len(vehicles)} batteries (once; about 2 minutes)…", flush=True)
        began = time.monotonic()
        done = history.seed(db, vehicles, history.Plan(start=start, now=now, full_hours=3, coarse_minutes=15))
        print(f"history ready: {done.rows:,} readings, {done.trips:,} daily trips in "
              f"{time.monotonic() - began:.0f}s", flush=True)
    finally:
        db.dispose()


def _inject_scenarios(sim_url: str, vehicles: list[demo.DemoVehicle]) -> None:
    start_ms = int((datetime.now(timezone.utc) + timedelta(minutes=1)).timestamp() * 1000)
    for kind, index, minutes in DEMO_SCENARIOS:
        if index >= len(vehicles):
            continue
        body = json.dumps({"vehicle": vehicles[index].vehicle_number, "kind": kind, "start": start_ms,
                           "minutes": minutes}).encode()
        request = urllib.request.Request(f"{sim_url}/sim/scenario", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            urllib.request.urlopen(request, timeout=5).close()
        except OSError as exc:
            print(f"make run: could not inject the demo scenario {kind}: {exc}", file=sys.stderr)


def _banner(settings: config.Settings) -> str:
    users = ", ".join(name if not dealer else f"{name} ({dealer})" for name, _, dealer, _ in demo.DEMO_USERS)
    return (
        f"\n  Battery Fleet Monitor is running: http://{settings.host}:{settings.port}\n"
        f"  Demo logins, password \"{demo.DEMO_PASSWORD}\": {users}\n"
        f"  Data: {'DATABASE_URL' if settings.database_url else settings.data_dir}   Ctrl-C stops everything.\n"
    )


def main() -> int:
    # Ctrl-C must stop everything even when we were started with SIGINT ignored (a shell's
    # background job inherits that; so would our children), or only some would stop.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    config.set_env("DEMO_MODE", os.environ.get("DEMO_MODE", "1"))
    try:
        settings = config.get()
        if not _port_free(settings.host, settings.port):
            raise config.ConfigError(f"port {settings.port} on {settings.host} is in use (another `make run`?); "
                                     "set PORT to run a second copy")
        started = time.monotonic()
        url = resolve_url(settings)
        migrate.upgrade(url)
        db = Database(url)
        demo.seed_registry(db, demo.fleet())
        demo.seed_users(db)
        push_key = apikeys.rotate(db, DEMO_PUSH_KEY, "ingest")
        db.dispose()
    except (config.ConfigError, DatabaseUnavailable) as exc:
        print(f"make run: {exc}", file=sys.stderr)
        return 2
    print(f"database ready in {time.monotonic() - started:.1f}s", flush=True)

    # Children reach the embedded server through its socket; only this process holds a server handle.
    # The worker polls the fleet simulator through the real Intellicar client, over real HTTP.
    sim_port = _free_port(settings.host)
    env = dict(os.environ, DATABASE_URL=url, DEMO_MODE="1", **DEMO_INGEST, SIM_PUSH_KEY=push_key,
               INTELLICAR_BASE_URL=f"http://{settings.host}:{sim_port}/api/standard")
    python = sys.executable
    sim_url = f"http://{settings.host}:{sim_port}"
    procs = [
        subprocess.Popen([python, "-m", "ingest.simulator", "serve", "--host", settings.host, "--port", str(sim_port),
                          "--calls-per-second", "0", "--push-url", f"http://{settings.host}:{settings.port}"],
                         env=env, cwd=config.ROOT),
        subprocess.Popen([python, "-m", "gunicorn", "app:server", "--bind", f"{settings.host}:{settings.port}",
                          "--workers", "2", "--threads", "4", "--worker-class", "gthread", "--timeout", "60",
                          "--log-level", "warning"], env=env, cwd=config.ROOT),
    ]

    def stop(*_):
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        if not _wait_for_http(f"http://{settings.host}:{settings.port}/healthz", procs):
            print("make run: the web app did not start; see the messages above", file=sys.stderr)
            stop()
            return 1
        print(_banner(settings), flush=True)
        vehicles = demo.fleet()
        _seed_history(url, vehicles, settings.demo_history_days)
        if _wait_for_http(f"{sim_url}/sim/truth", procs, timeout=30):
            _inject_scenarios(sim_url, vehicles)
        # The worker starts after the history, so it carries on from the seeded cursors.
        procs.append(subprocess.Popen([python, "-m", "ingest"], env=env, cwd=config.ROOT))
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        print("make run: a process exited; stopping the rest", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
        return 0
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
