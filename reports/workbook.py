"""XLSX sheets from the same column definitions as the PDF tables: header row bold and frozen, an
auto-filter, column widths set, numbers stored as numbers, dates as dates. Spreadsheets have no
time zones, so times are written in IST and the header says so."""
from __future__ import annotations

import io
import math
import re
from datetime import date, datetime
from typing import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from reports import style
from reports.columns import Column, band_values

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E5E7EB")
DATE_FORMAT = "yyyy-mm-dd"
TIME_FORMAT = "yyyy-mm-dd hh:mm"
# Text starting with one of these is a formula to a spreadsheet: a name typed as "=HYPERLINK(...)"
# must stay text (OWASP "CSV injection"; same rule as components/export.py).
FORMULA_STARTS = ("=", "+", "-", "@")


def new() -> Workbook:
    book = Workbook()
    book.remove(book.active)
    return book


def to_bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def sheet_title(name: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", " ", name)[:31] or "Sheet"


def _text(value) -> str | None:
    if style.is_missing(value):
        return None
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _cells(column: Column, value) -> list[tuple[object, str | None]]:
    """(value, number format) for each spreadsheet column this table column fills."""
    kind = column.kind
    if kind == "int":
        v = style.number(value)
        return [(None if v is None else int(round(v)), "#,##0")]
    if kind == "float":
        v = style.number(value)
        return [(v, "#,##0" + ("." + "0" * column.digits if column.digits else ""))]
    if kind == "band":
        low, high = band_values(value)
        fmt = "0." + "0" * column.digits
        return [(low, fmt), (high, fmt)]
    if kind == "date":
        return [(style.as_date(value), DATE_FORMAT)]
    if kind == "datetime":
        t = style.as_ist(value)
        return [(t.replace(tzinfo=None) if t else None, TIME_FORMAT)]
    if kind == "date_or_text":
        d = style.as_date(value)
        return [(d, DATE_FORMAT)] if d else [(_text(style.humanize(value)) if not style.is_missing(value) else None,
                                              None)]
    if kind == "source":
        return [(None if style.is_missing(value) else style.source_label(value), None)]
    if kind == "label":
        return [(None if style.is_missing(value) else style.humanize(value), None)]
    if kind == "auto":
        if isinstance(value, datetime):
            t = style.as_ist(value)
            return [(t.replace(tzinfo=None), TIME_FORMAT)]
        if isinstance(value, date):
            return [(value, DATE_FORMAT)]
        v = style.number(value) if not isinstance(value, str) else None
        if v is not None:
            return [(v, "#,##0" if v == int(v) else "#,##0.0")]
    return [(_text(value), None)]


def headers(columns: Sequence[Column]) -> list[tuple[str, float]]:
    out = []
    for c in columns:
        if c.kind == "band":
            out += [(f"{c.header} low", c.width / 1.6), (f"{c.header} high", c.width / 1.6)]
        else:
            out.append((c.header, c.width / 1.6))
    return out


def add_sheet(book: Workbook, name: str, columns: Sequence[Column], rows: Iterable[dict]) -> None:
    """A sheet ``name`` with one row per dict in ``rows``."""
    ws = book.create_sheet(sheet_title(name))
    heads = headers(columns)
    for i, (header, width) in enumerate(heads, start=1):
        cell = ws.cell(row=1, column=i, value=header)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="bottom")
        ws.column_dimensions[get_column_letter(i)].width = max(10.0, min(60.0, width + 2))
    r = 1
    for row in rows:
        r += 1
        i = 1
        for column in columns:
            for value, fmt in _cells(column, row.get(column.key)):
                cell = ws.cell(row=r, column=i, value=value)
                if isinstance(value, str) and value.startswith(FORMULA_STARTS):
                    cell.data_type = "s"
                if fmt and value is not None:
                    cell.number_format = fmt
                i += 1
    # Excel does not grow a row for wrapped text it did not type itself: size the header row here
    lines = max(math.ceil(len(header) / max(1.0, width)) for header, width in heads)
    ws.row_dimensions[1].height = 15 * min(3, lines)
    ws.freeze_panes = "A2"
    if r > 1:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(heads))}{r}"
