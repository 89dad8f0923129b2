"""Labels as ZPL II for RFID label printers (Zebra ZT400/ZT600 R-series and compatibles).

One label format per item, ``^XA`` ... ``^XZ``. Commands used, by their names in the ZPL II
Programming Guide and the RFID Programming Guide:

- ``^XA`` Start Format, ``^XZ`` End Format; ``^FX`` Comment.
- ``^CI28`` Change International Font/Encoding: field data is UTF-8.
- ``^PW`` Print Width and ``^LL`` Label Length, in dots (203 dpi: 8 dots per mm).
- ``^LH`` Label Home; ``^FO`` Field Origin; ``^FS`` Field Separator; ``^FD`` Field Data.
- ``^FH`` Field Hexadecimal Indicator: ``_5E`` in field data stands for ``^``, so a title
  holding ``^`` or ``~`` cannot end a field or start a command (every text field uses it).
- ``^A0`` Scalable/Bitmapped Font (font 0) for ASCII, ``^A@`` Use Font Name to Call Font for
  Chinese text, from a TrueType font on the printer (``CJK_FONT``; load one with the printer's
  tools if it has none); ``^FB`` Field Block wraps the title over three lines.
- ``^BY`` Bar Code Field Default; ``^BC`` Code 128 Bar Code; ``^BQ`` QR Code Bar Code
  (``^FDMA,...``: error correction M, automatic input mode).
- ``^RS`` RFID Setup: tag type 8 (EPC Class 1 Generation 2 UHF); after 3 failed tags the
  printer enters error mode (``E``) instead of printing unencoded labels; a failed tag gets
  VOID printed across its label.
- ``^RF`` Read or Write RFID Format, as ``^RFW,H,,,A``: write (W) hexadecimal data (H) to the
  EPC memory bank, adjusting the PC bits to the EPC's length (A); the ``^FD`` that follows is
  the 96-bit GIAI EPC, so the tag is encoded while its label prints.
- ``^PQ`` Print Quantity: one label per format.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from daemon.labels.content import Label

DOTS_PER_MM: Final = 8
WIDTH_DOTS: Final = 100 * DOTS_PER_MM
HEIGHT_DOTS: Final = 60 * DOTS_PER_MM
CJK_FONT: Final = "E:ANMDS.TTF"
"""The TrueType font with simplified Chinese that ``^A@`` calls on the printer's E: drive
(docs/labels.md: load one under this name if the printer has none)."""
RFID_SETUP: Final = "^RS8,,,3,E"
_ESCAPED: Final = {"^": "_5E", "~": "_7E", "_": "_5F"}


class ZplError(ValueError):
    """A label that cannot be written as ZPL (e.g. a non-GIAI-96 EPC for ^RFW)."""


def is_epc96(epc: str | None) -> bool:
    """Whether ``^RFW,H,,,A`` can write ``epc``: 96 bits, as 24 upper-case hex digits."""
    return epc is not None and len(epc) == 24 and all(c in "0123456789ABCDEF" for c in epc)


def field_text(text: str) -> str:
    """``text`` as ``^FH_`` field data: ``^``, ``~`` and ``_`` as hex escapes, no line breaks."""
    flat = " ".join(text.split())
    return "".join(_ESCAPED.get(c, c) for c in flat)


def _text(x: int, y: int, text: str, height: int, *, cjk: bool = True) -> str:
    font = f"^A@N,{height},{height},{CJK_FONT}" if cjk else f"^A0N,{height},{height}"
    return f"^FO{x},{y}{font}^FH_^FD{field_text(text)}^FS"


def label_zpl(label: Label) -> str:
    """One ZPL format for ``label``; the item must have its 96-bit EPC (24 hex digits)."""
    epc = label.epc
    if epc is None or not is_epc96(epc):
        raise ZplError(
            f"{label.ref}: an RFID label needs the item's 96-bit EPC, not {epc!r}; "
            "bind a GIAI-96 tag first"
        )
    lines = [
        "^XA",
        f"^FX archroom label {field_text(label.ref)}",
        "^CI28",
        f"^PW{WIDTH_DOTS}",
        f"^LL{HEIGHT_DOTS}",
        "^LH0,0",
        RFID_SETUP,
        f"^RFW,H,,,A^FD{epc}^FS",
        _text(24, 20, f"{label.kind_words}  {label.year_words}".strip(), 22),
        _text(24, 50, label.ref, 36, cjk=not label.ref.isascii()),
        f"^FO24,96^A@N,26,26,{CJK_FONT}^FB540,3,4,L,0^FH_^FD{field_text(label.title)}^FS",
        _text(24, 190, f"保管期限 Retention: {label.retention_words}", 22),
    ]
    if label.parent_ref:
        lines.append(_text(24, 218, f"盒 In box: {label.parent_ref}", 22))
    lines.append(f"^FO600,20^BQN,2,5^FH_^FDMA,{field_text(label.qr)}^FS")
    barcode = label.barcode
    if barcode is not None:
        module = 2 if (len(barcode) + 3) * 11 * 2 <= WIDTH_DOTS - 48 else 1
        lines.append(f"^FO24,300^BY{module},3,100^BCN,100,N,N,N^FH_^FD{field_text(barcode)}^FS")
    lines += [_text(24, 420, f"EPC {epc}", 24, cjk=False), "^PQ1", "^XZ"]
    return "\n".join(lines) + "\n"


def labels_zpl(labels: Iterable[Label]) -> str:
    """A stream of formats, one per label, to send to the printer as one job."""
    return "".join(label_zpl(label) for label in labels)
