"""Where items are: locations, batch lookups, shelf contents, moves and rack definitions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.base import DomainOut, Out, iso
from api.schemas.loans import LoanOut
from daemon.ledger.locations import Location
from daemon.ledger.whereabouts import Place, Whereabouts


class PlaceOut(DomainOut, domain=Place):
    pass


class LocationOut(DomainOut, domain=Whereabouts, rename={"since_us": "since"}):
    location: PlaceOut
    loan: LoanOut | None

    @staticmethod
    def plain(w: Whereabouts) -> dict[str, object]:
        """The same JSON as ``of(w)``, built without model objects: a batch lookup answers for
        ten thousand items, and constructing two models each costs more than the query."""
        return {
            "ref": w.ref,
            "location": {"code": w.location.code, "kind": w.location.kind, "room": w.location.room},
            "since": iso(w.since_us),
            "source": w.source,
            "loan": LoanOut.of(w.loan).model_dump(mode="json") if w.loan else None,
        }

    @classmethod
    def of(cls, w: Whereabouts) -> LocationOut:
        return cls.from_domain(
            w,
            location=PlaceOut.from_domain(w.location),
            loan=LoanOut.of(w.loan) if w.loan else None,
        )


class LookupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refs: list[str] = Field(min_length=1, max_length=10_000)


class LookupOut(Out):
    locations: list[LocationOut]
    not_found: list[str]


class ShelfItemOut(Out):
    ref: str
    location: str


class ShelfOut(Out):
    code: str
    present: list[ShelfItemOut]
    expected_absent: list[ShelfItemOut]


class MoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(min_length=1, max_length=100, description="location code")
    note: str | None = Field(default=None, max_length=500)


class RackIn(BaseModel):
    """A rack's locations from coordinate ranges, e.g. bays "1-20", levels "1-6"."""

    model_config = ConfigDict(extra="forbid")
    rack: str = Field(pattern=r"^[A-Za-z0-9]{1,8}$")
    bays: str | int
    levels: str | int
    sides: list[str] = Field(default_factory=list)


class LocationDefOut(DomainOut, domain=Location, exclude=("id",), rename={"parent_code": "parent"}):
    pass


class RackOut(Out):
    created: int
    codes: list[str]
