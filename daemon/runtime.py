"""The composition root: open the store, build the services, run them under one TaskGroup.

Start-up order matters for systemd: READY=1 is sent only once the database is open with the
right schema and the API socket listens. On SIGTERM the daemon says STOPPING=1, lets the API
finish in-flight requests, cancels the services (each closes its links) and closes the store,
all within the 10 s systemd allows before it kills.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from daemon.accounts.store import Accounts
from daemon.api_server import server_config
from daemon.audit import AuditChain, adopt_algorithm
from daemon.audit_forward import AuditForwarder
from daemon.bus import Bus
from daemon.config import ArchroomConfig
from daemon.device_kit import DeviceKit
from daemon.health import Health
from daemon.heap import settle_heap
from daemon.ledger.alarms import Alarms
from daemon.ledger.imports import Imports
from daemon.ledger.items import Catalogue
from daemon.ledger.loan_requests import LoanRequests
from daemon.ledger.loan_rules import LoanRules
from daemon.ledger.loans import Loans
from daemon.ledger.locations import Locations
from daemon.ledger.pairing import Pairing
from daemon.ledger.passages import Passages
from daemon.ledger.tags import Tags
from daemon.ledger.uow import Ledger
from daemon.ledger.whereabouts import Whereabout
from daemon.metric_labels import preset_labels
from daemon.metrics import Metrics
from daemon.mqtt import FastLane, LocalEventLog, MqttPublisher, RetainedState
from daemon.outbox import Outbox
from daemon.reconcile.service import Inventory
from daemon.room import Housekeeping, prepare_room
from daemon.sdnotify import Notifier, watchdog_interval
from daemon.services import Services
from daemon.signins import SignInRecorder
from daemon.spool import DatabaseGuard, Spool
from daemon.store.db import Store
from daemon.store.replica import ReplicaReads
from daemon.supervisor import Supervisor
from daemon.tokens import Tokens
from drivers.uhfreader18_client import Uhfreader18Poller
from rfid.service.desk import DeskEncoder
from rfid.service.readers import RoomReaders
from sensors.service.climate import build_climate
from sensors.service.control import build_control
from stacker.service.room import build_stacker

log = logging.getLogger(__name__)


class _ApiServer(uvicorn.Server):
    """uvicorn inside our loop: the daemon, not uvicorn, owns SIGTERM and SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass(frozen=True, slots=True)
class Listening:
    host: str
    port: int
    scheme: str = "http"

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def bind_api(config: ArchroomConfig) -> socket.socket:
    """Bind the API socket before anything else, so a port clash stops start-up at once."""
    family = socket.AF_INET6 if ":" in config.api.bind else socket.AF_INET
    sock = socket.create_server((config.api.bind, config.api.port), family=family, reuse_port=False)
    # Accepted connections inherit this: small responses go out at once instead of waiting
    # for the client's delayed ACK (40 ms per request otherwise).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.set_inheritable(True)
    return sock


