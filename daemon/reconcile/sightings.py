"""Tags that settled on a shelf but belong to no record: kept so a reconciliation can list them.

Shelf reads never reach the database, and the shelf engine forgets a stranger once no antenna
hears it, so without this table a tag nobody catalogued would leave no trace by the time the
reconciliation runs (possibly from the command line, with the daemon's memory out of reach).
One row per (room, EPC): where it last settled and when it was first and last seen settling.
Whether the EPC is still unknown is decided at reconciliation time, against the active tag
bindings, so a tag bound to its record afterwards drops out of the next run by itself.
"""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from daemon.ledger.uow import Tx
from daemon.store.schema import tag_sightings


async def record_sighting(
    tx: Tx, *, room: str, epc: str, location_id: int, location: str, at_us: int
) -> None:
    """Remember that ``epc`` (bound to no record) settled at ``location`` (inside ``tx``)."""
    insert = postgresql.insert if tx.conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(tag_sightings).values(
        room=room, epc=epc, location_id=location_id, first_us=at_us, last_us=at_us
    )
    await tx.conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[tag_sightings.c.room, tag_sightings.c.epc],
            set_={"location_id": stmt.excluded.location_id, "last_us": stmt.excluded.last_us},
        )
    )
    tx.audit("tag.unknown_seen", f"epc:{epc}", {"epc": epc, "location": location})
