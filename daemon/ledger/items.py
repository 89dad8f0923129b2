"""Catalogue records: one row per paper item (a box, or a file inside a box).

An item is identified by its archival reference code (档号, e.g. ``0001-WS·2023-Y-RS-0001``) and
linked to its electronic record by ``record_id``. Records arrive one at a time from the
catalogue service or in bulk (CSV with a header, or JSON lines); a bulk import loads every
good row and reports every bad one with its line number, so one typo does not block a
100,000-row transfer.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from daemon.events import ItemHomeChanged
from daemon.ledger.errors import Invalid, NotFound
from daemon.ledger.keys import (
    ApprovalNo,
    ResidentId,
    SocialSecurityNo,
    blank_is_none,
    mask,
    storable,
)
from daemon.ledger.pairing import Pairing
from daemon.ledger.uow import Ledger, Tx
from daemon.store.schema import items, locations, tags
from drivers.models import StrictModel

REF_PATTERN = r"^[\w][\w·.\-]{0,99}$"
Ref = Annotated[str, Field(pattern=REF_PATTERN, description="archival reference code (档号)")]
Retention = Literal["Y", "D30", "D10"]
Kind = Literal["box", "file"]
KEY_FIELDS = ("resident_id", "approval_no", "social_security_no")


class ItemFields(StrictModel):
    """What the catalogue says about one paper item (docs/design.md §3)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=1000)
    category: str = Field(default="", max_length=100)
    year: int | None = Field(default=None, ge=1000, le=2999)
    retention: Retention
    kind: Kind = "box"
    parent_ref: Ref | None = None
    record_id: str | None = Field(default=None, max_length=200)
    resident_id: ResidentId = None
    approval_no: ApprovalNo = None
    social_security_no: SocialSecurityNo = None
    home_location: str | None = Field(default=None, max_length=100)

    @field_validator("title", "category", "record_id", "home_location")
    @classmethod
    def _storable(cls, v: str | None) -> str | None:
        return storable(v)

    @field_validator("parent_ref", "record_id", "home_location", mode="before")
    @classmethod
    def _blank_is_none(cls, v: object) -> object:
        return blank_is_none(v)

    @model_validator(mode="after")
    def _file_in_box(self) -> ItemFields:
        if self.kind == "box" and self.parent_ref is not None:
            raise ValueError("a box has no parent_ref; only a file sits inside a box")
        return self


class ItemRecord(ItemFields):
    ref: Ref


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    ref: str
    title: str
    category: str
    year: int | None
    retention: str
    kind: str
    parent_ref: str | None
    record_id: str | None
    resident_id: str | None
    approval_no: str | None
    social_security_no: str | None
    home_location: str | None
    epc: str | None
    created_us: int
    updated_us: int

    def masked(self) -> Item:
        return dataclasses.replace(
            self,
            resident_id=mask(self.resident_id),
            approval_no=mask(self.approval_no),
            social_security_no=mask(self.social_security_no),
        )


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    ref: str | None
    error: str


@dataclass
class ImportReport:
    loaded: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    MAX_LISTED = 1000

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < self.MAX_LISTED:
            self.errors.append(error)


