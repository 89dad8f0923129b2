"""Defects the OpenAPI sweep found, each pinned by the request that showed it.

Every one answered a 500 (or worse: a rack of a billion bays exhausted the daemon's memory) or
a body its declared schema did not allow. docs/design.md §6.2: errors are JSON with the right
4xx code.
"""

from __future__ import annotations

import httpx
import pytest

from daemon.tokens import Role
from tests.support.catalogue import item_body
from tests.support.room import Room

BEYOND_64_BITS = 2**64


async def test_a_422_in_words_is_allowed_by_the_declared_error_schema(
    admin: httpx.AsyncClient,
) -> None:
    spec = (await admin.get("/openapi.json")).json()
    declared = spec["paths"]["/api/v1/loans"]["post"]["responses"]["422"]
    ref = declared["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    detail = spec["components"]["schemas"][ref]["properties"]["detail"]
    kinds = {branch.get("type") for branch in detail["anyOf"]}
    assert kinds == {"string", "array"}

    past = {"ref": "BOX-1", "borrower": "b", "purpose": "p", "due": "2001-01-01"}
    await admin.put("/api/v1/items/BOX-1", json=item_body())
    r = await admin.post("/api/v1/loans", json=past)
    assert r.status_code == 422
    assert isinstance(r.json()["detail"], str)
    r = await admin.post("/api/v1/loans", json={"ref": "BOX-1"})
    assert r.status_code == 422
    assert isinstance(r.json()["detail"], list)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", f"/api/v1/loans/{BEYOND_64_BITS}"),
        ("POST", f"/api/v1/loans/{BEYOND_64_BITS}/return"),
        ("POST", f"/api/v1/loans/{BEYOND_64_BITS}/renew"),
        ("POST", f"/api/v1/alarms/{BEYOND_64_BITS}/ack"),
    ],
)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_an_id_beyond_64_bits_is_refused_not_a_500(
    admin: httpx.AsyncClient, method: str, url: str
) -> None:
    r = await admin.request(method, url)
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_an_audit_position_beyond_64_bits_is_refused_not_a_500(room: Room) -> None:
    async with room.client(Role.auditor) as auditor:  # the audit is the auditor's alone
        r = await auditor.get(f"/api/v1/audit?after_seq={BEYOND_64_BITS}")
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_spot_check_joining_a_run_beyond_64_bits_is_refused(
    admin: httpx.AsyncClient,
) -> None:
    r = await admin.post("/api/v1/spot-checks", json={"size": 1, "run_id": -(2**64)})
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_reconciliation_ids_beyond_64_bits_are_refused(admin: httpx.AsyncClient) -> None:
    for url in (
        f"/api/v1/reconciliations/{BEYOND_64_BITS}",
        f"/api/v1/inventory/campaigns/{BEYOND_64_BITS}",
        f"/api/v1/spot-checks/{BEYOND_64_BITS}",
    ):
        r = await admin.get(url)
        assert r.status_code == 422, (url, r.status_code)


@pytest.mark.parametrize(
    "body",
    [
        {"rack": "Z", "bays": 10**9, "levels": 1},
        {"rack": "Z", "bays": "1-1000", "levels": "1-1000"},
        {"rack": "Z", "bays": 2, "levels": 2, "sides": ["L"] * 10_000},
        {"rack": "Z", "bays": 2, "levels": 2, "sides": ["L/../x"]},
        {"rack": "Z", "bays": 2, "levels": 2, "sides": [""]},
    ],
)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_rack_too_large_or_with_odd_sides_is_refused(
    admin: httpx.AsyncClient, body: dict[str, object]
) -> None:
    r = await admin.post("/api/v1/locations/racks", json=body)
    assert r.status_code == 422, r.text
    assert (await admin.get("/api/v1/locations/r1-Z")).status_code == 404


async def test_text_with_a_nul_character_is_refused_on_every_database(
    admin: httpx.AsyncClient,
) -> None:
    r = await admin.put("/api/v1/items/BOX-9", json=item_body(title="Pension\x00 approval"))
    assert r.status_code == 422
    assert "NUL" in r.text
    assert (await admin.get("/api/v1/items/BOX-9")).status_code == 404


async def test_a_nul_character_in_a_lookup_is_never_a_500(
    room: Room, admin: httpx.AsyncClient
) -> None:
    r = await admin.post("/api/v1/locations/lookup", json={"refs": ["BOX\x001"]})
    if room.services.store.dialect == "postgresql":
        assert r.status_code == 422
        assert "NUL" in r.json()["detail"]
    else:  # SQLite stores and compares NUL like any other character
        assert r.status_code == 200
        assert r.json()["not_found"] == ["BOX\x001"]
