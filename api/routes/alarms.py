"""Alarms for staff and facilities: list and acknowledge."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from api.auth import Auth
from api.params import RowId
from api.schemas import AlarmOut
from daemon.services import Services
from daemon.tokens import Principal, Role


def router(svc: Services, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["alarms"])
    who_may = auth.require(Role.staff, Role.facilities, Role.sysadmin)

    @r.get("/alarms")
    async def list_alarms(
        _who: Annotated[Principal, Depends(who_may)],
        state: Annotated[Literal["active", "all"], Query()] = "active",
        kind: Annotated[str | None, Query(max_length=40)] = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    ) -> list[AlarmOut]:
        """Active alarms (or all), newest first."""
        found = await svc.alarms.list(active_only=state == "active", kind=kind, limit=limit)
        return [AlarmOut.of(a) for a in found]

    @r.post("/alarms/{alarm_id}/ack")
    async def acknowledge(alarm_id: RowId, who: Annotated[Principal, Depends(who_may)]) -> AlarmOut:
        """Acknowledge an alarm; an event alarm (e.g. unauthorized removal) ends with it."""
        return AlarmOut.of(await svc.alarms.acknowledge(alarm_id, by=who.name))

    return r
