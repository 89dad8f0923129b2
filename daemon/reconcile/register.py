"""The disposal register (销毁清册) and transfer list (移交清册): what was destroyed or handed
over, item by item, with who proposed, approved and carried it out. Kept with the archive's
permanent records, so it is given as CSV for the catalogue and as a PDF to print and sign.
"""

from __future__ import annotations

import io
from typing import Final

from daemon.clock import us_to_iso
from daemon.reconcile.dispositions import Disposition
from daemon.reconcile.report import csv_line

TITLES: Final = {"destroy": "销毁清册 Disposal register", "transfer": "移交清册 Transfer list"}
COLUMNS: Final = ("no", "ref", "title", "year", "retention", "epc")
HEADINGS: Final = ("序号 No.", "档号 Ref", "题名 Title", "年度 Year", "保管期限 Retention", "EPC")
SIGNERS: Final = ("经办人 Handled by", "审批人 Approver", "监销人 Witness")


def _when(us: int | None) -> str:
    return "" if us is None else us_to_iso(us)[:19].replace("T", " ") + " UTC"


def facts(d: Disposition) -> list[tuple[str, str]]:
    """The register's header: each fact with its bilingual label."""
    return [
        ("编号 Register no.", str(d.id)),
        ("处置 Action", "销毁 destroy" if d.action == "destroy" else "移交 transfer"),
        *([("接收单位 Receiving body", d.receiver or "")] if d.action == "transfer" else []),
        ("依据 Reason", d.reason),
        ("提出 Proposed", f"{d.proposed_by}, {_when(d.proposed_us)}"),
        ("审批 Approved", f"{d.approver or ''} ({d.approval_no or ''}), {_when(d.approver_us)}"),
        ("复核 Countersigned", f"{d.admin or ''}, {_when(d.admin_us)}"),
        ("执行 Carried out", f"{d.done_by or ''}, {_when(d.done_us)}"),
        ("件数 Items", str(len(d.items))),
    ]


def register_csv(d: Disposition) -> str:
    lines = [csv_line(["#", label, value]) for label, value in facts(d)]
    lines.append(csv_line(COLUMNS))
    lines += [
        csv_line([n, item.ref, item.title, item.year, item.retention, item.epc])
        for n, item in enumerate(d.items, 1)
    ]
    return "".join(lines)


def register_pdf(d: Disposition) -> bytes:
    """An A4 landscape PDF with the facts, the item table and the signature lines. Chinese
    text uses the Adobe CID font STSong-Light, which PDF readers supply (nothing embedded)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = "STSong-Light"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    text = ParagraphStyle("text", fontName=font, fontSize=9, leading=12)
    title = ParagraphStyle("title", fontName=font, fontSize=16, leading=22, spaceAfter=8)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"{TITLES[d.action]} {d.id}",
    )

    def p(value: str) -> Paragraph:
        return Paragraph(value.replace("&", "&amp;").replace("<", "&lt;"), text)

    header = Table(
        [[p(label), p(value)] for label, value in facts(d)], colWidths=[45 * mm, 220 * mm]
    )
    rows = [
        [
            p(h)
            for h in (
                "序号 No.",
                "档号 Ref",
                "题名 Title",
                "年度 Year",
                "保管期限 Retention",
                "EPC",
            )
        ]
    ]
    rows += [
        [
            p(str(n)),
            p(item.ref),
            p(item.title),
            p("" if item.year is None else str(item.year)),
            p(item.retention),
            p(item.epc or ""),
        ]
        for n, item in enumerate(d.items, 1)
    ]
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )
    table = Table(
        rows,
        colWidths=[14 * mm, 55 * mm, 110 * mm, 16 * mm, 24 * mm, 48 * mm],
        repeatRows=1,
    )
    table.setStyle(grid)
    signatures = Table(
        [
            [
                p("经办人 Handled by: ________"),
                p("审批人 Approver: ________"),
                p("监销人 Witness: ________"),
            ]
        ],
        colWidths=[88 * mm, 88 * mm, 88 * mm],
    )
    doc.build(
        [
            Paragraph(TITLES[d.action], title),
            header,
            Spacer(1, 6 * mm),
            table,
            Spacer(1, 12 * mm),
            signatures,
        ]
    )
    return buffer.getvalue()
