"""The page furniture every PDF shares: margins, a footer with what the document is, when and by
whom it was generated, and "Page x of y" (which needs the page count, so pages are drawn after the
whole story is laid out)."""
from __future__ import annotations

import io
from typing import Sequence

from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

from reports import style

MARGIN = 14 * mm
FOOTER_GAP = 8 * mm


def _numbered_canvas(footer_left: str):
    fonts = style.fonts()

    class NumberedCanvas(rl_canvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._footer(total)
                super().showPage()
            super().save()

        def _footer(self, total: int):
            width, _ = self._pagesize
            y = MARGIN - FOOTER_GAP + 2 * mm
            self.saveState()
            self.setStrokeColor(style.RULE)
            self.setLineWidth(0.5)
            self.line(MARGIN, y + 3.2 * mm, width - MARGIN, y + 3.2 * mm)
            self.setFillColor(style.MUTED)
            self.setFont(fonts.regular, 7)
            right = f"Page {self._pageNumber} of {total}"
            room = width - 2 * MARGIN - self.stringWidth(right, fonts.regular, 7) - 6 * mm
            left = footer_left
            while left and self.stringWidth(left, fonts.regular, 7) > room:
                left = left[:-2] + "…" if len(left) > 2 else ""
                left = style.text(left)
            self.drawString(MARGIN, y, left)
            self.drawRightString(width - MARGIN, y, right)
            self.restoreState()

    return NumberedCanvas


def build(story: Sequence[Flowable], *, pagesize, title: str, subject: str, author: str, footer: str) -> bytes:
    """Lay out ``story`` on pages of ``pagesize`` and return the PDF bytes."""
    out = io.BytesIO()
    doc = BaseDocTemplate(out, pagesize=pagesize, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                          bottomMargin=MARGIN + 2 * mm, title=style.text(title), subject=style.text(subject),
                          author=style.text(author), creator="Battery Fleet Monitor",
                          initialFontName=style.fonts().regular)   # else every page names Helvetica, unembedded
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    doc.build(list(story), canvasmaker=_numbered_canvas(style.text(footer)))
    return out.getvalue()


def content_width(pagesize) -> float:
    return pagesize[0] - 2 * MARGIN
