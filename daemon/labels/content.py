"""What a label says, and what its two codes hold.

The Code 128 symbol is for the desk's keyboard-wedge scanner, which types what it reads into
the console's search box. Code 128 carries ASCII only and a wedge scanner types ASCII only, so
the symbol holds the reference when it is printable ASCII, otherwise the tag's EPC (hex); the
search finds an item by either. A reference such as ``0001-WS·2023-Y-RS-0001`` (with the
middle dot of archival references) therefore gets its EPC in the Code 128, and a label for an
untagged item with such a reference has no Code 128 at all (tag the item first).

The QR code holds the reference itself, UTF-8 encoded (QR byte mode), for cameras and 2D
imagers, which read any character.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from daemon.ledger.items import Item

RETENTION_WORDS = {"Y": "永久 Permanent", "D30": "30年 30 years", "D10": "10年 10 years"}
KIND_WORDS = {"box": "档案盒 Box", "file": "文件 File"}


def code128_value(ref: str, epc: str | None) -> str | None:
    """The text of the label's Code 128 symbol (see the module docstring), or None."""
    if ref.isascii() and ref.isprintable():
        return ref
    return epc


@dataclass(frozen=True, slots=True)
class Label:
    """Everything printed on one label (no key fields: labels are seen by anyone)."""

    ref: str
    title: str
    kind: str
    year: int | None
    retention: str
    epc: str | None
    parent_ref: str | None = None

    @classmethod
    def of(cls, item: Item, epc: str | None = None) -> Label:
        """The label of ``item``: its fields of the same names; ``epc`` overrides the item's
        own (a tag bound just now)."""
        shown = {f.name: getattr(item, f.name) for f in dataclasses.fields(cls)}
        return cls(**shown | {"epc": epc or item.epc})

    @property
    def barcode(self) -> str | None:
        return code128_value(self.ref, self.epc)

    @property
    def qr(self) -> str:
        return self.ref

    @property
    def kind_words(self) -> str:
        return KIND_WORDS.get(self.kind, self.kind)

    @property
    def retention_words(self) -> str:
        return f"{RETENTION_WORDS.get(self.retention, self.retention)} ({self.retention})"

    @property
    def year_words(self) -> str:
        return "" if self.year is None else str(self.year)
