"""``python -m ingest``: the worker loop; ``--once`` runs one cycle and exits."""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

import config
from data.db import DatabaseUnavailable, get_db
from ingest import maintenance

log = logging.getLogger("ingest")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest", description="Battery telemetry worker")
    parser.add_argument("--once", action="store_true", help="run one cycle, then exit")
    args = parser.parse_args(argv)
    try:
        settings = config.get()
    except config.ConfigError as exc:
        print(f"ingest: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    stop = threading.Event()
    # SIGTERM lets the current cycle finish; the loop then exits.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while True:
        try:
            db = get_db()
            figures = maintenance.run(db, settings)
            log.info("cycle done: %s", ", ".join(f"{k}={v}" for k, v in figures.items()))
        except DatabaseUnavailable as exc:
            log.error("%s; retrying next cycle", exc)
            if args.once:
                return 1
        if args.once or stop.wait(settings.ingest_interval_seconds):
            return 0


if __name__ == "__main__":
    sys.exit(main())
