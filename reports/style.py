"""What every report shares: the font, colours, paragraph styles, value formatting (IST times,
missing values) and the page furniture (footer with "page x of y").

Font: DejaVu Sans when the system has it (wide Unicode: ₹, arrows, Cyrillic), else Bitstream Vera,
which ships inside reportlab and so is always there. The two have the same Latin metrics, so a
layout checked here holds on a slim server image. A character the font cannot draw is replaced
(see ``text``) rather than printed as an empty box.
"""
from __future__ import annotations

import functools
import math
import numbers
import os
from dataclasses import dataclass
from datetime import date, datetime, timezone
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

IST = ZoneInfo("Asia/Kolkata")
DASH = "—"

# Print colours (white paper, black ink; the dashboard's dark theme does not print).
INK = colors.HexColor("#111827")
MUTED = colors.HexColor("#4b5563")
RULE = colors.HexColor("#d1d5db")
HEADER_BG = colors.HexColor("#e5e7eb")
ZEBRA = colors.HexColor("#f6f7f9")
NOTE_BG = colors.HexColor("#fef3c7")
NOTE_EDGE = colors.HexColor("#d97706")
BMS = colors.HexColor("#15803d")
ESTIMATE = colors.HexColor("#0369a1")
ESTIMATE_BAND = colors.HexColor("#7dd3fc")
NOT_MEASURED = colors.HexColor("#9ca3af")
WARRANTY = colors.HexColor("#b45309")
FLOOR = colors.HexColor("#b91c1c")
FORECAST = colors.HexColor("#6d28d9")
FORECAST_BAND = colors.HexColor("#c4b5fd")
CRITICAL_HEX = "#b91c1c"
CRITICAL = colors.HexColor(CRITICAL_HEX)
WARNING = colors.HexColor("#a16207")

SOURCE_LABELS = {"measured": "Measured (BMS)", "estimated": "Estimated from charging", "not_measured": "Not measured"}

FONT_DIRS = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF",
             "/Library/Fonts", os.path.join(os.path.dirname(reportlab.__file__), "fonts")]
_FACES = (("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"), ("Vera.ttf", "VeraBd.ttf"))


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str
    glyphs: frozenset


@functools.lru_cache(maxsize=None)
def fonts(dirs: tuple[str, ...] | None = None) -> Fonts:
    """Register the first face pair found in ``dirs`` (default FONT_DIRS) and return its names."""
    for regular, bold in _FACES:
        for folder in dirs or tuple(FONT_DIRS):
            paths = [os.path.join(folder, regular), os.path.join(folder, bold)]
            if all(os.path.exists(p) for p in paths):
                name = "Bfm" + regular.split(".")[0].replace("-", "")
                if name not in pdfmetrics.getRegisteredFontNames():
                    pdfmetrics.registerFont(TTFont(name, paths[0]))
                    pdfmetrics.registerFont(TTFont(name + "Bold", paths[1]))
                    pdfmetrics.registerFontFamily(name, normal=name, bold=name + "Bold", italic=name,
                                                  boldItalic=name + "Bold")
                glyphs = frozenset(pdfmetrics.getFont(name).face.charToGlyph)
                return Fonts(name, name + "Bold", glyphs)
    # reportlab always ships Vera, so this is only reached on a broken install.
    return Fonts("Helvetica", "Helvetica-Bold", frozenset(range(32, 127)))


_SUBSTITUTES = {"→": "->", "←": "<-", "₹": "Rs ", "≤": "<=", "≥": ">=", "…": "...", "\u00a0": " "}


def text(value) -> str:
    """A plain string the report font can draw: missing -> dash, unknown glyphs replaced."""
    if is_missing(value):
        return DASH
    out = []
    glyphs = fonts().glyphs
    for ch in str(value):
        if ord(ch) in glyphs or ch in "\n\t":
            out.append(ch)
        else:
            sub = _SUBSTITUTES.get(ch)
            out.append(sub if sub is not None and all(ord(c) in glyphs for c in sub) else "?")
    return "".join(out)


def markup(value) -> str:
    """``text`` escaped for a Paragraph (which reads a small HTML dialect)."""
    return escape(text(value))


# ---- values -----------------------------------------------------------------------------------

def is_missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)       # NaN and NaT are the values unequal to themselves
    except (TypeError, ValueError):
        return False


def number(value) -> float | None:
    if is_missing(value) or isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else None
    try:
        value = float(str(value).strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def as_date(value) -> date | None:
    if is_missing(value):
        return None
    if isinstance(value, datetime):
        return as_ist(value).date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def as_ist(value) -> datetime | None:
    """A datetime in IST; a naive one is UTC (the database's convention)."""
    if is_missing(value):
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=IST)
        return None
    if hasattr(value, "to_pydatetime"):     # a pandas Timestamp
        value = value.to_pydatetime()
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(IST)


def fmt_num(value, digits: int = 1, unit: str = "") -> str:
    v = number(value)
    if v is None:
        return DASH
    body = f"{v:,.{digits}f}"
    if body.startswith("-") and float(body.replace(",", "")) == 0:
        body = body[1:]
    return f"{body} {unit}".rstrip() if unit else body


def fmt_int(value) -> str:
    v = number(value)
    return DASH if v is None else f"{round(v):,}"


def fmt_date(value) -> str:
    d = as_date(value)
    return DASH if d is None else f"{d.day} {d:%b %Y}"


def fmt_time(value, zone: bool = True) -> str:
    t = as_ist(value)
    if t is None:
        return DASH
    return f"{t.day} {t:%b %Y %H:%M}" + (" IST" if zone else "")


def source_label(value) -> str:
    return SOURCE_LABELS.get(str(value), DASH if is_missing(value) else text(value).replace("_", " ").capitalize())


def humanize(value) -> str:
    """``deep_discharge`` -> ``Deep discharge``."""
    if is_missing(value):
        return DASH
    body = text(value).replace("_", " ").strip()
    return body[:1].upper() + body[1:]


def band_text(low, high, digits: int = 1) -> str:
    lo, hi = number(low), number(high)
    return DASH if lo is None or hi is None else f"{lo:.{digits}f}–{hi:.{digits}f}"


# ---- paragraph styles ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def styles() -> dict[str, ParagraphStyle]:
    f = fonts()
    base = ParagraphStyle("body", fontName=f.regular, fontSize=9, leading=12, textColor=INK, alignment=TA_LEFT)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5, textColor=MUTED),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9),
        "title": ParagraphStyle("title", parent=base, fontName=f.bold, fontSize=17, leading=21),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=10.5, leading=14, textColor=MUTED),
        "h2": ParagraphStyle("h2", parent=base, fontName=f.bold, fontSize=12, leading=15, spaceBefore=10,
                             spaceAfter=5, keepWithNext=1),
        # no keepWithNext: kept with a 500-row table it would push the whole table to a new page
        "h3": ParagraphStyle("h3", parent=base, fontName=f.bold, fontSize=9.5, leading=12, spaceBefore=6,
                             spaceAfter=3),
        "empty": ParagraphStyle("empty", parent=base, textColor=MUTED, leftIndent=8, borderPadding=(4, 6, 4, 6),
                                spaceBefore=2, spaceAfter=4),
        "label": ParagraphStyle("label", parent=base, fontSize=7.5, leading=9.5, textColor=MUTED),
        "value": ParagraphStyle("value", parent=base, fontSize=9, leading=11.5),
        "kpi": ParagraphStyle("kpi", parent=base, fontName=f.bold, fontSize=16, leading=19),
        "kpi_label": ParagraphStyle("kpi_label", parent=base, fontSize=7.5, leading=9, textColor=MUTED),
    }