def _describe(error: ValidationError) -> str:
    parts = []
    for e in error.errors(include_url=False):
        where = ".".join(str(p) for p in e["loc"])
        msg = str(e["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


def parse_rows(
    data: bytes | str, *, fmt: Literal["csv", "jsonl"] | None = None
) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """Yield (line number, row) or (line number, error text) from CSV-with-header or JSON lines.

    Raises UnicodeDecodeError (before yielding anything) when ``data`` is not UTF-8; any other
    defect of the text is reported against its line and the rows after it are still read.
    """
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    if fmt is None:
        fmt = "jsonl" if text.lstrip().startswith("{") else "csv"
    if fmt == "jsonl":
        yield from json_lines(text.split("\n"))
    else:
        yield from csv_rows(io.StringIO(text, newline=""))


def json_lines(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """JSON lines from ``lines`` split at "\\n" only (U+2028 and friends may sit inside a
    JSON string): a file opened with ``newline="\\n"``, or a text's ``split("\\n")``."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as e:
            yield number, f"not JSON: {e.msg}"
            continue
        except (ValueError, RecursionError):  # a number of thousands of digits; deep nesting
            yield number, "not JSON that can be read: a number too long or nesting too deep"
            continue
        if not isinstance(value, dict):
            yield number, "each line must be a JSON object"
            continue
        yield number, value


def csv_rows(source: Iterable[str]) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """CSV rows with a header from ``source``: a text or a file opened with ``newline=""``."""
    lines = csv.reader(source)
    try:
        header = next(lines, [])
    except csv.Error as e:
        yield lines.line_num, f"the header line cannot be read as CSV: {e}"
        return
    if "ref" not in header:
        yield 1, "the CSV needs a header line naming the columns, including 'ref'"
        return
    while True:
        try:
            values = next(lines)
        except StopIteration:
            return
        except csv.Error as e:  # e.g. a field over the csv module's size limit
            yield lines.line_num, f"not readable as CSV: {e}"
            continue
        if not values:
            continue
        if len(values) > len(header):
            yield lines.line_num, "more values than header columns"
            continue
        row = dict(zip(header, values, strict=False))
        yield lines.line_num, {k: v for k, v in row.items() if v != "" or k == "ref"}


def validate_row(
    number: int,
    row: dict[str, Any] | str,
    pairing: Pairing,
    earlier: Callable[[str], int | None],
) -> ItemRecord | RowError:
    """One parsed row as a record, or the error to report against its line. ``earlier`` gives
    the line where the same ref was already seen in this import, if it was."""
    if isinstance(row, str):
        return RowError(number, None, row)
    try:
        record = ItemRecord.model_validate(row)
    except ValidationError as e:
        ref = row.get("ref")
        return RowError(number, ref if isinstance(ref, str) else None, _describe(e))
    refusal = pairing.refusal(record.category, record.record_id)
    if refusal is not None:
        return RowError(number, record.ref, refusal)
    first = earlier(record.ref)
    if first is not None:
        return RowError(number, record.ref, f"ref repeats line {first}")
    return record


class Catalogue:
    def __init__(self, ledger: Ledger, pairing: Pairing | None = None) -> None:
        self.ledger = ledger
        self.store = ledger.store
        self.pairing = pairing or Pairing()

    # -- reading ------------------------------------------------------------------------------

    @staticmethod
    def _select() -> Any:
        home = locations.alias("home")
        return select(
            items.c.id,
            items.c.ref,
            items.c.title,
            items.c.category,
            items.c.year,
            items.c.retention,
            items.c.kind,
            items.c.parent_ref,
            items.c.record_id,
            items.c.resident_id,
            items.c.approval_no,
            items.c.social_security_no,
            home.c.code.label("home_location"),
            tags.c.epc,
            items.c.created_us,
            items.c.updated_us,
        ).select_from(
            items.outerjoin(home, home.c.id == items.c.home_location_id).outerjoin(
                tags, (tags.c.item_id == items.c.id) & tags.c.retired_us.is_(None)
            )
        )

    async def get(self, ref: str, conn: AsyncConnection | None = None) -> Item:
        if conn is None:
            async with self.store.read() as c:
                return await self.get(ref, c)
        row = (await conn.execute(self._select().where(items.c.ref == ref))).first()
        if row is None:
            raise NotFound(f"no catalogue record with ref {ref!r}")
        return Item(**row._asdict())

    async def item_id(self, conn: AsyncConnection, ref: str) -> int:
        item_id = await conn.scalar(select(items.c.id).where(items.c.ref == ref))
        if item_id is None:
            raise NotFound(f"no catalogue record with ref {ref!r}")
        return int(item_id)

    # -- writing ------------------------------------------------------------------------------

    async def _location_ids(self, conn: AsyncConnection, codes: Iterable[str]) -> dict[str, int]:
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        rows = (
            await conn.execute(
                select(locations.c.code, locations.c.id).where(locations.c.code.in_(wanted))
            )
        ).all()
        return {r.code: r.id for r in rows}

    async def _upsert(self, tx: Tx, rows: Sequence[dict[str, Any]]) -> None:
        """Insert or replace by ref; executemany keeps one compiled statement for any batch."""
        insert = postgresql.insert if tx.conn.dialect.name == "postgresql" else sqlite.insert
        stmt = insert(items)
        updatable = [c for c in rows[0] if c not in ("ref", "created_us")]
        stmt = stmt.on_conflict_do_update(
            index_elements=[items.c.ref], set_={c: stmt.excluded[c] for c in updatable}
        )
        await tx.conn.execute(stmt, list(rows))

    def _row(self, record: ItemRecord, home_id: int | None, at_us: int) -> dict[str, Any]:
        data = record.model_dump(exclude={"home_location"})
        return {**data, "home_location_id": home_id, "created_us": at_us, "updated_us": at_us}

    async def put(self, record: ItemRecord, *, actor: str) -> tuple[Item, bool]:
        """Create or replace one record; returns it and whether it was new."""
        refusal = self.pairing.refusal(record.category, record.record_id)
        if refusal is not None:
            raise Invalid(refusal)
        async with self.ledger.transaction(actor) as tx:
            existed = await tx.conn.scalar(select(items.c.id).where(items.c.ref == record.ref))
            home_id = None
            if record.home_location:
                homes = await self._location_ids(tx.conn, [record.home_location])
                if record.home_location not in homes:
                    raise Invalid(f"home_location: no location with code {record.home_location!r}")
                home_id = homes[record.home_location]
            await self._upsert(tx, [self._row(record, home_id, tx.at_us)])
            changed = sorted(record.model_fields_set - set(KEY_FIELDS))
            tx.audit(
                "item.created" if existed is None else "item.updated",
                record.ref,
                {
                    "fields": changed,
                    "key_fields_set": sorted(set(KEY_FIELDS) & record.model_fields_set),
                },
            )
            item = await self.get(record.ref, tx.conn)
            if "home_location" in record.model_fields_set:
                tx.after_commit(lambda: self.ledger.bus.publish(ItemHomeChanged(record.ref)))
        return item, existed is None

    async def import_rows(
        self, rows: Iterable[tuple[int, dict[str, Any] | str]], *, actor: str, batch: int = 2000
    ) -> ImportReport:
        """Validate every row, load the good ones in batches, report the bad ones by line."""
        report = ImportReport()
        pending: list[tuple[int, ItemRecord]] = []
        seen: dict[str, int] = {}
        for number, row in rows:
            checked = validate_row(number, row, self.pairing, seen.get)
            if isinstance(checked, RowError):
                report.add_error(checked)
                continue
            seen[checked.ref] = number
            pending.append((number, checked))
            if len(pending) >= batch:
                await self.load(pending, report, actor)
                pending = []
        if pending:
            await self.load(pending, report, actor)
        return report

    async def load(
        self, batch: list[tuple[int, ItemRecord]], report: ImportReport, actor: str
    ) -> None:
        async with self.ledger.transaction(actor) as tx:
            homes = await self._location_ids(
                tx.conn, (r.home_location for _, r in batch if r.home_location)
            )
            good: list[dict[str, Any]] = []
            for number, record in batch:
                if record.home_location and record.home_location not in homes:
                    report.add_error(
                        RowError(
                            number,
                            record.ref,
                            f"home_location: no location with code {record.home_location!r}",
                        )
                    )
                    continue
                good.append(self._row(record, homes.get(record.home_location or ""), tx.at_us))
            if not good:
                return
            await self._upsert(tx, good)
            refs = [r["ref"] for r in good]
            tx.audit(
                "item.imported",
                "catalogue",
                {
                    "count": len(refs),
                    "refs": refs,
                    "sha256": hashlib.sha256("\n".join(refs).encode()).hexdigest(),
                },
            )
            report.loaded += len(good)
