"""Processes started with bad settings exit non-zero with one clear line and no traceback."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT


def run(args, **env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "DEMO_MODE")}
    env.update(env_overrides)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [["-c", "import app"], ["-m", "ingest", "--once"]])
def test_unreachable_database(args):
    proc = run(args, DATABASE_URL="postgresql://nobody@127.0.0.1:1/nothing", DEMO_MODE="1",
               INTELLICAR_USERNAME="u", INTELLICAR_BASE_URL="http://127.0.0.1:1/api/standard")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "cannot reach the database" in proc.stderr or "database error" in proc.stderr
    assert "127.0.0.1:1" in proc.stderr


def test_missing_secret_key_in_production():
    proc = run(["-c", "import app"], DATABASE_URL="postgresql://nobody@127.0.0.1:1/nothing")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "battery-fleet-monitor: SECRET_KEY is required outside demo mode (set DEMO_MODE=1 for the demo)"]


def test_bad_setting_stops_the_worker():
    proc = run(["-m", "ingest", "--once"], INGEST_INTERVAL_SECONDS="soon", DEMO_MODE="1")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "ingest: INGEST_INTERVAL_SECONDS must be a whole number, got 'soon'"
