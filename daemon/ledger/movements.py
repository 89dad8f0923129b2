"""Movements: the append-only story of where each item has been.

A movement is (item, from, to, at, source). The item's current location is the ``to`` of its
latest movement; ``item_locations`` keeps that answer ready and is written by the same
transaction as the movement, so the two never disagree. Sources: ``shelf-read`` (the shelf
engine settled a tag on a shelf), ``gate`` (a passage), ``stacker`` (a finished job),
``desk`` (check-out/return/tagging at the desk), ``manual`` (a person said so through the API).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select, update

from daemon.events import LocationChanged
from daemon.ledger.uow import Tx
from daemon.store.schema import item_locations, locations, movements

Source = Literal["shelf-read", "gate", "stacker", "desk", "manual"]
SOURCES: tuple[Source, ...] = ("shelf-read", "gate", "stacker", "desk", "manual")


@dataclass(frozen=True, slots=True)
class Moved:
    movement_id: int
    from_code: str | None
    to_code: str


async def move(
    tx: Tx,
    *,
    item_id: int,
    ref: str,
    to_location_id: int,
    to_code: str,
    source: Source,
    room: str,
    epc: str | None = None,
    at_us: int | None = None,
    details: dict[str, object] | None = None,
) -> Moved | None:
    """Record a movement unless the item is already there; returns what happened."""
    at = at_us if at_us is not None else tx.at_us
    current = (
        await tx.conn.execute(
            select(item_locations.c.location_id, locations.c.code)
            .select_from(
                item_locations.join(locations, locations.c.id == item_locations.c.location_id)
            )
            .where(item_locations.c.item_id == item_id)
        )
    ).first()
    if current is not None and current.location_id == to_location_id:
        return None
    from_id = current.location_id if current is not None else None
    from_code = current.code if current is not None else None
    movement_id = await tx.insert(
        movements,
        item_id=item_id,
        from_location_id=from_id,
        to_location_id=to_location_id,
        at_us=at,
        source=source,
        room=room,
        actor=tx.actor,
    )
    values = {
        "location_id": to_location_id,
        "since_us": at,
        "source": source,
        "movement_id": movement_id,
    }
    if current is None:
        await tx.conn.execute(item_locations.insert().values(item_id=item_id, **values))
    else:
        await tx.conn.execute(
            update(item_locations).where(item_locations.c.item_id == item_id).values(**values)
        )
    tx.audit(
        "item.moved", ref, {"from": from_code, "to": to_code, "source": source, **(details or {})}
    )
    tx.emit(
        LocationChanged(
            at_us=at, ref=ref, epc=epc, from_location=from_code, to_location=to_code, source=source
        )
    )
    return Moved(movement_id, from_code, to_code)
