"""The report builders (reports/): warranty claim evidence packs and fleet health reports, from
realistic dataclasses, rendered page by page with poppler (pdftoppm, pdftotext) as a reader would
see them; the XLSX reopened with openpyxl.

One page of each PDF is saved to tests/artifacts/reports_*.png for a person to look at.
"""
from __future__ import annotations

import io
import random
import shutil
import subprocess
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import ARTIFACTS
from reports import AUTOMATIC, EvidencePack, FleetReport, SohPoint, evidence_pack_pdf, fleet_report_pdf, \
    fleet_report_xlsx
from reports import style

NOW = datetime(2026, 11, 12, 8, 35, tzinfo=timezone.utc)      # 14:05 IST
TODAY = date(2026, 11, 12)
KINDS = ("deep discharge", "over-temperature", "over-current", "charging when hot")

POPPLER = shutil.which("pdftoppm") and shutil.which("pdftotext")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdftoppm, pdftotext) not installed: "
                                                        "apt-get install poppler-utils to render the PDFs")


# ---- fixtures: what the lead's data layer hands over -------------------------------------------------

def soh_curve(age_days: float, b: float = 9.0) -> float:
    return 100.0 - b * (age_days / 365.25) ** 0.6


def rich_pack(**changes) -> EvidencePack:
    """A 22-month-old pack: BMS SOH for its first year, then our estimate; a 40-day outage; a forecast."""
    rng = random.Random(3)
    sold = TODAY - timedelta(days=670)
    history = []
    for age in range(3, 671):
        day = sold + timedelta(days=age)
        if 420 <= age < 460:
            continue                                    # the outage: no data, so no points
        truth = soh_curve(age)
        bms = round(truth + rng.gauss(0, 0.4), 1) if age < 330 and age % 3 == 0 else None
        est = low = high = None
        if age >= 250:
            est = round(truth + rng.gauss(0, 0.5), 1)
            width = 1.0 + rng.random() * 0.6
            low, high = round(est - width, 1), round(est + width, 1)
        if bms is None and est is None:
            continue
        history.append(SohPoint(day, bms, est, low, high))
    end = sold + timedelta(days=round(36 * 30.44))
    now = history[-1].estimated

    def ahead(d: int, speed: float) -> float:          # the forecast's percentile curves, fanning out from now
        return now - (soh_curve(670) - soh_curve(670 + d)) * speed

    curve = [(TODAY + timedelta(days=d), ahead(d, 1.45), ahead(d, 1.0), ahead(d, 0.7)) for d in range(0, 1500, 30)]
    eol = {speed: TODAY + timedelta(days=next(d for d in range(3000) if ahead(d, speed) < 80))
           for speed in (1.45, 1.0, 0.7)}
    violations = []
    for i in range(14):
        kind = KINDS[i % 4]
        worst = {"deep discharge": 4 + i % 5, "over-temperature": 58.5 + i, "over-current": 165 + 3 * i,
                 "charging when hot": 47.2 + i / 2}[kind]
        violations.append({"day": sold + timedelta(days=40 + 45 * i), "kind": kind, "minutes": 5 + 7 * i,
                           "worst": worst})
    alerts = [{"opened": NOW - timedelta(days=300 - 20 * i, hours=i), "type": t, "severity": s, "value": v,
               "status": "resolved" if i < 5 else "open",
               "resolved": NOW - timedelta(days=299 - 20 * i) if i < 5 else None}
              for i, (t, s, v) in enumerate([("high_temp", "critical", 61.2), ("overcurrent", "warning", 172.0),
                                             ("deep_discharge", "critical", 3.0), ("low_soc", "warning", 12.0),
                                             ("soh_degradation", "warning", 84.1), ("high_temp", "critical", 63.0),
                                             ("offline", "info", None)])]
    pack = EvidencePack(
        generated_at=NOW, generated_by="manager", battery_serial="ITB24000123", device_id="TK-51101-0123",
        vehicle_number="UP32AB1123", model="LFP-51V105-A", dealer="Lucknow E-Mobility", customer="Ramesh Yadav",
        city="Lucknow", sold_at=sold, warranty_months=36, warranty_cycles=2000, warranty_floor=80.0,
        warranty_end=end, soh_now=history[-1].estimated, soh_source="estimated", cycles_now=612,
        history=history, warranty_curve=[(sold, 100.0), (end, 80.0)],
        forecast={"status": "forecast", "reason": "Fitted on 61 weekly SOH points over 22 months.",
                  "eol_p10": eol[1.45], "eol_p50": eol[1.0], "eol_p90": eol[0.7], "fade_per_month": 0.31,
                  "fade_per_100_cycles": 1.52,
                  "curve": curve},
        violations=violations, alerts=alerts,
        coverage={"days_in_period": 670, "days_with_data": 612, "share": 612 / 670,
                  "first_reading": datetime.combine(sold, datetime.min.time(), timezone.utc) + timedelta(hours=5),
                  "last_reading": NOW - timedelta(minutes=12), "period_start": sold, "period_end": TODAY},
        reason=f"At risk: the pessimistic forecast crosses the 80 % floor on {style.fmt_date(eol[1.45])}, before "
               f"the warranty ends on {style.fmt_date(end)}.",
        soh_low=history[-1].low, soh_high=history[-1].high,
        notes=["Misuse thresholds in force: deep discharge under 10 % SOC, over-temperature above 55 °C, "
               "over-current above 150 A, charging when hot above 45 °C."])
    for key, value in changes.items():
        setattr(pack, key, value)
    return pack


