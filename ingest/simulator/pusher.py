"""The demo's meters and solar sites pushing their readings, as real ones would: every minute the
intervals completed since the last push go to ``POST /api/v1/ingest/meter`` and ``/site-power``
with an ingest key. A failed push is retried on the next round (the API stores nothing twice)."""
from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

from ingest.simulator.meters import MeterFeed

log = logging.getLogger(__name__)

EVERY_SECONDS = 60
CATCH_UP = timedelta(hours=2)  # on start: the history seed covers what came before
CHUNK = 5000


def _post(url: str, key: str, rows: list[dict]) -> dict:
    request = urllib.request.Request(url, data=json.dumps(rows).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


class Pusher(threading.Thread):
    def __init__(self, feed: MeterFeed, base_url: str, key: str):
        super().__init__(daemon=True, name="meter-pusher")
        self.feed, self.base_url, self.key = feed, base_url.rstrip("/"), key
        self.stop = threading.Event()
        self.pushed_until = datetime.now(timezone.utc) - CATCH_UP

    def push_once(self) -> bool:
        now = datetime.now(timezone.utc)
        meters, power = self.feed.readings(self.pushed_until, now)
        try:
            for stream, rows in (("meter", meters), ("site-power", power)):
                for i in range(0, len(rows), CHUNK):
                    answer = _post(f"{self.base_url}/api/v1/ingest/{stream}", self.key, rows[i:i + CHUNK])
                    if answer.get("rejected"):
                        log.warning("simulator push %s: %d rows rejected: %s", stream, answer["rejected"],
                                    answer["errors"][:3])
        except (OSError, urllib.error.URLError, ValueError) as exc:
            log.warning("simulator push to %s failed (%s); retrying in %d s", self.base_url, exc, EVERY_SECONDS)
            return False
        self.pushed_until = now
        return True

    def run(self) -> None:
        # The app may still be starting (make run starts it beside us): first push a little later.
        self.stop.wait(EVERY_SECONDS / 3)
        while not self.stop.is_set():
            self.push_once()
            self.stop.wait(EVERY_SECONDS)
