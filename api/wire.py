"""What crosses the wire: request bodies and query strings in, plain JSON out.

Anyone with a key can send anything: broken JSON, arrays where objects belong, 64-bit overflows,
NUL characters, megabytes of text. Each helper here either returns a clean value or raises
``ApiError`` with a message that says what was wrong; the blueprint turns it into a JSON answer.
"""
from __future__ import annotations

import json
import math
import re
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Iterable

from flask import request

MAX_BODY = 64 * 1024  # a comment is at most 1,000 characters and the whole rule set is ~2 kB
ID_MAX = 2**63 - 1  # alerts.id is a bigint
_DIGITS = re.compile(r"[0-9]{1,19}")


class ApiError(Exception):
    """A request the API answers with ``status`` and ``{"error": message}`` (plus ``extra`` fields)."""

    def __init__(self, status: int, message: str, **extra: Any):
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra

    def body(self) -> dict:
        return {"error": self.message, **self.extra}


NOT_FOUND = "alert not found"  # one body for an unknown alert and one outside the caller's scope


def _printable(value: str) -> bool:
    return not any(ord(ch) < 32 or ord(ch) == 127 or 0xD800 <= ord(ch) <= 0xDFFF for ch in value)


def _strict_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def json_body(allowed: Iterable[str] | None = None) -> dict:
    """The request's JSON object. An empty body is ``{}`` (a bare acknowledge needs no fields).

    ``allowed``: the fields this endpoint knows; any other is refused, so a typo ("comments") is a
    400 and not a silently ignored comment."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(413, f"the body is larger than {MAX_BODY // 1024} kB")
    raw = request.stream.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise ApiError(413, f"the body is larger than {MAX_BODY // 1024} kB")
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_strict_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError(400, "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    if allowed is not None:
        unknown = sorted(set(body) - set(allowed))
        if unknown:
            shown = ", ".join(repr(k[:40]) for k in unknown[:5])
            raise ApiError(400, f"unknown field(s): {shown}; this endpoint takes {', '.join(allowed) or 'none'}")
    return body


def alert_id(raw: str) -> int:
    """The alert id of a URL; anything that cannot be one is the same 404 as an unknown alert."""
    if not _DIGITS.fullmatch(raw or "") or not 0 < int(raw) <= ID_MAX:
        raise ApiError(404, NOT_FOUND)
    return int(raw)


def int_param(name: str, minimum: int, maximum: int, default: int | None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not _DIGITS.fullmatch(raw) or not minimum <= int(raw) <= maximum:
        raise ApiError(400, f"{name} must be a whole number from {minimum} to {maximum}")
    return int(raw)


def list_param(name: str, allowed: Iterable[str]) -> tuple[str, ...]:
    """A filter given as ``name=a,b`` or ``name=a&name=b``; every value must be one of ``allowed``."""
    allowed = tuple(allowed)
    values: list[str] = []
    for raw in request.args.getlist(name):
        for part in raw.split(","):
            part = part.strip()
            if not part:
                continue
            if part not in allowed:
                shown = part[:40] if _printable(part) else "(unprintable)"
                raise ApiError(400, f"{name}: unknown value {shown!r}; use {', '.join(allowed)}")
            values.append(part)
    return tuple(dict.fromkeys(values))


def text_param(name: str, max_length: int) -> str | None:
    raw = request.args.get(name)
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    if len(raw) > max_length or not _printable(raw):
        raise ApiError(400, f"{name} must be printable text of at most {max_length} characters")
    return raw


def iso(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``: the one time format the API speaks."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def plain(value: Any) -> Any:
    """A database value as JSON can carry it: times as ISO 8601 UTC, decimals as numbers, no NaN."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


MAX_ROWS_BODY = 16 * 1024 * 1024  # 10,000 rows of ~300 bytes with room for long vendor field names


def json_rows(max_rows: int) -> list:
    """The request's rows: one JSON object, or an array of up to ``max_rows`` (of anything: each
    element is judged on its own, so one bad row does not refuse the batch)."""
    if request.content_length is not None and request.content_length > MAX_ROWS_BODY:
        raise ApiError(413, f"the body is larger than {MAX_ROWS_BODY // (1024 * 1024)} MB; send at most "
                            f"{max_rows:,} rows per request")
    raw = request.stream.read(MAX_ROWS_BODY + 1)
    if len(raw) > MAX_ROWS_BODY:
        raise ApiError(413, f"the body is larger than {MAX_ROWS_BODY // (1024 * 1024)} MB; send at most "
                            f"{max_rows:,} rows per request")
    if not raw.strip():
        raise ApiError(400, "the body is empty: send a JSON object or an array of objects")
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_strict_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError(400, "the body is not valid JSON") from None
    if isinstance(body, dict):
        return [body]
    if not isinstance(body, list):
        raise ApiError(400, "the body must be a JSON object or an array of objects")
    if len(body) > max_rows:
        raise ApiError(413, f"{len(body):,} rows in one request; send at most {max_rows:,}")
    return body
