"""Finding an item from what a person has at hand: part of its reference, of its title, or of
the EPC printed on its tag.

Staff at the desk rarely have a whole archival reference (``0001-WS·2023-D30-RS-0001``): they
have a box label, a title from a request slip, or the last digits of the EPC on a tag. The
search matches the text anywhere in the reference or the title (case-insensitive), and,
when the text is hexadecimal, anywhere in an active tag's EPC. An exact reference or EPC comes
first, then references that start with the text, then the rest by reference. It scans the
catalogue (a substring has no index), which is fine at a counter and not meant for machines:
the catalogue service has ``POST /api/v1/locations/lookup``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import and_, case, or_, select

from daemon.ledger.errors import Invalid
from daemon.store.db import Store
from daemon.store.schema import items, tags

MIN_LENGTH = 2
MAX_LENGTH = 100
_HEX = re.compile(r"^[0-9A-Fa-f]{4,64}$")

Match = Literal["ref", "title", "epc"]


@dataclass(frozen=True, slots=True)
class Hit:
    ref: str
    title: str
    kind: str
    year: int | None
    epc: str | None
    matched: Match


def _escaped(text: str) -> str:
    """``text`` as a LIKE pattern that matches it literally (escape character ``\\``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(text: str) -> str:
    return f"%{_escaped(text)}%"


def _starts_with(text: str) -> str:
    return f"{_escaped(text)}%"


def _matched(hit_ref: str, hit_epc: str | None, text: str, hex_text: str | None) -> Match:
    if hex_text is not None and hit_epc is not None and hex_text in hit_epc:
        return "epc"
    return "ref" if text.lower() in hit_ref.lower() else "title"


def search_text(q: str) -> str:
    """``q`` as the text to look for (stripped), or Invalid (422) when it cannot mean one.

    A control character (NUL above all) is refused rather than passed on: SQLite ends a
    pattern at a NUL, so ``%00%00`` became ``%%`` and matched the whole catalogue; blanks
    alone would do the same once stripped."""
    if any(unicodedata.category(c) == "Cc" for c in q):
        raise Invalid("the search text holds a control character (such as NUL); type words")
    text = q.strip()
    if len(text) < MIN_LENGTH:
        raise Invalid(f"type at least {MIN_LENGTH} characters besides spaces to search")
    return text


async def search_items(store: Store, text: str, *, limit: int = 50) -> list[Hit]:
    """Items whose reference, title or active EPC contains ``text`` (see ``search_text``),
    best first."""
    text = search_text(text)
    compact = text.replace(" ", "").replace("-", "")
    hex_text = compact.upper() if _HEX.fullmatch(compact) else None
    active_tag = and_(tags.c.item_id == items.c.id, tags.c.retired_us.is_(None))
    found = [
        items.c.ref.ilike(_contains(text), escape="\\"),
        items.c.title.ilike(_contains(text), escape="\\"),
    ]
    exact = [items.c.ref == text]
    if hex_text is not None:
        found.append(tags.c.epc.like(_contains(hex_text), escape="\\"))
        exact.append(tags.c.epc == hex_text)
    rank = case(
        (or_(*exact), 0),
        (items.c.ref.ilike(_starts_with(text), escape="\\"), 1),
        else_=2,
    )
    query = (
        select(items.c.ref, items.c.title, items.c.kind, items.c.year, tags.c.epc)
        .select_from(items.outerjoin(tags, active_tag))
        .where(or_(*found))
        .order_by(rank, items.c.ref)
        .limit(limit)
    )
    async with store.read() as conn:
        rows = (await conn.execute(query)).all()
    return [
        Hit(r.ref, r.title, r.kind, r.year, r.epc, _matched(r.ref, r.epc, text, hex_text))
        for r in rows
    ]
