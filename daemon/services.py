"""Everything the API and the CLI use of a running room, in one typed bundle."""

from __future__ import annotations

from dataclasses import dataclass

from daemon.config import ArchroomConfig
from daemon.health import Health
from daemon.metrics import Metrics
from daemon.store.db import Store
from daemon.supervisor import Supervisor
from daemon.tokens import Tokens


@dataclass(frozen=True, slots=True)
class Services:
    config: ArchroomConfig
    store: Store
    tokens: Tokens
    metrics: Metrics
    health: Health
    supervisor: Supervisor
