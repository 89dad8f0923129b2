"""The traceability export: valid against GS1's EPCIS 2.0 JSON schema, mapped as designed.

The mapping is the table of docs/design.md §6.6.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, FormatChecker  # type: ignore[import-untyped]

from daemon.clock import datetime_to_us, us_to_iso
from daemon.ledger.tags import giai96
from daemon.reconcile.epcis import ArchiveEvent, document
from simulators.llrp_gate import Cross
from tests.support.catalogue import tagged
from tests.support.reconcile import read_on_shelf
from tests.support.room import SHELF_1, Room

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "api" / "epcis" / "EPCIS-JSON-Schema.json").read_text()
)


def _uri(value: object) -> bool:
    return (
        not isinstance(value, str)
        or re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+", value) is not None
    )


def _date_time(value: object) -> bool:
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.tzinfo is not None and "T" in value
    return True


formats = FormatChecker(formats=())
formats.checks("uri")(_uri)
formats.checks("date-time", raises=ValueError)(_date_time)


def assert_valid_epcis(doc: dict[str, Any]) -> None:
    errors = sorted(Draft7Validator(SCHEMA, format_checker=formats).iter_errors(doc), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def test_the_validator_refuses_what_the_schema_forbids() -> None:
    doc = document(
        [ArchiveEvent(1_700_000_000_000_000, "shelf", "m:1", "E2801160600002000000ABCD")],
        site="s",
        room="r1",
        created_us=1_700_000_000_000_000,
    ).json_ld()
    assert_valid_epcis(doc)
    for broken in (
        {**doc, "schemaVersion": "two"},
        {k: v for k, v in doc.items() if k != "@context"},
        {**doc, "creationDate": "yesterday"},
        {
            **doc,
            "epcisBody": {"eventList": [{**doc["epcisBody"]["eventList"][0], "action": "MOVE"}]},
        },
        {
            **doc,
            "epcisBody": {
                "eventList": [
                    {
                        **doc["epcisBody"]["eventList"][0],
                        "bizStep": "urn:epcglobal:cbv:bizstep:lending",
                    }
                ]
            },
        },
    ):
        assert list(Draft7Validator(SCHEMA, format_checker=formats).iter_errors(broken))


# (action, bizStep, disposition) per archive event, as docs/design.md §6.6 lists them.
CBV_MAPPING = {
    "check_out": ("OBSERVE", "accepting", "unavailable"),
    "return": ("OBSERVE", "receiving", "available"),
    "gate_out": ("OBSERVE", "departing", "in_progress"),
    "gate_in": ("OBSERVE", "arriving", "in_progress"),
    "shelf": ("OBSERVE", "cycle_counting", None),
    "store": ("OBSERVE", "storing", None),
    "retrieve": ("OBSERVE", "picking", None),
    "tag_bound": ("ADD", "commissioning", "active"),
    "tag_retired": ("DELETE", "decommissioning", "inactive"),
}


@pytest.mark.parametrize("kind", sorted(CBV_MAPPING))
def test_each_archive_event_maps_to_its_cbv_step_in_a_valid_document(kind: str) -> None:
    event = ArchiveEvent(
        1_764_000_000_123_000,
        kind,  # type: ignore[arg-type]
        f"{kind}:1",
        giai96("0614141", 42),
        read_point="r1-A-01-01" if kind != "shelf" else "shelf-a/1",
        biz_location="r1-S11-01-01-1" if kind in ("store", "shelf") else None,
        loan_id=9 if kind == "check_out" else None,
        borrower="Li Na" if kind == "check_out" else None,
    )
    doc = document([event], site="site-1", room="r1", created_us=1_764_000_001_000_000).json_ld()
    assert_valid_epcis(doc)
    [out] = doc["epcisBody"]["eventList"]
    action, step, disposition = CBV_MAPPING[kind]
    assert (out["action"], out["bizStep"], out.get("disposition")) == (action, step, disposition)
    assert out["type"] == "ObjectEvent"
    assert out["epcList"] == ["urn:epc:id:giai:0614141.42"]
    assert out["eventTime"] == "2025-11-24T16:00:00.123Z"
    assert out["eventTimeZoneOffset"] == "+00:00"
    if kind == "check_out":
        assert out["bizTransactionList"] == [{"bizTransaction": "urn:archroom:site-1:loan:9"}]
        assert out["destinationList"] == [
            {"type": "possessing_party", "destination": "urn:archroom:site-1:party:Li%20Na"}
        ]
    if kind == "shelf":
        assert out["readPoint"] == {"id": "urn:archroom:site-1:reader:shelf-a:1"}
        assert out["bizLocation"] == {"id": "urn:archroom:site-1:loc:r1-S11-01-01-1"}


async def test_an_items_story_exported_from_the_daemon(rig: Room) -> None:
    epc = giai96("0614141", 7)
    async with rig.client() as staff:
        await tagged(staff, "BOX-T", epc, home_location=SHELF_1)
        await tagged(staff, "BOX-OTHER", "E28011606000020000000077")
        await read_on_shelf(rig, staff, "BOX-T", epc, 1)
        rig.shelf.reader.remove(epc)
        loan = (
            await staff.post(
                "/api/v1/loans", json={"ref": "BOX-T", "borrower": "Li Na", "purpose": "audit"}
            )
        ).json()
        rig.gate.add(Cross(epc=epc, direction="out", duration=2.0))
        await rig.mqtt.wait_for("gate.passage", epc=epc, direction="out", provisional=None)
        rig.gate.add(Cross(epc=epc, direction="in", duration=2.0))
        await rig.mqtt.wait_for("gate.passage", epc=epc, direction="in", provisional=None)
        assert (await staff.post(f"/api/v1/loans/{loan['id']}/return")).status_code == 200

        r = await staff.get("/api/v1/epcis/events", params={"ref": "BOX-T"})
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/ld+json"
        doc = r.json()
        assert_valid_epcis(doc)
        assert doc["@context"] == ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
        events = doc["epcisBody"]["eventList"]
        assert [e["bizStep"] for e in events] == [
            "commissioning",
            "cycle_counting",
            "accepting",
            "departing",
            "arriving",
            "receiving",
        ]
        assert {tuple(e["epcList"]) for e in events} == {("urn:epc:id:giai:0614141.7",)}
        shelf, out, gate_out, gate_in, back = events[1:]
        assert shelf["readPoint"] == {"id": "urn:archroom:t:reader:shelf-a:1"}
        assert shelf["bizLocation"] == {"id": f"urn:archroom:t:loc:{SHELF_1}"}
        assert out["bizTransactionList"] == [
            {"bizTransaction": f"urn:archroom:t:loan:{loan['id']}"}
        ]
        assert gate_out["readPoint"] == {"id": "urn:archroom:t:loc:r1-gate-door-1"}
        assert gate_in["disposition"] == "in_progress"
        assert back["disposition"] == "available"
        again = (await staff.get("/api/v1/epcis/events", params={"ref": "BOX-T"})).json()
        assert [e["eventID"] for e in again["epcisBody"]["eventList"]] == [
            e["eventID"] for e in events
        ]
        assert len({e["eventID"] for e in events}) == len(events)

        everything = (await staff.get("/api/v1/epcis/events")).json()
        assert_valid_epcis(everything)
        assert len(everything["epcisBody"]["eventList"]) == len(events) + 1  # BOX-OTHER bound
        first_two = await staff.get("/api/v1/epcis/events", params={"limit": 2})
        assert (
            first_two.json()["epcisBody"]["eventList"] == everything["epcisBody"]["eventList"][:2]
        )
        next_from = datetime.fromisoformat(first_two.headers["x-epcis-next-from"])
        second = everything["epcisBody"]["eventList"][1]["eventTime"]
        assert us_to_iso(datetime_to_us(next_from)) == second
        old = await staff.get(
            "/api/v1/epcis/events",
            params={"from": "2001-01-01T00:00:00Z", "to": "2001-02-01T00:00:00Z"},
        )
        assert old.json()["epcisBody"]["eventList"] == []
        assert_valid_epcis(old.json())
        backwards = await staff.get(
            "/api/v1/epcis/events",
            params={"from": "2001-02-01T00:00:00Z", "to": "2001-01-01T00:00:00Z"},
        )
        assert backwards.status_code == 422
