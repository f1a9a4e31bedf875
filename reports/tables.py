"""PDF tables that flow over pages: the header row repeats on every page, rows never split.

Cells are plain strings (wrapped here to the column width) rather than Paragraphs: a fleet of
22,000 batteries is a 500-page list, and Paragraph cells would make it minutes instead of seconds.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import LongTable, Paragraph, TableStyle

from reports import style
from reports.columns import Column, pdf_text

PAD = 3.0


def widths(columns: Sequence[Column], total: float) -> list[float]:
    scale = total / sum(c.width for c in columns)
    return [c.width * scale for c in columns]


def _wrap(value: str, width: float, font: str, size: float, max_lines: int = 6) -> str:
    if "\n" not in value and stringWidth(value, font, size) <= width:
        return value                          # the common case, measured once
    lines = simpleSplit(value, font, size, width)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:-1] + "…" if lines[-1] else "…"
    # simpleSplit leaves a word longer than the column whole: cut it rather than spill into the next cell
    fitted = []
    for line in lines:
        while line and stringWidth(line, font, size) > width:
            line = line[:-1]
        fitted.append(line)
    return "\n".join(fitted)


def table(columns: Sequence[Column], rows: Iterable[dict], total_width: float, *, size: float = 7.5,
          cells: Sequence[Sequence[str]] | None = None, row_colours: dict[int, object] | None = None,
          bold_rows: Sequence[int] = ()) -> LongTable:
    """A LongTable of ``rows`` (dicts keyed by the columns' keys), or of ready ``cells`` strings."""
    fonts = style.fonts()
    col_widths = widths(columns, total_width)
    header_style = style.styles()["cell"].clone("head", fontName=fonts.bold, fontSize=size, leading=size + 1.5)
    header_right = header_style.clone("head_right", alignment=TA_RIGHT)
    header = [Paragraph(style.markup(c.header), header_right if c.numeric else header_style) for c in columns]
    body = []
    source = cells if cells is not None else ([pdf_text(c, row.get(c.key)) for c in columns] for row in rows)
    for values in source:
        line = []
        for column, value, width in zip(columns, values, col_widths):
            room = width - 2 * PAD
            if column.wrap:
                line.append(_wrap(value, room, fonts.regular, size))
            else:
                line.append(_wrap(value, room, fonts.regular, size, max_lines=1))
        body.append(line)
    commands = [
        ("FONT", (0, 0), (-1, -1), fonts.regular, size, size + 1.8),
        ("BACKGROUND", (0, 0), (-1, 0), style.HEADER_BG),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, style.MUTED),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, style.RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("VALIGN", (0, 0), (-1, 0), "BOTTOM"),
        ("LEFTPADDING", (0, 0), (-1, -1), PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), PAD),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [None, style.ZEBRA]),
    ]
    for i, column in enumerate(columns):
        if column.numeric:
            commands.append(("ALIGN", (i, 1), (i, -1), "RIGHT"))
    for row, colour in (row_colours or {}).items():
        commands.append(("TEXTCOLOR", (0, row + 1), (-1, row + 1), colour))
    for row in bold_rows:
        commands.append(("FONT", (0, row + 1), (-1, row + 1), fonts.bold, size, size + 1.8))
        commands.append(("LINEABOVE", (0, row + 1), (-1, row + 1), 0.8, style.MUTED))
    # Row heights are known from the line counts: given, reportlab need not measure every cell again
    # each time the table splits at a page end.
    leading = size + 1.8
    heights = [None] + [max(v.count("\n") for v in line) * leading + leading + 4.5 for line in body]
    return LongTable([header] + body, colWidths=col_widths, rowHeights=heights, repeatRows=1,
                     style=TableStyle(commands), hAlign="LEFT", splitByRow=1)
