"""The API routes the console adds, over real HTTP: who am I, find an item, the live feed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import cast

import httpx
import pytest

from daemon.tokens import Role
from tests.console.conftest import next_event
from tests.support.catalogue import item_body
from tests.support.room import Room, start_room

PENSION = "0001-WS·2023-D30-RS-0001"
ARBITRATION = "0001-WS·2023-D30-RS-0002"
INJURY = "0001-WS·2022-Y-RS-0100"
ARBITRATION_EPC = "E28011606000020000000ABC"


async def _catalogue(staff: httpx.AsyncClient) -> None:
    for ref, title in (
        (PENSION, "养老保险待遇审批表 张三"),
        (ARBITRATION, "Labour arbitration file, Li Si"),
        (INJURY, "工伤认定 100% 伤残"),
    ):
        assert (await staff.put(f"/api/v1/items/{ref}", json=item_body(title=title))).is_success
    r = await staff.post(f"/api/v1/items/{ARBITRATION}/tag", json={"epc": ARBITRATION_EPC})
    assert r.status_code == 201


async def _refs(client: httpx.AsyncClient, q: str) -> list[tuple[str, str]]:
    r = await client.get("/api/v1/search", params={"q": q})
    assert r.status_code == 200, r.text
    return [(hit["ref"], hit["matched"]) for hit in r.json()]


async def test_search_finds_items_by_part_of_their_ref_title_or_tag(api_room: Room) -> None:
    async with api_room.client(Role.staff) as staff, api_room.client(Role.catalogue) as cat:
        await _catalogue(staff)
        assert await _refs(staff, "rs-0001") == [(PENSION, "ref")]
        assert await _refs(staff, "养老保险") == [(PENSION, "title")]
        assert await _refs(cat, "li si") == [(ARBITRATION, "title")]
        assert await _refs(staff, "0abc") == [(ARBITRATION, "epc")]
        assert await _refs(staff, "E2801160 6000 0200 0000 0ABC") == [(ARBITRATION, "epc")]
        assert await _refs(staff, "nothing like it") == []


async def test_search_puts_the_exact_reference_first_then_references_that_start_with_it(
    api_room: Room,
) -> None:
    async with api_room.client(Role.staff) as staff:
        await _catalogue(staff)
        extra = "X-0001-WS·2023-D30-RS-0001"  # contains the other's ref, does not start with it
        assert (await staff.put(f"/api/v1/items/{extra}", json=item_body())).is_success
        assert [ref for ref, _ in await _refs(staff, PENSION)] == [PENSION, extra]
        assert [ref for ref, _ in await _refs(staff, "0001-WS·2023")] == [
            PENSION,
            ARBITRATION,
            extra,
        ]


async def test_search_treats_percent_and_underscore_as_plain_text(api_room: Room) -> None:
    async with api_room.client(Role.staff) as staff:
        await _catalogue(staff)
        assert await _refs(staff, "100%") == [(INJURY, "title")]
        assert await _refs(staff, "%%") == []
        assert await _refs(staff, "__") == []
        r = await staff.get("/api/v1/search", params={"q": "x"})
        assert r.status_code == 422


async def test_search_hits_say_where_the_item_is_and_whether_it_is_on_loan(
    api_room: Room,
) -> None:
    async with api_room.client(Role.staff) as staff:
        await _catalogue(staff)
        loan = {"ref": PENSION, "borrower": "Zhang San", "purpose": "audit"}
        assert (await staff.post("/api/v1/loans", json=loan)).status_code == 201
        moved = await staff.post(f"/api/v1/items/{ARBITRATION}/move", json={"to": "r1-A-01-01"})
        assert moved.status_code == 200
        hits = {h["ref"]: h for h in (await staff.get("/api/v1/search?q=RS-000")).json()}
        assert hits[PENSION]["on_loan"] is True
        assert hits[PENSION]["location"]["kind"] == "unknown"
        assert hits[ARBITRATION]["on_loan"] is False
        assert hits[ARBITRATION]["location"] == {
            "code": "r1-A-01-01",
            "kind": "level",
            "room": "r1",
        }
        assert hits[ARBITRATION]["epc"] == ARBITRATION_EPC


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_session_names_the_holder_and_says_whether_the_console_is_for_them(
    api_room: Room,
) -> None:
    async with api_room.client(Role.staff) as staff:
        me = (await staff.get("/api/v1/session")).json()
    assert me == {
        "name": "staff-r1",
        "role": "staff",
        "scope": "room",
        "console": True,
        "site": "t",
        "room": "r1",
        "desk_readers": [],
        "stacker": False,
        "climate": False,
    }
    async with api_room.client(Role.facilities) as facilities:
        other = (await facilities.get("/api/v1/session")).json()
    assert (other["role"], other["console"]) == ("facilities", False)


# -- the live feed --------------------------------------------------------------------------


async def _ticket(client: httpx.AsyncClient) -> str:
    r = await client.post("/api/v1/events/ticket")
    assert r.status_code == 201, r.text
    assert r.json()["expires_in_s"] == 30
    return str(r.json()["ticket"])


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_stream_sends_hello_then_the_rooms_events_as_they_happen(
    api_room: Room,
) -> None:
    async with api_room.client(Role.staff) as staff, api_room.client(None) as browser:
        ticket = await _ticket(staff)
        async with browser.stream("GET", "/api/v1/events/stream", params={"ticket": ticket}) as s:
            assert s.status_code == 200
            assert s.headers["content-type"].startswith("text/event-stream")
            lines = s.aiter_lines()
            hello = await next_event(lines)
            assert (hello.event, hello.data) == ("hello", {"user": "staff-r1"})

            assert (await staff.put(f"/api/v1/items/{PENSION}", json=item_body())).is_success
            r = await staff.post(f"/api/v1/items/{PENSION}/tag", json={"epc": ARBITRATION_EPC})
            assert r.status_code == 201
            loan = {"ref": PENSION, "borrower": "Zhang San", "purpose": "audit"}
            loan_id = (await staff.post("/api/v1/loans", json=loan)).json()["id"]

            bound = await next_event(lines)
            assert bound.event == "tag.bound"
            assert bound.data["ref"] == PENSION
            assert bound.data["epc"] == ARBITRATION_EPC
            assert str(bound.data["at"]).endswith("Z")
            opened = await next_event(lines)
            assert opened.event == "loan.opened"
            assert (opened.data["loan_id"], opened.data["borrower"]) == (loan_id, "Zhang San")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_ticket_opens_one_stream_only(api_room: Room) -> None:
    async with api_room.client(Role.staff) as staff, api_room.client(None) as browser:
        ticket = await _ticket(staff)
        async with browser.stream("GET", f"/api/v1/events/stream?ticket={ticket}") as first:
            assert first.status_code == 200
            again = await browser.get(f"/api/v1/events/stream?ticket={ticket}")
            assert again.status_code == 401
            assert "ticket is unknown, used or expired" in again.json()["detail"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_guessing_tickets_is_refused_and_rate_limited(api_room: Room) -> None:
    async with api_room.client(None) as browser:
        codes = [
            (await browser.get(f"/api/v1/events/stream?ticket=guess-{n}")).status_code
            for n in range(32)
        ]
    assert codes[:30] == [401] * 30
    assert codes[30:] == [429, 429]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_stream_opens_with_a_ticket_not_with_a_bearer_token(api_room: Room) -> None:
    async with api_room.client(Role.staff) as staff:
        r = await staff.get("/api/v1/events/stream")
    assert r.status_code == 422
    assert "POST /api/v1/events/ticket" in r.json()["detail"]
    async with api_room.client(Role.catalogue) as catalogue:
        assert (await catalogue.post("/api/v1/events/ticket")).status_code == 403


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_stream_is_closed_when_the_client_goes_away(api_room: Room) -> None:
    bus = api_room.services.bus
    before = len(bus._subs)
    async with api_room.client(Role.staff) as staff, api_room.client(None) as browser:
        ticket = await _ticket(staff)
        async with browser.stream("GET", f"/api/v1/events/stream?ticket={ticket}") as s:
            assert (await next_event(s.aiter_lines())).event == "hello"
            assert len(bus._subs) == before + 1
    async with asyncio.timeout(10):
        while len(bus._subs) != before:
            await asyncio.sleep(0.01)


async def test_an_open_stream_ends_when_the_daemon_stops(tmp_path: Path, sqlite_url: str) -> None:
    rooms = cast(AsyncGenerator[Room, None], start_room(tmp_path, sqlite_url))
    room = await anext(rooms)
    async with room.client(Role.staff) as staff, room.client(None) as browser:
        ticket = await _ticket(staff)
        async with browser.stream("GET", f"/api/v1/events/stream?ticket={ticket}") as s:
            lines = s.aiter_lines()
            assert (await next_event(lines)).event == "hello"
            await rooms.aclose()  # stops the daemon: the stream says so and ends
            assert (await next_event(lines)).event == "end"
            with pytest.raises((EOFError, httpx.RemoteProtocolError)):
                await next_event(lines)
