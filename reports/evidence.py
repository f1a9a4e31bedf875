"""The warranty claim evidence pack of one battery: a PDF an assessor and the manufacturer can read
without our dashboard.

Order: identity and the reason for the pack, the SOH history against the warranty curve, the fade
and end-of-life forecast (or why there is none), how much of the period had data, the operating-
window violations log, the alerts, and notes with a sign-off block. Every section says plainly when
it is empty; tables flow over pages with their header repeated.
"""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import date

from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, KeepTogether, Paragraph, Spacer, Table, TableStyle

from reports import charts, columns, pdf, style, tables
from reports.model import AUTOMATIC, EvidencePack

# canonical violation kinds: key (letters only) -> (label, what "worst" is, unit, digits, lower is worse)
KINDS = {
    "deepdischarge": ("Deep discharge", "lowest SOC", "%", 0, True),
    "overtemperature": ("Over-temperature", "hottest", "°C", 1, False),
    "overcurrent": ("Over-current", "highest current", "A", 0, False),
    "chargingwhenhot": ("Charging when hot", "hottest", "°C", 1, False),
    "hotcharging": ("Charging when hot", "hottest", "°C", 1, False),
}


# Alert types as the alerts pages name them, with their value's unit (components/ holds the same
# words but imports dash, which reports/ must not).
ALERT_TYPES = {"low_soc": ("Low SOC", "%"), "deep_discharge": ("Deep discharge", "%"),
               "high_temp": ("High temperature", "°C"), "soh_degradation": ("SOH degradation", "%"),
               "overcurrent": ("Over-current", "A"), "overvoltage": ("Over-voltage", "V"),
               "undervoltage": ("Under-voltage", "V"), "no_communication": ("No communication", "min"),
               "rapid_soh_drop": ("Rapid SOH drop", "%"), "excessive_cycles": ("Excessive cycles", ""),
               "feed_silence": ("Feed silence", "min")}


def _kind(value) -> tuple[str, str, str, int, bool]:
    key = re.sub(r"[^a-z]", "", str(value or "").lower())
    return KINDS.get(key, (style.humanize(value), "worst", "", 1, False))


def _worst_text(kind, worst) -> str:
    label, _, unit, digits, _ = _kind(kind)
    if style.number(worst) is None:
        return style.text(worst) if not style.is_missing(worst) else style.DASH
    value = style.fmt_num(worst, digits)
    return f"SOC {value} %" if label == "Deep discharge" else f"{value} {unit}".strip()


def _p(body: str, name: str = "body") -> Paragraph:
    return Paragraph(body, style.styles()[name])


def _empty(message: str) -> Paragraph:
    return _p(style.markup(message), "empty")


def _age_text(pack: EvidencePack) -> str:
    sold, today = style.as_date(pack.sold_at), style.as_date(pack.generated_at)
    if not sold or not today:
        return style.DASH
    days = (today - sold).days
    if days < 0:
        return "sold after the pack was generated"
    return f"{days:,} days ({days / 30.44:.1f} months)"


def _warranty_status(pack: EvidencePack) -> tuple[str, bool]:
    """A sentence on where the battery stands against its warranty, and whether it is still covered."""
    today, end = style.as_date(pack.generated_at), style.as_date(pack.warranty_end)
    cycles, limit = style.number(pack.cycles_now), style.number(pack.warranty_cycles)
    parts, inside = [], True
    if end and today:
        left = (end - today).days
        if left >= 0:
            parts.append(f"inside the warranty period, {left:,} days left")
        else:
            parts.append(f"warranty period ended {style.fmt_date(end)}")
            inside = False
    else:
        parts.append("warranty end unknown")
    if cycles is not None and limit:
        if cycles >= limit:
            parts.append(f"cycle limit of {limit:,.0f} reached")
            inside = False
    return "; ".join(parts).capitalize(), inside


