"""``flask --app app telemetry import FILE...``: CSV or XLSX exports of battery and GPS history (the
vendor's field names or ours) through the push path (``ingest.push``), batch by batch.

Which stream a file holds is told by its columns (a latitude or ``lat`` column: GPS; else battery)
unless ``--stream`` says. A file is known by a hash of its size and first megabyte, so a rerun of
the same file, wherever it was moved, resumes after the last batch written; a finished file is
skipped unless ``--restart``.
"""
from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass, field
from typing import Callable, Iterator

import openpyxl

from data import import_progress
from data.db import Database
from ingest import push

BATCH = 5000
GPS_COLUMNS = {"lat", "latitude", "lng", "longitude"}
IMPORT_STREAMS = ("can-data", "gps-data", "meter", "site-power", "trips", "energy")


class HistoryFileError(ValueError):
    """A file that cannot be imported at all; the message says why in one line."""


@dataclass
class FileSummary:
    path: str
    stream: str
    rows: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    resumed_at: int = 0
    skipped: bool = False
    first_errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        if self.skipped:
            return f"{self.path}: imported before ({self.rows:,} rows); --restart imports it again"
        resumed = f", resumed after row {self.resumed_at:,}" if self.resumed_at else ""
        return (f"{self.path} ({self.stream}{resumed}): {self.stored:,} stored, {self.duplicates:,} duplicates, "
                f"{self.rejected:,} rejected")


def file_key(path: str) -> str:
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        head = handle.read(1024 * 1024)
    return hashlib.sha256(f"{size}:".encode() + head).hexdigest()


def _csv_rows(path: str) -> tuple[list[str], Iterator[list[str]], int]:
    with open(path, "rb") as handle:
        total = max(sum(1 for _ in handle) - 1, 0)
    handle = open(path, newline="", encoding="utf-8-sig")
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        handle.close()
        raise HistoryFileError(f"{path}: the file is empty") from None
    except UnicodeDecodeError:
        handle.close()
        raise HistoryFileError(f"{path}: not UTF-8 text; save it as CSV UTF-8 or as XLSX") from None

    def rows():
        try:
            yield from reader
        except UnicodeDecodeError:
            raise HistoryFileError(f"{path}: not UTF-8 text after line {reader.line_num}") from None
        finally:
            handle.close()
    return header, rows(), total


def _xlsx_rows(path: str) -> tuple[list[str], Iterator[list[str]], int]:
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise HistoryFileError(f"{path}: not a readable XLSX workbook ({type(exc).__name__})") from None
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise HistoryFileError(f"{path}: the workbook's first sheet is empty")
    total = max((sheet.max_row or 1) - 1, 0)
    return ([str(c or "") for c in header],
            (["" if v is None else v if isinstance(v, (int, float)) else str(v) for v in r] for r in rows), total)


def _open(path: str):
    if not os.path.isfile(path):
        raise HistoryFileError(f"{path}: no such file")
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if path.lower().endswith(".xlsx") or magic == b"PK\x03\x04":
        return _xlsx_rows(path)
    return _csv_rows(path)


def detect_stream(header: list[str]) -> str:
    names = {h.strip().lower() for h in header}
    if names & GPS_COLUMNS:
        return "gps-data"
    if {"meterid", "meter_id"} & names:
        return "meter"
    return "can-data"


def import_file(db: Database, path: str, stream: str | None = None, restart: bool = False,
                progress: Callable[[int, int], None] | None = None, batch: int = BATCH) -> FileSummary:
    """Import one file; ``progress(done, total)`` after each batch."""
    header, rows, total = _open(path)
    header = [h.strip() for h in header]
    if not any(header):
        raise HistoryFileError(f"{path}: the first row must name the columns")
    stream = stream or detect_stream(header)
    if stream not in IMPORT_STREAMS:
        raise HistoryFileError(f"--stream must be one of {', '.join(IMPORT_STREAMS)}")
    key = file_key(path)
    summary = FileSummary(path=path, stream=stream, rows=total)
    if restart:
        import_progress.forget(db, key)
    done, finished = import_progress.done(db, key)
    if finished:
        summary.skipped, summary.rows = True, done
        return summary
    summary.resumed_at = done
    position, pending = 0, []
    for values in rows:
        position += 1
        if position <= done:
            continue
        pending.append({h: v for h, v in zip(header, values) if h and v != ""})
        if len(pending) >= batch:
            _write(db, stream, pending, summary, position - len(pending))
            import_progress.mark(db, key, path, position)
            pending = []
            if progress:
                progress(position, total)
    if pending:
        _write(db, stream, pending, summary, position - len(pending))
    import_progress.mark(db, key, path, position, finished=True)
    summary.rows = position
    if progress:
        progress(position, total)
    return summary


def _write(db: Database, stream: str, rows: list[dict], summary: FileSummary, offset: int) -> None:
    result = push.ingest(db, stream, rows)
    summary.stored += result.stored
    summary.duplicates += result.duplicates
    summary.rejected += len(result.rejected)
    for error in result.rejected[: max(0, 10 - len(summary.first_errors))]:
        # +2: a spreadsheet's line numbers count the header and start at 1
        summary.first_errors.append(f"line {offset + error['index'] + 2}: {error['message']}")