async def build_services(
    config: ArchroomConfig,
    store: Store,
    *,
    metrics: Metrics,
    health: Health,
    supervisor: Supervisor,
) -> Services:
    """The room's services over an open store, with the room's fixed locations in place."""
    outbox = Outbox(store, site=config.site.id, room=config.room)
    bus = Bus()
    ledger = Ledger(store, AuditChain(config.room), outbox, bus)
    locations = Locations(store)
    fastlane = FastLane(site=config.site.id, room=config.room)
    guard = DatabaseGuard(store, Spool(config.state_dir / "spool.jsonl"), health)
    alarms = Alarms(ledger, metrics, guard=guard, fastlane=fastlane)
    retained = RetainedState(outbox)
    tags = Tags(ledger, config.ledger.company_prefix)
    passages = Passages(
        ledger, locations, alarms, metrics, gate_in_returns=config.ledger.gate_in_returns
    )
    readers = RoomReaders(
        config,
        ledger=ledger,
        locations=locations,
        alarms=alarms,
        passages=passages,
        metrics=metrics,
        retained=retained,
        supervisor=supervisor,
        guard=guard,
        fastlane=fastlane,
    )
    catalogue = Catalogue(ledger, Pairing.of(config.pairing))
    desks = {
        r.id: d
        for r in config.readers
        if r.role == "desk" and isinstance(d := readers.drivers[r.id], Uhfreader18Poller)
    }
    replica_url = config.replica_database_url()
    replica = None
    if replica_url is not None:
        replica = ReplicaReads(
            store,
            Store.connect(replica_url, max_connections=config.database.max_connections),
            max_lag_s=config.database.replica_max_lag_s,
            lag_gauge=metrics.database_replica_lag,
        )
    services = Services(
        replica=replica,
        config=config,
        store=store,
        tokens=Tokens(store, ledger.chain),
        accounts=Accounts(
            store,
            ledger,
            idle_s=config.api.session_idle_s,
            max_s=config.api.session_max_s,
        ),
        metrics=metrics,
        health=health,
        supervisor=supervisor,
        bus=bus,
        retained=retained,
        ledger=ledger,
        catalogue=catalogue,
        tags=tags,
        locations=locations,
        loans=Loans(ledger, locations, rules=LoanRules.of(config)),
        loan_requests=LoanRequests(ledger, LoanRules.of(config)),
        alarms=alarms,
        whereabouts=Whereabout(store),
        passages=passages,
        readers=readers,
        desk=DeskEncoder(desks, tags, ledger, locations),
        guard=guard,
        fastlane=fastlane,
        signins=SignInRecorder(ledger, config.audit.sign_in_window_s),
        imports=Imports(catalogue, config.state_dir / "imports"),
    )
    await prepare_room(config, ledger, locations)
    await alarms.load()
    kit = DeviceKit(ledger, locations, alarms, metrics, retained, health)
    stacker = await build_stacker(config, kit)
    climate = await build_climate(config, kit)
    control = build_control(config, climate, kit)
    inventory = Inventory(config, kit, readers=readers, stacker=stacker)
    return dataclasses.replace(
        services, stacker=stacker, climate=climate, control=control, inventory=inventory
    )


async def audit_configuration(
    ledger: Ledger, config: ArchroomConfig, config_file: Path | None
) -> None:
    """Audit the configuration the daemon starts with: the file's name and SHA-256, and the
    SHA-256 of the effective settings (the file with its environment overrides applied)."""
    details: dict[str, str | None] = {
        "file": str(config_file) if config_file is not None else None,
        "effective_sha256": hashlib.sha256(config.model_dump_json().encode()).hexdigest(),
        "audit_hash": config.audit.hash,
    }
    subject = "config"
    if config_file is not None:
        subject = f"config:{config_file.name}"
        try:
            details["file_sha256"] = hashlib.sha256(
                await asyncio.to_thread(config_file.read_bytes)
            ).hexdigest()
        except OSError as e:
            details["file_sha256"] = None
            details["file_error"] = e.strerror
    async with ledger.transaction("archroom") as tx:
        tx.audit("config.loaded", subject, details)


