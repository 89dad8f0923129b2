"""The catalogue service's copy of each record's key fields, pushed for comparison.

The paper record and the electronic catalogue are kept by different people at different
times, so the personal key fields (resident ID, approval number, social-security number) can
drift apart; the reconciliation lists every record whose fields differ, by field name. The
catalogue service pushes its values here (one record, or up to 10,000 at once); each push
states all three fields, an absent field meaning the catalogue holds none, and replaces the
previous copy. Values are checked like the paper record's (a mistyped ID is refused with 422,
never stored), and they never leave the database except to a role that may see key fields:
audit entries name the fields pushed, not their values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ConfigDict
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from daemon.ledger.errors import NotFound
from daemon.ledger.items import KEY_FIELDS, Ref
from daemon.ledger.keys import ApprovalNo, ResidentId, SocialSecurityNo
from daemon.ledger.uow import Ledger, Tx
from daemon.store.schema import catalogue_copies, items
from drivers.models import StrictModel


class KeyFieldCopy(StrictModel):
    """The catalogue service's values of one record's key fields (null: it holds none)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    resident_id: ResidentId = None
    approval_no: ApprovalNo = None
    social_security_no: SocialSecurityNo = None


class KeyFieldCopyRecord(KeyFieldCopy):
    ref: Ref


class CatalogueCopies:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def put(self, ref: str, copy: KeyFieldCopy, *, actor: str) -> None:
        """Store the catalogue's key fields of ``ref``; NotFound for an uncatalogued ref."""
        async with self.ledger.transaction(actor) as tx:
            known = await tx.conn.scalar(select(items.c.id).where(items.c.ref == ref))
            if known is None:
                raise NotFound(f"no catalogue record with ref {ref!r}")
            await self.upsert(tx, [(ref, copy)])
            tx.audit("catalogue_copy.stored", ref, {"fields_set": _fields_set(copy)})

    async def put_many(
        self, records: Sequence[KeyFieldCopyRecord], *, actor: str
    ) -> tuple[int, list[str]]:
        """Store many copies in one transaction; returns (stored, refs not catalogued)."""
        refs = list(dict.fromkeys(r.ref for r in records))
        async with self.ledger.transaction(actor) as tx:
            known: set[str] = set()
            for i in range(0, len(refs), 1000):
                rows = await tx.conn.execute(
                    select(items.c.ref).where(items.c.ref.in_(refs[i : i + 1000]))
                )
                known.update(rows.scalars())
            latest = {r.ref: r for r in records if r.ref in known}
            if latest:
                await self.upsert(tx, list(latest.items()))
                tx.audit(
                    "catalogue_copy.stored",
                    "catalogue",
                    {"count": len(latest), "refs": sorted(latest)},
                )
        return len(latest), [r for r in refs if r not in known]

    async def upsert(self, tx: Tx, copies: Sequence[tuple[str, KeyFieldCopy]]) -> None:
        """Replace the copies of these refs inside ``tx`` (a ref need not be catalogued yet)."""
        insert = postgresql.insert if tx.conn.dialect.name == "postgresql" else sqlite.insert
        stmt = insert(catalogue_copies)
        stmt = stmt.on_conflict_do_update(
            index_elements=[catalogue_copies.c.ref],
            set_={c: stmt.excluded[c] for c in (*KEY_FIELDS, "updated_us", "updated_by")},
        )
        rows: list[dict[str, Any]] = [
            {
                "ref": ref,
                **copy.model_dump(include=set(KEY_FIELDS)),
                "updated_us": tx.at_us,
                "updated_by": tx.actor,
            }
            for ref, copy in copies
        ]
        await tx.conn.execute(stmt, rows)


def _fields_set(copy: KeyFieldCopy) -> list[str]:
    return [f for f in KEY_FIELDS if getattr(copy, f) is not None]