def empty_pack() -> EvidencePack:
    """One day of data: no SOH at all, no temperature, no alerts, no sale date, no forecast."""
    return EvidencePack(
        generated_at=NOW, generated_by="engineer", battery_serial="ITB25000999", device_id="TK-51199-0999",
        vehicle_number="RJ14KT0999", model="LFP-51V120-X", dealer="Pink City EV", customer="Meena Saini",
        city="Jaipur", sold_at=None, warranty_months=48, warranty_cycles=2500, warranty_floor=75.0, warranty_end=None,
        soh_now=None, soh_source="not_measured", cycles_now=None, history=[], warranty_curve=[],
        forecast={"status": "not_enough_data", "reason": "No SOH point at all: the BMS reports none and no charge "
                                                         "has spanned 40 SOC points yet."},
        violations=[], alerts=[],
        coverage={"days_in_period": 1, "days_with_data": 1, "share": 1.0,
                  "first_reading": NOW - timedelta(hours=6), "last_reading": NOW - timedelta(minutes=3)},
        reason="Requested by engineer for a customer complaint.")


def none_pack() -> EvidencePack:
    """Every field that may be missing, missing (NaN and NaT included, as a DataFrame would give)."""
    nan = float("nan")
    return EvidencePack(
        generated_at=NOW, generated_by=None, battery_serial="ITB26000001", device_id="TK-51100-0001",
        vehicle_number=None, model=None, dealer=None, customer=None, city=None, sold_at=None,
        warranty_months=None, warranty_cycles=None, warranty_floor=None, warranty_end=None, soh_now=nan,
        soh_source=None, cycles_now=None, history=[SohPoint(TODAY, None, nan, None, None)], warranty_curve=[],
        forecast=None, violations=[{"day": None, "kind": None, "minutes": None, "worst": None}],
        alerts=[{"opened": None, "type": None, "severity": None, "value": nan, "status": None, "resolved": None}],
        coverage={}, reason=None, eol_soh=None)


