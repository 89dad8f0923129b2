"""The electronic records the catalogue service pushes, so paper can be checked against them.

The catalogue service (the electronic archive system) states each of its records once it
exists: its id, the reference code of its paper original when it has one, title and category,
and optionally the key fields. A record whose paper original is not catalogued here yet is
stored all the same: that is exactly the case reconciliation must be able to report
(``no_paper_original``). Key fields given with a record become the catalogue's copy for its
reference code, compared by reconciliation with the paper record's (``key_field_mismatch``);
they are never stored twice and, like every key field, never reach the audit or a log by value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, field_validator
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from daemon.ledger.errors import NotFound
from daemon.ledger.items import KEY_FIELDS, Ref
from daemon.ledger.uow import Ledger, Tx
from daemon.reconcile.copies import CatalogueCopies, KeyFieldCopy
from daemon.store.schema import catalogue_records, items

RECORD_ID_PATTERN = r"^[\w][\w·.:\-]{0,199}$"
RecordId = Annotated[
    str,
    Field(pattern=RECORD_ID_PATTERN, description="the record's id in the electronic catalogue"),
]


_REPLACED = ("ref", "title", "category", "updated_us", "updated_by")


class CatalogueRecordIn(KeyFieldCopy):
    """One electronic record as the catalogue service states it."""

    ref: Ref | None = None
    """Reference code (档号) of its paper original, when it has one."""
    title: str = Field(default="", max_length=1000)
    category: str = Field(default="", max_length=100)

    @field_validator("title", "category")
    @classmethod
    def _storable(cls, v: str) -> str:
        if "\x00" in v:
            raise ValueError("holds a NUL character, which cannot be stored")
        return v

    @field_validator("ref", mode="before")
    @classmethod
    def _blank_ref_is_none(cls, v: object) -> object:
        return None if v == "" else v

    def key_fields_given(self) -> bool:
        return bool(set(KEY_FIELDS) & self.model_fields_set)


class CatalogueRecordEntry(CatalogueRecordIn):
    record_id: RecordId


@dataclass(frozen=True, slots=True)
class CatalogueRecord:
    record_id: str
    ref: str | None
    title: str
    category: str
    updated_us: int
    updated_by: str
    paper_refs: tuple[str, ...]
    """The catalogued paper items that name this record."""


class CatalogueRecords:
    def __init__(self, ledger: Ledger, copies: CatalogueCopies) -> None:
        self.ledger = ledger
        self.copies = copies

    async def put(
        self, record_id: str, record: CatalogueRecordIn, *, actor: str
    ) -> tuple[CatalogueRecord, bool]:
        """Store (or replace) one record; returns it and whether it was new."""
        async with self.ledger.transaction(actor) as tx:
            existed = await tx.conn.scalar(
                select(catalogue_records.c.record_id).where(
                    catalogue_records.c.record_id == record_id
                )
            )
            await self._store(tx, [(record_id, record)])
            tx.audit(
                "catalogue_record.stored",
                f"record:{record_id}",
                {
                    "ref": record.ref,
                    "category": record.category,
                    "key_fields_set": sorted(set(KEY_FIELDS) & record.model_fields_set),
                },
            )
            stored = await self._get(tx.conn, record_id)
        return stored, existed is None

    async def put_many(self, records: Sequence[CatalogueRecordEntry], *, actor: str) -> int:
        """Store many records in one transaction (the last of a repeated id wins)."""
        latest = {r.record_id: r for r in records}
        async with self.ledger.transaction(actor) as tx:
            await self._store(tx, list(latest.items()))
            tx.audit(
                "catalogue_record.stored_batch",
                "catalogue",
                {"count": len(latest), "record_ids": sorted(latest)},
            )
        return len(latest)

    async def get(self, record_id: str) -> CatalogueRecord:
        async with self.ledger.store.read() as conn:
            return await self._get(conn, record_id)

    async def _get(self, conn: AsyncConnection, record_id: str) -> CatalogueRecord:
        row = (
            await conn.execute(
                select(catalogue_records).where(catalogue_records.c.record_id == record_id)
            )
        ).one_or_none()
        if row is None:
            raise NotFound(f"no electronic record {record_id!r} has been pushed")
        refs = (
            await conn.execute(
                select(items.c.ref).where(items.c.record_id == record_id).order_by(items.c.ref)
            )
        ).scalars()
        return CatalogueRecord(
            row.record_id,
            row.ref,
            row.title,
            row.category,
            row.updated_us,
            row.updated_by,
            tuple(refs),
        )

    async def _store(self, tx: Tx, records: Sequence[tuple[str, CatalogueRecordIn]]) -> None:
        insert = postgresql.insert if tx.conn.dialect.name == "postgresql" else sqlite.insert
        stmt = insert(catalogue_records)
        stmt = stmt.on_conflict_do_update(
            index_elements=[catalogue_records.c.record_id],
            set_={c: stmt.excluded[c] for c in _REPLACED},
        )
        rows: list[dict[str, Any]] = [
            {
                "record_id": record_id,
                "ref": r.ref,
                "title": r.title,
                "category": r.category,
                "updated_us": tx.at_us,
                "updated_by": tx.actor,
            }
            for record_id, r in records
        ]
        for i in range(0, len(rows), 1000):
            await tx.conn.execute(stmt, rows[i : i + 1000])
        copies = {r.ref: r for _, r in records if r.ref is not None and r.key_fields_given()}
        if copies:
            await self.copies.upsert(tx, list(copies.items()))
