"""What the browser sends, cleaned in one place. Every callback passes its inputs through here.

A browser (or anyone holding a session cookie) can send any JSON in any input: numbers where text
belongs, lists, NUL characters, 10 kB strings, integers past 64 bits. Each cleaner returns a value of
the expected type and range, or the default, which the pages show as "no filter" or "not found".
Nothing here raises: a hostile value is never an error worth a 500, only an empty answer.
"""
from __future__ import annotations

import math
from typing import Any, Iterable

# Integers the database columns behind our filters can hold (PostgreSQL integer).
INT_MIN, INT_MAX = -2**31, 2**31 - 1


def _printable(value: str) -> bool:
    # NUL cannot go into PostgreSQL text at all; other control characters are never in our ids or names.
    return not any(ord(ch) < 32 or ord(ch) == 127 or 0xD800 <= ord(ch) <= 0xDFFF for ch in value)


def text(value: Any, max_length: int = 100, default: str | None = None) -> str | None:
    """A non-empty, printable string of at most ``max_length`` characters, stripped; else ``default``."""
    if not isinstance(value, str):
        return default
    value = value.strip()
    if not value or len(value) > max_length or not _printable(value):
        return default
    return value


def choice(value: Any, allowed: Iterable[str], default: str | None = None) -> str | None:
    """One of ``allowed`` exactly; anything else (a list, a number, an unknown word) is ``default``."""
    return value if isinstance(value, str) and value in set(allowed) else default


def integer(value: Any, minimum: int = INT_MIN, maximum: int = INT_MAX, default: int | None = None) -> int | None:
    """A whole number in range from an int, an integral float or a decimal string; else ``default``."""
    if isinstance(value, bool):
        return default
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            return default
        value = int(value)
    elif isinstance(value, str):
        stripped = value.strip()
        if not stripped or len(stripped) > 12 or not stripped.lstrip("-").isdigit():
            return default
        value = int(stripped)
    if not isinstance(value, int) or not minimum <= value <= maximum:
        return default
    return value


def page_path(value: Any) -> str:
    """The page router's pathname: a printable absolute path, else one that resolves to "not found"."""
    if not isinstance(value, str) or len(value) > 2048 or not _printable(value):
        return "/404"
    return value if value.startswith("/") else "/" + value


def page_search(value: Any) -> str:
    """The page router's query string (``?a=b``): a printable string, else none."""
    if not isinstance(value, str) or len(value) > 2048 or not _printable(value):
        return ""
    return value


# -- the alerts page ---------------------------------------------------------------------------
MAX_LIST_ITEMS = 20  # a multi-select never holds more choices than there are values to choose
MAX_VEHICLE = 30
MAX_CITY = 60


