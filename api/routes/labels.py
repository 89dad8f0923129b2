"""Printing labels: ``GET /api/v1/items/{ref}/label`` and ``POST /api/v1/labels``.

The GET only reads: a PDF label of any item, or the ZPL of an item that has a 96-bit EPC.
``POST /api/v1/labels`` prints many at once (an A4 sheet PDF, or one ZPL stream) and, for
ZPL, first binds a GIAI-96 EPC to every listed item that has no tag yet, as the desk encoder
does: the EPC follows from the company prefix and the item's serial number, and each binding
goes through ``Tags.bind`` (audit entry ``tag.bound``, the ``tag.bound`` event for MQTT, the
console and the stacker). So printing again writes the same EPC, and a spoiled label costs
nothing but the label; if one item fails (tagged meanwhile), those bound before it stay
bound and a retry skips them. PDF labels bind nothing: paper carries no tag. Rendering runs
in a worker thread, so the event loop keeps serving; it costs about 25 ms of CPU per PDF label
(most of it choosing the QR code's mask), hence at most ``MAX_LABELS`` per request.
"""

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.auth import Auth
from api.exports import attachment
from api.params import RefPath
from daemon.labels.content import Label
from daemon.labels.pdf import label_pdf, sheet_pdf
from daemon.labels.zpl import ZplError, is_epc96, label_zpl, labels_zpl
from daemon.ledger.errors import Conflict, Invalid
from daemon.ledger.items import Ref
from daemon.ledger.tags import giai96
from daemon.services import Services
from daemon.tokens import Principal, Role

MAX_LABELS = 200
Format = Literal["pdf", "zpl"]
ZPL_TYPE = "application/vnd.zebra-zpl"


class LabelsIn(BaseModel):
    refs: list[Ref] = Field(min_length=1, max_length=MAX_LABELS)
    """Items to label, in the order they are printed (a reference listed twice prints twice)."""
    format: Format = "pdf"
    """``pdf``: A4 sheets of eight labels; ``zpl``: one RFID label format per item."""


def _file(body: bytes | str, fmt: Format, name: str) -> Response:
    kind = "application/pdf" if fmt == "pdf" else f"{ZPL_TYPE}; charset=utf-8"
    return Response(
        body,
        media_type=kind,
        headers=attachment(f"{name}.{fmt}"),
    )


def _file_name(ref: str) -> str:
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-.") else "_" for c in ref)
    return f"label-{safe}"


def router(svc: Services, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["labels"])
    reader = auth.require(Role.staff, Role.catalogue)
    staff = auth.require(Role.staff)

    @r.get(
        "/items/{ref}/label",
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}, ZPL_TYPE: {}}}},
    )
    async def item_label(
        ref: RefPath,
        _who: Annotated[Principal, Depends(reader)],
        format: Annotated[Format, Query(description="pdf or zpl")] = "pdf",
    ) -> Response:
        """One label: a label-sized PDF page, or ZPL that also encodes the item's RFID tag
        (409 when the item has no tag yet: ``POST /api/v1/labels`` binds one; 422 when its
        EPC is not 96 bits long)."""
        label = Label.of(await svc.catalogue.get(ref))
        if format == "zpl":
            if label.epc is None:
                raise Conflict(
                    f"{ref} has no tag yet: POST /api/v1/labels binds its GIAI-96 EPC and "
                    "gives the ZPL"
                )
            try:
                return _file(label_zpl(label), "zpl", _file_name(ref))
            except ZplError as e:
                raise Invalid(str(e)) from None
        return _file(await asyncio.to_thread(label_pdf, label), "pdf", _file_name(ref))

    @r.post(
        "/labels",
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}, ZPL_TYPE: {}}}},
    )
    async def print_labels(body: LabelsIn, who: Annotated[Principal, Depends(staff)]) -> Response:
        """Labels for many items: A4 sheets of eight (PDF) or a ZPL stream; ZPL binds a
        GIAI-96 EPC to each item without a tag first."""
        items = {ref: await svc.catalogue.get(ref) for ref in dict.fromkeys(body.refs)}
        bound: dict[str, str] = {}
        if body.format == "zpl":
            unusable = [r for r, item in items.items() if item.epc and not is_epc96(item.epc)]
            if unusable:
                raise Invalid(
                    f"an RFID label needs a 96-bit EPC; retire the tags of {', '.join(unusable)} "
                    "first (nothing was bound)"
                )
            for ref, item in items.items():
                if item.epc is None:
                    epc = giai96(svc.tags.company_prefix, item.id)
                    bound[ref] = (await svc.tags.bind(ref, epc, actor=who.name)).epc
        labels = [Label.of(items[ref], bound.get(ref)) for ref in body.refs]
        name = "labels" if len(items) > 1 else _file_name(body.refs[0])
        if body.format == "zpl":
            try:
                return _file(labels_zpl(labels), "zpl", name)
            except ZplError as e:
                raise Invalid(str(e)) from None
        pdf = await asyncio.to_thread(sheet_pdf, labels)
        return _file(pdf, "pdf", name)

    return r
