"""Bodies of the few API routes the console adds: who am I, find an item, open the live feed."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from api.schemas import PlaceOut
from daemon.tokens import Role


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeskReaderOut(_Out):
    id: str
    online: bool


class SessionOut(_Out):
    """The token's holder and what this room offers, so a client can shape itself."""

    name: str
    role: Role
    console: bool
    site: str
    room: str
    desk_readers: list[DeskReaderOut]
    stacker: bool
    climate: bool


class SearchHitOut(_Out):
    ref: str
    title: str
    kind: str
    year: int | None
    epc: str | None
    matched: str
    location: PlaceOut
    on_loan: bool


class TicketOut(_Out):
    ticket: str
    expires_in_s: float
    stream: str
