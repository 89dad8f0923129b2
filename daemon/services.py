"""Everything the API and the CLI use of a running room, in one typed bundle."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from daemon.accounts.store import Accounts
from daemon.bus import Bus
from daemon.config import ArchroomConfig
from daemon.health import Health
from daemon.ledger.alarms import Alarms
from daemon.ledger.imports import Imports
from daemon.ledger.items import Catalogue
from daemon.ledger.loan_requests import LoanRequests
from daemon.ledger.loans import Loans
from daemon.ledger.locations import Locations
from daemon.ledger.passages import Passages
from daemon.ledger.tags import Tags
from daemon.ledger.uow import Ledger
from daemon.ledger.whereabouts import Whereabout
from daemon.metrics import Metrics
from daemon.mqtt import FastLane, RetainedState
from daemon.reconcile.service import Inventory
from daemon.signins import SignInRecorder
from daemon.spool import DatabaseGuard
from daemon.store.db import Store
from daemon.store.replica import ReplicaReads
from daemon.supervisor import Supervisor
from daemon.tokens import Tokens
from rfid.service.desk import DeskEncoder
from rfid.service.readers import RoomReaders
from sensors.service.climate import ClimateService
from sensors.service.control import ClimateControl
from stacker.service.room import StackerService


@dataclass(frozen=True, slots=True)
class Services:
    config: ArchroomConfig
    store: Store
    tokens: Tokens
    accounts: Accounts
    metrics: Metrics
    health: Health
    supervisor: Supervisor
    bus: Bus
    retained: RetainedState
    ledger: Ledger
    catalogue: Catalogue
    tags: Tags
    locations: Locations
    loans: Loans
    loan_requests: LoanRequests
    alarms: Alarms
    whereabouts: Whereabout
    passages: Passages
    readers: RoomReaders
    desk: DeskEncoder
    guard: DatabaseGuard
    fastlane: FastLane
    signins: SignInRecorder
    imports: Imports
    stacker: StackerService | None = None
    climate: ClimateService | None = None
    control: ClimateControl | None = None
    inventory: Inventory | None = None
    replica: ReplicaReads | None = None
    """Reads from a hot standby ([database] replica_url), when one is configured."""
    stop_hooks: list[Callable[[], None]] = field(default_factory=list)
    """Called once when the daemon begins to stop (before the API drains): e.g. end live streams."""

    @property
    def reads(self) -> Store:
        """Where read-mostly answers (lookups, search, EPCIS) read: the replica or the store."""
        return self.replica if self.replica is not None else self.store