def _soh_now(pack: EvidencePack) -> str:
    soh, floor = style.number(pack.soh_now), style.number(pack.warranty_floor)
    if soh is None or pack.soh_source == "not_measured":
        return "<b>Not measured</b> (no BMS value and no qualifying charge yet)"
    body = f"<b>{soh:.1f} %</b> · {style.markup(style.source_label(pack.soh_source))}"
    band = style.band_text(pack.soh_low, pack.soh_high)
    if band != style.DASH:
        body += f" (80 % band {band})"
    if floor is not None and soh < floor:
        body += f' <font color="{style.CRITICAL_HEX}"><b>under the {floor:g} % floor</b></font>'
    return body


def _cycles_text(pack: EvidencePack) -> str:
    cycles, limit = style.number(pack.cycles_now), style.number(pack.warranty_cycles)
    if cycles is None:
        return "Not reported"
    if limit:
        return f"{cycles:,.0f} of {limit:,.0f} warranty cycles ({cycles / limit:.0%})"
    return f"{cycles:,.0f}"


def _terms_text(pack: EvidencePack) -> str:
    months, cycles, floor = (style.number(pack.warranty_months), style.number(pack.warranty_cycles),
                             style.number(pack.warranty_floor))
    parts = []
    if months:
        parts.append(f"{months:.0f} months")
    if cycles:
        parts.append(f"{cycles:,.0f} cycles")
    terms = " or ".join(parts) or "Not set"
    return terms + (f"; SOH floor {floor:g} %" if floor is not None else "")


def _by(pack: EvidencePack) -> str:
    who = pack.generated_by
    return "" if style.is_missing(who) or not str(who).strip() else f" by {style.text(who)}"


def _filled(rows) -> list[dict]:
    """The dict rows that say something (a row of nothing but missing values is dropped)."""
    return [r for r in rows or [] if isinstance(r, dict) and any(not style.is_missing(v) for v in r.values())]