class Daemon:
    def __init__(
        self,
        config: ArchroomConfig,
        *,
        config_hint: str = "",
        config_file: Path | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self.config = config
        self.config_file = config_file
        self.config_hint = config_hint
        self.notifier = notifier or Notifier()
        self.metrics = Metrics(room=config.room)
        preset_labels(self.metrics, config)
        self.health = Health()
        self.supervisor = Supervisor(self.metrics)
        self.listening: Listening | None = None
        self.services: Services | None = None
        self.ready = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        config = self.config
        sock = bind_api(config)
        host, port = sock.getsockname()[:2]
        self.listening = Listening(host, port, "https" if config.api.tls_cert_file else "http")
        store = Store.connect(
            config.database_url(), max_connections=config.database.max_connections
        )
        try:
            await store.check_schema(f"archroom db upgrade {self.config_hint}".strip())
            async with store.write() as conn:
                await adopt_algorithm(conn, config.audit.hash)
            self.health.set("database", "ok", store.dialect)
            await self._run_services(store, sock, stop)
        finally:
            sock.close()
            if self.services is not None and self.services.replica is not None:
                await self.services.replica.close()
            await store.close()

    async def _run_services(self, store: Store, sock: socket.socket, stop: asyncio.Event) -> None:
        config = self.config
        services = await build_services(
            config, store, metrics=self.metrics, health=self.health, supervisor=self.supervisor
        )
        self.services = services
        await audit_configuration(services.ledger, config, self.config_file)
        outbox = services.ledger.outbox
        retained = services.retained
        housekeeping = Housekeeping(services.ledger, services.loans, services.alarms, self.metrics)
        from api.app import create_app

        app = create_app(services)
        server = _ApiServer(server_config(config.api, app))
        if config.mqtt is not None:
            publisher = MqttPublisher(
                config.mqtt,
                outbox,
                retained,
                self.metrics,
                fastlane=services.fastlane,
                batch=config.outbox.batch,
                prune_after_s=config.outbox.prune_after_s,
            )
            self.health.set("mqtt", "starting", config.mqtt.url)
            deliver = publisher.run
        else:
            self.health.set("mqtt", "disabled", "no [mqtt] section in the configuration")
            publisher = None
            deliver = LocalEventLog(
                outbox, self.metrics, prune_after_s=config.outbox.prune_after_s
            ).run

        async with asyncio.TaskGroup() as group:
            api_task = group.create_task(server.serve(sockets=[sock]), name="api")
            tasks = [
                self.supervisor.start(group, "outbox", deliver),
                self.supervisor.start(group, "watchdog", lambda: self._watchdog(publisher)),
                self.supervisor.start(group, "housekeeping", housekeeping.run),
                self.supervisor.start(group, "database-guard", services.guard.run),
                self.supervisor.start(group, "sign-in-audit", services.signins.run),
                self.supervisor.start(group, "imports", services.imports.run),
            ]
            if config.audit.forward is not None:
                forwarder = AuditForwarder(
                    store,
                    config.room,
                    config.audit,
                    config.state_dir / "audit-forward.cursor",
                    health=self.health,
                )
                tasks.append(self.supervisor.start(group, "audit-forward", forwarder.run))
            if services.replica is not None:
                tasks.append(self.supervisor.start(group, "replica-probe", services.replica.run))
            if config.readers:
                tasks.append(self.supervisor.start(group, "rfid", services.readers.run))
            if services.stacker is not None:
                tasks.append(self.supervisor.start(group, "stacker", services.stacker.run))
            if services.climate is not None:
                tasks.append(self.supervisor.start(group, "climate", services.climate.run))
            if services.control is not None:
                tasks.append(self.supervisor.start(group, "climate-control", services.control.run))
            if services.inventory is not None:
                tasks.append(self.supervisor.start(group, "inventory", services.inventory.run))
            while not server.started:
                if api_task.done():
                    raise RuntimeError(f"the API server did not start on {self.listening}")
                await asyncio.sleep(0.01)
            self.health.set("api", "ok", self.listening.url if self.listening else "")
            self.notifier.notify(
                "READY=1", f"STATUS=serving on {self.listening.url if self.listening else '?'}"
            )
            self.ready.set()
            settle_heap()
            log.info(
                "archroom ready: room %s, API %s",
                config.room,
                self.listening.url if self.listening else "?",
            )
            await stop.wait()
            log.info("stopping")
            self.notifier.notify("STOPPING=1")
            for hook in services.stop_hooks:
                hook()
            server.should_exit = True
            for task in tasks:
                task.cancel()

    async def _watchdog(self, publisher: MqttPublisher | None) -> None:
        """Pet systemd's watchdog from the loop itself, and measure how late the loop runs."""
        interval = watchdog_interval()
        period = min(interval, 1.0) if interval else 1.0
        last_pet = 0.0
        while True:
            before = time.monotonic()
            await asyncio.sleep(period)
            lag = time.monotonic() - before - period
            self.metrics.loop_lag.observe(max(lag, 0.0))
            if publisher is not None:
                self.health.set(
                    "mqtt",
                    "ok" if publisher.connected else "degraded",
                    "connected" if publisher.connected else "broker unreachable; events queued",
                )
            if interval and time.monotonic() - last_pet >= interval and lag < interval:
                self.notifier.notify("WATCHDOG=1")
                last_pet = time.monotonic()
