"""The primary database dies mid-burst; the standby is promoted; nothing acknowledged is lost.

Two real room daemons reach a private PostgreSQL primary and its synchronous standby through
one multi-host URL (``...@h1:p1,h2:p2/db?target_session_attrs=read-write``). Room r1 has
simulated shelf and gate readers and a real broker; room r2 serves staff over the API. While
staff check items out in both rooms and boxes on loan are carried out through r1's gate, the
primary is SIGKILLed (postmaster and backends at once) and the standby promoted, as Patroni
or an operator would. Check-outs answer 503 while no server takes writes (and are retried, as
a person would); gate passages decided meanwhile go to the room's spool. Afterwards, on the
promoted server: every acknowledged check-out is there, no item has two loans, every passage
is there exactly once, and ``archroom audit verify`` passes. The time from the kill to the
first acknowledged write is printed (it is a measurement, never asserted).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from pathlib import Path

import asyncpg
import httpx
import pytest

from daemon.spool import DatabaseGuard
from daemon.tokens import Role
from simulators.llrp_gate import Cross
from tests.ha.conftest import DATABASE, started_cluster
from tests.ha.pgcluster import ReplicatedCluster
from tests.harness import run_cli
from tests.services import Mosquitto
from tests.support.catalogue import item_body
from tests.support.poll import eventually
from tests.support.room import Room, reader_room, start_room

pytestmark = pytest.mark.slow

ITEMS = 120
GATE_BOXES = 6
PACE_S = 0.1
"""Between one worker's check-outs, so that the burst spans the failover."""
PROMOTE_AFTER_S = 2.0
"""How long no server takes writes: a failover manager's detection time, shortened."""


@pytest.fixture
def cluster() -> Iterator[ReplicatedCluster]:
    yield from started_cluster(synchronous=True)


def gate_epc(i: int) -> str:
    return f"E2801160600002000000{i:04d}"


class Burst:
    """Check-outs through the API, retried like a person would when told to try again."""

    def __init__(self) -> None:
        self.acked: dict[str, int] = {}
        """ref -> loan id, for every check-out answered 201."""
        self.in_doubt: set[str] = set()
        """Refs whose retry found the item already on loan: an earlier try did land."""
        self.refused = 0
        self.ack_times: list[tuple[float, float]] = []
        """When each acknowledged check-out was sent, and when its answer came."""
        self.kill_at: float | None = None

    async def check_out(self, client: httpx.AsyncClient, refs: list[str]) -> None:
        for ref in refs:
            tries = 0
            while True:
                tries += 1
                sent = time.monotonic()
                try:
                    r = await client.post(
                        "/api/v1/loans", json={"ref": ref, "borrower": "Li Si", "purpose": "audit"}
                    )
                except httpx.TransportError:
                    status = 0
                else:
                    status = r.status_code
                if status == 201:
                    self.acked[ref] = int(r.json()["id"])
                    self.ack_times.append((sent, time.monotonic()))
                    await asyncio.sleep(PACE_S)
                    break
                if status == 409 and tries > 1:
                    self.in_doubt.add(ref)
                    break
                assert status in (0, 503), (status, r.text)
                self.refused += 1
                await asyncio.sleep(0.05)

    def first_write_after_kill(self) -> float:
        """Seconds from the kill to the answer of the first check-out sent after it that was
        acknowledged (an answer in flight at the kill is no write to the promoted server)."""
        assert self.kill_at is not None
        kill = self.kill_at
        return min(done for sent, done in self.ack_times if sent > kill) - kill


@asynccontextmanager
async def _api_room(tmp_path: Path, url: str, room: str) -> AsyncIterator[Room]:
    async for r in start_room(tmp_path, url, room=room, extra=""):
        yield r