def _header(pack: EvidencePack, width: float) -> list:
    s = style.styles()
    draft = pack.generated_by == AUTOMATIC
    title = Table([[_p("Warranty claim evidence pack", "title"),
                    _p('<font color="#b45309"><b>DRAFT</b></font> · for review' if draft else "", "subtitle")]],
                  colWidths=[width * 0.75, width * 0.25],
                  style=TableStyle([("ALIGN", (1, 0), (1, 0), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                                    ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    made = (f"Automatic draft made {style.fmt_time(pack.generated_at)}: to be reviewed before it is sent"
            if draft else f"Generated {style.fmt_time(pack.generated_at)}{_by(pack)}")
    parts = [f"Battery <b>{style.markup(pack.battery_serial)}</b>"] + [
        style.markup(v) for v in (pack.model, pack.dealer) if not style.is_missing(v) and str(v).strip()]
    subtitle = _p(" · ".join(parts) + f"<br/>{style.markup(made)}", "subtitle")
    reason = Table([[_p(f"<b>Why this pack was made:</b> {style.markup(pack.reason)}")]], colWidths=[width],
                   style=TableStyle([("BACKGROUND", (0, 0), (-1, -1), style.NOTE_BG),
                                     ("LINEBEFORE", (0, 0), (0, -1), 3, style.NOTE_EDGE),
                                     ("LEFTPADDING", (0, 0), (-1, -1), 8), ("TOPPADDING", (0, 0), (-1, -1), 5),
                                     ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    status, _ = _warranty_status(pack)
    left = [("Battery serial", style.markup(pack.battery_serial)), ("Device", style.markup(pack.device_id)),
            ("Vehicle", style.markup(pack.vehicle_number)), ("Model", style.markup(pack.model)),
            ("Dealer", style.markup(pack.dealer)), ("Customer", style.markup(pack.customer)),
            ("City", style.markup(pack.city))]
    right = [("Sold", style.markup(style.fmt_date(pack.sold_at))), ("Age", style.markup(_age_text(pack))),
             ("Warranty terms", style.markup(_terms_text(pack))),
             ("Warranty end", style.markup(style.fmt_date(pack.warranty_end))),
             ("Warranty status", style.markup(status)), ("SOH now", _soh_now(pack)),
             ("Cycles", style.markup(_cycles_text(pack)))]
    label_w, value_w = 28 * mm, width / 2 - 28 * mm
    grid = Table([[_p(a, "label"), _p(b, "value"), _p(c, "label"), _p(d, "value")]
                  for (a, b), (c, d) in zip(left, right)],
                 colWidths=[label_w, value_w, label_w, value_w],
                 style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                   ("LINEBELOW", (0, 0), (-1, -1), 0.25, style.RULE),
                                   ("LEFTPADDING", (2, 0), (2, -1), 8)]))
    return [title, Spacer(1, 2), subtitle, Spacer(1, 6), reason, Spacer(1, 6), grid]


def _soh_section(pack: EvidencePack, width: float) -> list:
    out = [_p("1. State of health against the warranty curve", "h2")]
    chart = charts.soh_history_chart(pack, width)
    bms = [p for p in pack.history if style.number(p.bms) is not None and style.as_date(p.day)]
    est = [p for p in pack.history if style.number(p.estimated) is not None and style.as_date(p.day)]
    if chart is None:
        out.append(_empty("No SOH measured or estimated yet: the BMS has reported no usable SOH and no charge "
                          "has spanned the 40 SOC points an estimate needs."))
    else:
        out.append(chart)
        facts = []
        for points, what in ((bms, "SOH reported by the BMS"), (est, "SOH estimated from charging")):
            if points:
                days = sorted(style.as_date(p.day) for p in points)
                facts.append(f"{what} on {len(points):,} day{'s' if len(points) != 1 else ''} "
                             f"({style.fmt_date(days[0])} to {style.fmt_date(days[-1])})")
            else:
                facts.append(f"no {what}")
        out.append(_p(style.markup("; ".join(facts)[:1].upper() + "; ".join(facts)[1:] + ".")))
    out.append(Spacer(1, 3))
    out.append(_p("How the figures are made: SOH is the usable capacity as a share of the rated capacity. The "
                  "estimate from charging counts the ampere-hours put into the pack during a charge spanning at "
                  "least 40 SOC points, divides them by the SOC change and compares the result with the rated "
                  "capacity; its band is the 80 % confidence interval over the qualifying charges of the window. "
                  "The warranty curve is the SOH guaranteed at each age over the warranty period.", "small"))
    return out


def _forecast_section(pack: EvidencePack) -> list:
    out = [_p("2. Fade and end-of-life forecast", "h2")]
    f = pack.forecast or {}
    status = f.get("status")
    eol = style.number(pack.eol_soh) or 80.0
    reason = style.markup(f.get("reason")) if not style.is_missing(f.get("reason")) else ""
    if status == "forecast":
        p10, p50, p90 = (style.as_date(f.get(k)) for k in ("eol_p10", "eol_p50", "eol_p90"))
        body = (f"Expected to reach the end-of-life SOH of {eol:g} % on <b>{style.fmt_date(p50)}</b> "
                f"(pessimistic {style.fmt_date(p10)}, optimistic {style.fmt_date(p90)}: the 10th and 90th "
                "percentiles of the forecast).")
        end = style.as_date(pack.warranty_end)
        if end and p50:
            if p50 < end:
                body += f" That is <b>before</b> the warranty ends on {style.fmt_date(end)}."
            elif p10 and p10 < end:
                body += (f" The warranty ends on {style.fmt_date(end)}: the expected date is after it, the "
                         "<b>pessimistic date before it</b>.")
            else:
                body += f" The warranty ends on {style.fmt_date(end)}, before the pessimistic date."
        out.append(_p(body))
        if reason:
            out.append(_p(reason, "small"))
    elif status == "reached":
        out.append(_p(f"<b>End of life ({eol:g} %) reached.</b> {reason}"))
    elif status == "not_enough_data":
        out.append(_p(f"<b>No forecast: not enough data yet.</b> {reason}"))
    else:
        out.append(_empty("No forecast has been computed for this battery yet."))
    fade = []
    if style.number(f.get("fade_per_month")) is not None:
        fade.append(f"{style.fmt_num(f['fade_per_month'], 2)} SOH points per month")
    if style.number(f.get("fade_per_100_cycles")) is not None:
        fade.append(f"{style.fmt_num(f['fade_per_100_cycles'], 2)} SOH points per 100 cycles")
    out.append(_p("Fade rate: " + (", ".join(fade) if fade else "not measurable yet") + "."))
    return out


def _coverage_bar(share: float, width: float) -> Drawing:
    d = Drawing(width, 16)
    d.add(Rect(0, 3, width, 9, fillColor=style.HEADER_BG, strokeColor=None))
    d.add(Rect(0, 3, width * max(0.0, min(1.0, share)), 9, fillColor=style.BMS, strokeColor=None))
    label = f"{share:.0%} of the days have data"
    inside = share > 0.35
    d.add(String(6 if inside else width * share + 6, 5.2, label, fontName=style.fonts().bold, fontSize=7,
                 fillColor=colors.white if inside else style.INK))
    return d


def _coverage_section(pack: EvidencePack, width: float) -> list:
    out = [_p("3. Data coverage", "h2")]
    c = pack.coverage or {}
    days, with_data = style.number(c.get("days_in_period")), style.number(c.get("days_with_data"))
    share = style.number(c.get("share"))
    if share is None and days and with_data is not None:
        share = with_data / days
    if not with_data:
        out.append(_empty("No readings were received from this battery in the period: nothing in this pack rests "
                          "on telemetry."))
        return out
    start, end = style.as_date(c.get("period_start")), style.as_date(c.get("period_end"))
    period = f" ({style.fmt_date(start)} to {style.fmt_date(end)})" if start and end else ""
    sentence = f"Telemetry was received on <b>{with_data:,.0f}</b>"
    sentence += (f" of the {days:,.0f} day{'s' if days != 1 else ''} in the period{period}" if days
                 else f" day{'s' if with_data != 1 else ''}")
    sentence += f" ({share:.1%})." if share is not None else "."
    sentence += (f" First reading {style.fmt_time(c.get('first_reading'))}, last reading "
                 f"{style.fmt_time(c.get('last_reading'))}.")
    out.append(_p(sentence))
    if share is not None:
        out.append(_coverage_bar(share, width))
        if share < 0.5:
            out.append(_p("Less than half of the period has data: what happened on the missing days cannot be "
                          "read from telemetry, and the violations and alerts below cover only the days with data.",
                          "small"))
    return out


def _violations_section(pack: EvidencePack, width: float) -> list:
    out = [_p("4. Operating-window violations (misuse)", "h2")]
    rows = _filled(pack.violations)
    if not rows:
        out.append(_empty("No violations recorded in the period."))
        return out
    rows.sort(key=lambda v: (style.as_date(v.get("day")) or date.min, str(v.get("kind"))))
    groups: dict[str, list[dict]] = defaultdict(list)
    for v in rows:
        groups[_kind(v.get("kind"))[0]].append(v)
    summary_cols = (columns.Column("kind", "Violation", width=40), columns.Column("days", "Days", "int", width=16),
                    columns.Column("minutes", "Minutes", "int", width=20),
                    columns.Column("worst", "Worst", width=28), columns.Column("first", "First", width=24),
                    columns.Column("last", "Last", width=24))
    cells = []
    for label, items in groups.items():
        _, _, _, _, lower_worse = _kind(items[0].get("kind"))
        worst_values = [style.number(v.get("worst")) for v in items if style.number(v.get("worst")) is not None]
        worst = (min(worst_values) if lower_worse else max(worst_values)) if worst_values else None
        days = sorted({style.as_date(v.get("day")) for v in items if style.as_date(v.get("day"))})
        minutes = sum(style.number(v.get("minutes")) or 0 for v in items)
        cells.append([label, style.fmt_int(len(days) or len(items)), style.fmt_int(minutes),
                      _worst_text(items[0].get("kind"), worst),
                      style.fmt_date(days[0]) if days else style.DASH,
                      style.fmt_date(days[-1]) if days else style.DASH])
    out = [KeepTogether(out + [tables.table(summary_cols, [], width * 0.8, cells=cells)]), Spacer(1, 6)]
    out.append(CondPageBreak(40 * mm))
    out.append(_p(f"Log, oldest first ({len(rows):,} entr{'ies' if len(rows) != 1 else 'y'})", "h3"))
    log = [[style.fmt_date(v.get("day")), _kind(v.get("kind"))[0], style.fmt_num(v.get("minutes"), 0),
            _worst_text(v.get("kind"), v.get("worst"))] for v in rows]
    out.append(tables.table(columns.VIOLATIONS, [], width * 0.8, cells=log))
    return out


def _opened_key(alert: dict):
    opened = style.as_ist(alert.get("opened"))
    return (opened is None, opened.timestamp() if opened else 0.0)


def _alerts_section(pack: EvidencePack, width: float) -> list:
    out = [_p("5. Alerts", "h2")]
    rows = _filled(pack.alerts)
    if not rows:
        out.append(_empty("No alerts recorded in the period."))
        return out
    rows.sort(key=_opened_key)
    open_count = sum(1 for a in rows if str(a.get("status", "")).lower() not in ("resolved", "closed"))
    out.append(_p(f"{len(rows):,} alert{'s' if len(rows) != 1 else ''}, {open_count:,} not resolved. "
                  "Times are IST.", "small"))
    colours = {i: style.CRITICAL for i, a in enumerate(rows) if str(a.get("severity", "")).lower() == "critical"}
    cells = []
    for a in rows:
        label, unit = ALERT_TYPES.get(str(a.get("type")), (style.humanize(a.get("type")), ""))
        cells.append([style.fmt_time(a.get("opened"), zone=False), label, style.humanize(a.get("severity")),
                      style.fmt_num(a.get("value"), 1, unit), style.humanize(a.get("status")),
                      style.fmt_time(a.get("resolved"), zone=False)])
    out.append(tables.table(columns.ALERTS, [], width, cells=cells, row_colours=colours))
    return out


def _notes_section(pack: EvidencePack, width: float) -> list:
    notes = [style.markup(n) for n in pack.notes or [] if not style.is_missing(n)]
    notes += ["Times are India Standard Time (IST, UTC+05:30); days are IST days.",
              "SOH is in percent of the rated capacity of the battery model. A battery without a BMS value or "
              "an estimate is shown as not measured, never as healthy.",
              "The figures come from the telemetry the battery's device sent; days without telemetry are stated "
              "in section 3 and are not filled in."]
    out = [_p("6. Notes", "h2")]
    out += [_p(f"• {n}", "small") for n in notes]
    sign = Table([[_p("Reviewed by", "label"), "", _p("Date", "label"), "", _p("Signature", "label"), ""]],
                 colWidths=[22 * mm, width * 0.3, 12 * mm, width * 0.14, 18 * mm, None],
                 style=TableStyle([("LINEBELOW", (1, 0), (1, 0), 0.6, style.MUTED),
                                   ("LINEBELOW", (3, 0), (3, 0), 0.6, style.MUTED),
                                   ("LINEBELOW", (5, 0), (5, 0), 0.6, style.MUTED),
                                   ("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("TOPPADDING", (0, 0), (-1, -1), 16)]))
    out.append(KeepTogether([Spacer(1, 8), sign]))
    return out


def evidence_pack_pdf(pack: EvidencePack) -> bytes:
    """The evidence pack of ``pack`` as PDF bytes (A4)."""
    width = pdf.content_width(A4)
    story = (_header(pack, width) + _soh_section(pack, width) + _forecast_section(pack)
             + [KeepTogether(_coverage_section(pack, width))] + _violations_section(pack, width)
             + _alerts_section(pack, width)
             + _notes_section(pack, width))
    who = " · automatic draft" if pack.generated_by == AUTOMATIC else _by(pack)
    footer = (f"Warranty claim evidence pack · battery {style.text(pack.battery_serial)} · generated "
              f"{style.fmt_time(pack.generated_at)}{who}")
    return pdf.build(story, pagesize=A4, title=f"Warranty claim evidence pack: {style.text(pack.battery_serial)}",
                     subject=style.text(pack.reason), author=style.text(pack.generated_by), footer=footer)
