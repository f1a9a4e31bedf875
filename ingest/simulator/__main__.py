"""``python -m ingest.simulator serve``: the mock Intellicar API over a simulated fleet."""
from __future__ import annotations

import argparse
import logging
import os
import sys

from werkzeug.serving import make_server

from data import demo
from ingest.simulator.fleet import SimulatedFleet
from ingest.simulator.meters import MeterFeed
from ingest.simulator.model import Faults
from ingest.simulator.pusher import Pusher
from ingest.simulator.server import create_mock_app


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest.simulator")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the mock Intellicar API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8060)
    serve.add_argument("--vehicles", type=int, default=320, help="fleet size (the demo registry's first N)")
    serve.add_argument("--username", default="demo")
    serve.add_argument("--password", default="demo")
    serve.add_argument("--calls-per-second", type=float, default=3.0, help="0 disables the rate limit")
    serve.add_argument("--no-faults", action="store_true", help="clean data: no garbage, gaps or duplicates")
    serve.add_argument("--push-url", help="push meter and site-power readings to this app (key: SIM_PUSH_KEY)")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    fleet = SimulatedFleet(demo.fleet(args.vehicles), Faults.none() if args.no_faults else Faults())
    app = create_mock_app(fleet, username=args.username, password=args.password,
                          calls_per_second=args.calls_per_second)
    try:
        server = make_server(args.host, args.port, app, threaded=True)
    except OSError as exc:
        print(f"simulator: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 2
    if args.push_url:
        key = os.environ.get("SIM_PUSH_KEY", "")
        if not key:
            print("simulator: --push-url needs an ingest API key in SIM_PUSH_KEY", file=sys.stderr)
            return 2
        Pusher(MeterFeed(list(fleet.vehicles.values()), fleet), args.push_url, key).start()
    print(f"simulator: mock Intellicar API for {len(fleet.vehicles)} vehicles on "
          f"http://{args.host}:{args.port}/api/standard", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
