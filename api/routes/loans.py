"""Circulation at the desk: check-out, return, renewal; the list of loans and its export; a
whole cart checked out or returned at once."""

from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status
from fastapi.responses import StreamingResponse

from api.auth import Auth
from api.exports import attachment
from api.params import TOTAL_HEADER, RowId
from api.schemas.loans import (
    BoxOut,
    CartIn,
    CartLoanIn,
    CartOut,
    CartReturnIn,
    LoanIn,
    LoanOut,
    RenewIn,
    ReturnIn,
    StatusFilter,
)
from daemon.ledger.loans import LoanFilter
from daemon.reconcile.report import csv_line
from daemon.services import Services
from daemon.tokens import Principal, Role
from rfid.service.cart import Box, DeskCart, Slip

EXPORT_COLUMNS = (
    "id",
    "ref",
    "borrower",
    "purpose",
    "approval_no",
    "due",
    "status",
    "renewals",
    "opened_at",
    "opened_by",
    "returned_at",
    "returned_by",
)
EXPORT_PAGE = 1000


def _filter(
    borrower: Annotated[str | None, Query(max_length=200, description="part of the name")] = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
    due_from: Annotated[date | None, Query(description="due on or after")] = None,
    due_to: Annotated[date | None, Query(description="due on or before")] = None,
) -> LoanFilter:
    return LoanFilter(borrower=borrower, category=category, due_from=due_from, due_to=due_to)


def router(svc: Services, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["loans"])
    staff = auth.require(Role.staff)
    reader = auth.require(Role.staff, Role.catalogue)
    cart = DeskCart(svc.desk.readers, svc.tags, svc.loans, svc.catalogue)

    @r.post("/loans", status_code=status.HTTP_201_CREATED)
    async def check_out(body: LoanIn, who: Annotated[Principal, Depends(staff)]) -> LoanOut:
        """Check an item out (404 unknown item; 409 already on loan, or refused by its
        category's loan rule, in words)."""
        loan = await svc.loans.open(
            ref=body.ref,
            borrower=body.borrower,
            purpose=body.purpose,
            approval_no=body.approval_no,
            due=body.due,
            actor=who.name,
            borrower_kind=body.borrower_kind,
            request_id=body.request_id,
        )
        return LoanOut.of(loan)

    async def boxes(body: CartIn) -> list[Box]:
        if body.reader is not None:
            return await cart.seen(body.reader)
        return [Box(None, ref) for ref in body.refs or []]

    @r.post("/loans/batch")
    async def check_out_cart(
        body: CartLoanIn, who: Annotated[Principal, Depends(staff)]
    ) -> CartOut:
        """Check out every box given (``refs``) or on a desk reader now (``reader``), on one
        slip; one result per box (done, or refused and why). 404 unknown reader, 409 reader
        offline."""
        slip = Slip(body.borrower, body.purpose, body.approval_no, body.due)
        return CartOut.of(await cart.check_out(await boxes(body), slip, actor=who.name))

    @r.post("/loans/returns")
    async def return_cart(body: CartReturnIn, who: Annotated[Principal, Depends(staff)]) -> CartOut:
        """Return every box given (``refs``) or on a desk reader now (``reader``); one result
        per box."""
        found = await boxes(body)
        return CartOut.of(await cart.return_(found, actor=who.name, location=body.location))

    @r.get("/desk/{reader_id}/boxes")
    async def boxes_on_desk(
        reader_id: Annotated[str, Path(max_length=100)],
        _who: Annotated[Principal, Depends(staff)],
    ) -> list[BoxOut]:
        """The tagged boxes on a desk reader's antenna now (``ref`` null: tag bound to no item)."""
        return [BoxOut(epc=b.epc, ref=b.ref) for b in await cart.seen(reader_id)]

    @r.post("/loans/{loan_id}/return")
    async def check_in(
        loan_id: RowId, who: Annotated[Principal, Depends(staff)], body: ReturnIn | None = None
    ) -> LoanOut:
        """Record the return at the desk."""
        return LoanOut.of(
            await svc.loans.return_(
                loan_id, actor=who.name, location=body.location if body else None
            )
        )

    @r.post("/loans/{loan_id}/renew")
    async def renew(
        loan_id: RowId, who: Annotated[Principal, Depends(staff)], body: RenewIn | None = None
    ) -> LoanOut:
        """Extend the due date (up to the configured number of renewals)."""
        return LoanOut.of(
            await svc.loans.renew(loan_id, actor=who.name, due=body.due if body else None)
        )

    @r.get("/loans")
    async def list_loans(
        _who: Annotated[Principal, Depends(reader)],
        response: Response,
        where: Annotated[LoanFilter, Depends(_filter)],
        *,
        status: Annotated[StatusFilter | None, Query()] = None,
        ref: Annotated[str | None, Query(max_length=100)] = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    ) -> list[LoanOut]:
        """Loans, newest first: ``open`` (incl. overdue), ``overdue`` or ``returned``; narrowed
        by borrower (part of the name), category and due dates; one page (``limit``,
        ``offset``), with the number of all matching loans in ``X-Total-Count``."""
        found = await svc.loans.list(status, ref=ref, limit=limit, offset=offset, where=where)
        response.headers[TOTAL_HEADER] = str(await svc.loans.count(status, ref=ref, where=where))
        return [LoanOut.of(loan) for loan in found]

    @r.get(
        "/loans/export",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/csv": {}}}},
    )
    async def export_loans(
        _who: Annotated[Principal, Depends(reader)],
        where: Annotated[LoanFilter, Depends(_filter)],
        status: Annotated[StatusFilter | None, Query()] = None,
    ) -> StreamingResponse:
        """The loans ``GET /loans`` lists (all pages) as CSV; a cell that a spreadsheet would
        take for a formula starts with an apostrophe."""

        # the first page is read before the answer starts, so that a refused filter (a NUL
        # on PostgreSQL) is a 422 and not a broken download
        first = await svc.loans.list(status, limit=EXPORT_PAGE, where=where)

        async def rows() -> AsyncIterator[str]:
            yield csv_line(EXPORT_COLUMNS)
            page, offset = first, 0
            while True:
                for loan in page:
                    out = LoanOut.of(loan).model_dump()
                    yield csv_line(out[c] for c in EXPORT_COLUMNS)
                if len(page) < EXPORT_PAGE:
                    return
                offset += EXPORT_PAGE
                page = await svc.loans.list(status, limit=EXPORT_PAGE, offset=offset, where=where)

        return StreamingResponse(
            rows(),
            media_type="text/csv; charset=utf-8",
            headers=attachment("loans.csv"),
        )

    @r.get("/loans/{loan_id}")
    async def get_loan(loan_id: RowId, _who: Annotated[Principal, Depends(reader)]) -> LoanOut:
        return LoanOut.of(await svc.loans.get(loan_id))

    return r
