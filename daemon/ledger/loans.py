"""Circulation: check-out, return and renewal of paper items.

One open loan per item: a partial unique index decides, so two desks (or two rooms' daemons on
one database) checking out the same item at the same moment cannot both succeed. A loan is
overdue when its due date has passed; that is derived, never stored, so it cannot go stale.
The return is recorded at the desk, and the item moves to the desk until a shelf reader sees
it back on a shelf.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from daemon.events import LoanOpened, LoanReturned
from daemon.ledger.errors import Conflict, Invalid, NotFound
from daemon.ledger.loan_rules import LoanRules
from daemon.ledger.locations import Locations, room_of_item
from daemon.ledger.movements import move
from daemon.ledger.rows import select_of_item
from daemon.ledger.uow import Ledger
from daemon.messages import ENGLISH, say
from daemon.store.schema import items, loan_requests, loans

LoanStatus = Literal["open", "overdue", "returned"]


def today() -> date:
    return datetime.now(tz=UTC).date()


@dataclass(frozen=True, slots=True)
class Loan:
    id: int
    ref: str
    borrower: str
    purpose: str
    approval_no: str | None
    due: str
    opened_us: int
    opened_by: str
    renewals: int
    returned_us: int | None
    returned_by: str | None
    borrower_kind: str | None = None
    request_id: int | None = None

    def status(self, on: date | None = None) -> LoanStatus:
        if self.returned_us is not None:
            return "returned"
        return "overdue" if date.fromisoformat(self.due) < (on or today()) else "open"


LOAN_COLUMNS = (
    loans.c.id,
    loans.c.borrower,
    loans.c.purpose,
    loans.c.approval_no,
    loans.c.due,
    loans.c.opened_us,
    loans.c.opened_by,
    loans.c.renewals,
    loans.c.returned_us,
    loans.c.returned_by,
)
"""A loan's own columns, as a person reads them (no item, no request)."""


def _select() -> Select[Any]:
    return select_of_item(loans, Loan)


@dataclass(frozen=True, slots=True)
class LoanFilter:
    """What the desk narrows a list of loans by (all optional, combined with AND)."""

    borrower: str | None = None
    """Part of the borrower's name, any case."""
    category: str | None = None
    """The item's catalogue category, exactly."""
    due_from: date | None = None
    due_to: date | None = None
    """Due on or between these days."""
    room: str | None = None
    """Of the items in this room (the one they are in, or that recorded their last move: a
    loan's item is in the room whose desk lent it) or in no room yet."""


