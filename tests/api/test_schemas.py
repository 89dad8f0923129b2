"""Response models built from the domain types: a domain field shows up in the API by itself."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

from api.schemas.alarms import AlarmOut
from api.schemas.audit import AuditEntryOut
from api.schemas.base import DomainOut
from api.schemas.items import ItemOut
from api.schemas.loans import LoanOut
from api.schemas.locations import LocationOut
from api.schemas.reconciliation import RunOut
from api.schemas.stacker import StackerOut
from daemon.audit import AuditEntry
from daemon.ledger.alarms import Alarm
from daemon.ledger.items import Item
from daemon.ledger.loans import Loan
from daemon.ledger.whereabouts import Place, Whereabouts
from daemon.reconcile.runs import Run
from stacker.service.controller import StackerStatus

T0 = 1_700_000_000_123_456  # 2023-11-14T22:13:20.123456Z


@dataclass(frozen=True)
class Shipment:
    id: int
    label: str
    weight_kg: float | None
    sent_us: int
    received_us: int | None
    at_us: int
    checked_by: str

    @property
    def delivered(self) -> bool:
        return self.received_us is not None


class ShipmentOut(DomainOut, domain=Shipment, exclude=("id",), rename={"checked_by": "inspector"}):
    label: str | None
    delivered: bool
    url: str


def shipment(**changes: object) -> Shipment:
    base = Shipment(1, "crate", 2.5, T0, None, T0 + 1_000, "Wang")
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_fields_come_from_the_domain_type_in_its_order_then_the_api_only_ones() -> None:
    assert list(ShipmentOut.model_fields) == [
        "label",
        "weight_kg",
        "sent_at",
        "received_at",
        "at",
        "inspector",
        "delivered",
        "url",
    ]


def test_microsecond_times_become_iso_strings_and_properties_are_read() -> None:
    out = ShipmentOut.from_domain(shipment(), url="/s/1")

    assert out.model_dump(mode="json") == {
        "label": "crate",
        "weight_kg": 2.5,
        "sent_at": "2023-11-14T22:13:20.123Z",
        "received_at": None,
        "at": "2023-11-14T22:13:20.124Z",
        "inspector": "Wang",
        "delivered": False,
        "url": "/s/1",
    }
    assert ShipmentOut.from_domain(shipment(received_us=T0), url="").model_dump()["delivered"]


def test_the_schema_shows_the_api_types() -> None:
    props = ShipmentOut.model_json_schema()["properties"]

    assert props["sent_at"]["type"] == "string"
    assert props["received_at"]["anyOf"] == [{"type": "string"}, {"type": "null"}]
    assert props["label"]["anyOf"] == [{"type": "string"}, {"type": "null"}]  # overridden
    assert "id" not in props
    assert set(ShipmentOut.model_json_schema()["required"]) == set(props)


def test_given_values_replace_the_converted_ones() -> None:
    out = ShipmentOut.from_domain(shipment(), label=None, delivered=True, url="")

    assert out.label is None
    assert out.delivered


def test_a_missing_api_only_value_is_refused() -> None:
    with pytest.raises(ValueError, match="url"):
        ShipmentOut.from_domain(shipment())


def test_excluding_or_renaming_a_field_the_domain_lacks_is_an_error() -> None:
    with pytest.raises(TypeError, match="no field"):

        class Wrong(DomainOut, domain=Shipment, rename={"checked": "inspector"}):
            pass


@pytest.mark.parametrize(
    ("model", "domain", "excluded", "renamed"),
    [
        (ItemOut, Item, {"id"}, {}),
        (LoanOut, Loan, set(), {}),
        (
            AlarmOut,
            Alarm,
            {"key", "words"},
            {"acked_us": "acknowledged_at", "acked_by": "acknowledged_by"},
        ),
        (AuditEntryOut, AuditEntry, set(), {}),
        (RunOut, Run, set(), {}),
        (StackerOut, StackerStatus, set(), {}),
    ],
)
def test_every_field_of_the_domain_type_is_in_its_response_model(
    model: type[DomainOut], domain: type, excluded: set[str], renamed: dict[str, str]
) -> None:
    def api_name(name: str) -> str:
        if name in renamed:
            return renamed[name]
        if name == "at_us":
            return "at"
        return name.removesuffix("_us") + "_at" if name.endswith("_us") else name

    shown = [api_name(f.name) for f in dataclasses.fields(domain) if f.name not in excluded]

    assert list(model.model_fields)[: len(shown)] == shown


def test_the_batch_lookup_json_is_the_location_model_json() -> None:
    loan = Loan(7, "A-1", "Li Na", "appeal", "SP-1", "2030-01-01", T0, "desk", 1, None, None)
    for w in [
        Whereabouts("A-1", Place("r1-A-01-01", "shelf", "r1"), T0, "shelf-read", loan),
        Whereabouts("A-2", Place("unknown", "unknown", None), None, None, None),
    ]:
        assert LocationOut.plain(w) == LocationOut.of(w).model_dump(mode="json")