def violations_pack() -> EvidencePack:
    """500 violation days that must flow over pages, a unicode/markup-hostile identity, an automatic draft."""
    rng = random.Random(5)
    pack = rich_pack(generated_by=AUTOMATIC, customer="Lakshmi Prasad — Pink City EV",
                     dealer="Pink City EV — Jaipur & <Sons> ₹", city="Jaipur → Ajmer", soh_now=78.4,
                     soh_source="measured", soh_low=None, soh_high=None,
                     reason="SOH 78.4 % under the 80 % floor at 22 months (automatic draft).",
                     forecast={"status": "reached", "reason": "The newest SOH (78.4 %) is under the end of life "
                                                              "(80 %)."})
    start = pack.sold_at + timedelta(days=10)
    worst = {"deep discharge": (2, 9), "over-temperature": (55.5, 68), "over-current": (151, 210),
             "charging when hot": (45.5, 56)}
    pack.violations = []
    for i in range(500):
        kind = KINDS[rng.randrange(4)]
        pack.violations.append({"day": start + timedelta(days=i // 2 + rng.randrange(2)), "kind": kind,
                                "minutes": rng.randrange(1, 240), "worst": round(rng.uniform(*worst[kind]), 1)})
    return pack


def fleet_report(batteries: int = 320, scope: str = "Whole fleet") -> FleetReport:
    rng = random.Random(11)
    dealers = ["Lucknow E-Mobility", "Delhi Green Wheels", "Pink City EV", "Patna Power Rides"]
    rows = []
    for i in range(batteries):
        source = rng.choices(["measured", "estimated", "not_measured"], [0.62, 0.28, 0.10])[0]
        soh = None if source == "not_measured" else round(rng.uniform(76, 100), 1)
        band = (round(soh - 1.1, 1), round(soh + 1.2, 1)) if source == "estimated" else None
        rul = (TODAY + timedelta(days=rng.randrange(200, 2000))) if soh and rng.random() < 0.6 else \
            rng.choice(["not_enough_data", "reached"] if soh and soh < 80 else ["not_enough_data"])
        rows.append({"serial": f"ITB{24 + i % 3:02d}{i:06d}", "vehicle": f"UP32AB{1000 + i:04d}",
                     "dealer": dealers[i % 4], "model": rng.choice(["LFP-51V105-A", "LFP-51V120-X"]), "soh": soh,
                     "source": source, "band": band, "cycles": rng.randrange(10, 930),
                     "age_days": rng.randrange(20, 1095), "rul": rul})
    edges = [(0, 75, "<75"), (75, 80, "75-80"), (80, 85, "80-85"), (85, 90, "85-90"), (90, 95, "90-95"),
             (95, 101, "95-100")]
    hist = [(label, sum(1 for r in rows if r["source"] == "measured" and lo <= r["soh"] < hi),
             sum(1 for r in rows if r["source"] == "estimated" and lo <= r["soh"] < hi), 0) for lo, hi, label in edges]
    hist.append(("Not measured", 0, 0, sum(1 for r in rows if r["source"] == "not_measured")))
    measured = sorted(r["soh"] for r in rows if r["soh"] is not None)
    risk = [{"serial": r["serial"], "vehicle": r["vehicle"], "dealer": r["dealer"], "soh": r["soh"],
             "source": r["source"], "floor": 80.0, "eol_p50": r["rul"], "warranty_end": TODAY + timedelta(days=300),
             "evidence": f"SOH {r['soh']} % from {r['source']}; {rng.randrange(5, 40)} charge sessions in 90 days; "
                         "fade 0.6 points/month, 2.1× the fleet median."}
            for r in rows if r["soh"] and r["soh"] < 82][:14]
    league = [{"dealer": d, "batteries": 80, "avg_soh": 88.0 + i, "fade_per_month": 0.35 + i / 10,
               "misuse_per_1000": 40.0 + 15 * i, "alerts_per_1000": 12.5 + i, "uptime_pct": 91.0 + i,
               "score": 71.0 - 4 * i} for i, d in enumerate(dealers)]
    league.append({"dealer": "Fleet median", "batteries": 80, "avg_soh": 89.5, "fade_per_month": 0.5,
                   "misuse_per_1000": 62.5, "alerts_per_1000": 14.0, "uptime_pct": 92.5, "score": 65.0})
    misuse = [{"dealer": d, "deep_discharge": 12.5 + i, "over_temperature": 30.1 - i, "over_current": 4.0 * i,
               "hot_charging": 9.9} for i, d in enumerate(dealers)]
    return FleetReport(
        generated_at=NOW, scope_label=scope, as_of=TODAY,
        summary={"batteries": batteries, **{k: sum(1 for r in rows if r["source"] == k)
                                            for k in ("measured", "estimated", "not_measured")},
                 "median_soh": measured[len(measured) // 2] if measured else None,
                 "below_floor": sum(1 for v in measured if v < 80), "at_risk": len(risk)},
        soh_histogram=hist, warranty_risk=risk, dealers=league, misuse=misuse, batteries=rows,
        generated_by="daily report")


# ---- helpers --------------------------------------------------------------------------------------------

def render(pdf: bytes, tmp_path: Path, name: str) -> tuple[list[Path], list[str]]:
    """Every page as a PNG (50 dpi) and as text."""
    assert pdf.startswith(b"%PDF-")
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(source), str(tmp_path / name)], check=True, timeout=300)
    pages = sorted(tmp_path.glob(f"{name}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    text = subprocess.run(["pdftotext", str(source), "-"], check=True, capture_output=True,
                          timeout=300).stdout.decode()
    return pages, text.split("\f")[:len(pages)]


def ink(png: Path) -> float:
    """Share of the page that is not white."""
    from PIL import Image
    image = Image.open(png).convert("L")
    histogram = image.histogram()
    return sum(histogram[:245]) / (image.width * image.height)


def keep(png: Path, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(png, ARTIFACTS / f"{name}.png")


def keep_sharp(pdf: bytes, tmp_path: Path, page: int, name: str) -> None:
    """One page at a readable resolution, for a person to judge."""
    source = tmp_path / f"{name}-sharp.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "90", "-png", "-f", str(page), "-l", str(page), "-singlefile", str(source),
                    str(ARTIFACTS / name)], check=True, timeout=120)


