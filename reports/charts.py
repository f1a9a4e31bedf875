"""Charts for the PDFs, drawn with reportlab.graphics on white paper.

Each builder returns a Drawing, or None when there is nothing to draw: the caller then says so in
words (an empty chart frame tells an assessor nothing). Lines never bridge a gap in the data longer
than GAP_DAYS, so a month without readings is seen as a month without readings.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Sequence

from reportlab.graphics.shapes import Circle, Drawing, Group, Line, PolyLine, Polygon, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from reports import style
from reports.model import EvidencePack

GAP_DAYS = 14
TICK_FONT = 7
LABEL_FONT = 7.5
BAND_OPACITY = 0.35


@dataclass
class _Frame:
    """Maps data values to points inside the plot rectangle."""
    left: float
    bottom: float
    width: float
    height: float
    x0: float
    x1: float
    y0: float
    y1: float

    def x(self, value: float) -> float:
        return self.left + (value - self.x0) / (self.x1 - self.x0) * self.width

    def y(self, value: float) -> float:
        return self.bottom + (value - self.y0) / (self.y1 - self.y0) * self.height

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def top(self) -> float:
        return self.bottom + self.height


@dataclass
class LegendItem:
    kind: str            # "marker" | "line" | "band" | "bar" | "box"
    colour: object
    label: str
    dash: tuple | None = None


# ---- shared pieces --------------------------------------------------------------------------------

def _legend_rows(items: Sequence[LegendItem], width: float) -> list[list[tuple[LegendItem, float]]]:
    font = style.fonts().regular
    rows: list[list[tuple[LegendItem, float]]] = [[]]
    used = 0.0
    for item in items:
        w = 22 + stringWidth(item.label, font, LABEL_FONT) + 14
        if rows[-1] and used + w > width:
            rows.append([])
            used = 0.0
        rows[-1].append((item, w))
        used += w
    return [r for r in rows if r]


LEGEND_ROW = 13


def _draw_legend(drawing: Drawing, rows, left: float, top: float) -> None:
    font = style.fonts().regular
    y = top - 9
    for row in rows:
        x = left
        for item, w in row:
            mid = y + 2.5
            if item.kind == "marker":
                drawing.add(Circle(x + 9, mid, 2.2, fillColor=item.colour, strokeColor=None))
            elif item.kind == "line":
                drawing.add(Line(x, mid, x + 18, mid, strokeColor=item.colour, strokeWidth=1.4,
                                 strokeDashArray=item.dash))
            elif item.kind == "band":
                drawing.add(Rect(x, mid - 4, 18, 8, fillColor=item.colour, strokeColor=None,
                                 fillOpacity=BAND_OPACITY))
            elif item.kind == "box":
                drawing.add(Rect(x + 3, mid - 4, 12, 8, fillColor=item.colour, strokeColor=None))
            elif item.kind == "bar":
                drawing.add(Line(x + 1, mid, x + 17, mid, strokeColor=item.colour, strokeWidth=1.6))
                drawing.add(Line(x + 1, mid - 3, x + 1, mid + 3, strokeColor=item.colour, strokeWidth=1.2))
                drawing.add(Line(x + 17, mid - 3, x + 17, mid + 3, strokeColor=item.colour, strokeWidth=1.2))
                drawing.add(_diamond(x + 9, mid, 3.2, item.colour))
            drawing.add(String(x + 22, y, item.label, fontName=font, fontSize=LABEL_FONT, fillColor=style.INK))
            x += w
        y -= LEGEND_ROW


def _diamond(x: float, y: float, r: float, colour) -> Polygon:
    return Polygon([x, y + r, x + r, y, x, y - r, x - r, y], fillColor=colour, strokeColor=style.INK,
                   strokeWidth=0.4)


def _vertical_text(x: float, y: float, label: str) -> Group:
    group = Group(String(0, 0, label, fontName=style.fonts().regular, fontSize=LABEL_FONT, fillColor=style.MUTED,
                         textAnchor="middle"))
    group.transform = (0, 1, -1, 0, x, y)
    return group


def _nice_step(span: float, max_ticks: int) -> float:
    raw = span / max(1, max_ticks)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def date_ticks(d0: date, d1: date, max_ticks: int) -> list[tuple[date, str]]:
    """Tick dates and labels between d0 and d1: days for short spans, months or years otherwise."""
    span = (d1 - d0).days
    max_ticks = max(2, max_ticks)
    if span <= 75:
        step = next((s for s in (1, 2, 7, 14, 28) if span / s <= max_ticks), 28)
        return [(d0 + timedelta(days=i), f"{(d0 + timedelta(days=i)).day} {(d0 + timedelta(days=i)):%b}")
                for i in range(0, span + 1, step)]
    months = span / 30.44
    step = next((s for s in (1, 2, 3, 6, 12, 24, 36, 60, 120) if months / s <= max_ticks), 120)
    first = _month_index(d0) + 1
    first += (-first) % step
    ticks = []
    for m in range(first, _month_index(d1) + 1, step):
        d = date(m // 12, m % 12 + 1, 1)
        ticks.append((d, f"{d:%Y}" if step >= 12 else f"{d:%b %Y}"))
    return ticks


def _runs(points: list, gap_days: int = GAP_DAYS) -> list[list]:
    """Split date-sorted points (date first) where consecutive dates are further apart than gap_days."""
    runs: list[list] = []
    for point in points:
        if runs and (point[0] - runs[-1][-1][0]).days <= gap_days:
            runs[-1].append(point)
        else:
            runs.append([point])
    return runs


def _axes(drawing: Drawing, f: _Frame, y_ticks: Sequence[float], y_fmt, x_ticks: Sequence[tuple[float, str]],
          y_title: str) -> None:
    font = style.fonts().regular
    drawing.add(Rect(f.left, f.bottom, f.width, f.height, fillColor=None, strokeColor=style.RULE, strokeWidth=0.5))
    for value in y_ticks:
        y = f.y(value)
        drawing.add(Line(f.left, y, f.right, y, strokeColor=style.RULE, strokeWidth=0.4))
        drawing.add(String(f.left - 4, y - 2.5, y_fmt(value), fontName=font, fontSize=TICK_FONT,
                           fillColor=style.MUTED, textAnchor="end"))
    last_right = -1e9
    for value, label in x_ticks:
        x = f.x(value)
        if not f.left - 0.5 <= x <= f.right + 0.5:
            continue
        drawing.add(Line(x, f.bottom, x, f.bottom - 3, strokeColor=style.MUTED, strokeWidth=0.5))
        half = stringWidth(label, font, TICK_FONT) / 2
        # keep the label on the drawing and clear of its neighbour
        centre = min(max(x, f.left - 8 + half), f.right + 8 - half)
        if centre - half < last_right + 4:
            continue
        drawing.add(String(centre, f.bottom - 11, label, fontName=font, fontSize=TICK_FONT, fillColor=style.MUTED,
                           textAnchor="middle"))
        last_right = centre + half
    drawing.add(Line(f.left, f.bottom, f.right, f.bottom, strokeColor=style.MUTED, strokeWidth=0.7))
    drawing.add(_vertical_text(f.left - 26, f.bottom + f.height / 2, y_title))


# ---- the SOH history of one battery ---------------------------------------------------------------

def _forecast_curve(forecast: dict | None, sold: date | None) -> list[tuple[date, float, float, float]]:
    """The forecast's (day, p10, p50, p90) rows; a day may also be an age in days (analytics.fade's form)."""
    out = []
    for row in (forecast or {}).get("curve") or []:
        try:
            d, p10, p50, p90 = row
        except (TypeError, ValueError):
            continue
        age = style.number(d) if not isinstance(d, str) else None
        d = (sold + timedelta(days=age) if sold and age is not None and abs(age) < 40000 else None) \
            if age is not None else style.as_date(d)
        p10, p50, p90 = style.number(p10), style.number(p50), style.number(p90)
        if d and None not in (p10, p50, p90):
            out.append((d, min(p10, p90), p50, max(p10, p90)))
    return sorted(out)


def _clip_curve(curve, limit: date):
    """The curve up to ``limit``, with a point interpolated at it when the curve runs on."""
    inside = [p for p in curve if p[0] <= limit]
    after = [p for p in curve if p[0] > limit]
    if inside and after:
        a, b = inside[-1], after[0]
        t = (limit - a[0]).days / max(1, (b[0] - a[0]).days)
        inside.append((limit, *(a[i] + t * (b[i] - a[i]) for i in (1, 2, 3))))
    return inside


def soh_history_chart(pack: EvidencePack, width: float, plot_height: float = 190) -> Drawing | None:
    """SOH against date: BMS points, our estimate with its band, the warranty curve, the floor and
    end-of-life lines, and the forecast band with its end-of-life range. None without any SOH."""
    bms = sorted((d, v) for d, v in ((style.as_date(p.day), style.number(p.bms)) for p in pack.history)
                 if d and v is not None)
    est = sorted((d, v, style.number(p.low), style.number(p.high)) for p, d, v in
                 ((p, style.as_date(p.day), style.number(p.estimated)) for p in pack.history) if d and v is not None)
    if not bms and not est:
        return None
    warranty = sorted((d, v) for d, v in ((style.as_date(a), style.number(b)) for a, b in
                                          (pack.warranty_curve or [])) if d and v is not None)
    forecast = pack.forecast or {}
    curve = _forecast_curve(forecast, style.as_date(pack.sold_at)) if forecast.get("status") == "forecast" else []
    eol_dates = [style.as_date(forecast.get(k)) for k in ("eol_p10", "eol_p50", "eol_p90")] \
        if forecast.get("status") == "forecast" else [None, None, None]
    floor = style.number(pack.warranty_floor)
    eol = style.number(pack.eol_soh)
    today = style.as_date(pack.generated_at)
    sold = style.as_date(pack.sold_at)

    data_days = [p[0] for p in bms] + [p[0] for p in est]
    starts = data_days + [d for d in (sold,) if d] + ([warranty[0][0]] if warranty else [])
    x_start = min(starts)
    known_end = max(data_days + [d for d in (today, style.as_date(pack.warranty_end)) if d]
                    + ([warranty[-1][0]] if warranty else []))
    # A forecast years out would squeeze the history into a corner: the chart runs at most two years
    # (or the history's own length) past what is known, and says where it cut.
    limit = known_end + timedelta(days=max(730, (known_end - x_start).days))
    wanted_end = max([known_end] + [p[0] for p in curve] + [d for d in eol_dates if d])
    x_end = min(wanted_end, limit)
    clipped = wanted_end > limit
    curve = _clip_curve(curve, x_end)
    if x_end <= x_start:
        x_start, x_end = x_start - timedelta(days=3), x_end + timedelta(days=3)
    pad = max(2.0, (x_end - x_start).days * 0.02)

    values = [v for _, v in bms] + [v for _, v, _, _ in est] + [lo for _, _, lo, _ in est if lo is not None] \
        + [hi for *_, hi in est if hi is not None] + [v for _, v in warranty] + [p[1] for p in curve] \
        + [p[3] for p in curve] + [v for v in (floor, eol) if v is not None]
    y0 = math.floor((min(values) - 2) / 5) * 5
    y1 = max(102.0, math.ceil(max(values) + 1))
    y0 = max(0.0, min(y0, y1 - 10))

    # Legend first: its height decides where the plot sits.
    items = []
    if bms:
        items.append(LegendItem("marker", style.BMS, "SOH reported by the BMS"))
    if est:
        items.append(LegendItem("line", style.ESTIMATE, "SOH estimated from charging"))
        if any(lo is not None and hi is not None for _, _, lo, hi in est):
            items.append(LegendItem("band", style.ESTIMATE_BAND, "estimate 80 % band"))
    if warranty:
        items.append(LegendItem("line", style.WARRANTY, "warranty curve (guaranteed SOH)", (4, 2)))
    if floor is not None:
        items.append(LegendItem("line", style.FLOOR, f"warranty floor{' and end of life' if eol == floor else ''} "
                                                     f"{floor:g} %", (2, 2)))
    if eol is not None and eol != floor:
        items.append(LegendItem("line", style.MUTED, f"end of life {eol:g} %", (1, 2)))
    if curve:
        items.append(LegendItem("line", style.FORECAST, "forecast (expected)", (5, 2)))
        items.append(LegendItem("band", style.FORECAST_BAND, "forecast 10–90 % band"))
    p10, p50, p90 = eol_dates
    first = p10 or p50
    eol_bar = bool(p50 and eol is not None and first <= x_end)    # a range wholly past the chart is only named
    if eol_bar:
        items.append(LegendItem("bar", style.FORECAST, "end-of-life date: expected, 10–90 % range"))
    left, right, top = 40, 12, 14
    rows = _legend_rows(items, width - left)
    legend_h = len(rows) * LEGEND_ROW + 6
    bottom = 20 + legend_h
    drawing = Drawing(width, plot_height + bottom + top)
    f = _Frame(left, bottom, width - left - right, plot_height, x_start.toordinal() - pad, x_end.toordinal() + pad,
               y0, y1)
    ticks = date_ticks(date.fromordinal(math.ceil(f.x0)), date.fromordinal(math.floor(f.x1)),
                       int(f.width // 58))
    step = 5 if y1 - y0 <= 50 else 10
    y_ticks = [v for v in range(int(math.ceil(y0 / step) * step), int(y1) + 1, step)]
    _axes(drawing, f, y_ticks, lambda v: f"{v:g}", [(d.toordinal(), label) for d, label in ticks],
          "SOH, % of rated capacity")

    # bands under everything
    for run in _runs([p for p in est if p[2] is not None and p[3] is not None]):
        if len(run) == 1:
            d, _, lo, hi = run[0]
            drawing.add(Line(f.x(d.toordinal()), f.y(lo), f.x(d.toordinal()), f.y(hi), strokeColor=style.ESTIMATE_BAND,
                             strokeWidth=3))
            continue
        upper = [(f.x(d.toordinal()), f.y(hi)) for d, _, _, hi in run]
        lower = [(f.x(d.toordinal()), f.y(lo)) for d, _, lo, _ in reversed(run)]
        drawing.add(Polygon([c for xy in upper + lower for c in xy], fillColor=style.ESTIMATE_BAND,
                            fillOpacity=BAND_OPACITY, strokeColor=None))
    if len(curve) >= 2:
        upper = [(f.x(d.toordinal()), f.y(p90)) for d, _, _, p90 in curve]
        lower = [(f.x(d.toordinal()), f.y(p10)) for d, p10, _, _ in reversed(curve)]
        drawing.add(Polygon([c for xy in upper + lower for c in xy], fillColor=style.FORECAST_BAND,
                            fillOpacity=BAND_OPACITY, strokeColor=None))

    # reference lines
    if today and f.x0 <= today.toordinal() <= f.x1:
        x = f.x(today.toordinal())
        drawing.add(Line(x, f.bottom, x, f.top, strokeColor=style.MUTED, strokeWidth=0.6, strokeDashArray=(1, 2)))
        drawing.add(String(x, f.top + 3, f"today {style.fmt_date(today)}", fontName=style.fonts().regular,
                           fontSize=TICK_FONT, fillColor=style.MUTED,
                           textAnchor="end" if x > f.left + f.width * 0.6 else "start"))
    if floor is not None:
        drawing.add(Line(f.left, f.y(floor), f.right, f.y(floor), strokeColor=style.FLOOR, strokeWidth=0.9,
                         strokeDashArray=(2, 2)))
    if eol is not None and eol != floor:
        drawing.add(Line(f.left, f.y(eol), f.right, f.y(eol), strokeColor=style.MUTED, strokeWidth=0.9,
                         strokeDashArray=(1, 2)))
    if len(warranty) >= 2:
        drawing.add(PolyLine([c for d, v in warranty for c in (f.x(d.toordinal()), f.y(v))],
                             strokeColor=style.WARRANTY, strokeWidth=1.3, strokeDashArray=(4, 2)))
    # the line labels: the higher line's label above it, the lower's below, both at the left
    font = style.fonts().regular
    if floor is not None and (eol is None or eol == floor):
        label = f"warranty floor{' and end of life' if eol == floor else ''} {floor:g} %"
        drawing.add(String(f.left + 4, f.y(floor) - 9, label, fontName=font, fontSize=TICK_FONT, fillColor=style.FLOOR))
    elif floor is not None and eol is not None:
        high, low = (floor, eol) if floor > eol else (eol, floor)
        for value, colour, name in ((floor, style.FLOOR, "warranty floor"), (eol, style.MUTED, "end of life")):
            y = f.y(value) + 3 if value == high else f.y(value) - 9
            drawing.add(String(f.left + 4, y, f"{name} {value:g} %", fontName=font, fontSize=TICK_FONT,
                               fillColor=colour))
    elif eol is not None:
        drawing.add(String(f.left + 4, f.y(eol) - 9, f"end of life {eol:g} %", fontName=font, fontSize=TICK_FONT,
                           fillColor=style.MUTED))

    # the data
    few = len(est) + len(bms) <= 12          # a handful of points must be seen, not just be there
    for run in _runs(est):
        points = [c for d, v, _, _ in run for c in (f.x(d.toordinal()), f.y(v))]
        if len(run) > 1:
            drawing.add(PolyLine(points, strokeColor=style.ESTIMATE, strokeWidth=1.3))
        if len(run) == 1 or len(est) <= 90:
            for d, v, _, _ in run:
                drawing.add(Circle(f.x(d.toordinal()), f.y(v), 2.8 if few else 1.6, fillColor=style.ESTIMATE,
                                   strokeColor=None))
    for d, v in bms:
        drawing.add(Circle(f.x(d.toordinal()), f.y(v), 2.8 if few else 1.8, fillColor=style.BMS, strokeColor=None))
    if len(curve) >= 2:
        drawing.add(PolyLine([c for d, _, p50, _ in curve for c in (f.x(d.toordinal()), f.y(p50))],
                             strokeColor=style.FORECAST, strokeWidth=1.3, strokeDashArray=(5, 2)))
    if eol_bar:
        y = f.y(eol)
        lo_x = f.x(max(first, x_start).toordinal())
        hi_x = f.x(min(p90 or p50, x_end).toordinal())
        drawing.add(Line(lo_x, y, hi_x, y, strokeColor=style.FORECAST, strokeWidth=1.8))
        if p10:
            drawing.add(Line(lo_x, y - 4, lo_x, y + 4, strokeColor=style.FORECAST, strokeWidth=1.2))
        if p90 and p90 <= x_end:
            drawing.add(Line(hi_x, y - 4, hi_x, y + 4, strokeColor=style.FORECAST, strokeWidth=1.2))
        if p50 <= x_end:
            drawing.add(_diamond(f.x(p50.toordinal()), y, 3.6, style.FORECAST))
    if clipped:
        drawing.add(String(f.right - 2, f.top - 9, f"forecast runs on past the chart, to {style.fmt_date(wanted_end)}",
                           fontName=font, fontSize=TICK_FONT, fillColor=style.FORECAST, textAnchor="end"))
    _draw_legend(drawing, rows, left, bottom - 20)
    return drawing


# ---- the fleet's SOH distribution -----------------------------------------------------------------

def soh_distribution_chart(histogram: Sequence[tuple[str, int, int, int]], width: float,
                           plot_height: float = 150) -> Drawing | None:
    """Batteries per SOH bucket, stacked by source. None when there are no batteries."""
    buckets = []
    for row in histogram or []:
        try:
            label, measured, estimated, not_measured = row
        except (TypeError, ValueError):
            continue
        counts = [max(0, int(style.number(v) or 0)) for v in (measured, estimated, not_measured)]
        buckets.append((style.text(label), counts))
    if not buckets or sum(sum(c) for _, c in buckets) == 0:
        return None
    series = ((style.BMS, "Measured (BMS)"), (style.ESTIMATE, "Estimated from charging"),
              (style.NOT_MEASURED, "Not measured (never counted as healthy)"))
    items = [LegendItem("box", colour, label) for colour, label in series]
    left, right, top = 44, 10, 14
    rows = _legend_rows(items, width - left)
    bottom = 34 + len(rows) * LEGEND_ROW
    drawing = Drawing(width, plot_height + bottom + top)
    peak = max(sum(c) for _, c in buckets)
    step = max(1, _nice_step(peak, 5))
    y1 = math.ceil(peak * 1.08 / step) * step
    f = _Frame(left, bottom, width - left - right, plot_height, 0, len(buckets), 0, y1)
    ticks = [i * step for i in range(int(y1 / step) + 1)]
    _axes(drawing, f, ticks, lambda v: f"{v:,.0f}", [], "Batteries")
    font = style.fonts().regular
    slot = f.width / len(buckets)
    bar = min(46.0, slot * 0.62)
    size = TICK_FONT
    widest = max(stringWidth(label, font, size) for label, _ in buckets)
    while widest > slot - 2 and size > 5:
        size -= 0.5
        widest = max(stringWidth(label, font, size) for label, _ in buckets)
    for i, (label, counts) in enumerate(buckets):
        centre = f.left + slot * (i + 0.5)
        base = 0
        for (colour, _), count in zip(series, counts):
            if count:
                drawing.add(Rect(centre - bar / 2, f.y(base), bar, f.y(base + count) - f.y(base), fillColor=colour,
                                 strokeColor=colors.white, strokeWidth=0.4))
            base += count
        if base:
            drawing.add(String(centre, f.y(base) + 3, f"{base:,}", fontName=style.fonts().bold, fontSize=TICK_FONT,
                               fillColor=style.INK, textAnchor="middle"))
        for j, line in enumerate(_split_label(label, font, size, slot - 2)):
            drawing.add(String(centre, f.bottom - 10 - j * (size + 1.5), line, fontName=font, fontSize=size,
                               fillColor=style.INK, textAnchor="middle"))
    drawing.add(String(f.left + f.width / 2, f.bottom - 28, "SOH bucket, % of rated capacity", fontName=font,
                       fontSize=LABEL_FONT, fillColor=style.MUTED, textAnchor="middle"))
    _draw_legend(drawing, rows, left, bottom - 32)
    return drawing


def _split_label(label: str, font: str, size: float, width: float) -> list[str]:
    if stringWidth(label, font, size) <= width or " " not in label:
        return [label]
    words, lines = label.split(), [""]
    for word in words:
        trial = f"{lines[-1]} {word}".strip()
        if stringWidth(trial, font, size) <= width or not lines[-1]:
            lines[-1] = trial
        else:
            lines.append(word)
    return lines[:2]