def _like_text(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(
    status: LoanStatus | None, ref: str | None, where: LoanFilter
) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if status == "returned":
        found.append(loans.c.returned_us.is_not(None))
    elif status == "overdue":
        found += [loans.c.returned_us.is_(None), loans.c.due < today().isoformat()]
    elif status == "open":
        found.append(loans.c.returned_us.is_(None))
    if ref is not None:
        found.append(items.c.ref == ref)
    if where.borrower:
        found.append(loans.c.borrower.ilike(_like_text(where.borrower), escape="\\"))
    if where.category is not None:
        found.append(items.c.category == where.category)
    if where.due_from is not None:
        found.append(loans.c.due >= where.due_from.isoformat())
    if where.due_to is not None:
        found.append(loans.c.due <= where.due_to.isoformat())
    if where.room is not None:
        room_of = room_of_item()
        found.append(or_(room_of == where.room, room_of.is_(None)))
    return found


class Loans:
    def __init__(self, ledger: Ledger, locations: Locations, *, rules: LoanRules) -> None:
        self.ledger = ledger
        self.locations = locations
        self.rules = rules

    @property
    def desk_code(self) -> str:
        return f"{self.ledger.room}-desk"

    async def open(
        self,
        *,
        ref: str,
        borrower: str,
        purpose: str,
        approval_no: str | None,
        due: date | None,
        actor: str,
        borrower_kind: str | None = None,
        request_id: int | None = None,
    ) -> Loan:
        """Check ``ref`` out; Conflict with the rule in words when its category's rules refuse."""
        try:
            async with self.ledger.transaction(actor) as tx:
                item = await lendable(tx.conn, ref)
                item_id = item.id
                due, terms = self.rules.check(item.category, borrower_kind, due)
                open_id = await tx.conn.scalar(
                    select(loans.c.id).where(
                        loans.c.item_id == item_id, loans.c.returned_us.is_(None)
                    )
                )
                if open_id is not None:
                    raise Conflict(say("loan.already_on_loan", ref=ref, loan_id=open_id))
                required = terms.approval or request_id is not None
                request = await approved_request(tx.conn, item_id, request_id)
                if request is None and required:
                    raise Conflict(say("loan.needs_approval", category=item.category, ref=ref))
                if request is not None and request.borrower != borrower and required:
                    raise Conflict(
                        say(
                            "loan.approved_for_other",
                            request_id=request.id,
                            approved=request.borrower,
                            borrower=borrower,
                        )
                    )
                if request is not None and request.borrower == borrower:
                    request_id, approval_no = request.id, request.approval_no
                loan_id = await tx.insert(
                    loans,
                    item_id=item_id,
                    borrower=borrower,
                    borrower_kind=borrower_kind,
                    purpose=purpose,
                    approval_no=approval_no,
                    due=due.isoformat(),
                    opened_us=tx.at_us,
                    opened_by=actor,
                    request_id=request_id,
                    category=item.category,
                    retention=item.retention,
                )
                if request_id is not None:
                    await tx.conn.execute(
                        update(loan_requests)
                        .where(loan_requests.c.id == request_id)
                        .values(state="fulfilled", loan_id=loan_id)
                    )
                tx.audit(
                    "loan.opened",
                    ref,
                    {
                        "loan_id": loan_id,
                        "borrower": borrower,
                        "due": due.isoformat(),
                        "request_id": request_id,
                    },
                )
                tx.emit(
                    LoanOpened(
                        at_us=tx.at_us,
                        loan_id=loan_id,
                        ref=ref,
                        borrower=borrower,
                        due=due.isoformat(),
                    )
                )
        except IntegrityError:
            raise Conflict(say("loan.concurrent", ref=ref)) from None
        return await self.get(loan_id)

    async def return_(self, loan_id: int, *, actor: str, location: str | None = None) -> Loan:
        async with self.ledger.transaction(actor) as tx:
            row = (
                await tx.conn.execute(
                    select(loans.c.item_id, loans.c.returned_us).where(loans.c.id == loan_id)
                )
            ).first()
            if row is None:
                raise NotFound(say("loan.not_found", loan_id=loan_id))
            if row.returned_us is not None:
                raise Conflict(say("loan.already_returned", loan_id=loan_id))
            ref = await tx.conn.scalar(select(items.c.ref).where(items.c.id == row.item_id))
            assert ref is not None
            await tx.conn.execute(
                update(loans)
                .where(loans.c.id == loan_id)
                .values(returned_us=tx.at_us, returned_by=actor)
            )
            code = location or self.desk_code
            location_id = await self.locations.id_of(tx.conn, code)
            await move(
                tx,
                item_id=row.item_id,
                ref=ref,
                to_location_id=location_id,
                to_code=code,
                source="desk",
                room=self.ledger.room,
            )
            tx.audit("loan.returned", ref, {"loan_id": loan_id})
            tx.emit(LoanReturned(at_us=tx.at_us, loan_id=loan_id, ref=ref))
        return await self.get(loan_id)

    async def renew(self, loan_id: int, *, actor: str, due: date | None = None) -> Loan:
        loan = await self.get(loan_id)
        if loan.returned_us is not None:
            raise Conflict(say("loan.already_returned", loan_id=loan_id))
        category = await self.ledger.store.scalar(
            select(items.c.category).where(items.c.ref == loan.ref)
        )
        terms = self.rules.terms(category or "")
        if loan.renewals >= terms.max_renewals:
            raise Conflict(
                say(
                    "loan.renewals_max_rule",
                    loan_id=loan_id,
                    renewals=loan.renewals,
                    category=category,
                )
                if terms.category
                else say("loan.renewals_max", loan_id=loan_id, renewals=loan.renewals)
            )
        start = max(date.fromisoformat(loan.due), today())
        new_due = due or (start + timedelta(days=terms.max_days))
        if new_due <= date.fromisoformat(loan.due):
            raise Invalid(say("loan.due_after", due=loan.due))
        if terms.category and (new_due - start).days > terms.max_days:
            raise Conflict(say("loan.renewal_days", rule=terms.name(), days=terms.max_days))
        async with self.ledger.transaction(actor) as tx:
            result = await tx.conn.execute(
                update(loans)
                .where(
                    loans.c.id == loan_id,
                    loans.c.renewals == loan.renewals,
                    loans.c.returned_us.is_(None),
                )
                .values(renewals=loan.renewals + 1, due=new_due.isoformat())
            )
            if result.rowcount != 1:
                raise Conflict(say("loan.changed_meanwhile", loan_id=loan_id))
            tx.audit("loan.renewed", loan.ref, {"loan_id": loan_id, "due": new_due.isoformat()})
        return await self.get(loan_id)

    async def get(self, loan_id: int) -> Loan:
        row = await self.ledger.store.first(_select().where(loans.c.id == loan_id))
        if row is None:
            raise NotFound(say("loan.not_found", loan_id=loan_id))
        return Loan(**row._asdict())

    async def open_loan_of(self, item_id: int) -> Loan | None:
        row = await self.ledger.store.first(
            _select().where(loans.c.item_id == item_id, loans.c.returned_us.is_(None))
        )
        return Loan(**row._asdict()) if row is not None else None

    async def list(
        self,
        status: LoanStatus | None = None,
        *,
        ref: str | None = None,
        limit: int = 1000,
        offset: int = 0,
        where: LoanFilter | None = None,
    ) -> list[Loan]:
        """Loans, newest first, in ``status`` (``open`` includes overdue) and ``where``."""
        query = _select().where(*_conditions(status, ref, where or LoanFilter()))
        query = query.order_by(loans.c.id.desc()).limit(limit).offset(offset)
        rows = await self.ledger.store.all(query)
        return [Loan(**r._asdict()) for r in rows]

    async def count(
        self,
        status: LoanStatus | None = None,
        *,
        ref: str | None = None,
        where: LoanFilter | None = None,
    ) -> int:
        """How many loans ``list`` would give without a limit."""
        query = (
            select(func.count())
            .select_from(loans.join(items, items.c.id == loans.c.item_id))
            .where(*_conditions(status, ref, where or LoanFilter()))
        )
        return int(await self.ledger.store.scalar(query) or 0)

    async def counts(self, room: str | None = None) -> tuple[int, int]:
        """(open, overdue) loans; with ``room``, of the items in that room (the one they are
        on the shelf in, or that recorded their last move: the one they left) and of the items
        never placed (in no room yet, so counted by every room)."""
        open_loans = select(func.count()).select_from(loans).where(loans.c.returned_us.is_(None))
        if room is not None:
            room_of = room_of_item()
            open_loans = open_loans.join(items, items.c.id == loans.c.item_id).where(
                or_(room_of == room, room_of.is_(None))
            )
        async with self.ledger.store.read() as conn:
            open_n = await conn.scalar(open_loans)
            overdue_n = await conn.scalar(open_loans.where(loans.c.due < today().isoformat()))
        return int(open_n or 0), int(overdue_n or 0)


@dataclass(frozen=True, slots=True)
class Lendable:
    id: int
    category: str
    retention: str


async def lendable(conn: AsyncConnection, ref: str) -> Lendable:
    """The catalogued, still held item ``ref`` (NotFound, or Conflict once disposed of)."""
    item = (
        await conn.execute(
            select(items.c.id, items.c.category, items.c.retention, items.c.disposition).where(
                items.c.ref == ref
            )
        )
    ).first()
    if item is None:
        raise NotFound(say("item.not_found", ref=ref))
    if item.disposition is not None:
        how = f"disposition.{item.disposition}"
        done = say(how) if how in ENGLISH else item.disposition
        raise Conflict(say("item.disposed", ref=ref, disposition=done))
    return Lendable(int(item.id), item.category, item.retention)


@dataclass(frozen=True, slots=True)
class ApprovedRequest:
    id: int
    borrower: str
    approval_no: str | None


async def approved_request(
    conn: AsyncConnection, item_id: int, request_id: int | None
) -> ApprovedRequest | None:
    """The approved, not yet used request of this item (the one named, if any)."""
    query = select(loan_requests.c.id, loan_requests.c.borrower, loan_requests.c.approval_no).where(
        loan_requests.c.item_id == item_id, loan_requests.c.state == "approved"
    )
    if request_id is not None:
        query = query.where(loan_requests.c.id == request_id)
    row = (await conn.execute(query.order_by(loan_requests.c.id).limit(1))).first()
    return None if row is None else ApprovedRequest(row.id, row.borrower, row.approval_no)
