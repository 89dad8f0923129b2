"""A cart at the desk: check out or return every box at once, one answer per box.

A clerk wheels a cart of tagged boxes to the desk and wants them all on one loan slip (or all
back), not one form per box. The desk reader is inventoried on demand (a few rounds, because
one round can miss a tag that is turned away from the antenna), each EPC is resolved to the
item it is bound to, and each item goes through the same ledger operation as a single
check-out or return. One box's refusal (unknown tag, already on loan, not on loan) never stops
the others: the answer lists every box with what happened to it and why.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from daemon.ledger.errors import Conflict, LedgerError, NotFound
from daemon.ledger.items import Catalogue
from daemon.ledger.loans import Loan, Loans
from daemon.ledger.tags import Tags, normalise_epc
from daemon.messages import key_and_params, say
from drivers.uhfreader18 import Uhfreader18Error
from drivers.uhfreader18_client import ReaderUnavailableError, Uhfreader18Poller

INVENTORY_ROUNDS = 3
"""Inventory rounds per look at the cart; the EPCs seen in any round count."""
MAX_BOXES = 500
"""More boxes than fit on any cart: a longer list is refused as a whole."""

Outcome = Literal["done", "refused"]


@dataclass(frozen=True, slots=True)
class Box:
    """One box on the cart, as given or as the desk reader saw it (``ref`` None: a tag bound
    to no item)."""

    epc: str | None
    ref: str | None


@dataclass(frozen=True, slots=True)
class BoxResult:
    epc: str | None
    ref: str | None
    outcome: Outcome
    reason: str | None
    """Why it was refused, in words (None when done)."""
    loan_id: int | None
    message_key: str | None = None
    """The reason's message key and parameters (docs/api.md#errors), when it has them."""
    params: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Slip:
    """What a check-out of a whole cart records on each loan."""

    borrower: str
    purpose: str
    approval_no: str | None
    due: date | None


@dataclass(eq=False)
class DeskCart:
    readers: dict[str, Uhfreader18Poller]
    tags: Tags
    loans: Loans
    catalogue: Catalogue

    async def seen(self, reader_id: str) -> list[Box]:
        """The boxes on the desk antenna now, by EPC order."""
        reader = self.readers.get(reader_id)
        if reader is None:
            raise NotFound(f"no desk reader {reader_id!r} in this room")
        epcs: set[str] = set()
        try:
            for _ in range(INVENTORY_ROUNDS):
                epcs.update(normalise_epc(r.epc) for r in await reader.inventory())
        except ReaderUnavailableError:
            raise Conflict(say("desk.offline", reader=reader_id)) from None
        except Uhfreader18Error as e:
            raise Conflict(say("desk.failed", reader=reader_id, reason=str(e))) from None
        boxes = []
        for epc in sorted(epcs):
            active, _ = await self.tags.resolve(epc)
            boxes.append(Box(epc, active.ref if active else None))
        return boxes

    async def check_out(self, boxes: list[Box], slip: Slip, *, actor: str) -> list[BoxResult]:
        async def check_out(ref: str) -> Loan:
            return await self.loans.open(
                ref=ref,
                borrower=slip.borrower,
                purpose=slip.purpose,
                approval_no=slip.approval_no,
                due=slip.due,
                actor=actor,
            )

        return await _each_box(boxes, check_out)

    async def return_(
        self, boxes: list[Box], *, actor: str, location: str | None = None
    ) -> list[BoxResult]:
        async def return_(ref: str) -> Loan:
            open_loans = await self.loans.list("open", ref=ref, limit=1)
            if not open_loans:
                await self.catalogue.get(ref)  # NotFound for an unknown ref
                raise Conflict(say("loan.not_on_loan", ref=ref))
            return await self.loans.return_(open_loans[0].id, actor=actor, location=location)

        return await _each_box(boxes, return_)


async def _each_box(boxes: list[Box], act: Callable[[str], Awaitable[Loan]]) -> list[BoxResult]:
    """``act`` on each distinct box's ref, one result per box: done with its loan, or refused
    (an unbound tag, or the ledger's refusal); one refusal does not stop the others."""
    results = []
    for box in _distinct(boxes):
        if box.ref is None:
            results.append(_unbound(box))
            continue
        try:
            loan = await act(box.ref)
        except LedgerError as e:
            results.append(_refused(box, e))
        else:
            results.append(BoxResult(box.epc, box.ref, "done", None, loan.id))
    return results


def _distinct(boxes: list[Box]) -> list[Box]:
    """Each box once (a ref listed twice, or two tags of one box, is one box)."""
    seen: set[str] = set()
    out = []
    for box in boxes:
        key = box.ref if box.ref is not None else f"epc:{box.epc}"
        if key not in seen:
            seen.add(key)
            out.append(box)
    return out


def _refused(box: Box, error: LedgerError) -> BoxResult:
    key, params = key_and_params(error.words)
    return BoxResult(box.epc, box.ref, "refused", str(error), None, key, params)


def _unbound(box: Box) -> BoxResult:
    words = say("tag.unbound", epc=box.epc)
    key, params = key_and_params(words)
    return BoxResult(box.epc, None, "refused", words.english(), None, key, params)
