"""Resolving an EPC to the item it stands for."""

from typing import Annotated

from fastapi import APIRouter, Depends

from api.auth import Auth
from api.schemas.items import BindingOut, TagOut
from daemon.ledger.errors import NotFound
from daemon.ledger.tags import normalise_epc
from daemon.services import Services
from daemon.tokens import Principal, Role


def router(svc: Services, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["tags"])
    reader = auth.require(Role.staff, Role.catalogue)

    @r.get("/tags/{epc}")
    async def resolve(epc: str, _who: Annotated[Principal, Depends(reader)]) -> TagOut:
        """The item an EPC is bound to now, and every binding it ever had."""
        active, history = await svc.tags.resolve(epc)
        if not history:
            raise NotFound(f"tag {normalise_epc(epc)} was never bound")
        return TagOut(
            epc=normalise_epc(epc),
            active=BindingOut.from_domain(active) if active else None,
            history=[BindingOut.from_domain(b) for b in history],
        )

    return r
