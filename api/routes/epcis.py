"""Traceability export: the room's events as an EPCIS 2.0 JSON-LD document (docs/design.md §6.6)."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from api.auth import Auth
from api.exports import audit_export
from daemon.clock import datetime_to_us, now_us
from daemon.ledger.errors import Invalid
from daemon.ledger.items import REF_PATTERN
from daemon.reconcile.epcis import EventSource, Window, antenna_map, document
from daemon.services import Services
from daemon.tokens import Principal, Role
from rfid.config import shelf_antenna_locations

DEFAULT_DAYS = 30
MAX_EVENTS = 100_000


def router(svc: Services, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["traceability"])
    reader = auth.require(Role.staff, Role.catalogue)
    source = EventSource(
        svc.reads, svc.config.room, antenna_map(shelf_antenna_locations(svc.config.readers))
    )

    @r.get(
        "/epcis/events",
        response_class=JSONResponse,
        responses={200: {"content": {"application/ld+json": {}}}},
    )
    async def epcis_events(
        who: Annotated[Principal, Depends(reader)],
        from_: Annotated[
            datetime | None,
            Query(alias="from", description=f"start (default: {DEFAULT_DAYS} days before 'to')"),
        ] = None,
        to: Annotated[datetime | None, Query(description="end, exclusive (default: now)")] = None,
        ref: Annotated[
            str | None, Query(pattern=REF_PATTERN, description="only this item's events")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_EVENTS)] = 10_000,
    ) -> JSONResponse:
        """Gate passages, shelf observations that moved an item, check-outs, returns, stacker
        stores and retrievals, tag binding and retiring, oldest first, as an EPCIS 2.0
        document. When more than ``limit`` events fall in the window, the first ``limit`` are
        returned and ``X-EPCIS-Next-From`` names where the next request should start."""
        end = to or datetime.now(tz=UTC)
        start = from_ or end - timedelta(days=DEFAULT_DAYS)
        window = Window(datetime_to_us(start), datetime_to_us(end), ref)
        if window.start_us >= window.end_us:
            raise Invalid("'from' must be before 'to'")
        await audit_export(
            svc.ledger,
            who,
            "epcis",
            f"epcis:{ref}" if ref else "epcis",
            start_us=window.start_us,
            end_us=window.end_us,
            limit=limit,
        )
        events, more = await source.events(window, limit=limit)
        doc = document(events, site=svc.config.site.id, room=svc.config.room, created_us=now_us())
        headers = {}
        if more and events:
            last = datetime.fromtimestamp(events[-1].at_us / 1_000_000, tz=UTC)
            headers["X-EPCIS-Next-From"] = last.isoformat().replace("+00:00", "Z")
        return JSONResponse(doc.json_ld(), media_type="application/ld+json", headers=headers)

    return r
