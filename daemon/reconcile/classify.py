"""Bidirectional reconciliation, the rules: what counts as a discrepancy, and of which class.

The paper's 双向核对 compares the catalogue with the room both ways. From the catalogue's
side: every record should be tagged, be where it belongs, and be in the room unless it is on
loan; from the room's side: every tag settled on a shelf should belong to a record, every item
on a shelf should not be on loan, every file should be with its box; and the paper record's key
fields should say what the catalogue service says. Each failure is one *discrepancy*, of one
class, with the place the records expect and the place the readers saw:

- ``untagged``: catalogued, but no active tag (never tagged, or its tag was retired).
- ``missing``: tagged, but the shelf engine did not read it during the last full sweeps of the
  place it belongs (its ``item.missing`` alarm is active), or it left the room without a loan
  and nothing has seen it since (its location is ``unknown``), or a campaign's stacker verify
  of the cell it is recorded in did not find it.
- ``misplaced``: read (settled) on a shelf or in a cell other than its home, or outside it.
- ``on_loan_on_shelf``: on an open loan, yet its current place is a shelf or a stacker cell.
- ``unknown_tag``: an EPC settled on a shelf that no record's active tag claims.
- ``file_outside_box``: a file seen on a shelf or in a cell other than where its box is (or,
  for a box never located, belongs), while the file itself is not on loan.
- ``key_field_mismatch``: the catalogue service's copy of a key field differs from the paper
  record's; the discrepancy names the fields, never their values.
- ``no_electronic_record``: a paper item of a category that pairs with electronic records
  (``[pairing]``) names no electronic record, or names one the catalogue service has not
  pushed (checked once the catalogue service pushes records at all).
- ``no_paper_original``: an electronic record of a category kept on paper that no paper
  item names.

An item may have several discrepancies (misplaced *and* on loan). A missing item is not also
misplaced: where it was last seen is part of its ``missing`` row instead. Evidence from the
readers applies only to tagged items (an untagged item cannot be read).

Pure: fed the facts of one item (or one sighting), returns its discrepancies.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from daemon.clock import us_to_iso
from daemon.ledger.whereabouts import Place
from daemon.room import SHELF_KINDS, STACKER_KINDS

Discrepancy = Literal[
    "untagged",
    "missing",
    "misplaced",
    "on_loan_on_shelf",
    "unknown_tag",
    "file_outside_box",
    "key_field_mismatch",
    "no_electronic_record",
    "no_paper_original",
]
CLASSES: Final[tuple[Discrepancy, ...]] = typing.get_args(Discrepancy)
PHYSICAL_KINDS: Final = frozenset(SHELF_KINDS) | (frozenset(STACKER_KINDS) - {"station"})
"""Places where an item is stored: a shelf (any level of a rack) or a stacker cell."""


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What the records and the readers say about one catalogued item."""

    item_id: int
    ref: str
    kind: str
    epc: str | None
    """The active tag."""
    ever_tagged: bool
    home: Place | None
    current: Place | None
    since_us: int | None
    source: str | None
    loan_id: int | None
    """The open loan."""
    missing_since_us: int | None
    """When the active ``item.missing`` alarm of its tag was raised."""
    box_ref: str | None
    box_place: Place | None
    """Where the file's box is (its current place, else its home)."""
    key_fields_differ: Sequence[str] = ()
    """Names of the key fields whose catalogue copy differs from the paper record."""
    failed_verify: str | None = None
    """The campaign's stacker verify of the cell it is recorded in failed: job and result."""
    record_id: str | None = None
    """The electronic record it names."""
    needs_record: bool = False
    """Its category pairs with electronic records (``[pairing]``)."""
    record_known: bool | None = None
    """The catalogue service has pushed the record it names (None: nothing pushed at all)."""


@dataclass(frozen=True, slots=True)
class Sighting:
    """An EPC that settled on a shelf and is bound to no record now."""

    epc: str
    place: Place
    last_us: int


@dataclass(frozen=True, slots=True)
class Finding:
    """One discrepancy, as a row of the run's report (the fields are its columns)."""

    discrepancy: Discrepancy
    item_id: int | None
    ref: str | None
    epc: str | None
    detail: str
    expected: str | None = None
    """Where the records put it (a location code, or ``on-loan``)."""
    seen: str | None = None
    """Where it was seen (a location code)."""
    seen_us: int | None = None


