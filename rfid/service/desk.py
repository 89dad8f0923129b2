"""Tag commissioning at the desk: encode an item's GIAI-96 EPC onto the tag lying on the reader.

The flow staff expect from a desk encoder: put exactly one new tag on the desk antenna, ask
for it to be encoded for an item; the reader inventories (zero or several tags is refused, in
words), writes the EPC, inventories again to verify that the tag now answers with it, and only
then is the tag bound to the item, which moves to the desk.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from daemon.ledger.errors import Conflict, NotFound
from daemon.ledger.locations import Locations
from daemon.ledger.movements import move
from daemon.ledger.tags import Binding, Tags
from daemon.ledger.uow import Ledger
from daemon.store.schema import items
from drivers.uhfreader18 import Uhfreader18Error
from drivers.uhfreader18_client import ReaderUnavailableError, Uhfreader18Poller


@dataclass(eq=False)
class DeskEncoder:
    readers: dict[str, Uhfreader18Poller]
    tags: Tags
    ledger: Ledger
    locations: Locations

    async def _single_tag(self, reader: Uhfreader18Poller, reader_id: str) -> str:
        epcs = sorted({r.epc for r in await reader.inventory()})
        if not epcs:
            raise Conflict(f"no tag on desk reader {reader_id}: place one tag on the antenna")
        if len(epcs) > 1:
            raise Conflict(
                f"{len(epcs)} tags on desk reader {reader_id}: leave exactly one on the antenna"
            )
        return epcs[0]

    async def encode_and_bind(self, ref: str, reader_id: str, *, actor: str) -> Binding:
        reader = self.readers.get(reader_id)
        if reader is None:
            raise NotFound(f"no desk reader {reader_id!r} in this room")
        epc = await self.tags.new_epc_for(ref)
        try:
            current = await self._single_tag(reader, reader_id)
            if current != epc:
                await reader.write_epc(epc)
                written = await self._single_tag(reader, reader_id)
                if written != epc:
                    raise Conflict(
                        f"verification failed: the tag answers {written}, not {epc}; try again"
                    )
        except ReaderUnavailableError:
            raise Conflict(f"desk reader {reader_id} is offline") from None
        except Uhfreader18Error as e:
            raise Conflict(f"desk reader {reader_id}: {e}") from None
        binding = await self.tags.bind(ref, epc, actor=actor)
        desk = f"{self.ledger.room}-desk"
        async with self.ledger.transaction(actor) as tx:
            item_id = await tx.conn.scalar(select(items.c.id).where(items.c.ref == ref))
            if item_id is not None:
                await move(
                    tx,
                    item_id=int(item_id),
                    ref=ref,
                    to_location_id=await self.locations.id_of(tx.conn, desk),
                    to_code=desk,
                    source="desk",
                    room=self.ledger.room,
                    epc=epc,
                )
        return binding
