"""The stacker in the room: the controller, its journal in the store, jobs through the API.

(Being integrated: ``build_stacker`` returns None until the service is wired.)
"""

from __future__ import annotations

from daemon.alarms import Alarms
from daemon.config import ArchroomConfig
from daemon.health import Health
from daemon.ledger.locations import Locations
from daemon.ledger.uow import Ledger
from daemon.metrics import Metrics
from daemon.mqtt import RetainedState


class StackerService:
    async def run(self) -> None:
        raise NotImplementedError


async def build_stacker(
    config: ArchroomConfig,
    *,
    ledger: Ledger,
    locations: Locations,
    alarms: Alarms,
    metrics: Metrics,
    retained: RetainedState,
    health: Health,
) -> StackerService | None:
    del config, ledger, locations, alarms, metrics, retained, health
    return None
