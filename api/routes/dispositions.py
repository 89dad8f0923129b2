"""Disposal and transfer of records whose retention has run out: proposed, approved by an
approver and an admin, carried out; the register as CSV or PDF (docs/reconciliation.md)."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import Response

from api.auth import Auth
from api.exports import attachment, audit_export
from api.params import RowId
from api.schemas.disposal import (
    ApprovalIn,
    CarryOutIn,
    DispositionIn,
    DispositionOut,
    RejectIn,
)
from daemon.reconcile.dispositions import Approval, Dispositions
from daemon.reconcile.register import register_csv, register_pdf
from daemon.services import Services
from daemon.tokens import Principal, Role

State = Literal["proposed", "approved", "carried_out", "rejected"]


def router(svc: Services, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["disposal"])
    staff = auth.require(Role.staff)
    approvers = auth.require(Role.approver)
    reader = auth.require(Role.staff, Role.approver, Role.catalogue)
    service = Dispositions(svc.ledger, svc.alarms)

    @r.post("/dispositions", status_code=status.HTTP_201_CREATED)
    async def propose(
        body: DispositionIn, who: Annotated[Principal, Depends(staff)]
    ) -> DispositionOut:
        """Propose destroying or transferring items whose retention has run out (409 names
        every item that cannot be: permanent, not yet due, on loan, already proposed)."""
        d = await service.propose(
            body.refs,
            action=body.action,
            reason=body.reason,
            receiver=body.receiver,
            actor=who.name,
            today=datetime.now(tz=UTC).date(),
        )
        return DispositionOut.of(d)

    @r.get("/dispositions")
    async def recent(
        _who: Annotated[Principal, Depends(reader)],
        state: Annotated[State | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[DispositionOut]:
        return [DispositionOut.of(d) for d in await service.recent(state, limit=limit)]

    @r.get("/dispositions/{disposition_id}")
    async def get(
        disposition_id: RowId, _who: Annotated[Principal, Depends(reader)]
    ) -> DispositionOut:
        return DispositionOut.of(await service.get(disposition_id))

    @r.post("/dispositions/{disposition_id}/approve")
    async def approve(
        disposition_id: RowId, body: ApprovalIn, who: Annotated[Principal, Depends(approvers)]
    ) -> DispositionOut:
        """An approver's approval (with its number) or an admin's countersignature, whichever
        the caller's role gives; both, by two different people, make it ``approved``."""
        as_: Approval = "admin" if who.role is Role.admin else "approver"
        d = await service.approve(
            disposition_id, as_=as_, actor=who.name, approval_no=body.approval_no
        )
        return DispositionOut.of(d)

    @r.post("/dispositions/{disposition_id}/reject")
    async def reject(
        disposition_id: RowId, body: RejectIn, who: Annotated[Principal, Depends(approvers)]
    ) -> DispositionOut:
        return DispositionOut.of(
            await service.reject(disposition_id, actor=who.name, reason=body.reason)
        )

    @r.post("/dispositions/{disposition_id}/carry-out")
    async def carry_out(
        disposition_id: RowId,
        who: Annotated[Principal, Depends(staff)],
        body: CarryOutIn | None = None,
    ) -> DispositionOut:
        """Record that the approved disposal was done: items ``destroyed`` or ``transferred``,
        their tags retired; history and audit are kept."""
        d = await service.carry_out(
            disposition_id, actor=who.name, note=body.note if body else None
        )
        return DispositionOut.of(d)

    @r.get("/dispositions/{disposition_id}/register", response_class=Response)
    async def register(
        disposition_id: RowId,
        who: Annotated[Principal, Depends(reader)],
        format: Literal["csv", "pdf"] = "pdf",
    ) -> Response:
        """The disposal register (销毁清册) or transfer list (移交清册), to print and sign."""
        d = await service.get(disposition_id)
        name = f"{'disposal' if d.action == 'destroy' else 'transfer'}-register-{d.id}"
        await audit_export(svc.ledger, who, "register", f"disposition:{d.id}", format=format)
        if format == "csv":
            return Response(
                register_csv(d),
                media_type="text/csv; charset=utf-8",
                headers=attachment(f"{name}.csv"),
            )
        return Response(
            register_pdf(d),
            media_type="application/pdf",
            headers=attachment(f"{name}.pdf"),
        )

    return r
