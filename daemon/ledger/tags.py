"""Tags: which EPC stands for which paper item, now and in the past.

One active tag per item and one item per active tag (two partial unique indexes enforce it,
so concurrent binds cannot both win). New tags are GS1 GIAI-96: the item is an individual asset
of the archive, identified by the configured company prefix and the item's serial number in
the catalogue; ``epcpy`` does the GS1 Tag Data Standard encoding. Tags that already carry
another EPC (a factory EPC, another scheme) may be bound as they are. Retiring a tag keeps its
binding row, so the history of an EPC survives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from epcpy.epc_schemes.giai import GIAI, GIAIFilterValue
from epcpy.utils.common import ConvertException
from epcpy.utils.parsers import hex_to_tag_encodable
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from daemon.events import TagBound, TagRetired
from daemon.ledger.errors import Conflict, Invalid, NotFound
from daemon.ledger.uow import Ledger
from daemon.store.schema import items, tags

EPC_HEX = re.compile(r"^[0-9A-F]{8,64}$")


def normalise_epc(epc: str) -> str:
    value = epc.strip().replace(" ", "").replace("-", "").upper()
    if not EPC_HEX.fullmatch(value) or len(value) % 4:
        raise Invalid(f"EPC must be hexadecimal, a multiple of 16 bits, 32-256 bits long: {epc!r}")
    return value


def giai96(company_prefix: str, serial: int) -> str:
    """The GIAI-96 EPC (hex) of asset ``serial`` under ``company_prefix``."""
    giai = GIAI(f"urn:epc:id:giai:{company_prefix}.{serial}")
    return str(
        giai.hex(
            binary_coding_scheme=GIAI.BinaryCodingScheme.GIAI_96,
            filter_value=GIAIFilterValue.ALL_OTHERS,
        )
    ).upper()


def epc_uri(epc: str) -> str:
    """Pure-identity URI of a GS1 EPC, else the raw hex URI (EPC Tag Data Standard §6)."""
    try:
        return str(hex_to_tag_encodable(epc).epc_uri)
    except (ConvertException, ValueError, KeyError, IndexError):
        return f"urn:epc:raw:{len(epc) * 4}.x{epc}"


def scheme_of(epc: str) -> str:
    try:
        return type(hex_to_tag_encodable(epc)).__name__.lower()
    except (ConvertException, ValueError, KeyError, IndexError):
        return "foreign"


@dataclass(frozen=True, slots=True)
class Binding:
    epc: str
    ref: str
    scheme: str
    uri: str
    bound_us: int
    bound_by: str
    retired_us: int | None
    retired_by: str | None


class Tags:
    def __init__(self, ledger: Ledger, company_prefix: str) -> None:
        self.ledger = ledger
        self.company_prefix = company_prefix

    async def new_epc_for(self, ref: str) -> str:
        item_id = await self.ledger.store.scalar(select(items.c.id).where(items.c.ref == ref))
        if item_id is None:
            raise NotFound(f"no catalogue record with ref {ref!r}")
        return giai96(self.company_prefix, int(item_id))

    async def bind(self, ref: str, epc: str, *, actor: str) -> Binding:
        epc = normalise_epc(epc)
        try:
            async with self.ledger.transaction(actor) as tx:
                item_id = await tx.conn.scalar(select(items.c.id).where(items.c.ref == ref))
                if item_id is None:
                    raise NotFound(f"no catalogue record with ref {ref!r}")
                current = await tx.conn.scalar(
                    select(tags.c.epc).where(tags.c.item_id == item_id, tags.c.retired_us.is_(None))
                )
                if current is not None:
                    raise Conflict(f"{ref} already has active tag {current}; retire it first")
                holder = await tx.conn.scalar(
                    select(items.c.ref)
                    .select_from(tags.join(items, items.c.id == tags.c.item_id))
                    .where(tags.c.epc == epc, tags.c.retired_us.is_(None))
                )
                if holder is not None:
                    raise Conflict(f"tag {epc} is already bound to {holder}")
                scheme = scheme_of(epc)
                await tx.conn.execute(
                    tags.insert().values(
                        epc=epc, item_id=item_id, scheme=scheme, bound_us=tx.at_us, bound_by=actor
                    )
                )
                tx.audit("tag.bound", ref, {"epc": epc, "scheme": scheme})
                tx.emit(TagBound(at_us=tx.at_us, ref=ref, epc=epc, previous_epc=None))
                at = tx.at_us
        except IntegrityError:
            raise Conflict(f"tag {epc} or item {ref} was bound concurrently; try again") from None
        return Binding(epc, ref, scheme, epc_uri(epc), at, actor, None, None)

    async def bind_new(self, refs: list[str], *, actor: str) -> dict[str, str]:
        """Bind a new GIAI-96 EPC to each of ``refs`` that has no active tag (a tagging batch).

        One transaction and one audit entry listing every (ref, EPC) pair; no ``tag.bound``
        event per item, as a batch is a set-up step (the EPCs are in the audit entry).
        Returns ref -> EPC for the items that were tagged.
        """
        bound: dict[str, str] = {}
        async with self.ledger.transaction(actor) as tx:
            rows = (
                await tx.conn.execute(
                    select(items.c.id, items.c.ref)
                    .outerjoin(tags, (tags.c.item_id == items.c.id) & tags.c.retired_us.is_(None))
                    .where(items.c.ref.in_(refs), tags.c.id.is_(None))
                )
            ).all()
            values = []
            for r in rows:
                epc = giai96(self.company_prefix, int(r.id))
                bound[r.ref] = epc
                values.append(
                    {
                        "epc": epc,
                        "item_id": r.id,
                        "scheme": "giai",
                        "bound_us": tx.at_us,
                        "bound_by": actor,
                    }
                )
            if values:
                await tx.conn.execute(tags.insert(), values)
                tx.audit(
                    "tag.bound_batch",
                    "tags",
                    {"count": len(values), "bindings": sorted(bound.items())},
                )
        return bound

    async def retire(self, ref: str, *, actor: str) -> Binding:
        async with self.ledger.transaction(actor) as tx:
            row = (
                await tx.conn.execute(
                    select(tags.c.id, tags.c.epc, tags.c.scheme, tags.c.bound_us, tags.c.bound_by)
                    .select_from(tags.join(items, items.c.id == tags.c.item_id))
                    .where(items.c.ref == ref, tags.c.retired_us.is_(None))
                )
            ).first()
            if row is None:
                raise NotFound(f"{ref} has no active tag")
            await tx.conn.execute(
                update(tags)
                .where(tags.c.id == row.id)
                .values(retired_us=tx.at_us, retired_by=actor)
            )
            tx.audit("tag.retired", ref, {"epc": row.epc})
            tx.after_commit(lambda: self.ledger.bus.publish(TagRetired(ref, row.epc)))
            return Binding(
                row.epc,
                ref,
                row.scheme,
                epc_uri(row.epc),
                row.bound_us,
                row.bound_by,
                tx.at_us,
                actor,
            )

    async def resolve(self, epc: str) -> tuple[Binding | None, list[Binding]]:
        """The active binding of ``epc`` (if any) and all its bindings, newest first."""
        epc = normalise_epc(epc)
        rows = await self.ledger.store.all(
            select(
                tags.c.epc,
                items.c.ref,
                tags.c.scheme,
                tags.c.bound_us,
                tags.c.bound_by,
                tags.c.retired_us,
                tags.c.retired_by,
            )
            .select_from(tags.join(items, items.c.id == tags.c.item_id))
            .where(tags.c.epc == epc)
            .order_by(tags.c.id.desc())
        )
        bindings = [
            Binding(
                r.epc,
                r.ref,
                r.scheme,
                epc_uri(r.epc),
                r.bound_us,
                r.bound_by,
                r.retired_us,
                r.retired_by,
            )
            for r in rows
        ]
        active = next((b for b in bindings if b.retired_us is None), None)
        return active, bindings
