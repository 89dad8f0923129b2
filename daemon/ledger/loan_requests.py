"""Loan requests: an approval before a file that may not leave freely is checked out.

Personnel and arbitration files leave the room only with a written approval. The desk (or the
reading room) files a request naming the item, the borrower and the purpose; a person holding
the ``approver`` role approves it with the approval number, or rejects it with a reason; the
desk then checks the item out against the approved request, and the loan carries the request's
approval number. The rules a request must meet (borrower kind, term) are its category's
(``[[loan_rules]]``), checked when it is filed and again at check-out. Whoever files a request
cannot decide it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from daemon import messages
from daemon.ledger.errors import Conflict, NotFound
from daemon.ledger.loan_rules import LoanRules
from daemon.ledger.loans import lendable
from daemon.ledger.rows import select_of_item
from daemon.ledger.uow import Ledger
from daemon.messages import Message, say
from daemon.store.schema import items, loan_requests

RequestState = Literal["pending", "approved", "rejected", "fulfilled", "cancelled"]
OPEN_STATES = ("pending", "approved")


@dataclass(frozen=True, slots=True)
class LoanRequest:
    id: int
    ref: str
    room: str
    borrower: str
    borrower_kind: str | None
    purpose: str
    due: str | None
    state: str
    requested_us: int
    requested_by: str
    decided_us: int | None
    decided_by: str | None
    approval_no: str | None
    reason: str | None
    loan_id: int | None
    retrieval: str | None
    """What was done to bring the item to the desk (a stacker job, or why none was queued)."""


def _select() -> Select[Any]:
    return select_of_item(loan_requests, LoanRequest)


class LoanRequests:
    def __init__(self, ledger: Ledger, rules: LoanRules) -> None:
        self.ledger = ledger
        self.rules = rules

    async def create(
        self,
        *,
        ref: str,
        borrower: str,
        borrower_kind: str | None,
        purpose: str,
        due: date | None,
        actor: str,
    ) -> LoanRequest:
        async with self.ledger.transaction(actor) as tx:
            item = await lendable(tx.conn, ref)
            self.rules.check(item.category, borrower_kind, due)
            pending = await tx.conn.scalar(
                select(loan_requests.c.id).where(
                    loan_requests.c.item_id == item.id, loan_requests.c.state.in_(OPEN_STATES)
                )
            )
            if pending is not None:
                raise Conflict(say("request.already_open", request_id=pending, ref=ref))
            request_id = await tx.insert(
                loan_requests,
                room=self.ledger.room,
                item_id=item.id,
                borrower=borrower,
                borrower_kind=borrower_kind,
                purpose=purpose,
                due=None if due is None else due.isoformat(),
                state="pending",
                requested_us=tx.at_us,
                requested_by=actor,
            )
            tx.audit("loan_request.created", ref, {"request_id": request_id, "borrower": borrower})
        return await self.get(request_id)

    async def approve(self, request_id: int, *, approval_no: str, actor: str) -> LoanRequest:
        return await self._decide(request_id, "approved", actor, approval_no=approval_no)

    async def reject(self, request_id: int, *, reason: str, actor: str) -> LoanRequest:
        return await self._decide(request_id, "rejected", actor, reason=reason)

    async def cancel(self, request_id: int, *, actor: str) -> LoanRequest:
        request = await self.get(request_id)
        if request.state not in OPEN_STATES:
            raise Conflict(
                say("request.closed", request_id=request_id, state=_state(request.state))
            )
        async with self.ledger.transaction(actor) as tx:
            await self._set_state(tx.conn, request, "cancelled", {})
            tx.audit("loan_request.cancelled", request.ref, {"request_id": request_id})
        return await self.get(request_id)

    async def _decide(
        self,
        request_id: int,
        state: RequestState,
        actor: str,
        *,
        approval_no: str | None = None,
        reason: str | None = None,
    ) -> LoanRequest:
        request = await self.get(request_id)
        if request.state != "pending":
            raise Conflict(
                say("request.not_pending", request_id=request_id, state=_state(request.state))
            )
        if request.requested_by == actor:
            raise Conflict(say("request.own", request_id=request_id, actor=actor))
        async with self.ledger.transaction(actor) as tx:
            values = {
                "decided_us": tx.at_us,
                "decided_by": actor,
                "approval_no": approval_no,
                "reason": reason,
            }
            await self._set_state(tx.conn, request, state, values)
            details: dict[str, Any] = {"request_id": request_id}
            if approval_no is not None:
                details["approval_no"] = approval_no
            tx.audit(f"loan_request.{state}", request.ref, details)
        return await self.get(request_id)

    async def _set_state(
        self, conn: AsyncConnection, request: LoanRequest, state: str, values: dict[str, Any]
    ) -> None:
        result = await conn.execute(
            update(loan_requests)
            .where(loan_requests.c.id == request.id, loan_requests.c.state == request.state)
            .values(state=state, **values)
        )
        if result.rowcount != 1:
            raise Conflict(say("request.changed_meanwhile", request_id=request.id))

    async def note_retrieval(self, request_id: int, note: str) -> None:
        async with self.ledger.store.write() as conn:
            await conn.execute(
                update(loan_requests).where(loan_requests.c.id == request_id).values(retrieval=note)
            )

    async def get(self, request_id: int) -> LoanRequest:
        row = await self.ledger.store.first(_select().where(loan_requests.c.id == request_id))
        if row is None:
            raise NotFound(say("request.not_found", request_id=request_id))
        return LoanRequest(**row._asdict())

    async def list(
        self, state: RequestState | None = None, *, ref: str | None = None, limit: int = 1000
    ) -> list[LoanRequest]:
        query = _select()
        if state is not None:
            query = query.where(loan_requests.c.state == state)
        if ref is not None:
            query = query.where(items.c.ref == ref)
        rows = await self.ledger.store.all(query.order_by(loan_requests.c.id.desc()).limit(limit))
        return [LoanRequest(**r._asdict()) for r in rows]


def _state(value: str) -> Message | str:
    return messages.state("request.state", value)
