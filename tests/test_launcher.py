"""`make run`'s launcher on a fresh data directory: embedded server, migration, demo seed, web and
worker; a second process attaches to the same server; Ctrl-C stops everything; data persists."""
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import ROOT, free_port


PORT_TAKEN = "is in use"


def start(data_dir, attempts: int = 3):
    """The launcher on a free port: (process, port, its banner). free_port() only finds a port that was
    free a moment ago; when another process takes it first, the launcher says so and we try another."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL", "SECRET_KEY")}
    # One day of seeded history keeps the test short; the demo's default is 15 days (measured in the README).
    env.update(DATA_DIR=str(data_dir), DEMO_MODE="1", INGEST_INTERVAL_SECONDS="5", DEMO_HISTORY_DAYS="1")
    for _ in range(attempts):
        port = free_port()
        proc = subprocess.Popen([sys.executable, "launcher.py"], cwd=ROOT, env=dict(env, PORT=str(port)),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        lines, said = _read(proc, "Ctrl-C stops everything", timeout=120)
        if said:
            return proc, port, "".join(lines)
        if any(PORT_TAKEN in line for line in lines):
            proc.wait(timeout=30)
            continue
        proc.kill()
        pytest.fail("launcher never said 'Ctrl-C stops everything':\n" + "".join(lines))
    pytest.fail(f"every port tried was taken by another process ({attempts} tries)")


def _read(proc, marker: str, timeout: float) -> tuple[list[str], bool]:
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            return lines, True
    return lines, False


def read_until(proc, marker: str, timeout: float = 120) -> str:
    lines, said = _read(proc, marker, timeout)
    if said:
        return "".join(lines)
    proc.kill()
    pytest.fail(f"launcher never said {marker!r}:\n" + "".join(lines))


def postmaster_pid(data_dir):
    return int((data_dir / "pgdata" / "postmaster.pid").read_text().splitlines()[0])


def ctrl_c(proc):
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal sends to the whole foreground group
    proc.wait(timeout=60)


def test_run_attach_stop_restart(tmp_path):
    data_dir = tmp_path / "var"
    started = time.monotonic()
    proc, port, banner = start(data_dir)
    first_start = time.monotonic() - started
    try:
        assert "admin" in banner and "dealer1" in banner and 'password "demo"' in banner
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login") as response:
            assert response.status == 200
        server_pid = postmaster_pid(data_dir)
        # A second process (a CLI, a worker) attaches instead of starting another server.
        attach = subprocess.run(
            [sys.executable, "-c", "import sys, config; from data import embedded; "
             "print(embedded.url(config.get().data_dir))"],
            cwd=ROOT, env=dict(os.environ, DATA_DIR=str(data_dir)), capture_output=True, text=True, timeout=60)
        assert attach.returncode == 0, attach.stderr
        assert str(data_dir / "pgdata").replace("/", "%2F") in attach.stdout or str(data_dir) in attach.stdout
        assert postmaster_pid(data_dir) == server_pid
        # The first start seeds history straight from the simulator, then the worker carries on.
        read_until(proc, "history ready", timeout=180)
        from data.db import Database
        db = Database(f"postgresql+psycopg2://postgres:@/bfm?host={data_dir / 'pgdata'}")
        spans = db.query("""SELECT d.device_id, max(r.time) - min(r.time) AS span
                            FROM devices d LEFT JOIN telemetry.battery_readings r USING (device_id)
                            GROUP BY d.device_id""")
        db.dispose()
        assert len(spans) >= 300
        assert all(s["span"] is not None and s["span"].total_seconds() > 20 * 3600 for s in spans)
    finally:
        ctrl_c(proc)
    assert proc.returncode == 0
    time.sleep(1)
    assert not (data_dir / "pgdata" / "postmaster.pid").exists(), "embedded server still running after Ctrl-C"
    leftovers = subprocess.run(["pgrep", "-f", str(data_dir)], capture_output=True, text=True).stdout.split()
    assert leftovers == []

    # Second start: same data, no re-initialisation.
    started = time.monotonic()
    proc, _, _ = start(data_dir)
    second_start = time.monotonic() - started
    try:
        from data.db import Database
        url = f"postgresql+psycopg2://postgres:@/bfm?host={data_dir / 'pgdata'}"
        db = Database(url)
        assert db.scalar("SELECT count(*) FROM users WHERE is_demo") == 6
        assert db.scalar("SELECT count(*) FROM devices") >= 300
        db.dispose()
    finally:
        ctrl_c(proc)
    print(f"first start {first_start:.1f}s, second start {second_start:.1f}s")
    assert second_start < 30
