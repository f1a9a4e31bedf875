"""``python -m ingest``: the worker loop; ``--once`` runs one cycle and exits; ``--backfill --since
DATE`` re-reads history from DATE with a progress bar. SIGTERM finishes the current window and exits.

The loop and the backfill ride out a database restart (one line, a short wait, carry on). A database
that is down when the worker starts, or during ``--once``, ends it with one line and exit code 1:
at start that is more often a wrong DATABASE_URL than a restart, and a supervisor retries."""
from __future__ import annotations

import argparse
import logging
import signal
import sys
from datetime import datetime, timezone

import config
from data import telemetry
from data.db import DatabaseUnavailable, get_db
from ingest.intellicar import IntellicarClient, IntellicarError
from ingest.worker import Worker

log = logging.getLogger("ingest")


def _since(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--since must be a date or time like 2026-11-01 or 2026-11-01T06:00, got {text!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest", description="Battery telemetry worker")
    parser.add_argument("--once", action="store_true", help="run one cycle, then exit")
    parser.add_argument("--backfill", action="store_true", help="re-read history from --since, then exit")
    parser.add_argument("--since", type=_since, help="start of the backfill (UTC unless an offset is given)")
    args = parser.parse_args(argv)
    if args.backfill and not args.since:
        parser.error("--backfill needs --since")
    try:
        settings = config.get()
    except config.ConfigError as exc:
        print(f"ingest: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not settings.intellicar_username:
        print("ingest: INTELLICAR_USERNAME and INTELLICAR_PASSWORD are required to poll the vendor API",
              file=sys.stderr)
        return 2

    try:
        db = get_db()
        db.check()
        worker = Worker(db, IntellicarClient.from_settings(settings), settings)
        # SIGTERM and Ctrl-C let the window in hand commit, then the worker exits.
        signal.signal(signal.SIGTERM, lambda *_: worker.stop.set())
        signal.signal(signal.SIGINT, lambda *_: worker.stop.set())
        if args.backfill:
            from tqdm import tqdm

            with tqdm(total=len(telemetry.active_devices(db)), unit="device", desc="backfill") as bar:
                worker.backfill(args.since, progress=bar)  # rides out a database restart
        elif args.once:
            worker.run_cycle()
        else:
            worker.run_forever()
    except (DatabaseUnavailable, IntellicarError) as exc:
        print(f"ingest: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