def assert_pages(pages: list[Path], texts: list[str], minimum_ink: float = 0.01):
    """Every page rendered, carries more than its footer (a footer alone inks about 0.5 %) and its number."""
    assert pages, "no page rendered"
    for number, (png, body) in enumerate(zip(pages, texts), start=1):
        assert ink(png) > minimum_ink, f"page {number} is blank"
        assert f"Page {number} of {len(pages)}" in body, f"page {number} has no page number"


def compact(text: str) -> str:
    return " ".join(text.split())


# ---- evidence packs ---------------------------------------------------------------------------------------

@needs_poppler
def test_rich_evidence_pack(tmp_path):
    pack = rich_pack()
    pdf = evidence_pack_pdf(pack)
    pages, texts = render(pdf, tmp_path, "rich")
    assert 2 <= len(pages) <= 4
    assert_pages(pages, texts)
    body = compact(" ".join(texts))
    for expected in ("Warranty claim evidence pack", "ITB24000123", "TK-51101-0123", "UP32AB1123", "LFP-51V105-A",
                     "Lucknow E-Mobility", "Ramesh Yadav", "36 months or 2,000 cycles; SOH floor 80 %",
                     "612 of 2,000 warranty cycles (31%)", "Why this pack was made",
                     "At risk: the pessimistic forecast crosses the 80 % floor", "SOH reported by the BMS on",
                     "Estimated from charging",
                     f"Expected to reach the end-of-life SOH of 80 % on {style.fmt_date(pack.forecast['eol_p50'])}",
                     "0.31 SOH points per month", "1.52 SOH points per 100 cycles",
                     "Telemetry was received on 612 of the 670 days", "Misuse thresholds in force",
                     "Generated 12 Nov 2026 14:05 IST by manager", "Reviewed by"):
        assert expected in body, expected
    # the chart's own labels made it onto page 1 (they are vector text)
    for label in ("warranty floor and end of life 80 %", "SOH estimated from charging", "forecast 10–90 % band",
                  "today 12 Nov 2026"):
        assert label in compact(texts[0]), label
    # the violations log lists each entry, the alerts table each alert, with IST times
    assert body.count("Over-temperature") >= 4 and "SOC 4 %" in body and "61.2" in body
    opened = style.as_ist(pack.alerts[0]["opened"])
    assert f"{opened.day} {opened:%b %Y %H:%M}" in body
    keep(pages[0], "reports_evidence_p1")
    keep_sharp(pdf, tmp_path, 1, "reports_evidence_p1_sharp")


@needs_poppler
def test_empty_evidence_pack_says_so(tmp_path):
    pdf = evidence_pack_pdf(empty_pack())
    pages, texts = render(pdf, tmp_path, "empty")
    assert len(pages) == 1
    assert_pages(pages, texts)
    body = compact(texts[0])
    for expected in ("No SOH measured or estimated yet", "No forecast: not enough data yet", "No SOH point at all",
                     "No violations recorded in the period", "No alerts recorded in the period",
                     "Telemetry was received on 1 of the 1 day in the period", "Not measured", "Warranty end unknown"):
        assert expected in body, expected
    assert "SOH, % of rated capacity" not in body      # no empty chart frame
    keep(pages[0], "reports_evidence_empty_p1")


