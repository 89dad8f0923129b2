"""What the daemon hands every service of the room that works on devices (stacker, climate,
control, inventory), in one bundle: a builder's signature does not repeat the list, and a new
shared piece is added once."""

from __future__ import annotations

from dataclasses import dataclass

from daemon.health import Health
from daemon.ledger.alarms import Alarms
from daemon.ledger.locations import Locations
from daemon.ledger.uow import Ledger
from daemon.metrics import Metrics
from daemon.mqtt import RetainedState


@dataclass(frozen=True, slots=True)
class DeviceKit:
    ledger: Ledger
    locations: Locations
    alarms: Alarms
    metrics: Metrics
    retained: RetainedState
    health: Health
