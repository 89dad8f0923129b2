"""Two rooms, two daemons, one PostgreSQL: one consistent record."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from daemon.tokens import Role, Scope
from tests.harness import create_token
from tests.support.catalogue import catalogue_item, item_body, moved
from tests.support.room import Room, RoomBuilder, start_room


@pytest.fixture
def shared_pg(pg_url: str) -> str:
    return pg_url


def _one_shelf(rack: str) -> str:
    return f'[[racks]]\nid = "{rack}"\nbays = 1\nlevels = 1\n'


@pytest.fixture
async def two_rooms(tmp_path: Path, shared_pg: str) -> AsyncIterator[tuple[Room, Room]]:
    """Rooms ``ra`` (rack A) and ``rb`` (rack B), one shelf each, on one database."""
    async with AsyncExitStack() as stack:
        room_a = await RoomBuilder(
            tmp_path / "ra", shared_pg, room="ra", racks=_one_shelf("A")
        ).open(stack)
        room_b = await RoomBuilder(
            tmp_path / "rb", shared_pg, room="rb", racks=_one_shelf("B")
        ).open(stack)
        yield room_a, room_b


async def test_item_carried_from_room_a_to_room_b_has_one_history(
    two_rooms: tuple[Room, Room], shared_pg: str
) -> None:
    room_a, room_b = two_rooms
    async with room_a.client(Role.staff) as a, room_b.client(Role.staff) as b:
        await catalogue_item(a, "BOX-9")
        await moved(a, "BOX-9", "ra-A-01-01")
        await moved(b, "BOX-9", "rb-B-01-01")
        where = (await b.get("/api/v1/items/BOX-9/location")).json()
        assert where["location"] == {"code": "rb-B-01-01", "kind": "level", "room": "rb"}
        # room ra's own token no longer sees where it is: it is in rb now
        assert (await a.get("/api/v1/items/BOX-9/location")).status_code == 404
        for client in (a, b):
            moves = [
                e["details"]
                for e in (await client.get("/api/v1/items/BOX-9/history")).json()["entries"]
                if e["kind"] == "movement"
            ]
            assert [(m["from"], m["to"], m["room"]) for m in moves] == [
                (None, "ra-A-01-01", "ra"),
                ("ra-A-01-01", "rb-B-01-01", "rb"),
            ]
    bureau = await create_token(shared_pg, Role.staff, "staff-bureau", scope=Scope.bureau)
    async with room_a.client(Role.staff) as a:
        a.headers["Authorization"] = f"Bearer {bureau}"
        where = (await a.get("/api/v1/items/BOX-9/location")).json()
        assert where["location"] == {"code": "rb-B-01-01", "kind": "level", "room": "rb"}
    async with room_a.client(Role.auditor) as auditor:
        assert (await auditor.get("/api/v1/audit/verify")).json()["ok"] is True


async def test_simultaneous_check_outs_in_two_rooms_let_exactly_one_win(
    tmp_path: Path, shared_pg: str
) -> None:
    async for room_a in start_room(tmp_path, shared_pg, room="ra", extra=""):
        async for room_b in start_room(tmp_path, shared_pg, room="rb", extra=""):
            async with room_a.client(Role.staff) as a, room_b.client(Role.staff) as b:
                for i in range(10):
                    ref = f"BOX-{i}"
                    await a.put(f"/api/v1/items/{ref}", json=item_body())
                    body = {"ref": ref, "borrower": "x", "purpose": "y"}
                    results = await asyncio.gather(
                        a.post("/api/v1/loans", json=body), b.post("/api/v1/loans", json=body)
                    )
                    assert sorted(r.status_code for r in results) == [201, 409], [
                        r.text for r in results
                    ]
                    assert len((await a.get(f"/api/v1/loans?status=open&ref={ref}")).json()) == 1
            async with room_b.client(Role.auditor) as auditor:
                assert (await auditor.get("/api/v1/audit/verify")).json()["ok"] is True


async def test_catalogue_asking_one_room_finds_items_in_every_room_and_names_the_room(
    two_rooms: tuple[Room, Room], shared_pg: str
) -> None:
    room_a, room_b = two_rooms
    async with room_a.client(Role.staff) as a, room_b.client(Role.staff) as b:
        await catalogue_item(a, "BOX-A")
        await catalogue_item(b, "BOX-B")
        await moved(a, "BOX-A", "ra-A-01-01")
        await moved(b, "BOX-B", "rb-B-01-01")
    bureau = await create_token(shared_pg, Role.catalogue, "catalogue-bureau", scope=Scope.bureau)
    async with room_a.client(Role.catalogue) as catalogue:
        catalogue.headers["Authorization"] = f"Bearer {bureau}"
        answer = await catalogue.post(
            "/api/v1/locations/lookup", json={"refs": ["BOX-A", "BOX-B", "BOX-C"]}
        )
        assert answer.status_code == 200
        body = answer.json()
        assert [(w["ref"], w["location"]["room"]) for w in body["locations"]] == [
            ("BOX-A", "ra"),
            ("BOX-B", "rb"),
        ]
        assert body["not_found"] == ["BOX-C"]
        hits = (await catalogue.get("/api/v1/search", params={"q": "BOX-"})).json()
        assert {h["ref"]: h["location"]["room"] for h in hits} == {
            "BOX-A": "ra",
            "BOX-B": "rb",
        }
