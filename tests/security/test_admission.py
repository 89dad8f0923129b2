"""Probes of the API's front door (issue 18, seen 1, 2 and 7), over real sockets.

Each test speaks HTTP/1.1 on a plain TCP connection, so that it can do what careless and
hostile clients do and httpx will not: declare a body and not send it, stop in the middle of
the headers, trickle. A test that waits reads until the server closes the connection, with a
generous bound: the bound only stops a broken server from hanging the suite, it is not what
is being measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from api.admission import TICKETED, needs_token
from daemon.tokens import Role
from tests.support.room import Room, start_room

BOUND_S = 30.0
LIMITS = (
    "max_body_bytes = 4096\n"
    "max_import_bytes = 65536\n"
    "header_timeout_s = 2\n"
    "body_timeout_s = 2\n"
    "import_timeout_s = 60\n"
    "keep_alive_s = 30\n"
)
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
async def room(tmp_path: Path, db_url: str) -> AsyncIterator[Room]:
    async for r in start_room(tmp_path, db_url, api=LIMITS):
        yield r


@dataclass
class Answer:
    status: int | None
    head: str
    body: bytes
    closed: bool


def _parse(raw: bytes, closed: bool) -> Answer:
    head, _, body = raw.partition(b"\r\n\r\n")
    first = head.split(b"\r\n", 1)[0].split()
    status = int(first[1]) if len(first) > 1 and first[1].isdigit() else None
    return Answer(status, head.decode("latin-1").lower(), body, closed)


async def _exchange(room: Room, data: bytes) -> Answer:
    """Send ``data``, send nothing more, and read until the server closes (or the bound)."""
    listening = room.daemon.listening
    assert listening is not None
    reader, writer = await asyncio.open_connection(listening.host, listening.port)
    raw = b""
    closed = False
    try:
        writer.write(data)
        await writer.drain()
        async with asyncio.timeout(BOUND_S):
            while chunk := await reader.read(65536):
                raw += chunk
            closed = True
    except TimeoutError:
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return _parse(raw, closed)


def _request(
    method: str, path: str, *, token: str | None = None, headers: dict[str, str] | None = None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: archroom"]
    if token is not None:
        lines.append(f"Authorization: Bearer {token}")
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _json_head(length: int, token: str | None = None) -> bytes:
    headers = {"Content-Type": "application/json", "Content-Length": str(length)}
    return _request("POST", "/api/v1/loans", token=token, headers=headers)


# -- authentication before the body ---------------------------------------------------------


async def test_a_huge_body_without_a_token_gets_401_before_it_is_sent(room: Room) -> None:
    answer = await _exchange(room, _json_head(100 * 1024 * 1024) + b'{"ref": "' + b"x" * 1000)
    assert answer.status == 401, answer
    assert answer.closed
    assert "connection: close" in answer.head
    assert json.loads(answer.body)["detail"] == "a bearer token is required"


async def test_a_huge_body_with_a_bad_token_gets_401_before_it_is_sent(room: Room) -> None:
    head = _json_head(100 * 1024 * 1024, token="arc_000000000000_guess")
    answer = await _exchange(room, head + b"{")
    assert answer.status == 401, answer
    assert answer.closed


async def test_malformed_json_without_a_token_gets_401_not_a_parse_error(room: Room) -> None:
    async with room.client(None) as anonymous:
        r = await anonymous.post(
            "/api/v1/loans", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 401, r.text
    async with httpx.AsyncClient(
        base_url=room.url, headers={"Authorization": "Bearer arc_000000000000_guess"}
    ) as guesser:
        r = await guesser.post(
            "/api/v1/loans", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 401, r.text


async def test_malformed_json_with_a_good_token_is_still_the_clients_error(room: Room) -> None:
    async with room.client(Role.staff) as staff:
        r = await staff.post(
            "/api/v1/loans", content=b"{not json", headers={"Content-Type": "application/json"}
        )
    assert r.status_code == 422, r.text


# -- size limits ----------------------------------------------------------------------------


async def test_a_declared_body_over_the_json_limit_gets_413_unread(room: Room) -> None:
    answer = await _exchange(room, _json_head(4097, token=room.tokens[Role.staff]) + b"{")
    assert answer.status == 413, answer
    assert answer.closed
    assert "4096 bytes" in json.loads(answer.body)["detail"]


async def test_a_body_at_the_json_limit_is_taken(room: Room) -> None:
    body = json.dumps({"ref": "BOX-1", "borrower": "b", "purpose": "p" * 1000}).encode()
    body += b" " * (4096 - len(body))
    async with room.client(Role.staff) as staff:
        r = await staff.post(
            "/api/v1/loans", content=body, headers={"Content-Type": "application/json"}
        )
    assert r.status_code == 404, r.text  # read and parsed: there is no item BOX-1


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


async def test_a_streamed_import_is_stopped_with_413_as_soon_as_it_passes_its_limit(
    room: Room,
) -> None:
    head = _request(
        "POST",
        "/api/v1/items/import",
        token=room.tokens[Role.catalogue],
        headers={"Content-Type": "text/csv", "Transfer-Encoding": "chunked"},
    )
    rows = b"ref,title,category,year,retention,kind\n" + b"BOX-1,t,c,2023,D10,box\n" * 3000
    assert 65536 < len(rows) < 2 * 65536
    # no last chunk: the body never ends, so only a limit counted while streaming can answer
    answer = await _exchange(room, head + _chunk(rows[:40000]) + _chunk(rows[40000:]))
    assert answer.status == 413, answer
    assert answer.closed
    assert "65536 bytes" in json.loads(answer.body)["detail"]


async def test_an_import_within_its_own_limit_loads(room: Room) -> None:
    rows = b"ref,title,category,year,retention,kind\n" + b"".join(
        f"BOX-{n},t,c,2023,D10,box\n".encode() for n in range(1000)
    )
    assert 4096 < len(rows) < 65536  # over the JSON limit, within the import's

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(rows), 1000):
            yield rows[start : start + 1000]

    async with room.client(Role.catalogue) as catalogue:
        r = await catalogue.post(
            "/api/v1/items/import?wait=true", content=chunks(), headers={"Content-Type": "text/csv"}
        )
    assert r.status_code == 200, r.text
    assert r.json()["loaded"] == 1000


# -- slow clients ---------------------------------------------------------------------------


async def test_a_trickled_body_is_cut_off_with_408(room: Room) -> None:
    answer = await _exchange(room, _json_head(100, token=room.tokens[Role.staff]) + b'{"ref"')
    assert answer.status == 408, answer
    assert answer.closed


async def test_headers_that_stop_halfway_are_cut_off_with_408(room: Room) -> None:
    answer = await _exchange(room, b"GET /healthz HTTP/1.1\r\nHost: archroom\r\nX-Slow: 1")
    assert answer.status == 408, answer
    assert answer.closed


async def test_a_connection_that_never_speaks_is_closed(room: Room) -> None:
    answer = await _exchange(room, b"")
    assert answer.closed
    assert answer.status is None


async def test_a_keep_alive_connection_gets_the_same_deadline_for_its_next_request(
    room: Room,
) -> None:
    first = _request("GET", "/healthz")
    answer = await _exchange(room, first + b"GET /healthz HTTP/1.1\r\nHost: a")
    assert answer.closed
    assert answer.head.startswith("http/1.1 200")
    assert b"HTTP/1.1 408" in answer.body


async def test_every_api_operation_but_the_ticketed_stream_declares_the_bearer(room: Room) -> None:
    """The layer asks a token of every path under /api/; the routes must agree."""
    async with room.client(None) as anonymous:
        spec = (await anonymous.get("/openapi.json")).json()
    checked = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if path in TICKETED:  # a ticket, or the bearer that asks for one
                continue
            declares = any("HTTPBearer" in s for s in operation.get("security", []))
            assert declares == needs_token(path), (method, path)
            checked += 1
    assert checked > 50
