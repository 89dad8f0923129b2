"""Catalogue records, their tags, whereabouts and history."""

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response, status

from api.auth import Auth
from api.params import RefPath
from api.schemas.items import (
    BindingOut,
    HistoryOut,
    ImportJobOut,
    ImportOut,
    ItemIn,
    ItemOut,
    RowErrorOut,
    TagIn,
    TraceOut,
)
from api.schemas.locations import LocationOut, MoveIn
from daemon.ledger.errors import Conflict, Invalid
from daemon.ledger.items import ItemRecord
from daemon.ledger.movements import move
from daemon.services import Services
from daemon.tokens import Principal, Role

SEES_KEY_FIELDS = frozenset({Role.catalogue, Role.admin})


def router(svc: Services, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["items"])
    reader = auth.require(Role.staff, Role.catalogue)
    writer = auth.require(Role.staff, Role.catalogue)
    staff = auth.require(Role.staff)

    @r.put("/items/{ref}", responses={201: {"model": ItemOut}})
    async def put_item(
        ref: RefPath, body: ItemIn, response: Response, who: Annotated[Principal, Depends(writer)]
    ) -> ItemOut:
        """Create or replace a catalogue record (201 when new, 200 when replaced)."""
        record = ItemRecord.model_validate({**body.model_dump(exclude_unset=True), "ref": ref})
        item, created = await svc.catalogue.put(record, actor=who.name)
        response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return ItemOut.of(item, masked=who.role not in SEES_KEY_FIELDS)

    @r.get("/items/{ref}")
    async def get_item(
        ref: RefPath,
        who: Annotated[Principal, Depends(reader)],
        reason: Annotated[
            str | None,
            Query(
                min_length=3,
                max_length=500,
                description="why the key fields are needed in full (e.g. the case number); "
                "without it they are masked. Each unmasked read is audited with it.",
            ),
        ] = None,
    ) -> ItemOut:
        """A catalogue record. Key fields are masked unless the role needs them and the request
        says why (``?reason=``); such a read is audited: who, which item, why."""
        item = await svc.catalogue.get(ref)
        unmasked = who.role in SEES_KEY_FIELDS and reason is not None and reason.strip() != ""
        if unmasked:
            async with svc.ledger.transaction(who.name) as tx:
                tx.audit("item.key_fields_read", ref, {"reason": reason})
        return ItemOut.of(item, masked=not unmasked)

    @r.post(
        "/items/import",
        status_code=status.HTTP_202_ACCEPTED,
        responses={200: {"model": ImportOut, "description": "with ?wait=true: the report"}},
        openapi_extra={
            "requestBody": {
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/x-ndjson": {"schema": {"type": "string"}},
                },
                "required": True,
            }
        },
    )
    async def import_items(
        request: Request,
        response: Response,
        who: Annotated[Principal, Depends(writer)],
        wait: Annotated[
            bool,
            Query(description="answer 200 with the report once the import is done, not 202"),
        ] = False,
    ) -> ImportJobOut | ImportOut:
        """Bulk load: CSV with a header line, or JSON lines. Good rows load; bad rows are listed.

        The body is spooled to disk as it arrives, then loaded in the background: the answer
        is 202 with the import's id, and ``GET /api/v1/imports/{id}`` tells its progress and
        its report. With ``?wait=true`` the answer waits for the end and is the report (200),
        or 422 when the file as a whole cannot be read (not UTF-8).

        The body may be as large as ``[api] max_import_bytes`` (413 beyond, as soon as the
        excess arrives) and must arrive within ``[api] import_timeout_s`` (else 408)."""
        ctype = request.headers.get("content-type", "")
        fmt: Literal["csv", "jsonl"] | None = (
            "jsonl" if "json" in ctype else "csv" if "csv" in ctype else None
        )
        job = await svc.imports.receive(request.stream(), actor=who.name, fmt=fmt)
        response.headers["Location"] = f"/api/v1/imports/{job.id}"
        if not wait:
            return ImportJobOut.of(job)
        await job.finished.wait()
        if job.state == "failed":
            raise Invalid(job.detail)
        response.status_code = status.HTTP_200_OK
        return ImportOut(
            loaded=job.report.loaded,
            error_count=job.report.error_count,
            errors=[RowErrorOut.from_domain(e) for e in job.report.errors],
        )

    @r.get("/imports/{import_id}")
    async def import_progress(
        import_id: Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")],
        _who: Annotated[Principal, Depends(writer)],
    ) -> ImportJobOut:
        """An import's state (``queued``, ``running``, ``done``, ``failed``), how far it has
        read, what it has loaded and the bad rows so far."""
        return ImportJobOut.of(svc.imports.get(import_id))

    @r.get("/items/{ref}/location")
    async def item_location(
        ref: RefPath, who: Annotated[Principal, Depends(reader)]
    ) -> LocationOut:
        """Current location, since when, by which source, and the open loan if any (404 for an
        item of another room, unless the token is bureau-scope)."""
        where = await svc.whereabouts.locate_one(ref, room=who.room_filter(svc.config.room))
        return LocationOut.of(where)

    @r.get("/items/{ref}/history")
    async def item_history(ref: RefPath, _who: Annotated[Principal, Depends(reader)]) -> HistoryOut:
        """Movements, gate passages, loans, stacker jobs and audit entries, oldest first."""
        entries = await svc.whereabouts.history(ref)
        return HistoryOut(ref=ref, entries=[TraceOut.from_domain(e) for e in entries])

    @r.post("/items/{ref}/move")
    async def manual_move(
        ref: RefPath, body: MoveIn, who: Annotated[Principal, Depends(staff)]
    ) -> LocationOut:
        """Record that a person moved the item (movement source ``manual``)."""
        async with svc.ledger.transaction(who.name) as tx:
            item_id = await svc.catalogue.item_id(tx.conn, ref)
            location_id = await svc.locations.id_of(tx.conn, body.to)
            moved = await move(
                tx,
                item_id=item_id,
                ref=ref,
                to_location_id=location_id,
                to_code=body.to,
                source="manual",
                room=svc.config.room,
                details={"note": body.note} if body.note else None,
            )
            if moved is None:
                raise Conflict(f"{ref} is already at {body.to}")
        return LocationOut.of(await svc.whereabouts.locate_one(ref))

    @r.post("/items/{ref}/tag", status_code=status.HTTP_201_CREATED)
    async def bind_tag(
        ref: RefPath, who: Annotated[Principal, Depends(staff)], body: Annotated[TagIn, Body()]
    ) -> BindingOut:
        """Bind a tag by EPC, or encode a new GIAI-96 EPC on the tag lying on a desk reader."""
        if body.encode:
            if body.epc is not None:
                raise Invalid("give either an epc or encode=true with a reader, not both")
            if body.reader is None:
                raise Invalid("encode=true needs the desk reader id in 'reader'")
            return BindingOut.from_domain(
                await svc.desk.encode_and_bind(ref, body.reader, actor=who.name)
            )
        if body.epc is None:
            raise Invalid("give the tag's epc, or encode=true with a desk reader")
        return BindingOut.from_domain(await svc.tags.bind(ref, body.epc, actor=who.name))

    @r.delete("/items/{ref}/tag")
    async def retire_tag(ref: RefPath, who: Annotated[Principal, Depends(staff)]) -> BindingOut:
        """Retire the item's active tag; the binding stays in the history."""
        return BindingOut.from_domain(await svc.tags.retire(ref, actor=who.name))

    return r
