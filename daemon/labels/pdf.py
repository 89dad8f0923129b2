"""Labels as PDF: one label on a label-sized page, or A4 sheets of eight.

The sheet layout is the common 2 x 4 sheet of 99.1 x 67.7 mm labels (13.1 mm top margin,
4.6 mm side margin, 2.5 mm between the columns); the single label is a page of that size, for
label printers driven as ordinary printers. Chinese text uses the Adobe CID font
STSong-Light, which PDF readers supply (nothing embedded, as for the disposal register);
references that fit Windows-1252 are drawn in Helvetica, whose middle dot (·) survives text
extraction. Barcodes are vector drawings from ``reportlab.graphics.barcode``.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from daemon.labels.content import Label

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

MM: Final = 72 / 25.4
LABEL_W: Final = 99.1 * MM
LABEL_H: Final = 67.7 * MM
A4_W: Final = 210 * MM
A4_H: Final = 297 * MM
SHEET_COLUMNS: Final = 2
SHEET_ROWS: Final = 4
SHEET_TOP: Final = 13.1 * MM
SHEET_LEFT: Final = 4.6 * MM
SHEET_GAP: Final = 2.5 * MM
PER_SHEET: Final = SHEET_COLUMNS * SHEET_ROWS
CJK_FONT: Final = "STSong-Light"
PAD: Final = 3.5 * MM
QR_SIZE: Final = 24 * MM
BAR_HEIGHT: Final = 11 * MM
MAX_BAR_MODULE: Final = 0.33 * MM
MIN_BAR_MODULE: Final = 0.19 * MM
"""Narrowest bar the desk scanners read reliably from a laser print (7.5 mil)."""


def _fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


def _latin(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _ref_font(ref: str) -> str:
    """Helvetica for references it can draw (its middle dot extracts as text), else the CJK
    font (whose Latin glyphs have no middle dot)."""
    return "Helvetica-Bold" if _latin(ref) else CJK_FONT


def _fits(text: str, font: str, size: float, width: float) -> int:
    """How many leading characters of ``text`` fit in ``width`` points (binary search)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if stringWidth(text[:mid], font, size) <= width:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _fit(text: str, font: str, size: float, width: float) -> str:
    """``text`` cut (with an ellipsis) to fit ``width`` points."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if stringWidth(text, font, size) <= width:
        return text
    ellipsis = stringWidth("…", font, size)
    return text[: _fits(text, font, size, width - ellipsis)] + "…"


def _wrap(text: str, font: str, size: float, width: float, lines: int) -> list[str]:
    """``text`` broken into at most ``lines`` lines of ``width`` (the last one cut), at a space
    when there is one in the second half of the line (Chinese breaks anywhere)."""
    out: list[str] = []
    rest = " ".join(text.split())
    while rest and len(out) < lines - 1:
        cut = max(1, _fits(rest, font, size, width))
        space = rest.rfind(" ", 0, cut + 1)
        if cut < len(rest) and space > cut // 2:
            cut = space
        out.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        out.append(_fit(rest, font, size, width))
    return out


def _draw_qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> None:
    """A QR code (error correction M, 4-module quiet zone) as filled runs of modules.

    Drawn straight from ``qrencoder``'s matrix: the ``QrCodeWidget`` encodes the data twice
    (for its bounds and for drawing) and builds a shape per run, ten times slower on a sheet.
    """
    from reportlab.graphics.barcode import qrencoder

    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(text)
    code.make()
    count = code.getModuleCount()
    module = size / (count + 8)
    canvas.saveState()
    canvas.setFillGray(0)
    for r, row in enumerate(code.modules):
        c = 0
        for dark, run in itertools.groupby(bool(m) for m in row):
            length = len(list(run))
            if dark:
                canvas.rect(
                    x + (c + 4) * module,
                    y + size - (r + 5) * module,
                    length * module,
                    module,
                    stroke=0,
                    fill=1,
                )
            c += length
    canvas.restoreState()


def draw_label(canvas: Canvas, label: Label, x: float, y: float) -> None:
    """Draw ``label`` with its lower left corner at (x, y)."""
    from reportlab.graphics.barcode import code128
    from reportlab.pdfbase.pdfmetrics import stringWidth

    _fonts()
    top = y + LABEL_H - PAD
    left = x + PAD
    text_w = LABEL_W - 3 * PAD - QR_SIZE
    canvas.setFont(CJK_FONT, 8)
    canvas.drawString(left, top - 8, f"{label.kind_words}   {label.year_words}".strip())
    ref_font = _ref_font(label.ref)
    canvas.setFont(ref_font, 13)
    canvas.drawString(left, top - 24, _fit(label.ref, ref_font, 13, text_w))
    canvas.setFont(CJK_FONT, 9.5)
    for n, line in enumerate(_wrap(label.title, CJK_FONT, 9.5, text_w, 3)):
        canvas.drawString(left, top - 38 - n * 12, line)
    canvas.setFont(CJK_FONT, 8.5)
    canvas.drawString(left, top - 78, f"保管期限 Retention: {label.retention_words}")
    if label.parent_ref:
        prefix = "所在盒 In box: "
        canvas.drawString(left, top - 89, prefix)
        shift = stringWidth(prefix, CJK_FONT, 8.5)
        font = _ref_font(label.parent_ref)
        canvas.setFont(font, 8.5)
        canvas.drawString(left + shift, top - 89, _fit(label.parent_ref, font, 8.5, text_w - shift))

    _draw_qr(canvas, label.qr, x + LABEL_W - PAD - QR_SIZE, top - QR_SIZE, QR_SIZE)

    bottom = y + PAD
    canvas.setFont("Helvetica", 7)
    if label.epc:
        canvas.drawString(left, bottom, f"EPC {label.epc}")
    value = label.barcode
    if value is None:
        canvas.setFont(CJK_FONT, 7)
        canvas.drawString(left, bottom + 10, "无条码: 请先绑定标签 No barcode: tag the item first")
        return
    width = LABEL_W - 2 * PAD
    probe = code128.Code128(value, barWidth=1, quiet=True)
    module = min(MAX_BAR_MODULE, width / probe.width)
    if module < MIN_BAR_MODULE:
        canvas.drawString(left, bottom + 10, "barcode too long for this label")
        return
    bar = code128.Code128(value, barWidth=module, barHeight=BAR_HEIGHT, quiet=True)
    bar.drawOn(canvas, x + (LABEL_W - bar.width) / 2, bottom + 9)


def _document(pagesize: tuple[float, float], title: str) -> tuple[io.BytesIO, Canvas]:
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=pagesize, pageCompression=1)
    canvas.setTitle(title)
    canvas.setCreator("archroom")
    return buffer, canvas


def label_pdf(label: Label) -> bytes:
    """One label on a page of the label's size."""
    buffer, canvas = _document((LABEL_W, LABEL_H), f"label {label.ref}")
    draw_label(canvas, label, 0, 0)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def sheet_position(index: int) -> tuple[int, float, float]:
    """(page, x, y) of the ``index``-th label on A4 sheets, filled row by row from the top."""
    page, slot = divmod(index, PER_SHEET)
    row, column = divmod(slot, SHEET_COLUMNS)
    x = SHEET_LEFT + column * (LABEL_W + SHEET_GAP)
    y = A4_H - SHEET_TOP - (row + 1) * LABEL_H
    return page, x, y


def sheet_pdf(labels: Sequence[Label], *, outlines: bool = True) -> bytes:
    """A4 sheets of eight labels each; thin outlines show where to cut plain paper."""
    buffer, canvas = _document((A4_W, A4_H), f"labels ({len(labels)})")
    for n, label in enumerate(labels):
        _, x, y = sheet_position(n)
        if n and n % PER_SHEET == 0:
            canvas.showPage()
        if outlines:
            canvas.setStrokeGray(0.8)
            canvas.setLineWidth(0.3)
            canvas.rect(x, y, LABEL_W, LABEL_H)
        draw_label(canvas, label, x, y)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
