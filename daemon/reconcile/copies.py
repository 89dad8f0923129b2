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

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from daemon.ledger.errors import NotFound
from daemon.ledger.items import KEY_FIELDS, Ref
from daemon.ledger.keys import check_resident_id, check_social_security_no
from daemon.ledger.uow import Ledger, Tx
from daemon.store.schema import catalogue_copies, items


class KeyFieldCopy(BaseModel):
    """The catalogue service's values of one record's key fields (null: it holds none)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    resident_id: str | None = Field(default=None, max_length=18)
    approval_no: str | None = Field(default=None, max_length=100)
    social_security_no: str | None = Field(default=None, max_length=100)

    @field_validator("resident_id")
    @classmethod
    def _resident_id(cls, v: str | None) -> str | None:
        return check_resident_id(v.upper()) if v else None

    @field_validator("social_security_no")
    @classmethod
    def _social_security_no(cls, v: str | None) -> str | None:
        return check_social_security_no(v.upper()) if v else None

    @field_validator("approval_no", mode="before")
    @classmethod
    def _blank_is_none(cls, v: object) -> object:
        return None if v == "" else v


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