def choices(value: Any, allowed: Iterable[str], max_items: int = MAX_LIST_ITEMS) -> tuple[str, ...]:
    """The known values of a multi-select, each once and in order; a lone string counts as one."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or len(value) > max_items:
        return ()
    known = set(allowed)
    seen: list[str] = []
    for item in value:
        if isinstance(item, str) and item in known and item not in seen:
            seen.append(item)
    return tuple(seen)


def iso_date(value: Any):
    """A calendar day from a date picker ("2026-11-24", or with a time after it); else None."""
    from datetime import date

    if not isinstance(value, str) or len(value) > 40 or not _printable(value):
        return None
    try:
        day = date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None
    return day if 2000 <= day.year <= 2100 else None


def date_range(since: Any, until: Any, problems: list[str]) -> tuple[Any, Any]:
    """(first, last) days of a From/To picker pair, None where not chosen; what is wrong with them
    is added to ``problems`` as sentences."""
    days = {}
    for name, value in (("From", since), ("To", until)):
        days[name] = iso_date(value)
        if days[name] is None and value not in (None, ""):
            problems.append(f"“{name}” is not a date.")
    if days["From"] and days["To"] and days["From"] > days["To"]:
        problems.append(f"“From” ({days['From']:%d %b %Y}) is after “To” ({days['To']:%d %b %Y}): swap them.")
    return days["From"], days["To"]


def alert_filter(severities=None, types=None, statuses=None, dealer=None, city=None, since=None, until=None,
                 vehicle=None, *, whole_fleet: bool):
    """The alerts page's filters as an ``AlertFilter``: unknown choices dropped, a dealer only for
    whole-fleet roles (the scope in SQL keeps a dealer to its own alerts whatever is sent anyway),
    days in order."""
    from data.alert_views import ALERT_TYPES, SEVERITIES, STATUSES, AlertFilter

    start, end = iso_date(since), iso_date(until)
    if start and end and start > end:
        start, end = end, start
    return AlertFilter(
        severities=choices(severities, SEVERITIES), types=choices(types, ALERT_TYPES),
        statuses=choices(statuses, STATUSES),
        dealer_id=integer(dealer, 1) if whole_fleet else None,
        city=text(city, MAX_CITY), since=start, until=end, vehicle=text(vehicle, MAX_VEHICLE))


MAX_BLOCK = 500  # rows one scroll of the grid may ask for at once
MAX_ROW = 10_000_000


def grid_block(request: Any, sorts: Iterable[str], default_sort: str) -> tuple[int, int, str, bool]:
    """An infinite grid's ``getRowsRequest`` as (offset, limit, sort, descending).

    Only a column named in ``sorts`` sorts; a missing or odd request is the first block."""
    request = request if isinstance(request, dict) else {}
    start = integer(request.get("startRow"), 0, MAX_ROW, default=0)
    end = integer(request.get("endRow"), 1, MAX_ROW + MAX_BLOCK, default=start + 100)
    limit = max(1, min(end - start, MAX_BLOCK)) if end > start else 100
    sort, descending = default_sort, True
    model = request.get("sortModel")
    if isinstance(model, list) and model and isinstance(model[0], dict):
        column = choice(model[0].get("colId"), sorts)
        direction = choice(model[0].get("sort"), ("asc", "desc"))
        if column and direction:
            sort, descending = column, direction == "desc"
    return start, limit, sort, descending


MAX_ALERT_ID = 2**63 - 1
MAX_BULK = 500  # selected rows acknowledged in one click


def alert_id(value: Any) -> int | None:
    """An alert id from a grid row id ("12"), a store or a query string."""
    return integer(value, 1, MAX_ALERT_ID) if not isinstance(value, str) or len(value) <= 20 else None


def alert_ids(rows: Any, max_items: int = MAX_BULK) -> tuple[int, ...]:
    """The ids of the grid's selected rows (``[{"id": 12, ...}, ...]``), each once; junk rows dropped."""
    if not isinstance(rows, list) or len(rows) > max_items:
        return ()
    ids: list[int] = []
    for row in rows:
        found = alert_id(row.get("id")) if isinstance(row, dict) else None
        if found is not None and found not in ids:
            ids.append(found)
    return tuple(ids)


def comment_text(value: Any, max_length: int = 20_000) -> str | None:
    """A free-text comment as typed (newlines kept): the data layer checks its length and says so.
    Text far beyond any textarea is cut (it still fails that check); unpaired surrogates, which no
    database can store, become U+FFFD."""
    if not isinstance(value, str):
        return None
    value = value[:max_length]
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        value = "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in value)
    return value


def alert_action(request: Any, actions: Iterable[str], max_comment: int = 20_000) -> dict | None:
    """A click on an alert's action button, as the browser bridge sends it:
    ``{"alert": 12, "action": "resolve", "comment": "...", "user": "engineer"}``.

    The comment is passed on as typed (the data layer refuses one too long and says so, which is the
    message the person needs)."""
    if not isinstance(request, dict):
        return None
    found, action = alert_id(request.get("alert")), choice(request.get("action"), actions)
    if found is None or action is None:
        return None
    comment = comment_text(request.get("comment"), max_comment)
    user = request.get("user")
    return {"alert": found, "action": action, "comment": comment,
            "user": text(user, 100) if isinstance(user, str) else None}
