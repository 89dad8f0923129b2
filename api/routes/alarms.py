"""Alarms for staff and facilities: list (paged, by state and kind) and acknowledge."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from api.auth import Auth
from api.params import TOTAL_HEADER, RowId
from api.schemas.alarms import AlarmOut
from daemon.ledger.alarms import AlarmFilter, AlarmState
from daemon.services import Services
from daemon.tokens import Principal, Role

AlarmGroup = Literal["gate", "climate", "stacker", "reader", "items"]
GROUP_PREFIXES: dict[str, tuple[str, ...]] = {
    "gate": ("gate.",),
    "climate": ("climate.", "sensor", "temperature-", "humidity-", "mould-"),
    "stacker": ("stacker.",),
    "reader": ("reader.",),
    "items": ("item.", "loan."),
}
"""The families of alarm kinds the console filters by (a kind's text before its first dot,
and the older climate kinds without one)."""


def router(svc: Services, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["alarms"])
    who_may = auth.require(Role.staff, Role.facilities, Role.sysadmin)

    @r.get("/alarms")
    async def list_alarms(
        _who: Annotated[Principal, Depends(who_may)],
        response: Response,
        *,
        state: Annotated[AlarmState, Query()] = "active",
        kind: Annotated[str | None, Query(max_length=40)] = None,
        group: Annotated[AlarmGroup | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    ) -> list[AlarmOut]:
        """Alarms, newest first: ``active`` (default), ``unacknowledged`` (active, nobody has
        acknowledged), ``ended`` or ``all``; of one ``kind`` or one ``group`` of kinds. One page
        (``limit``, ``offset``); ``X-Total-Count`` says how many match."""
        where = AlarmFilter(
            state=state, kind=kind, kind_prefixes=GROUP_PREFIXES[group] if group else ()
        )
        found = await svc.alarms.list(limit=limit, offset=offset, where=where)
        response.headers[TOTAL_HEADER] = str(await svc.alarms.count(where))
        return [AlarmOut.from_domain(a) for a in found]

    @r.post("/alarms/{alarm_id}/ack")
    async def acknowledge(alarm_id: RowId, who: Annotated[Principal, Depends(who_may)]) -> AlarmOut:
        """Acknowledge an alarm; an event alarm (e.g. unauthorized removal) ends with it."""
        return AlarmOut.from_domain(await svc.alarms.acknowledge(alarm_id, by=who.name))

    return r
