"""Which catalogue records are one room's business, as SQL (the rule is ``classify.belongs_to``).

Several rooms may share one database, and each room's reports must neither miss a record nor
claim another room's: a record belongs to the room of its home; without a home, to the room it
is in; and one that is nowhere in particular (never placed, on loan, whereabouts unknown) to
every room.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.sql import FromClause

from daemon.store.schema import item_locations, items, locations


@dataclass(frozen=True)
class RoomScope:
    source: FromClause
    """items, with ``item_locations`` and the ``home`` and ``current`` locations joined."""
    where: ColumnElement[bool]
    home: Any
    current: Any


def in_room(room: str) -> RoomScope:
    home = locations.alias("home")
    current = locations.alias("current")
    source = (
        items.outerjoin(home, home.c.id == items.c.home_location_id)
        .outerjoin(item_locations, item_locations.c.item_id == items.c.id)
        .outerjoin(current, current.c.id == item_locations.c.location_id)
    )
    where = or_(
        home.c.room == room,
        and_(
            items.c.home_location_id.is_(None),
            or_(current.c.room == room, current.c.room.is_(None)),
        ),
    )
    return RoomScope(source, where, home, current)
