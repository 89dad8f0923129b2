"""The spool: durable, ordered, replayed through handlers, never blocked by one bad record."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from daemon.health import Health
from daemon.spool import DatabaseGuard, Spool
from tests.support.store import open_store


async def test_records_survive_a_restart_in_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.jsonl")
    for i in range(5):
        await spool.append({"kind": "x", "data": {"i": i}})
    again = Spool(tmp_path / "spool.jsonl")
    assert len(again) == 5
    assert [r["data"]["i"] for r in await again.records()] == [0, 1, 2, 3, 4]
    await again.drop_first(2)
    assert [r["data"]["i"] for r in await Spool(tmp_path / "spool.jsonl").records()] == [2, 3, 4]


@pytest.fixture
async def guard(tmp_path: Path, sqlite_url: str) -> AsyncIterator[DatabaseGuard]:
    """A guard on a SQLite store, spooling to ``spool.jsonl``."""
    async with open_store(sqlite_url) as store:
        yield DatabaseGuard(store, Spool(tmp_path / "spool.jsonl"), Health())


async def test_replay_feeds_handlers_in_order_and_sets_bad_records_aside(
    guard: DatabaseGuard,
) -> None:
    seen: list[int] = []

    async def handler(data: dict[str, object]) -> None:
        if data["i"] == 2:
            raise ValueError("cannot be written")
        seen.append(int(str(data["i"])))

    guard.handle("x", handler)
    for i in range(4):
        await guard.spool.append({"kind": "x", "data": {"i": i}})
    await guard.spool.append({"kind": "nobody", "data": {}})
    await guard.replay()
    assert seen == [0, 1, 3]
    assert len(guard.spool) == 0
    rejected = guard.rejected.read_text().splitlines()
    assert len(rejected) == 2
    assert '"i": 2' in rejected[0]
    assert guard.health.components["database"].status == "ok"


async def test_writes_go_to_the_database_when_it_answers(guard: DatabaseGuard) -> None:
    done: list[str] = []

    async def attempt() -> None:
        done.append("written")

    assert await guard.write("x", {"i": 1}, attempt) is True
    assert done == ["written"]
    assert len(guard.spool) == 0


async def test_an_unreachable_database_sends_writes_to_the_spool(guard: DatabaseGuard) -> None:
    async def unreachable() -> None:
        raise ConnectionRefusedError(111, "Connect call failed")

    assert await guard.write("x", {"i": 1}, unreachable) is False
    assert guard.down
    assert guard.health.components["database"].status == "down"

    async def not_called() -> None:
        raise AssertionError("while spooling, later writes queue behind the spool")

    assert await guard.write("x", {"i": 2}, not_called) is False
    assert [r["data"]["i"] for r in await guard.spool.records()] == [1, 2]
