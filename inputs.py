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
