"""Numbers, shares, durations and times as the administration pages write them."""
from __future__ import annotations

import pandas as pd

from ingest.readings import IST


def missing(v) -> bool:
    return v is None or (not isinstance(v, str) and pd.isna(v))


def duration(seconds, none: str = "—") -> str:
    """42 s, 17 min, 3.5 h."""
    if missing(seconds):
        return none
    s = float(seconds)
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.0f} min" if s < 7200 else f"{s / 3600:.1f} h"


def share(v) -> str:
    return "—" if missing(v) else f"{float(v) * 100:.0f} %"


def count(v) -> str:
    return "—" if missing(v) else f"{int(v):,}"


def ist(t, fmt: str = "%d %b %Y %H:%M") -> str:
    return "—" if missing(t) else pd.Timestamp(t).tz_convert(IST).strftime(fmt)


def ist_naive(t):
    """A moment as an Indian wall-clock time without a zone, for a spreadsheet (its header says IST)."""
    return None if missing(t) else pd.Timestamp(t).tz_convert(IST).tz_localize(None)


def devices(n) -> str:
    """"1 device", "3 devices"."""
    return f"{count(n)} device" + ("" if n == 1 else "s")
