"""The climate of the rooms: sensor buses polled, limits watched, history stored.

(Being integrated: ``build_climate`` returns None until the service is wired.)
"""

from __future__ import annotations

from daemon.alarms import Alarms
from daemon.config import ArchroomConfig
from daemon.health import Health
from daemon.ledger.locations import Locations
from daemon.ledger.uow import Ledger
from daemon.metrics import Metrics
from daemon.mqtt import RetainedState


class ClimateService:
    async def run(self) -> None:
        raise NotImplementedError


async def build_climate(
    config: ArchroomConfig,
    *,
    ledger: Ledger,
    locations: Locations,
    alarms: Alarms,
    metrics: Metrics,
    retained: RetainedState,
    health: Health,
) -> ClimateService | None:
    del config, ledger, locations, alarms, metrics, retained, health
    return None
