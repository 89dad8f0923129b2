"""The audit trail, for the auditor alone (docs/security.md: separation of duties)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from api.auth import Auth
from api.params import MAX_ROW_ID
from api.schemas.audit import AuditEntryOut, VerifyOut
from daemon.audit import verify_chain
from daemon.services import Services
from daemon.store.schema import audit
from daemon.tokens import Principal, Role


def router(svc: Services, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["audit"])
    auditor = auth.require(Role.auditor, superuser=False)

    @r.get("/audit")
    async def entries(
        _who: Annotated[Principal, Depends(auditor)],
        subject: Annotated[str | None, Query(max_length=200)] = None,
        after_seq: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    ) -> list[AuditEntryOut]:
        """Audit entries in chain order, optionally for one subject (an item ref, a source)."""
        query = select(audit).where(audit.c.seq > after_seq)
        if subject is not None:
            query = query.where(audit.c.subject == subject)
        rows = await svc.store.all(query.order_by(audit.c.seq).limit(limit))
        return [AuditEntryOut.from_domain(row) for row in rows]

    @r.get("/audit/verify")
    async def verify(_who: Annotated[Principal, Depends(auditor)]) -> VerifyOut:
        """Walk the hash chain: OK, or the first entry that no longer fits."""
        async with svc.store.read() as conn:
            result = await verify_chain(conn)
        return VerifyOut.from_domain(result)

    return r