@needs_poppler
def test_evidence_pack_with_nothing_at_all(tmp_path):
    pages, texts = render(evidence_pack_pdf(none_pack()), tmp_path, "none")
    assert_pages(pages, texts)
    body = compact(" ".join(texts))
    assert "ITB26000001" in body and "No SOH measured or estimated yet" in body
    assert "No readings were received from this battery" in body
    assert "No forecast has been computed" in body
    assert "No violations recorded" in body and "No alerts recorded" in body       # rows of nothing are dropped
    assert "Generated 12 Nov 2026 14:05 IST Why" in body                           # no "by —"
    assert "nan" not in body.lower().replace("manufacturer", "")


@needs_poppler
def test_one_day_of_soh_draws_a_chart(tmp_path):
    """A single estimate (no sale date, no warranty curve) is a point on a chart, not a crash."""
    pack = empty_pack()
    pack.history = [SohPoint(TODAY, None, 97.3, 95.9, 98.4)]
    pack.soh_now, pack.soh_source = 97.3, "estimated"
    pages, texts = render(evidence_pack_pdf(pack), tmp_path, "oneday")
    assert_pages(pages, texts)
    body = compact(texts[0])
    assert "SOH estimated from charging on 1 day (12 Nov 2026 to 12 Nov 2026)" in body
    assert "SOH, % of rated capacity" in body


@needs_poppler
def test_far_forecast_is_cut_at_the_chart_edge(tmp_path):
    """A young pack whose optimistic end of life is 14 years out: the history keeps its room and the
    chart says where the forecast goes on. The curve comes as the database stores it (ISO strings)."""
    pack = rich_pack()
    sold = TODAY - timedelta(days=150)
    pack.sold_at, pack.warranty_end = sold, sold + timedelta(days=1096)
    pack.warranty_curve = [(sold, 100.0), (pack.warranty_end, 80.0)]
    pack.history = [SohPoint(sold + timedelta(days=a), round(100 - 0.012 * a, 1), None, None, None)
                    for a in range(2, 151, 2)]
    p10, p50, p90 = (TODAY + timedelta(days=d) for d in (2900, 3900, 5200))
    pack.forecast = {"status": "forecast", "reason": "", "eol_p10": p10, "eol_p50": p50, "eol_p90": p90,
                     "fade_per_month": 0.37, "fade_per_100_cycles": None,
                     "curve": [[str(TODAY + timedelta(days=d)), 98.2 - d / 145, 98.2 - d / 195, 98.2 - d / 260]
                               for d in range(0, 5300, 100)]}
    pdf = evidence_pack_pdf(pack)
    pages, texts = render(pdf, tmp_path, "far")
    assert_pages(pages, texts)
    first = compact(texts[0])
    assert f"forecast runs on past the chart, to {style.fmt_date(p90)}" in first
    assert f"optimistic {style.fmt_date(p90)}" in first
    assert "Fade rate: 0.37 SOH points per month." in first
    keep_sharp(pdf, tmp_path, 1, "reports_evidence_far_forecast_p1_sharp")


@pytest.mark.parametrize("case", ["rich", "far", "one_point", "violations"])
def test_charts_stay_inside_their_drawing(case):
    """Nothing (a label, a forecast bar) is drawn past the chart's own edges, into the text around it."""
    from reports import charts
    pack = violations_pack() if case == "violations" else rich_pack()
    if case == "far":
        pack.forecast = {"status": "forecast", "eol_p10": TODAY + timedelta(days=9000),
                         "eol_p50": TODAY + timedelta(days=9900), "eol_p90": TODAY + timedelta(days=11000),
                         "curve": [(TODAY + timedelta(days=d), 86 - d / 300, 86 - d / 400, 86 - d / 500)
                                   for d in range(0, 11000, 200)]}
    if case == "one_point":
        pack.sold_at, pack.warranty_curve, pack.forecast = None, [], None
        pack.history = [SohPoint(TODAY, 101.5, None, None, None)]
    for width in (520, 300):
        drawing = charts.soh_history_chart(pack, width)
        x0, y0, x1, y1 = drawing.getBounds()
        assert x0 >= -0.5 and y0 >= -0.5 and x1 <= drawing.width + 0.5 and y1 <= drawing.height + 0.5, \
            (case, width, (x0, y0, x1, y1), (drawing.width, drawing.height))
    fleet = charts.soh_distribution_chart(fleet_report().soh_histogram, 500)
    x0, y0, x1, y1 = fleet.getBounds()
    assert x0 >= -0.5 and y0 >= -0.5 and x1 <= fleet.width + 0.5 and y1 <= fleet.height + 0.5


