"""Room-scope and bureau-scope tokens, over real HTTP, with two rooms' daemons on one database.

A room-scope token (the default) is answered for the daemon's own room: an item in another room
is "not found" by the lookup, the single location and the search, as if it were not catalogued.
A bureau-scope token is answered for every room sharing the database, each answer naming the
room. People's sessions follow the account's role (a cataloguer's is bureau-scope), and a desk
signed in with a token takes that token's scope. Run on SQLite (two daemons on one file) and on
PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from api.auth import CSRF_COOKIE
from daemon.store.db import Store
from daemon.store.schema import audit
from daemon.tokens import Role, Scope
from tests.harness import create_token
from tests.support.catalogue import item_body
from tests.support.room import Room, start_room

PASSWORD = "tea-kettle on the third shelf"
A_RACK = '[[racks]]\nid = "A"\nbays = 1\nlevels = 1\n'
B_RACK = '[[racks]]\nid = "B"\nbays = 1\nlevels = 1\n'


@pytest.fixture
async def rooms(tmp_path: Path, db_url: str) -> AsyncIterator[tuple[Room, Room]]:
    """Rooms ``ra`` and ``rb`` on one database: BOX-A on ra's shelf, BOX-B on rb's, BOX-L
    taken out of rb (``on-loan``, a place of no room: rb recorded the move), BOX-N catalogued
    but never placed."""
    async for a in start_room(tmp_path, db_url, room="ra", extra=A_RACK):
        async for b in start_room(tmp_path, db_url, room="rb", extra=B_RACK):
            async with a.client(Role.staff) as sa, b.client(Role.staff) as sb:
                for client, ref in ((sa, "BOX-A"), (sb, "BOX-B"), (sb, "BOX-L"), (sa, "BOX-N")):
                    r = await client.put(f"/api/v1/items/{ref}", json=item_body())
                    assert r.status_code == 201, r.text
                for client, ref, to in (
                    (sa, "BOX-A", "ra-A-01-01"),
                    (sb, "BOX-B", "rb-B-01-01"),
                    (sb, "BOX-L", "rb-B-01-01"),
                    (sb, "BOX-L", "on-loan"),
                ):
                    r = await client.post(f"/api/v1/items/{ref}/move", json={"to": to})
                    assert r.status_code == 200, r.text
            yield a, b


def _client(room: Room, token: str) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.AsyncClient(base_url=room.url, headers=headers, timeout=60)


REFS = ["BOX-A", "BOX-B", "BOX-L", "BOX-N", "BOX-X"]


async def _lookup(client: httpx.AsyncClient) -> tuple[dict[str, str | None], list[str]]:
    r = await client.post("/api/v1/locations/lookup", json={"refs": REFS})
    assert r.status_code == 200, r.text
    body = r.json()
    return {w["ref"]: w["location"]["room"] for w in body["locations"]}, body["not_found"]


async def _search(client: httpx.AsyncClient) -> tuple[dict[str, str | None], str]:
    r = await client.get("/api/v1/search", params={"q": "BOX-"})
    assert r.status_code == 200, r.text
    return {h["ref"]: h["location"]["room"] for h in r.json()}, r.headers["X-Total-Count"]


async def test_a_room_scope_token_sees_its_own_room_and_a_bureau_scope_token_every_room(
    rooms: tuple[Room, Room],
) -> None:
    ra, rb = rooms
    room_token = await create_token(ra.db_url, Role.catalogue, "cat-room")
    bureau_token = await create_token(ra.db_url, Role.catalogue, "cat-bureau", scope=Scope.bureau)
    async with _client(ra, room_token) as here, _client(ra, bureau_token) as everywhere:
        assert (await here.get("/api/v1/session")).json()["scope"] == "room"
        assert (await everywhere.get("/api/v1/session")).json()["scope"] == "bureau"

        found, missing = await _lookup(here)
        assert found == {"BOX-A": "ra", "BOX-N": None}
        assert missing == ["BOX-B", "BOX-L", "BOX-X"]
        assert await _search(here) == ({"BOX-A": "ra", "BOX-N": None}, "2")
        assert (await here.get("/api/v1/items/BOX-A/location")).status_code == 200
        assert (await here.get("/api/v1/items/BOX-B/location")).status_code == 404

        found, missing = await _lookup(everywhere)
        # BOX-L's place (on loan) is in no room; room rb recorded its last move (below).
        assert found == {"BOX-A": "ra", "BOX-B": "rb", "BOX-L": None, "BOX-N": None}
        assert missing == ["BOX-X"]
        hits, total = await _search(everywhere)
        assert (hits, total) == ({"BOX-A": "ra", "BOX-B": "rb", "BOX-L": None, "BOX-N": None}, "4")
        where = (await everywhere.get("/api/v1/items/BOX-B/location")).json()
        assert where["location"] == {"code": "rb-B-01-01", "kind": "level", "room": "rb"}

    # the same room-scope question asked of room rb: its own items, and the one it lent out
    async with rb.client(Role.catalogue) as there:
        found, missing = await _lookup(there)
        assert found == {"BOX-B": "rb", "BOX-L": None, "BOX-N": None}
        assert missing == ["BOX-A", "BOX-X"]
        assert (await _search(there))[0] == {"BOX-B": "rb", "BOX-L": None, "BOX-N": None}


async def test_sessions_follow_the_accounts_role_or_the_desks_token(
    rooms: tuple[Room, Room],
) -> None:
    ra, _ = rooms
    accounts = ra.services.accounts
    await accounts.add("wang.fang", Role.staff, PASSWORD, actor="test")
    await accounts.add("zhou.li", Role.catalogue, PASSWORD, actor="test")
    expected = {"wang.fang": ("room", {"BOX-A", "BOX-N"}), "zhou.li": ("bureau", set(REFS[:4]))}
    for name, (scope, refs) in expected.items():
        async with httpx.AsyncClient(base_url=ra.url, timeout=60) as browser:
            r = await browser.post(
                "/api/v1/session/sign-in", json={"user": name, "password": PASSWORD}
            )
            assert r.status_code == 200, r.text
            assert r.json()["scope"] == scope
            browser.headers["X-CSRF-Token"] = browser.cookies[CSRF_COOKIE]
            assert set((await _lookup(browser))[0]) == refs
            assert set((await _search(browser))[0]) == refs
    desk_token = await create_token(ra.db_url, Role.staff, "desk-bureau", scope=Scope.bureau)
    async with httpx.AsyncClient(base_url=ra.url, timeout=60) as desk:
        r = await desk.post("/api/v1/session/sign-in", json={"token": desk_token})
        assert (r.status_code, r.json()["scope"]) == (200, "bureau")
        desk.headers["X-CSRF-Token"] = desk.cookies[CSRF_COOKIE]
        assert set((await _lookup(desk))[0]) == set(REFS[:4])
    async with httpx.AsyncClient(base_url=ra.url, timeout=60) as desk:
        r = await desk.post("/api/v1/session/sign-in", json={"token": ra.tokens[Role.staff]})
        assert (r.status_code, r.json()["scope"]) == (200, "room")
        desk.headers["X-CSRF-Token"] = desk.cookies[CSRF_COOKIE]
        assert set((await _lookup(desk))[0]) == {"BOX-A", "BOX-N"}


async def test_creating_a_bureau_token_is_audited_with_its_scope(rooms: tuple[Room, Room]) -> None:
    ra, _ = rooms
    await create_token(ra.db_url, Role.catalogue, "e-archive", scope=Scope.bureau)
    store = Store.connect(ra.db_url)
    try:
        async with store.read() as conn:
            rows = (
                await conn.execute(
                    select(audit.c.details).where(
                        audit.c.action == "token.create", audit.c.subject == "token:e-archive"
                    )
                )
            ).all()
    finally:
        await store.close()
    assert len(rows) == 1
    details = json.loads(rows[0].details)
    assert (details["role"], details["scope"]) == ("catalogue", "bureau")


async def test_each_rooms_item_gauges_count_its_own_room_only(rooms: tuple[Room, Room]) -> None:
    """Gauges are summed across the rooms' daemons: each counts its own room's items."""
    from daemon.room import Housekeeping

    ra, rb = rooms
    async with rb.client(Role.staff) as sb:
        r = await sb.put("/api/v1/items/BOX-U", json=item_body())
        assert r.status_code == 201
        for to in ("rb-B-01-01", "unknown"):
            r = await sb.post("/api/v1/items/BOX-U/move", json={"to": to})
            assert r.status_code == 200, r.text
        for ref in ("BOX-B", "BOX-L"):  # on rb's shelf; gone from rb (on loan)
            loan = {"ref": ref, "borrower": "Li Na", "purpose": "appeal", "approval_no": "SP-1"}
            assert (await sb.post("/api/v1/loans", json=loan)).status_code == 201
    states, loans = {}, {}
    for room in (ra, rb):
        svc = room.services
        keeper = Housekeeping(svc.ledger, svc.loans, svc.alarms, svc.metrics)
        states[svc.config.room] = await keeper.item_states(0)
        loans[svc.config.room] = await svc.loans.counts(svc.config.room)
    assert loans == {"ra": (0, 0), "rb": (2, 0)}
    # BOX-N was never placed: in no room's gauge. BOX-L (on loan) is counted by loans.
    assert states["ra"] == {
        "on_shelf": 1,
        "in_stacker": 0,
        "on_loan": 0,
        "missing": 0,
        "unknown": 0,
    }
    assert states["rb"] == {
        "on_shelf": 1,
        "in_stacker": 0,
        "on_loan": 0,
        "missing": 0,
        "unknown": 1,
    }
