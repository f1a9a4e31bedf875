"""The fleet health report of one scope, as a PDF (A4 landscape) and as an XLSX workbook.

Sections, in both: summary figures, SOH distribution (measured, estimated and not measured apart),
warranty risk, dealer league table, misuse by dealer, and the full battery list last (in the PDF
it flows over as many pages as it needs; the workbook is the place to sort and filter it).
"""
from __future__ import annotations

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, KeepTogether, Paragraph, Spacer, Table, TableStyle

from analytics import score as dealer_score
from reports import charts, columns, pdf, style, tables, workbook
from reports.columns import Column
from reports.model import FleetReport

PAGE = landscape(A4)
SMALL_TABLE = 8           # rows; a table this short (a league, the misuse table) moves whole rather than split

# summary key -> (label, digits, note); keys not listed here are shown after these under their own names
SUMMARY = (
    ("batteries", "Batteries", 0, "in this report's scope"),
    ("measured", "Measured (BMS)", 0, "SOH reported by the BMS"),
    ("estimated", "Estimated", 0, "SOH from charge sessions"),
    ("not_measured", "Not measured", 0, "never counted as healthy"),
    ("median_soh", "Median SOH %", 1, "of batteries with an SOH"),
    ("below_floor", "Under the floor", 0, "SOH under warranty floor"),
    ("at_risk", "At risk", 0, "projected under the floor before warranty end"),
)


def _p(body: str, name: str = "body") -> Paragraph:
    return Paragraph(body, style.styles()[name])


def _empty(message: str) -> Paragraph:
    return _p(style.markup(message), "empty")


def _summary_items(report: FleetReport) -> list[tuple[str, object, int, str]]:
    summary = report.summary or {}
    items = [(label, summary.get(key), digits, note) for key, label, digits, note in SUMMARY if key in summary]
    known = {key for key, *_ in SUMMARY}
    items += [(style.humanize(key), value, 1, "") for key, value in summary.items() if key not in known]
    return items


def _value_text(value, digits: int) -> str:
    if style.number(value) is None:
        return style.text(value)
    return style.fmt_num(value, digits)


def _kpis(report: FleetReport, width: float) -> Table | Paragraph:
    items = _summary_items(report)
    if not items:
        return _empty("No summary figures for this scope.")
    per_row = min(7, len(items))
    tile = width / per_row
    rows, cells = [], []
    for label, value, digits, note in items:
        colour = "#4b5563" if label == "Not measured" else "#111827"
        cells.append([_p(f'<font color="{colour}">{style.markup(_value_text(value, digits))}</font>', "kpi"),
                      _p(f"<b>{style.markup(label)}</b>" + (f"<br/>{style.markup(note)}" if note else ""),
                         "kpi_label")])
        if len(cells) == per_row:
            rows.append(cells)
            cells = []
    if cells:
        rows.append(cells + [""] * (per_row - len(cells)))
    return Table(rows, colWidths=[tile] * per_row, style=TableStyle([
        ("BOX", (0, 0), (-1, -1), 0.5, style.RULE), ("INNERGRID", (0, 0), (-1, -1), 0.5, style.RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 6), ("LEFTPADDING", (0, 0), (-1, -1), 6)]))


def _score_note() -> str:
    """The score's formula in words, read from analytics/score.py so the two cannot drift apart."""
    parts = getattr(dealer_score, "PARTS", ())
    names = {"avg_soh": ("average SOH", " %"), "fade_per_month": ("fade", " points/month"),
             "misuse_per_1000": ("misuse", " per 1,000 battery-days"),
             "alerts_per_1000": ("alerts", " per 1,000 battery-days"), "uptime_pct": ("communication uptime", " %")}
    if not parts:
        return ""
    body = "; ".join(f"{names.get(c, (c, ''))[0]} {w} points (full at {good:g}{names.get(c, ('', ''))[1]}, "
                     f"none at {bad:g})" for c, w, good, bad in parts)
    return (f"Score (0-100, higher is better): {body}. Each part scales linearly between its two anchors; a part "
            "nobody can know yet is left out and the others are scaled up to 100.")


def _distribution_notes(report: FleetReport) -> list:
    totals = [0, 0, 0]
    for row in report.soh_histogram or []:
        try:
            counts = [int(style.number(v) or 0) for v in row[1:4]]
        except (TypeError, ValueError):
            continue
        totals = [a + b for a, b in zip(totals, counts)]
    every = sum(totals) or 1
    lines = [f"<b>{label}</b>: {count:,} ({count / every:.0%})" for label, count in
             zip(("Measured by the BMS", "Estimated from charging", "Not measured"), totals)]
    return [_p("<br/>".join(lines)), Spacer(1, 6),
            _p("SOH in percent of rated capacity. Measured: the BMS reports a changing SOH. Estimated: the BMS "
               "reports none (or one stuck at 100 %), and our estimate comes from charges spanning at least 40 SOC "
               "points. Not measured: neither, so nothing can be said; such batteries are shown apart and are "
               "never counted as healthy.", "small")]


def _is_median(row: dict) -> bool:
    return str(row.get("dealer") or "").strip().lower().startswith("fleet median")


