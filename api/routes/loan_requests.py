"""Loan requests: filed at the desk, approved or rejected by an approver, then checked out.

An approved request of an item stored in the stacker queues its retrieval to the station, so
the box is waiting when the borrower comes to the desk.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from api.auth import Auth
from api.params import RowId
from api.schemas.loans import ApproveIn, LoanRequestIn, LoanRequestOut, RejectIn
from daemon.ledger.errors import LedgerError
from daemon.ledger.loan_requests import RequestState
from daemon.room import STACKER_KINDS
from daemon.services import Services
from daemon.tokens import Principal, Role


def router(svc: Services, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["loans"])
    desk = auth.require(Role.staff, Role.admin)
    approver = auth.require(Role.approver)
    reader = auth.require(Role.staff, Role.approver, Role.admin)
    requests = svc.loan_requests

    @r.post("/loan-requests", status_code=status.HTTP_201_CREATED)
    async def file_request(
        body: LoanRequestIn, who: Annotated[Principal, Depends(desk)]
    ) -> LoanRequestOut:
        """File a request for an approval (409 when the category's loan rule refuses it, or
        a request of the item is already open)."""
        request = await requests.create(
            ref=body.ref,
            borrower=body.borrower,
            borrower_kind=body.borrower_kind,
            purpose=body.purpose,
            due=body.due,
            actor=who.name,
        )
        return LoanRequestOut.from_domain(request)

    @r.get("/loan-requests")
    async def list_requests(
        _who: Annotated[Principal, Depends(reader)],
        state: Annotated[RequestState | None, Query()] = None,
        ref: Annotated[str | None, Query(max_length=100)] = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    ) -> list[LoanRequestOut]:
        """Requests, newest first (``state=pending`` is the approver's queue)."""
        found = await requests.list(state, ref=ref, limit=limit)
        return [LoanRequestOut.from_domain(x) for x in found]

    @r.get("/loan-requests/{request_id}")
    async def get_request(
        request_id: RowId, _who: Annotated[Principal, Depends(reader)]
    ) -> LoanRequestOut:
        return LoanRequestOut.from_domain(await requests.get(request_id))

    @r.post("/loan-requests/{request_id}/approve")
    async def approve(
        request_id: RowId, body: ApproveIn, who: Annotated[Principal, Depends(approver)]
    ) -> LoanRequestOut:
        """Approve with the approval number; an item in the stacker is retrieved to the
        station (``retrieval`` says which job, or why none was queued)."""
        request = await requests.approve(request_id, approval_no=body.approval_no, actor=who.name)
        if svc.stacker is not None:
            where = await svc.whereabouts.locate_one(request.ref)
            if where.location.kind in STACKER_KINDS and where.location.kind != "station":
                try:
                    job = await svc.stacker.submit("retrieve", actor=who.name, ref=request.ref)
                    note = f"stacker job {job.job_id} retrieves it to the station"
                except LedgerError as e:
                    note = f"not retrieved: {e}"
                await requests.note_retrieval(request_id, note)
                request = await requests.get(request_id)
        return LoanRequestOut.from_domain(request)

    @r.post("/loan-requests/{request_id}/reject")
    async def reject(
        request_id: RowId, body: RejectIn, who: Annotated[Principal, Depends(approver)]
    ) -> LoanRequestOut:
        """Reject with the reason given to the borrower."""
        return LoanRequestOut.from_domain(
            await requests.reject(request_id, reason=body.reason, actor=who.name)
        )

    @r.post("/loan-requests/{request_id}/cancel")
    async def cancel(request_id: RowId, who: Annotated[Principal, Depends(desk)]) -> LoanRequestOut:
        """Withdraw a pending or approved request that will not be checked out."""
        return LoanRequestOut.from_domain(await requests.cancel(request_id, actor=who.name))

    return r
