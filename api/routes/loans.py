"""Circulation at the desk: check-out, return, renewal."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from api.auth import Auth
from api.params import RowId
from api.schemas import LoanIn, LoanOut, RenewIn, ReturnIn, StatusFilter
from daemon.services import Services
from daemon.tokens import Principal, Role


def router(svc: Services, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["loans"])
    staff = auth.require(Role.staff)
    reader = auth.require(Role.staff, Role.catalogue)

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
        status: Annotated[StatusFilter | None, Query()] = None,
        ref: Annotated[str | None, Query(max_length=100)] = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    ) -> list[LoanOut]:
        """Loans, newest first: ``open`` (incl. overdue), ``overdue`` or ``returned``."""
        return [LoanOut.of(loan) for loan in await svc.loans.list(status, ref=ref, limit=limit)]

    @r.get("/loans/{loan_id}")
    async def get_loan(loan_id: RowId, _who: Annotated[Principal, Depends(reader)]) -> LoanOut:
        return LoanOut.of(await svc.loans.get(loan_id))

    return r