@needs_poppler
def test_violations_flow_over_pages(tmp_path):
    pack = violations_pack()
    pdf = evidence_pack_pdf(pack)
    pages, texts = render(pdf, tmp_path, "violations")
    assert len(pages) >= 6, len(pages)
    assert_pages(pages, texts)
    body = compact(" ".join(texts))
    assert "Log, oldest first (500 entries)" in body
    # the log starts under its summary, not on a fresh page after a blank one
    section = next(i for i, t in enumerate(texts) if "4. Operating-window violations" in t)
    assert "Log, oldest first" in texts[section]
    # the log's header row repeats on every page it runs over, and every entry is printed
    log_pages = [t for t in texts if "Worst value" in t]
    assert len(log_pages) >= 4
    log = body[:body.index("5. Alerts")]                   # the alerts table names some kinds too
    printed = sum(log.count(k) for k in ("Deep discharge", "Over-temperature", "Over-current", "Charging when hot"))
    assert printed == 500 + 4                               # 500 log lines and the 4 summary lines
    # unicode and markup in names arrive as text; the automatic draft says so
    assert "Lakshmi Prasad — Pink City EV" in body
    assert "Pink City EV — Jaipur & <Sons>" in body
    assert "DRAFT" in body and "Automatic draft made 12 Nov 2026 14:05 IST" in body
    assert "End of life (80 %) reached" in body and "under the 80 % floor" in body
    keep(pages[0], "reports_evidence_violations_p1")
    keep_sharp(pdf, tmp_path, 3, "reports_evidence_violations_p3_sharp")


def test_evidence_pack_with_bundled_font_only(monkeypatch):
    """A slim server image has no DejaVu: the font reportlab ships must do, characters it lacks replaced."""
    style.fonts.cache_clear()
    style.styles.cache_clear()
    try:
        import reportlab, os
        monkeypatch.setattr(style, "FONT_DIRS", [os.path.join(os.path.dirname(reportlab.__file__), "fonts")])
        assert style.fonts().regular == "BfmVera"
        assert style.text("Jaipur → Ajmer ₹5") == "Jaipur -> Ajmer Rs 5"
        pdf = evidence_pack_pdf(violations_pack())
        assert pdf.startswith(b"%PDF-") and b"BitstreamVeraSans" in pdf and b"DejaVu" not in pdf
    finally:
        style.fonts.cache_clear()
        style.styles.cache_clear()


# ---- fleet report ---------------------------------------------------------------------------------------

@needs_poppler
def test_fleet_report_pdf(tmp_path):
    report = fleet_report()
    pdf = fleet_report_pdf(report)
    pages, texts = render(pdf, tmp_path, "fleet")
    assert 8 <= len(pages) <= 16, len(pages)
    assert_pages(pages, texts)
    body = compact(" ".join(texts))
    for expected in ("Fleet health report", "Whole fleet", "as of 12 Nov 2026", "Median SOH %",
                     "generated 12 Nov 2026 14:05 IST by daily report",
                     f"{report.summary['median_soh']:.1f}", f"Not measured: {report.summary['not_measured']} (",
                     "Not measured", "never counted as healthy", "State of health distribution",
                     "Warranty risk", "Dealer league table", "Fleet median", "Misuse by dealer",
                     "All batteries (320)", "Score (0-100, higher is better)"):
        assert expected in body, expected
    # the battery list is last and complete, its header on every page it runs over
    last_section = body.index("All batteries (320)")
    assert last_section > body.index("Misuse by dealer")
    for row in report.batteries:
        assert row["serial"] in body[last_section:], row["serial"]
    list_pages = [t for t in texts if "Battery serial" in t and "Age (days)" in t]
    assert len(list_pages) >= 5
    keep(pages[0], "reports_fleet_p1")
    keep_sharp(pdf, tmp_path, 1, "reports_fleet_p1_sharp")
    keep_sharp(pdf, tmp_path, 2, "reports_fleet_p2_sharp")


