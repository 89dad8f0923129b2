"""Bodies of the few API routes the console adds: who am I, find an item, open the live feed."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.console.search import Hit
from api.schemas.base import DomainOut
from api.schemas.locations import PlaceOut
from daemon.tokens import Role, Scope


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeskReaderOut(_Out):
    id: str
    online: bool


class SessionOut(_Out):
    """The token's holder and what this room offers, so a client can shape itself."""

    name: str
    role: Role
    scope: Scope
    """``room``: lookups and search answer for this room; ``bureau``: for every room."""
    console: bool
    site: str
    room: str
    desk_readers: list[DeskReaderOut]
    stacker: bool
    climate: bool


class SearchHitOut(DomainOut, domain=Hit):
    matched: str
    location: PlaceOut
    on_loan: bool


class TicketOut(_Out):
    ticket: str
    expires_in_s: float
    stream: str


class SignInIn(BaseModel):
    """A person's user name and password (and one-time code), or a shared desk's token."""

    model_config = ConfigDict(extra="forbid")

    user: str | None = Field(default=None, min_length=1, max_length=100)
    password: str | None = Field(default=None, min_length=1, max_length=1024)
    code: str | None = Field(default=None, max_length=10, description="TOTP code (RFC 6238)")
    token: str | None = Field(default=None, min_length=1, max_length=200)


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current: str = Field(min_length=1, max_length=1024)
    new: str = Field(min_length=1, max_length=1024)
