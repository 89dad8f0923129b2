"""Where things can be: the location hierarchy and its codes.

docs/design.md §3: site / room / rack / side / bay / level (/ slot), plus special places: stacker
cells, pick stations, the desk, the gates, the reading room, ``on-loan`` and ``unknown``.
Every location has a code that staff can read off a shelf label; codes of a room start with
the room id (``r101-A-03-02`` is rack A, bay 3, level 2 of room r101), so rooms sharing one
database never collide. Racks are created in batches from coordinate ranges.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ScalarSelect, Select, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from daemon.ledger.errors import Invalid, NotFound
from daemon.store.db import Store
from daemon.store.schema import item_locations, items, locations, movements

LocationKind = Literal[
    "site",
    "room",
    "rack",
    "side",
    "bay",
    "level",
    "slot",
    "shelf",
    "stacker-cell",
    "station",
    "desk",
    "gate",
    "reading-room",
    "on-loan",
    "unknown",
]
ON_LOAN = "on-loan"
UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Location:
    id: int
    code: str
    kind: str
    room: str | None
    parent_code: str | None
    name: str


@dataclass(frozen=True, slots=True)
class NewLocation:
    code: str
    kind: str
    room: str | None
    parent_code: str | None = None
    name: str = ""
    coords: dict[str, Any] | None = None


def shelf_code(room: str, rack: str, bay: int, level: int, side: str | None = None) -> str:
    side_part = f"-{side}" if side else ""
    return f"{room}-{rack}{side_part}-{bay:02d}-{level:02d}"


def rack_locations(
    room: str, rack: str, bays: Sequence[int], levels: Sequence[int], sides: Sequence[str] = ()
) -> list[NewLocation]:
    """A rack and all its bays and levels, parents before children."""
    out = [NewLocation(f"{room}-{rack}", "rack", room, room, f"rack {rack}", {"rack": rack})]
    side_list: list[str | None] = list(sides) if sides else [None]
    for side in side_list:
        rack_code = f"{room}-{rack}"
        if side:
            rack_code = f"{room}-{rack}-{side}"
            out.append(
                NewLocation(rack_code, "side", room, f"{room}-{rack}", f"rack {rack} side {side}")
            )
        for bay in bays:
            bay_code = f"{rack_code}-{bay:02d}"
            out.append(
                NewLocation(
                    bay_code, "bay", room, rack_code, "", {"rack": rack, "side": side, "bay": bay}
                )
            )
            for level in levels:
                out.append(
                    NewLocation(
                        shelf_code(room, rack, bay, level, side),
                        "level",
                        room,
                        bay_code,
                        "",
                        {"rack": rack, "side": side, "bay": bay, "level": level},
                    )
                )
    return out


def parse_range(spec: str | int | Sequence[int]) -> list[int]:
    """``"1-20"`` or ``20`` (meaning 1-20) or ``[1, 2, 5]``."""
    if isinstance(spec, int):
        if not 1 <= spec <= 1000:
            raise ValueError(f"a count must be from 1 to 1000, not {spec}")
        return list(range(1, spec + 1))
    if isinstance(spec, str):
        lo, sep, hi = spec.partition("-")
        try:
            first, last = int(lo), int(hi if sep else lo)
        except ValueError:
            raise ValueError(f"not a range: {spec!r} (write e.g. '1-20')") from None
        if first < 0 or last < first or last - first > 999:
            raise ValueError(f"bad range {spec!r}")
        return list(range(first, last + 1))
    return [int(x) for x in spec]


class Locations:
    """Location rows plus an in-memory code→id map (rooms have thousands, not millions)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._ids: dict[str, int] = {}

    async def ensure(self, conn: AsyncConnection, new: Iterable[NewLocation]) -> dict[str, int]:
        """Create the locations that do not exist yet (parents first); return code→id."""
        result: dict[str, int] = {}
        todo = list(new)
        if not todo:
            return result
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        known = await self.ids(
            conn, {n.code for n in todo} | {n.parent_code for n in todo if n.parent_code}
        )
        for n in todo:
            if n.code in known:
                result[n.code] = known[n.code]
                continue
            parent_id = known.get(n.parent_code) if n.parent_code else None
            stmt = (
                insert(locations)
                .values(
                    code=n.code,
                    kind=n.kind,
                    room=n.room,
                    parent_id=parent_id,
                    name=n.name,
                    coords=json.dumps(n.coords or {}, separators=(",", ":")),
                )
                .on_conflict_do_nothing(index_elements=[locations.c.code])
            )
            await conn.execute(stmt)
            new_id = await conn.scalar(select(locations.c.id).where(locations.c.code == n.code))
            assert new_id is not None
            known[n.code] = result[n.code] = self._ids[n.code] = int(new_id)
        return result

    async def ids(self, conn: AsyncConnection, codes: Iterable[str]) -> dict[str, int]:
        wanted = set(codes)
        found = {c: self._ids[c] for c in wanted if c in self._ids}
        missing = sorted(wanted - found.keys())
        for i in range(0, len(missing), 1000):
            chunk = missing[i : i + 1000]
            rows = (
                await conn.execute(
                    select(locations.c.code, locations.c.id).where(locations.c.code.in_(chunk))
                )
            ).all()
            for r in rows:
                found[r.code] = self._ids[r.code] = r.id
        return found

    async def id_of(self, conn: AsyncConnection, code: str) -> int:
        found = await self.ids(conn, [code])
        if code not in found:
            raise NotFound(f"no location with code {code!r}")
        return found[code]

    async def get(self, code: str) -> Location:
        row = await self.store.first(_select().where(locations.c.code == code))
        if row is None:
            raise NotFound(f"no location with code {code!r}")
        return Location(**row._asdict())

    async def list(
        self, *, room: str | None = None, kind: str | None = None, limit: int = 10_000
    ) -> list[Location]:
        query = _select()
        if room is not None:
            query = query.where(locations.c.room == room)
        if kind is not None:
            query = query.where(locations.c.kind == kind)
        rows = await self.store.all(query.order_by(locations.c.code).limit(limit))
        return [Location(**r._asdict()) for r in rows]


def _select() -> Select[Any]:
    """A location as ``Location`` reads it: with its parent's code."""
    parent = locations.alias("parent")
    return select(
        locations.c.id,
        locations.c.code,
        locations.c.kind,
        locations.c.room,
        parent.c.code.label("parent_code"),
        locations.c.name,
    ).select_from(locations.outerjoin(parent, parent.c.id == locations.c.parent_id))


def check_code(code: str) -> str:
    if not code or len(code) > 100 or any(c.isspace() or c == "/" for c in code):
        raise Invalid(f"bad location code {code!r}: 1-100 characters, no spaces or '/'")
    return code


def room_of_item() -> ScalarSelect[Any]:
    """For a query over ``items``: the room the item is in. That is its current place's room
    or, when the place is in no room (``on-loan``, ``unknown``), the room that recorded its
    last movement; NULL for an item never placed. Two primary-key lookups per item."""
    place = locations.alias("room_place")
    last = movements.alias("room_last_move")
    return (
        select(func.coalesce(place.c.room, last.c.room))
        .select_from(
            item_locations.join(place, place.c.id == item_locations.c.location_id).outerjoin(
                last, last.c.id == item_locations.c.movement_id
            )
        )
        .where(item_locations.c.item_id == items.c.id)
        .scalar_subquery()
    )
