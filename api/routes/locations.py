"""Locations: batch whereabouts for the catalogue service, shelf contents, rack creation."""

import json
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from api.auth import Auth
from api.schemas.locations import (
    LocationDefOut,
    LocationOut,
    LookupIn,
    LookupOut,
    RackIn,
    RackOut,
    ShelfItemOut,
    ShelfOut,
)
from daemon.ledger.errors import Invalid
from daemon.ledger.locations import parse_range, rack_locations
from daemon.ledger.whereabouts import Whereabout
from daemon.services import Services
from daemon.tokens import Principal, Role

SIDE = re.compile(r"[A-Za-z0-9]{1,8}")
MAX_RACK_LOCATIONS = 20_000
"""A real rack has a few thousand shelves; anything bigger in one request is a typo."""


MAX_LOOKUP_BODY_BYTES = 8 * 1024 * 1024
"""10,000 references of up to 100 characters, each ``\\uXXXX``-escaped at worst: about 6 MB."""


def router(svc: Services, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["locations"])
    reader = auth.require(Role.staff, Role.catalogue)
    admin = auth.require(Role.sysadmin)

    # The catalogue's bulk question may be answered by the read replica, when there is one.
    lookups = Whereabout(svc.reads)

    @r.post("/locations/lookup", response_model=LookupOut)
    async def lookup(body: LookupIn, who: Annotated[Principal, Depends(reader)]) -> Response:
        """Whereabouts of up to 10,000 items in one call; unknown refs are listed. A room-scope
        token is answered for this room's items only (others are listed as not found); a
        bureau-scope one for every room sharing the database."""
        room = who.room_filter(svc.config.room)
        found, missing = await lookups.locate(body.refs, room=room)
        body_out = {"locations": [LocationOut.plain(w) for w in found], "not_found": missing}
        return Response(
            json.dumps(body_out, ensure_ascii=False, separators=(",", ":")),
            media_type="application/json",
        )

    @r.get("/locations/{code}")
    async def get_location(
        code: str, _who: Annotated[Principal, Depends(reader)]
    ) -> LocationDefOut:
        loc = await svc.locations.get(code)
        return LocationDefOut.from_domain(loc)

    @r.get("/locations/{code}/items")
    async def items_at(code: str, _who: Annotated[Principal, Depends(reader)]) -> ShelfOut:
        """What is at a location (and below it), and what belongs there but is elsewhere."""
        contents = await svc.whereabouts.at_location(code)
        return ShelfOut(
            code=contents.code,
            present=[ShelfItemOut(ref=ref, location=loc) for ref, loc in contents.present],
            expected_absent=[ShelfItemOut(ref=ref, location=loc) for ref, loc in contents.absent],
        )

    @r.post("/locations/racks", status_code=status.HTTP_201_CREATED)
    async def create_rack(body: RackIn, who: Annotated[Principal, Depends(admin)]) -> RackOut:
        """Create a rack's bays and levels in this room from coordinate ranges."""
        try:
            bays, levels = parse_range(body.bays), parse_range(body.levels)
        except ValueError as e:
            raise Invalid(str(e)) from None
        for side in body.sides:
            if not SIDE.fullmatch(side):
                raise Invalid(f"sides: {side!r} is not 1 to 8 letters or digits")
        if len(bays) * len(levels) * max(len(body.sides), 1) > MAX_RACK_LOCATIONS:
            raise Invalid(f"more than {MAX_RACK_LOCATIONS} shelf locations in one rack")
        room = svc.config.room
        new = rack_locations(room, body.rack, bays, levels, body.sides)
        async with svc.ledger.transaction(who.name) as tx:
            before = await svc.locations.ids(tx.conn, [n.code for n in new])
            await svc.locations.ensure(tx.conn, new)
            created = [n.code for n in new if n.code not in before]
            tx.audit("locations.created", f"{room}-{body.rack}", {"count": len(created)})
        return RackOut(created=len(created), codes=[n.code for n in new])

    return r
