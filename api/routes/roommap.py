"""``GET /api/v1/map.svg``: the room map (``daemon.roommap``), with one item marked if asked."""

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.auth import Auth
from daemon.ledger.items import REF_PATTERN
from daemon.roommap import Occupancy, render_svg, sections_of
from daemon.services import Services
from daemon.tokens import Principal, Role

SVG_TYPE = "image/svg+xml"


def router(svc: Services, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["locations"])
    reader = auth.require(Role.staff, Role.catalogue)
    sections = sections_of(svc.config)
    occupancy = Occupancy(svc.store, svc.config.room)

    @r.get(
        "/map.svg",
        response_class=Response,
        responses={200: {"content": {SVG_TYPE: {"schema": {"type": "string"}}}}},
    )
    async def room_map(
        _who: Annotated[Principal, Depends(reader)],
        ref: Annotated[
            str | None, Query(pattern=REF_PATTERN, description="mark where this item is")
        ] = None,
        only: Annotated[
            Literal["racks", "stacker"] | None, Query(description="draw only this part")
        ] = None,
    ) -> Response:
        """The room's racks, shelves and stacker cells with the number of items in each; with
        ``ref``, the cell where the item is (class ``here``) and its home (class ``home``).
        Response headers ``X-Item-Location`` and ``X-Item-Home`` give both codes
        (percent-encoded UTF-8), ``X-Item-Location-Kind`` the kind of the current place and
        ``X-Item-On-Map`` whether it is drawn; ``only`` draws the racks or the stacker alone."""
        counts = await occupancy.counts()
        headers = {"Cache-Control": "no-store"}
        here = home = None
        if ref is not None:
            item = await svc.catalogue.get(ref)
            where = await svc.whereabouts.locate_one(ref)
            here, home = where.location.code, item.home_location
            drawn = {c.code for s in sections for c in s.cells}
            headers["X-Item-Location"] = _header(here)
            headers["X-Item-Location-Kind"] = where.location.kind
            headers["X-Item-Home"] = _header(home or "")
            headers["X-Item-On-Map"] = "true" if here in drawn else "false"
        drawn_sections = [
            s for s in sections if only is None or (s.kind == "rack") == (only == "racks")
        ]
        svg = render_svg(
            drawn_sections,
            counts,
            here=here,
            home=home,
            title=f"{svc.config.room} {ref or ''}".strip(),
        )
        return Response(svg, media_type=SVG_TYPE, headers=headers)

    return r


def _header(value: str) -> str:
    return quote(value, safe="")
