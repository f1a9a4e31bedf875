"""Table columns shared by the PDF tables and the XLSX sheets, so both say the same thing in the
same words. A column knows its key in the row dicts, its header, what kind of value it holds (which
decides how it prints and which Excel type it gets) and its width."""
from __future__ import annotations

import re
from dataclasses import dataclass

from reports import style

KINDS = ("text", "label", "source", "int", "float", "date", "datetime", "date_or_text", "band", "auto")


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str = "text"
    digits: int = 1
    width: float = 20.0          # mm in the PDF (scaled to the page), characters / 1.6 in Excel
    wrap: bool = False           # long text wraps onto more lines in the PDF

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "float", "band")


def pdf_text(column: Column, value) -> str:
    """The cell as printed."""
    kind = column.kind
    if kind == "int":
        return style.fmt_int(value)
    if kind == "float":
        return style.fmt_num(value, column.digits)
    if kind == "date":
        return style.fmt_date(value)
    if kind == "datetime":
        return style.fmt_time(value, zone=False)
    if kind == "date_or_text":
        return style.fmt_date(value) if style.as_date(value) else style.humanize(value)
    if kind == "source":
        return style.source_label(value)
    if kind == "label":
        return style.humanize(value)
    if kind == "band":
        low, high = band_values(value)
        return style.band_text(low, high, column.digits)
    return style.text(value)


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def band_values(value) -> tuple[float | None, float | None]:
    """(low, high) from a pair, a dict with low/high, or a text such as "77.1–79.6"."""
    if style.is_missing(value):
        return None, None
    if isinstance(value, dict):
        return style.number(value.get("low")), style.number(value.get("high"))
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return style.number(value[0]), style.number(value[1])
    found = _NUMBER.findall(str(value))
    if len(found) == 2:
        return float(found[0]), float(found[1])
    return None, None


# ---- the fleet report's sections ------------------------------------------------------------------

WARRANTY_RISK = (
    Column("serial", "Battery serial", width=27),
    Column("vehicle", "Vehicle", width=22),
    Column("dealer", "Dealer", width=32, wrap=True),
    Column("soh", "SOH %", "float", width=13),
    Column("source", "SOH source", "source", width=27, wrap=True),
    Column("floor", "Floor %", "float", digits=0, width=13),
    Column("eol_p50", "Expected end of life", "date_or_text", width=24, wrap=True),
    Column("warranty_end", "Warranty end", "date", width=22),
    Column("evidence", "Evidence", width=90, wrap=True),
)
DEALERS = (
    Column("dealer", "Dealer", width=48, wrap=True),
    Column("batteries", "Batteries", "int", width=20),
    Column("avg_soh", "Average SOH %", "float", width=24),
    Column("fade_per_month", "Fade per month (SOH points)", "float", digits=2, width=30),
    Column("misuse_per_1000", "Misuse per 1,000 battery-days", "float", width=32),
    Column("alerts_per_1000", "Alerts per 1,000 battery-days", "float", width=32),
    Column("uptime_pct", "Communication uptime %", "float", width=28),
    Column("score", "Score (0-100)", "float", digits=0, width=22),
)
MISUSE = (
    Column("dealer", "Dealer", width=60, wrap=True),
    Column("deep_discharge", "Deep discharge", "float", width=36),
    Column("over_temperature", "Over-temperature", "float", width=36),
    Column("over_current", "Over-current", "float", width=36),
    Column("hot_charging", "Charging when hot", "float", width=36),
)
BATTERIES = (
    Column("serial", "Battery serial", width=27),
    Column("vehicle", "Vehicle", width=23),
    Column("dealer", "Dealer", width=34, wrap=True),
    Column("model", "Model", width=26, wrap=True),
    Column("soh", "SOH %", "float", width=14),
    Column("source", "SOH source", "source", width=32, wrap=True),
    Column("band", "80 % band", "band", width=22),
    Column("cycles", "Cycles", "int", width=15),
    Column("age_days", "Age (days)", "int", width=17),
    Column("rul", "End of life (expected)", "date_or_text", width=30, wrap=True),
)
HISTOGRAM = (
    Column("bucket", "SOH bucket %", width=30),
    Column("measured", "Measured (BMS)", "int", width=30),
    Column("estimated", "Estimated from charging", "int", width=30),
    Column("not_measured", "Not measured", "int", width=30),
    Column("total", "Total", "int", width=20),
)

# ---- the evidence pack's tables --------------------------------------------------------------------

VIOLATIONS = (
    Column("day", "Day", "date", width=26),
    Column("kind", "Violation", "label", width=40),
    Column("minutes", "Minutes", "float", digits=0, width=20),
    Column("worst", "Worst value", width=34),
)
ALERTS = (
    Column("opened", "Opened (IST)", "datetime", width=33),
    Column("type", "Alert", "label", width=38, wrap=True),
    Column("severity", "Severity", "label", width=18),
    Column("value", "Value", "float", width=17),
    Column("status", "Status", "label", width=22),
    Column("resolved", "Resolved (IST)", "datetime", width=33),
)