def belongs_to(facts: ItemFacts, room: str) -> bool:
    """Is this item the business of ``room``'s reconciliation?

    Its home decides; an item without a home belongs to the room it is in, and one that is
    nowhere in particular (never placed, on loan, whereabouts unknown) to every room, so
    that no room's report can lose it.
    """
    if facts.home is not None:
        return facts.home.room == room
    return facts.current is None or facts.current.room in (room, None)


def classify(f: ItemFacts) -> list[Finding]:
    """The discrepancies of one catalogued item (none when records and room agree)."""
    out: list[Finding] = []
    if f.epc is None:
        recorded = f.home or f.current
        detail = "tag retired, none bound since" if f.ever_tagged else "never tagged"
        out.append(_finding(f, "untagged", detail, recorded.code if recorded else None))
    else:
        _physical(f, out)
    if f.key_fields_differ:
        out.append(_finding(f, "key_field_mismatch", ",".join(f.key_fields_differ)))
    if f.needs_record and (f.record_id is None or f.record_known is False):
        detail = (
            "names no electronic record"
            if f.record_id is None
            else f"names electronic record {f.record_id}, which the catalogue has not pushed"
        )
        out.append(_finding(f, "no_electronic_record", detail))
    return out


def _finding(f: ItemFacts, kind: Discrepancy, detail: str, expected: str | None = None) -> Finding:
    return Finding(kind, f.item_id, f.ref, f.epc, detail, expected)


def _seen(f: ItemFacts, kind: Discrepancy, detail: str, expected: str, at: Place) -> Finding:
    """A discrepancy of where the item ``f`` is now (``at``, since ``f.since_us``)."""
    return Finding(kind, f.item_id, f.ref, f.epc, detail, expected, at.code, f.since_us)


@dataclass(frozen=True, slots=True)
class UnpairedRecord:
    """An electronic record of a category kept on paper that no paper item names."""

    record_id: str
    ref: str | None
    category: str
    ref_catalogued: bool
    """A paper item with the record's reference code exists (but names another record or none)."""


def no_paper_original(r: UnpairedRecord) -> Finding:
    detail = f"electronic record {r.record_id} ({r.category}) has no paper item"
    if r.ref_catalogued:
        detail += f"; item {r.ref} exists but does not name this record"
    return Finding("no_paper_original", None, r.ref, None, detail)


def _physical(f: ItemFacts, out: list[Finding]) -> None:
    current = f.current
    on_a_shelf = current is not None and current.kind in PHYSICAL_KINDS
    lost = current is not None and current.kind == "unknown" and f.loan_id is None
    if f.missing_since_us is not None or lost or f.failed_verify is not None:
        expected = f.home or (current if on_a_shelf else None)
        if f.failed_verify is not None:
            detail = f.failed_verify
        elif f.missing_since_us is not None:
            where = expected.code if expected else "its place"
            detail = f"not read in the last full sweeps of {where}"
            detail += f" (missing since {us_to_iso(f.missing_since_us)})"
            if current is not None and expected is not None and current != expected:
                detail += f"; last located at {current.code}"
        else:
            detail = "left the room without a loan and has not been seen since"
        out.append(_finding(f, "missing", detail, expected.code if expected else None))
        return
    assert f.epc is not None
    if current is not None and on_a_shelf and f.home is not None and not f.home.holds(current):
        detail = f"located at {current.code} ({f.source or 'unknown source'})"
        out.append(_seen(f, "misplaced", detail, f.home.code, current))
    if current is not None and on_a_shelf and f.loan_id is not None:
        detail = f"loan {f.loan_id} is open"
        out.append(_seen(f, "on_loan_on_shelf", detail, "on-loan", current))
    box = f.box_place
    if (
        f.kind == "file"
        and current is not None
        and on_a_shelf
        and f.loan_id is None
        and box is not None
        and not box.holds(current)
    ):
        detail = f"its box {f.box_ref} is at {box.code}"
        out.append(_seen(f, "file_outside_box", detail, box.code, current))


def unknown_tag(s: Sighting) -> Finding:
    detail = "settled on a shelf; no record holds this tag"
    return Finding("unknown_tag", None, None, s.epc, detail, None, s.place.code, s.last_us)
