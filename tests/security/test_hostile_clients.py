"""Probes a hostile or careless client made against a running room (issue 18, seen 3-6).

Each test replays the probe over real HTTP and states what the room must answer instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from daemon.reconcile.report import csv_line
from daemon.tokens import Role
from tests.support.catalogue import item_body
from tests.support.room import Room, start_room

SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

# -- the live-stream cap is counted at admission (seen 3) -----------------------------------

MAX_STREAMS = 100  # LiveFeed's default, which the console uses


@SQLITE
async def test_streams_opened_all_at_once_cannot_pass_the_cap(room: Room) -> None:
    async with room.client(Role.staff) as staff:
        tickets = []
        for _ in range(MAX_STREAMS + 1):
            r = await staff.post("/api/v1/events/ticket")
            assert r.status_code == 201, r.text
            tickets.append(r.json()["ticket"])
    limits = httpx.Limits(max_connections=MAX_STREAMS + 10)
    async with (
        httpx.AsyncClient(base_url=room.url, limits=limits, timeout=60) as browser,
        contextlib.AsyncExitStack() as opened,
    ):

        async def open_one(ticket: str) -> int:
            request = browser.build_request(
                "GET", "/api/v1/events/stream", params={"ticket": ticket}
            )
            response = await browser.send(request, stream=True)
            opened.push_async_callback(response.aclose)
            return response.status_code

        codes = await asyncio.gather(*(open_one(t) for t in tickets))
        assert sorted(codes).count(200) == MAX_STREAMS, sorted(codes)
        assert codes.count(503) == 1


# -- forwarded headers only from configured proxies (seen 4) --------------------------------

FAILURES_ALLOWED = 3
TABLE_SIZE = 100  # the least [api] failed_auth_clients takes (default 10,000)


@pytest.fixture
async def strict_room(tmp_path: Path, db_url: str) -> AsyncIterator[Room]:
    api = f"failed_auth_per_minute = {FAILURES_ALLOWED}\n"
    async for r in start_room(tmp_path, db_url, api=api):
        yield r


@pytest.fixture
async def proxied_room(tmp_path: Path, db_url: str) -> AsyncIterator[Room]:
    api = (
        f"failed_auth_per_minute = {FAILURES_ALLOWED}\nfailed_auth_clients = {TABLE_SIZE}\n"
        'trusted_proxies = ["127.0.0.0/8"]\n'
    )
    async for r in start_room(tmp_path, db_url, api=api):
        yield r


async def _guess(client: httpx.AsyncClient, forwarded_for: str | None = None) -> int:
    headers = {"Authorization": "Bearer arc_000000000000_guess"}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    r = await client.get("/api/v1/session", headers=headers)
    return r.status_code


@SQLITE
async def test_rotating_x_forwarded_for_does_not_escape_the_failed_token_limit(
    strict_room: Room,
) -> None:
    async with strict_room.client(None) as guesser:
        codes = [await _guess(guesser, f"198.51.100.{n}") for n in range(FAILURES_ALLOWED + 2)]
    assert codes[:FAILURES_ALLOWED] == [401] * FAILURES_ALLOWED
    assert codes[FAILURES_ALLOWED:] == [429, 429]


@SQLITE
async def test_failures_count_against_the_peer_not_the_address_it_names(
    strict_room: Room,
) -> None:
    async with strict_room.client(None) as guesser:
        for _ in range(FAILURES_ALLOWED):
            assert await _guess(guesser, "198.51.100.7") == 401
        assert await _guess(guesser) == 429  # the same peer, naming no address


@SQLITE
async def test_a_configured_proxy_is_believed(proxied_room: Room) -> None:
    async with proxied_room.client(None) as proxy:
        codes = [await _guess(proxy, "198.51.100.7") for _ in range(FAILURES_ALLOWED + 1)]
        assert codes[-1] == 429
        assert await _guess(proxy, "198.51.100.8") == 401  # another client behind the proxy


# -- NUL in search (seen 6) -----------------------------------------------------------------


@SQLITE
@pytest.mark.parametrize("q", ["\x00\x00", "a\x00", "  ", "\x07\x07"])
async def test_search_text_that_cannot_mean_anything_is_refused_not_matching_everything(
    room: Room, q: str
) -> None:
    async with room.client(Role.staff) as staff:
        for n in range(3):
            assert (await staff.put(f"/api/v1/items/BOX-{n}", json=item_body())).status_code == 201
        r = await staff.get("/api/v1/search", params={"q": q})
        assert r.status_code == 422, r.text
        assert isinstance(r.json()["detail"], str)
        found = await staff.get("/api/v1/search", params={"q": "BOX-1"})
        assert [h["ref"] for h in found.json()] == ["BOX-1"]


# -- CSV cells neutralised (seen 5) ---------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+1+2", "-2+3", "@SUM(A1:A2)"]


@SQLITE
async def test_titles_that_look_like_formulas_reach_an_exported_csv_as_text(room: Room) -> None:
    async with room.client(Role.staff) as staff:
        for n, title in enumerate(FORMULAS):
            body = item_body(title=title, year=2000, retention="D10")
            assert (await staff.put(f"/api/v1/items/OLD-{n}", json=body)).status_code == 201
        r = await staff.get(
            "/api/v1/retention/eligible", params={"on": "2024-06-01", "format": "csv"}
        )
    assert r.status_code == 200, r.text
    titles = [row["title"] for row in csv.DictReader(io.StringIO(r.text))]
    assert titles == [f"'{t}" for t in FORMULAS]
    years = [row["year"] for row in csv.DictReader(io.StringIO(r.text))]
    assert years == ["2000"] * len(FORMULAS)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_is_neutralised_and_numbers_are_not(start: str) -> None:
    (row,) = csv.reader(io.StringIO(csv_line([f"{start}cmd", -3, 2.5, None, "a=b"]), newline=""))
    assert row == [f"'{start}cmd", "-3", "2.5", "", "a=b"]


# -- shared limits do not lock out the innocent (seen 9) ------------------------------------


@SQLITE
async def test_a_bad_client_at_the_same_address_does_not_lock_out_a_good_token(
    strict_room: Room,
) -> None:
    async with strict_room.client(Role.catalogue) as service, strict_room.client(None) as broken:
        assert (await service.get("/api/v1/session")).status_code == 200
        for _ in range(FAILURES_ALLOWED + 5):
            await _guess(broken)
        assert await _guess(broken) == 429  # the guesses are still refused unchecked
        polls = [(await service.get("/api/v1/session")).status_code for _ in range(26)]
    assert polls == [200] * 26


@SQLITE
async def test_a_blocked_address_still_opens_the_live_feed_with_a_good_tokens_ticket(
    strict_room: Room,
) -> None:
    async with strict_room.client(Role.staff) as staff, strict_room.client(None) as browser:
        assert (await staff.post("/api/v1/events/ticket")).status_code == 201
        for n in range(FAILURES_ALLOWED):
            r = await browser.get("/api/v1/events/stream", params={"ticket": f"guess-{n}"})
            assert r.status_code == 401
        r = await browser.get("/api/v1/events/stream", params={"ticket": "guess-again"})
        assert r.status_code == 429
        ticket = (await staff.post("/api/v1/events/ticket")).json()["ticket"]
        async with browser.stream(
            "GET", "/api/v1/events/stream", params={"ticket": ticket}
        ) as stream:
            assert stream.status_code == 200


@SQLITE
async def test_spraying_addresses_does_not_reset_the_failed_token_table(
    proxied_room: Room,
) -> None:
    async with proxied_room.client(None) as attacker:
        for _ in range(FAILURES_ALLOWED):
            await _guess(attacker, "198.51.100.7")
        assert await _guess(attacker, "198.51.100.7") == 429
        for n in range(TABLE_SIZE + 10):
            await _guess(attacker, f"10.0.{n // 256}.{n % 256}")
        assert await _guess(attacker, "198.51.100.7") == 429
        # new addresses beyond the table share one count, and are blocked together
        assert await _guess(attacker, "10.1.0.1") == 429