def _section(title: str, rows: list, cols, width: float, empty: str, note: str | None = None) -> list:
    head = [_p(title, "h2")]
    if note:
        head += [_p(style.markup(note), "small"), Spacer(1, 3)]
    rows = [r for r in rows or [] if isinstance(r, dict)]
    if not rows:
        return [KeepTogether(head + [_empty(empty)])]
    bold = [i for i, r in enumerate(rows) if _is_median(r)]        # the fleet median a dealer compares with
    table = tables.table(cols, rows, width, bold_rows=bold)
    if len(rows) <= SMALL_TABLE:
        return [KeepTogether(head + [table])]                     # a league of 5 rows is not split over pages
    return [CondPageBreak(35 * mm)] + head + [table]


def fleet_report_pdf(report: FleetReport) -> bytes:
    """The report as PDF bytes (A4 landscape)."""
    width = pdf.content_width(PAGE)
    by = "" if style.is_missing(report.generated_by) or not str(report.generated_by).strip() \
        else f" by {style.text(report.generated_by)}"
    made = f"Generated {style.fmt_time(report.generated_at)}{by}"
    story = [
        _p("Fleet health report", "title"),
        _p(f"<b>{style.markup(report.scope_label)}</b> · as of {style.markup(style.fmt_date(report.as_of))} · "
           f"{style.markup(made)}", "subtitle"),
        Spacer(1, 8),
        _kpis(report, width),
    ]
    chart = charts.soh_distribution_chart(report.soh_histogram, width * 0.68)
    story += [_p("State of health distribution", "h2")]
    if chart is None:
        story.append(_empty("No batteries in this scope, so no SOH distribution."))
    else:
        story.append(Table([[chart, _distribution_notes(report)]], colWidths=[width * 0.7, width * 0.3],
                           style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                             ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                             ("TOPPADDING", (1, 0), (1, 0), 14)])))
    story += _section("Warranty risk", report.warranty_risk, columns.WARRANTY_RISK, width,
                      "No battery is under its warranty floor or projected to cross it before its warranty ends.",
                      "Batteries under their warranty SOH floor, or whose expected end of life comes before their "
                      "warranty ends.")
    story += _section("Dealer league table", report.dealers, columns.DEALERS, width,
                      "No dealer figures for this scope yet.", _score_note())
    story += _section("Misuse by dealer", report.misuse, columns.MISUSE, width * 0.8,
                      "No misuse figures for this scope yet.",
                      "Battery-days with each pattern per 1,000 battery-days with data.")
    story += _section(f"All batteries ({len(report.batteries or []):,})", report.batteries, columns.BATTERIES, width,
                      "No batteries in this scope.",
                      "Expected end of life is the forecast's median date, or the reason there is none.")
    notes = [style.markup(n) for n in report.notes or [] if not style.is_missing(n)]
    notes.append("SOH is in percent of rated capacity. Times are India Standard Time (IST, UTC+05:30).")
    story += [Spacer(1, 6)] + [_p(f"• {n}", "small") for n in notes]
    footer = (f"Fleet health report · {style.text(report.scope_label)} · as of {style.fmt_date(report.as_of)} · "
              f"generated {style.fmt_time(report.generated_at)}{by}")
    return pdf.build(story, pagesize=PAGE, title=f"Fleet health report: {style.text(report.scope_label)}",
                     subject=f"as of {style.fmt_date(report.as_of)}", author="Battery Fleet Monitor", footer=footer)


SUMMARY_COLUMNS = (Column("figure", "Figure", width=60), Column("value", "Value", "auto", width=40),
                   Column("note", "Note", width=80))


def fleet_report_xlsx(report: FleetReport) -> bytes:
    """The report as an XLSX workbook, one sheet per section."""
    book = workbook.new()
    head = [{"figure": "Scope", "value": style.text(report.scope_label)},
            {"figure": "As of", "value": style.as_date(report.as_of)},
            {"figure": "Generated (IST)", "value": style.as_ist(report.generated_at)}]
    figures = [{"figure": label, "value": style.number(value) if style.number(value) is not None else value,
                "note": note} for label, value, _, note in _summary_items(report)]
    workbook.add_sheet(book, "Summary", SUMMARY_COLUMNS, head + figures)
    histogram = []
    for row in report.soh_histogram or []:
        try:
            label, measured, estimated, not_measured = row
        except (TypeError, ValueError):
            continue
        counts = [int(style.number(v) or 0) for v in (measured, estimated, not_measured)]
        histogram.append({"bucket": label, "measured": counts[0], "estimated": counts[1], "not_measured": counts[2],
                          "total": sum(counts)})
    workbook.add_sheet(book, "SOH distribution", columns.HISTOGRAM, histogram)
    workbook.add_sheet(book, "Warranty risk", columns.WARRANTY_RISK, report.warranty_risk or [])
    workbook.add_sheet(book, "Dealers", columns.DEALERS, report.dealers or [])
    workbook.add_sheet(book, "Misuse", columns.MISUSE, report.misuse or [])
    workbook.add_sheet(book, "Batteries", columns.BATTERIES, report.batteries or [])
    return workbook.to_bytes(book)