@needs_poppler
def test_empty_fleet_report(tmp_path):
    report = FleetReport(generated_at=NOW, scope_label="Patna Power Rides", as_of=TODAY, summary={},
                         soh_histogram=[], warranty_risk=[], dealers=[], misuse=[], batteries=[])
    pages, texts = render(fleet_report_pdf(report), tmp_path, "fleet-empty")
    assert len(pages) == 1
    assert_pages(pages, texts)
    body = compact(texts[0])
    for expected in ("No summary figures", "No batteries in this scope, so no SOH distribution",
                     "No battery is under its warranty floor", "No dealer figures", "No misuse figures",
                     "All batteries (0)", "No batteries in this scope."):
        assert expected in body, expected


def test_fleet_report_xlsx():
    report = fleet_report()
    report.batteries[0]["dealer"] = "=HYPERLINK(\"http://x\")"          # must stay text
    book = load_workbook(io.BytesIO(fleet_report_xlsx(report)))
    assert book.sheetnames == ["Summary", "SOH distribution", "Warranty risk", "Dealers", "Misuse", "Batteries"]
    for ws in book.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert all(cell.font.bold for cell in ws[1] if cell.value), ws.title
        assert all((ws.column_dimensions[cell.column_letter].width or 0) >= 10 for cell in ws[1]), ws.title
    batteries = book["Batteries"]
    headers = [c.value for c in batteries[1]]
    assert headers == ["Battery serial", "Vehicle", "Dealer", "Model", "SOH %", "SOH source", "80 % band low",
                       "80 % band high", "Cycles", "Age (days)", "End of life (expected)"]
    assert batteries.max_row == 321
    values = {row[0].value: row for row in batteries.iter_rows(min_row=2)}
    for source in report.batteries:
        row = values[source["serial"]]
        soh = row[4].value
        assert (soh is None) if source["soh"] is None else (isinstance(soh, (int, float)) and soh == source["soh"])
        assert isinstance(row[8].value, int) and row[8].value == source["cycles"]
        assert row[5].value == style.SOURCE_LABELS[source["source"]]
        if source["band"]:
            assert (row[6].value, row[7].value) == source["band"]
        if isinstance(source["rul"], date):
            assert row[10].value.date() == source["rul"] and row[10].number_format == "yyyy-mm-dd"
        else:
            assert isinstance(row[10].value, str)
    hostile = values[report.batteries[0]["serial"]][2]
    assert hostile.value == "=HYPERLINK(\"http://x\")" and hostile.data_type == "s"
    summary = {row[0].value: row[1].value for row in book["Summary"].iter_rows(min_row=2)}
    assert summary["Scope"] == "Whole fleet" and summary["As of"].date() == TODAY
    assert summary["Generated (IST)"] == datetime(2026, 11, 12, 14, 5)
    assert summary["Batteries"] == 320 and summary["Median SOH %"] == report.summary["median_soh"]
    hist = list(book["SOH distribution"].iter_rows(min_row=2, values_only=True))
    missing = report.summary["not_measured"]
    assert hist[-1] == ("Not measured", 0, 0, missing, missing) and missing > 0
    assert sum(row[-1] for row in hist) == 320
    risk = book["Warranty risk"]
    assert [c.value for c in risk[1]][-1] == "Evidence" and risk.max_row == 1 + len(report.warranty_risk)
    assert isinstance(risk.cell(row=2, column=8).value, datetime)          # warranty end as a date
    dealers = list(book["Dealers"].iter_rows(min_row=2, values_only=True))
    assert dealers[-1][0] == "Fleet median" and all(isinstance(v, (int, float)) for v in dealers[0][1:])


def test_empty_fleet_report_xlsx():
    report = FleetReport(generated_at=NOW, scope_label="Patna Power Rides", as_of=TODAY, summary={},
                         soh_histogram=[], warranty_risk=[], dealers=[], misuse=[], batteries=[])
    book = load_workbook(io.BytesIO(fleet_report_xlsx(report)))
    assert book["Batteries"].max_row == 1 and book["Batteries"]["A1"].value == "Battery serial"


def test_reports_import_no_database_and_no_dash():
    """reports/ lays out what the data layer hands it: no dash, no SQLAlchemy, no data/."""
    import ast
    forbidden = ("dash", "sqlalchemy", "data", "flask", "psycopg2")
    for path in (Path(__file__).resolve().parent.parent / "reports").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"
