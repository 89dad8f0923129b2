"""Location lookups from a hot standby, with its lag measured and a fall back to the primary.

A real daemon writes to a private primary and reads the catalogue's lookups from its
streaming standby (``[database] replica_url``). Pausing the standby's replay makes it fall
behind for real: within the bound, a lookup answers what the standby has (the older place),
which shows the read went there; beyond the bound, or with the standby stopped, lookups answer
from the primary. The lag is the metric ``archroom_database_replica_lag_seconds``.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import text

from daemon.runtime import Daemon
from daemon.store.replica import ReplicaReads
from daemon.tokens import Role
from tests.ha.conftest import DATABASE, started_cluster
from tests.ha.pgcluster import ReplicatedCluster
from tests.harness import api_client, create_token, make_config, running_daemon
from tests.support.catalogue import item_body
from tests.support.poll import eventually

pytestmark = pytest.mark.slow

RACKS = '[[racks]]\nid = "A"\nbays = 1\nlevels = "1-2"\n'
FIRST, SECOND = "r1-A-01-01", "r1-A-01-02"


@pytest.fixture
def cluster() -> Iterator[ReplicatedCluster]:
    yield from started_cluster(synchronous=False)


def primary_url(cluster: ReplicatedCluster) -> str:
    return f"postgresql+asyncpg://postgres@127.0.0.1:{cluster.primary.port}/{DATABASE}"


def replica_url(cluster: ReplicatedCluster) -> str:
    return f"postgresql+asyncpg://postgres@127.0.0.1:{cluster.standby.port}/{DATABASE}"


async def standby_sql(cluster: ReplicatedCluster, sql: str) -> None:
    conn = await asyncpg.connect(cluster.standby.dsn(DATABASE))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
async def daemon(tmp_path: Path, cluster: ReplicatedCluster) -> AsyncIterator[Daemon]:
    database = (
        f'[database]\nurl = "{primary_url(cluster)}"\nreplica_url = "{replica_url(cluster)}"\n'
        "replica_max_lag_s = 3600\n"
    )
    config = make_config(tmp_path / "r1", extra=RACKS + database)
    async with running_daemon(config) as d:
        yield d


def replica_of(daemon: Daemon) -> ReplicaReads:
    assert daemon.services is not None
    assert daemon.services.replica is not None
    return daemon.services.replica


async def located(client: httpx.AsyncClient, ref: str) -> str:
    answer = await client.post("/api/v1/locations/lookup", json={"refs": [ref]})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["locations"][0]["location"]["code"])


def lag_metric(body: str) -> float:
    for line in body.splitlines():
        if line.startswith("archroom_database_replica_lag_seconds "):
            return float(line.split()[1])
    raise AssertionError("archroom_database_replica_lag_seconds is not exported")


async def test_lookups_read_the_standby_within_the_lag_bound_and_the_primary_beyond_it(
    cluster: ReplicatedCluster, daemon: Daemon
) -> None:
    replica = replica_of(daemon)
    replica.probe_s = 0.2
    url = primary_url(cluster)
    staff_token = await create_token(url, Role.staff, "staff-ha")
    catalogue_token = await create_token(url, Role.catalogue, "catalogue-ha")
    async with AsyncExitStack() as stack:
        staff = await stack.enter_async_context(api_client(daemon, staff_token))
        catalogue = await stack.enter_async_context(api_client(daemon, catalogue_token))
        assert (await staff.put("/api/v1/items/BOX-1", json=item_body())).status_code == 201
        assert (await staff.post("/api/v1/items/BOX-1/move", json={"to": FIRST})).status_code == 200

        async def caught_up() -> bool:
            return await located(catalogue, "BOX-1") == FIRST

        await eventually(caught_up, timeout=30)
        assert replica.reads["replica"] >= 1
        async with replica.write() as conn:  # writes go to the primary, always
            assert await conn.scalar(text("SELECT pg_is_in_recovery()")) is False

        # The standby stops replaying: it falls behind for real.
        await standby_sql(cluster, "SELECT pg_wal_replay_pause()")
        moved = await staff.post("/api/v1/items/BOX-1/move", json={"to": SECOND})
        assert moved.status_code == 200
        assert moved.json()["location"]["code"] == SECOND  # staff read the primary
        from_primary = replica.reads["primary"]
        assert await located(catalogue, "BOX-1") == FIRST  # within the bound: the standby
        assert replica.reads["primary"] == from_primary

        replica.max_lag_s = 0.5

        async def behind() -> bool:
            return replica.lag_s is not None and replica.lag_s > replica.max_lag_s

        await eventually(behind, timeout=30)
        assert await located(catalogue, "BOX-1") == SECOND  # beyond it: the primary
        assert replica.reads["primary"] > from_primary
        metrics = await staff.get("/metrics")
        assert lag_metric(metrics.text) > 0.5

        await standby_sql(cluster, "SELECT pg_wal_replay_resume()")

        async def fresh() -> bool:
            return replica.usable

        await eventually(fresh, timeout=30)
        from_replica = replica.reads["replica"]
        assert await located(catalogue, "BOX-1") == SECOND
        assert replica.reads["replica"] == from_replica + 1

        cluster.standby.stop()
        await eventually(lambda: _not_answering(replica), timeout=30)
        assert await located(catalogue, "BOX-1") == SECOND
        assert math.isnan(lag_metric((await staff.get("/metrics")).text))
        search = await catalogue.get("/api/v1/search", params={"q": "BOX-1"})
        assert search.status_code == 200
        assert [h["ref"] for h in search.json()] == ["BOX-1"]


async def _not_answering(replica: ReplicaReads) -> bool:
    return replica.lag_s is None
