"""The catalogue service's side: its electronic records pushed here, and the change feed it
follows (docs/api.md, "Keeping the catalogue in step")."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from api.auth import Auth
from api.schemas.catalogue import (
    CatalogueRecordBody,
    CatalogueRecordOut,
    CatalogueRecordsIn,
    CatalogueRecordsOut,
    ChangesOut,
    CursorOut,
)
from daemon.ledger.changes import START, Cursor, head_cursor, read_changes
from daemon.reconcile.copies import CatalogueCopies
from daemon.reconcile.records import RECORD_ID_PATTERN, CatalogueRecords
from daemon.services import Services
from daemon.tokens import Principal, Role

RecordIdPath = Annotated[
    str, Path(pattern=RECORD_ID_PATTERN, description="the record's id in the electronic catalogue")
]


def router(svc: Services, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["catalogue service"])
    catalogue = auth.require(Role.catalogue)
    reader = auth.require(Role.staff, Role.catalogue)
    follower = auth.require(Role.catalogue, Role.admin)
    records = CatalogueRecords(svc.ledger, CatalogueCopies(svc.ledger))

    @r.put("/catalogue-records/{record_id}", responses={201: {"model": CatalogueRecordOut}})
    async def put_record(
        record_id: RecordIdPath,
        body: CatalogueRecordBody,
        response: Response,
        who: Annotated[Principal, Depends(catalogue)],
    ) -> CatalogueRecordOut:
        """Store an electronic record (201 when new, 200 when replaced). Its paper original
        need not be catalogued yet: reconciliation reports it as ``no_paper_original`` when its
        category is kept on paper. Key fields given here become the catalogue's copy for
        ``ref``, compared with the paper record's."""
        stored, created = await records.put(record_id, body, actor=who.name)
        response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return CatalogueRecordOut.of(stored)

    @r.post("/catalogue-records")
    async def put_records(
        body: CatalogueRecordsIn, who: Annotated[Principal, Depends(catalogue)]
    ) -> CatalogueRecordsOut:
        """Up to 10,000 records at once, in one transaction."""
        return CatalogueRecordsOut(stored=await records.put_many(body.records, actor=who.name))

    @r.get("/catalogue-records/{record_id}")
    async def get_record(
        record_id: RecordIdPath, _who: Annotated[Principal, Depends(reader)]
    ) -> CatalogueRecordOut:
        """An electronic record as pushed, with the paper items that name it."""
        return CatalogueRecordOut.of(await records.get(record_id))

    @r.get("/changes")
    async def changes(
        _who: Annotated[Principal, Depends(follower)],
        since: Annotated[str | None, Query(max_length=60)] = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
        room: Annotated[str | None, Query(max_length=32)] = None,
    ) -> ChangesOut:
        """Changes to items, tags, locations, passages and loans in commit order, after
        ``since`` (from the beginning without it). Store ``next`` and pass it back."""
        cursor = START if since is None else Cursor.decode(since)
        return ChangesOut.of(await read_changes(svc.store, cursor, limit=limit, room=room))

    @r.get("/changes/head")
    async def changes_head(_who: Annotated[Principal, Depends(follower)]) -> CursorOut:
        """The cursor after everything committed now: start here to follow only new changes."""
        return CursorOut(cursor=await head_cursor(svc.store))

    return r
