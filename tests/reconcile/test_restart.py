"""A daemon restart: the run it was executing is failed, the runs waiting are executed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import update

from daemon.audit import AuditChain
from daemon.bus import Bus
from daemon.ledger.uow import Ledger
from daemon.outbox import Outbox
from daemon.reconcile.runs import INTERRUPTED, Reconciler
from daemon.store.db import Store
from daemon.store.schema import reconciliation_runs
from tests.harness import make_config, running_daemon


async def test_restart_fails_the_interrupted_run_and_executes_the_queued_one(
    tmp_path: Path, sqlite_url: str
) -> None:
    store = Store.connect(sqlite_url)
    try:
        ledger = Ledger(store, AuditChain("r1"), Outbox(store, site="t", room="r1"), Bus())
        reconciler = Reconciler(ledger)
        interrupted = await reconciler.request(actor="staff-1")
        waiting = await reconciler.request(actor="staff-2")
        async with store.write() as conn:  # as if the daemon had stopped during the first
            await conn.execute(
                update(reconciliation_runs)
                .where(reconciliation_runs.c.id == interrupted.id)
                .values(state="running", started_us=1)
            )
    finally:
        await store.close()

    config = make_config(tmp_path / "r1", db_url=sqlite_url)
    async with running_daemon(config) as daemon:
        assert daemon.services is not None
        inventory = daemon.services.inventory
        assert inventory is not None
        async with asyncio.timeout(30):
            while (await inventory.reconciler.get(waiting.id)).state != "done":
                await asyncio.sleep(0.05)
        failed = await inventory.reconciler.get(interrupted.id)
        assert failed.state == "failed"
        assert failed.error == INTERRUPTED