async def test_primary_killed_mid_burst_loses_no_acknowledged_write(
    tmp_path: Path, mosquitto: Mosquitto, cluster: ReplicatedCluster
) -> None:
    url = cluster.url(DATABASE)
    burst = Burst()
    async with AsyncExitStack() as stack:
        rig = await reader_room(tmp_path / "r1", mosquitto, url, token_suffix="ha").open(stack)
        rig.services.guard.probe_s = 0.2
        room2 = await stack.enter_async_context(_api_room(tmp_path, url, "r2"))
        room2.services.guard.probe_s = 0.2
        staff1 = await stack.enter_async_context(rig.client(Role.staff))
        staff2 = await stack.enter_async_context(room2.client(Role.staff))

        refs = [f"BOX-{i:03d}" for i in range(ITEMS)]
        for ref in refs:
            assert (await staff2.put(f"/api/v1/items/{ref}", json=item_body())).status_code == 201
        for i in range(GATE_BOXES):
            ref = f"GATE-{i}"
            assert (await staff1.put(f"/api/v1/items/{ref}", json=item_body())).status_code == 201
            tag = await staff1.post(f"/api/v1/items/{ref}/tag", json={"epc": gate_epc(i)})
            assert tag.status_code == 201
            loan = await staff1.post(
                "/api/v1/loans", json={"ref": ref, "borrower": "Wang Wu", "purpose": "exhibit"}
            )
            assert loan.status_code == 201

        # Boxes on loan carried out one after another, across the kill.
        for i in range(GATE_BOXES):
            rig.gate.add(Cross(epc=gate_epc(i), direction="out", duration=1.5, start=1.0 * i))
        workers = [
            asyncio.create_task(burst.check_out(staff1, refs[0::2])),
            asyncio.create_task(burst.check_out(staff2, refs[1::2])),
        ]
        await eventually(lambda: _passages_recorded(cluster.primary.dsn(DATABASE), 1), timeout=30)
        cluster.primary.crash()
        burst.kill_at = time.monotonic()
        # The standby is promoted once a passage is on the room's spool (and not before
        # PROMOTE_AFTER_S), so that the gap is one the spool has to cover.
        await eventually(lambda: _spooled(rig.services.guard), timeout=30)
        await asyncio.sleep(max(0.0, burst.kill_at + PROMOTE_AFTER_S - time.monotonic()))
        await asyncio.to_thread(cluster.promote_standby)
        promoted_after = time.monotonic() - burst.kill_at
        await asyncio.wait_for(asyncio.gather(*workers), 120)

        await eventually(
            lambda: _passages_recorded(cluster.standby.dsn(DATABASE), GATE_BOXES), timeout=60
        )
        for guard in (rig.services.guard, room2.services.guard):
            await eventually(partial(_drained, guard), timeout=60)
        spooled = rig.services.guard.replayed
        assert spooled >= 1
        first_write = burst.first_write_after_kill()
        print(
            f"\nfailover: standby promoted {promoted_after:.2f} s after the kill; first "
            f"acknowledged write {first_write:.2f} s after the kill; {burst.refused} "
            f"check-out attempts refused (503) meanwhile; {spooled} device record(s) spooled "
            f"and replayed; {len(burst.in_doubt)} in-doubt check-out(s)"
        )

    conn = await asyncpg.connect(cluster.standby.dsn(DATABASE))
    try:
        assert await conn.fetchval("SELECT pg_is_in_recovery()") is False
        loans = await conn.fetch(
            "SELECT l.id, i.ref FROM loans l JOIN items i ON i.id = l.item_id"
            " WHERE i.ref LIKE 'BOX-%'"
        )
        passages = await conn.fetch("SELECT epc, direction FROM gate_passages")
    finally:
        await conn.close()
    on_new_primary = {row["id"]: row["ref"] for row in loans}
    for ref, loan_id in burst.acked.items():
        assert on_new_primary.get(loan_id) == ref, f"acknowledged loan {loan_id} of {ref} lost"
    per_ref = sorted(on_new_primary.values())
    assert per_ref == sorted(set(per_ref)), "an item was checked out twice"
    assert set(per_ref) == set(burst.acked) | burst.in_doubt == set(refs)
    assert sorted((p["epc"], p["direction"]) for p in passages) == [
        (gate_epc(i), "out") for i in range(GATE_BOXES)
    ]

    verify = await asyncio.to_thread(
        run_cli, "audit", "verify", "-c", str(tmp_path / "r1" / "archroom.toml")
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


async def _passages_recorded(server_dsn: str, n: int) -> bool:
    try:
        conn = await asyncpg.connect(server_dsn)
    except (OSError, asyncpg.PostgresError):
        return False
    try:
        return int(await conn.fetchval("SELECT count(*) FROM gate_passages")) >= n
    finally:
        await conn.close()


async def _drained(guard: DatabaseGuard) -> bool:
    return not guard.spooling


async def _spooled(guard: DatabaseGuard) -> bool:
    return len(guard.spool) > 0
