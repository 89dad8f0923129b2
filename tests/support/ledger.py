"""The room's services over a store, without the daemon: for unit tests of the ledger services
and the device adapters on the ``store`` fixture (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from daemon.config import ArchroomConfig
from daemon.health import Health
from daemon.ledger.items import ItemRecord
from daemon.metrics import Metrics
from daemon.runtime import build_services
from daemon.services import Services
from daemon.store.db import Store
from daemon.store.schema import audit
from daemon.supervisor import Supervisor
from tests.harness import make_config
from tests.support.room import RACKS


def room_config(state_dir: Path, db_url: str, extra: str = RACKS) -> ArchroomConfig:
    """Room ``r1`` (site ``t``) with ``extra`` (by default rack A: bays 1-3, levels 1-2)."""
    return make_config(state_dir, db_url=db_url, extra=extra)


async def room_services(config: ArchroomConfig, store: Store) -> Services:
    """Every service of the room over ``store``, as the daemon builds them (nothing runs)."""
    metrics = Metrics(room=config.room)
    return await build_services(
        config, store, metrics=metrics, health=Health(), supervisor=Supervisor(metrics)
    )


async def catalogued(
    services: Services, ref: str, *, epc: str | None = None, home: str | None = None
) -> int:
    """Item ``ref`` in the catalogue (tagged ``epc``, at home at ``home``); returns its id."""
    record = ItemRecord(ref=ref, title=f"Box {ref}", retention="D30", home_location=home)
    item, _ = await services.catalogue.put(record, actor="cataloguer")
    if epc is not None:
        await services.tags.bind(ref, epc, actor="cataloguer")
    return item.id


async def audit_actions(store: Store, subject: str) -> list[str]:
    """The audited actions about ``subject``, oldest first."""
    async with store.read() as conn:
        rows = await conn.scalars(
            select(audit.c.action).where(audit.c.subject == subject).order_by(audit.c.seq)
        )
        return list(rows)
