"""What every bulk import shares (devices, sites, equipment): reading a CSV or XLSX file into rows of
text, refusing a file that cannot be imported with one message, and the per-row report.

Each import judges its rows on its own terms (data/device_import.py, data/site_import.py); the
devices page, the sites page and the ``flask`` commands all print this same report.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import pandas as pd

TRUE_WORDS, FALSE_WORDS = ("yes", "y", "true", "1", "active"), ("no", "n", "false", "0", "inactive")


class ImportFileError(ValueError):
    """The file as a whole cannot be read: one message, nothing changed."""


@dataclass
class RowResult:
    line: int              # the line in the file (the header is line 1)
    key: str               # what the row is about: a device id, a site code, an equipment serial
    status: str            # new, changed, unchanged, error
    message: str = ""


@dataclass
class ImportResult:
    rows: list[RowResult] = field(default_factory=list)
    dry_run: bool = False

    def counts(self) -> dict[str, int]:
        out = {"new": 0, "changed": 0, "unchanged": 0, "error": 0}
        for r in self.rows:
            out[r.status] += 1
        return out

    def summary(self) -> str:
        c = self.counts()
        verb = "would be" if self.dry_run else "was" if c["error"] == 1 else "were"
        return (f"{len(self.rows)} rows: {c['new']} new, {c['changed']} changed, {c['unchanged']} unchanged "
                f"({'nothing written: a dry run' if self.dry_run else 'applied'}); {c['error']} {verb} refused.")


def reasons(messages) -> str:
    """A row's reasons on one line: "No dealer 'NOPE'; kind: one of ..." (no full stop before a semicolon)."""
    return "; ".join(m.rstrip(".") for m in messages)


def size_words(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} KB"


def template_csv(rows: list[dict], columns: tuple[str, ...]) -> str:
    return pd.DataFrame(rows, columns=list(columns)).to_csv(index=False)


def read_table(name: str, data: bytes, max_bytes: int, required: tuple[str, ...],
               columns: tuple[str, ...]) -> pd.DataFrame:
    """The rows of a CSV or XLSX file as text; ImportFileError for a file that cannot be imported."""
    if not data:
        raise ImportFileError("The file is empty.")
    if len(data) > max_bytes:
        raise ImportFileError(f"The file is {size_words(len(data))}; at most {size_words(max_bytes)} is accepted "
                              "(IMPORT_MAX_BYTES).")
    lower = (name or "").lower()
    try:
        if lower.endswith(".xlsx") or data[:4] == b"PK\x03\x04":
            frame = pd.read_excel(io.BytesIO(data), dtype=str, engine="openpyxl")
        elif lower.endswith(".csv") or lower.endswith(".txt") or not lower:
            frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")
        else:
            raise ImportFileError(f"{name!r} is neither CSV nor XLSX.")
    except ImportFileError:
        raise
    except UnicodeDecodeError:
        raise ImportFileError("The file is not UTF-8 text: save it as CSV UTF-8 or as XLSX.") from None
    except Exception as exc:  # pandas and openpyxl raise many kinds for a file that is not what it says
        raise ImportFileError(f"The file could not be read as CSV or XLSX ({type(exc).__name__}).") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ImportFileError(f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}. "
                              f"The columns are {', '.join(columns)} (download the template).")
    frame = frame.fillna("")
    if frame.empty:
        raise ImportFileError("The file has a header but no rows.")
    return frame


def cell(row: dict, name: str) -> str | None:
    value = str(row.get(name, "") or "").strip()
    return value or None


def yes_no(value: str | None):
    """True, False, None (empty) or "bad" for a word that is neither."""
    if value is None:
        return None
    v = value.lower()
    return True if v in TRUE_WORDS else False if v in FALSE_WORDS else "bad"
