"""What the demo room does, on a loop, so every part of archroom can be seen working.

Each step is what people and devices do in a real room, driven through the same paths: staff
use the REST API; boxes are moved by changing what the simulated readers see; the daemon's
engines, ledger, alarms, MQTT and metrics react as they would to hardware. Steps: a check-out
carried out through the gate and its return; a box put on the wrong shelf and put back; a box
carried out without a loan (alarm, acknowledged); a stacker retrieval and store; a humidity
excursion and its recovery (the last two when the stacker and climate services run).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from daemon.audit import AuditChain
from daemon.bus import Bus, Subscription
from daemon.config import ArchroomConfig
from daemon.demo.devices import ANTENNAS, SHELF_READERS, DemoDevices, shelf_code
from daemon.events import AlarmCleared, AlarmRaised, GatePassageRecorded, LocationChanged
from daemon.ledger.items import Catalogue, ItemRecord
from daemon.ledger.locations import Locations
from daemon.ledger.movements import move
from daemon.ledger.tags import Tags
from daemon.ledger.uow import Ledger
from daemon.outbox import Outbox
from daemon.room import prepare_room
from daemon.services import Services
from daemon.store.db import Store
from daemon.store.schema import items
from simulators.llrp_gate import Cross

log = logging.getLogger("archroom.demo")

CATEGORIES = ("personnel", "social insurance", "labour arbitration", "employment services")
RETENTIONS = ("Y", "D30", "D10")


@dataclass(frozen=True, slots=True)
class Placed:
    ref: str
    epc: str
    reader: int
    antenna: int

    @property
    def home(self) -> str:
        return shelf_code(self.reader, self.antenna)


async def seed_catalogue(
    config: ArchroomConfig, store: Store, devices: DemoDevices, n: int
) -> list[Placed]:
    """``n`` catalogued, tagged boxes on their home shelves, and the simulated readers told so."""
    ledger = Ledger(
        store, AuditChain(config.room), Outbox(store, site=config.site.id, room=config.room), Bus()
    )
    locations = Locations(store)
    await prepare_room(config, ledger, locations)
    async with store.read() as conn:
        existing = await conn.scalar(items.select().with_only_columns(items.c.id).limit(1))
    shelves = SHELF_READERS * ANTENNAS
    records = [
        ItemRecord(
            ref=f"0001-WS·{2000 + i % 25}-{RETENTIONS[i % 3]}-RS-{i + 1:05d}",
            title=f"{CATEGORIES[i % 4].capitalize()} file {i + 1}",
            category=CATEGORIES[i % 4],
            year=2000 + i % 25,
            retention=RETENTIONS[i % 3],
            kind="box",
            home_location=shelf_code(i % shelves // ANTENNAS, 1 + i % ANTENNAS),
        )
        for i in range(n)
    ]
    if existing is None:
        await Catalogue(ledger).import_rows(
            ((i, r.model_dump()) for i, r in enumerate(records, 1)), actor="demo"
        )
        epcs = await Tags(ledger, config.ledger.company_prefix).bind_new(
            [r.ref for r in records], actor="demo"
        )
        async with ledger.transaction("demo") as tx:
            ids = {
                r.ref: r.id
                for r in (
                    await tx.conn.execute(items.select().with_only_columns(items.c.id, items.c.ref))
                ).all()
            }
            codes = await locations.ids(
                tx.conn, {r.home_location for r in records if r.home_location}
            )
            for r in records:
                assert r.home_location is not None
                await move(
                    tx,
                    item_id=ids[r.ref],
                    ref=r.ref,
                    to_location_id=codes[r.home_location],
                    to_code=r.home_location,
                    source="manual",
                    room=config.room,
                    epc=epcs.get(r.ref),
                    details={"note": "initial shelving"},
                )
    else:
        epcs = {}
        from daemon.store.schema import tags

        async with store.read() as conn:
            rows = (
                await conn.execute(
                    items.select()
                    .with_only_columns(items.c.ref, tags.c.epc)
                    .join(tags, (tags.c.item_id == items.c.id) & tags.c.retired_us.is_(None))
                )
            ).all()
        epcs = {r.ref: r.epc for r in rows}
    placed = []
    for i, r in enumerate(records):
        epc = epcs.get(r.ref)
        if epc is None:
            continue
        reader, antenna = i % shelves // ANTENNAS, 1 + i % ANTENNAS
        devices.shelves[reader].reader.place(antenna, epc)
        placed.append(Placed(r.ref, epc, reader, antenna))
    return placed


class Scenario:
    def __init__(
        self, services: Services, devices: DemoDevices, placed: list[Placed], url: str, token: str
    ) -> None:
        self.services = services
        self.devices = devices
        self.placed = placed
        self.url = url
        self.token = token
        self.done: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self._next = 0
        self._events: Subscription[object] | None = None
        self._backlog: list[object] = []
        self.waiting_for = ""

    def summary(self) -> str:
        parts = [f"{step} x{n}" for step, n in sorted(self.done.items())]
        failed = [f"{step} x{n}" for step, n in sorted(self.failed.items())]
        return (
            "done: "
            + (", ".join(parts) or "nothing")
            + ("; failed: " + ", ".join(failed) if failed else "")
        )

    def _pick(self) -> Placed:
        item = self.placed[self._next % len(self.placed)]
        self._next += 7
        return item

    async def run(self) -> None:
        bus = self.services.bus
        self._events = bus.subscribe(
            GatePassageRecorded, AlarmRaised, AlarmCleared, LocationChanged
        )
        steps: list[tuple[str, Callable[[httpx.AsyncClient], Awaitable[str]]]] = [
            ("checkout", self.check_out_and_return),
            ("misplaced", self.misplace_and_put_back),
            ("unauthorized", self.unauthorized_removal),
        ]
        headers = {"Authorization": f"Bearer {self.token}"}
        status = asyncio.create_task(self._status_line(), name="demo-status")
        try:
            async with httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30) as client:
                await asyncio.sleep(10.0)  # readers connect and confirm the shelves
                while True:
                    for name, step in steps:
                        try:
                            message = await asyncio.wait_for(step(client), 60)
                        except (TimeoutError, httpx.HTTPError, AssertionError) as e:
                            self.failed[name] += 1
                            print(
                                f"scenario: {name} did not complete: {self.waiting_for}: {e!r}",
                                flush=True,
                            )
                        else:
                            self.done[name] += 1
                            print(f"scenario: {message}", flush=True)
                        await asyncio.sleep(1.0)
        finally:
            status.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await status
            self._events.close()

    async def _wait(
        self, what: str, predicate: Callable[[object], bool], within_s: float = 30.0
    ) -> object:
        assert self._events is not None
        self.waiting_for = what
        for event in self._backlog:
            if predicate(event):
                self._backlog.remove(event)
                return event
        async with asyncio.timeout(within_s):
            while True:
                event = await self._events.get()
                if predicate(event):
                    return event
                self._backlog.append(event)
                del self._backlog[:-200]

    async def _at_home(self, item: Placed) -> None:
        self.devices.shelves[item.reader].reader.place(item.antenna, item.epc)
        await self._wait(
            f"{item.ref} back on {item.home}",
            lambda e: (
                isinstance(e, LocationChanged) and e.ref == item.ref and e.to_location == item.home
            ),
        )

    async def _through_gate(self, item: Placed, direction: str) -> None:
        self.devices.gate.add(Cross(epc=item.epc, direction=direction, duration=2.0))
        await self._wait(
            f"{item.ref} passing door-1 {direction}",
            lambda e: (
                isinstance(e, GatePassageRecorded)
                and e.epc == item.epc
                and e.direction == direction
            ),
        )

    async def check_out_and_return(self, client: httpx.AsyncClient) -> str:
        item = self._pick()
        loan = (
            await client.post(
                "/api/v1/loans",
                json={
                    "ref": item.ref,
                    "borrower": "Li Na (pensions office)",
                    "purpose": "appeal review",
                    "approval_no": "SP-2026-17",
                },
            )
        ).json()
        assert "id" in loan, loan
        self.devices.shelves[item.reader].reader.remove(item.epc)
        await self._through_gate(item, "out")
        await asyncio.sleep(5.0)  # the borrower comes back later (and the gate's cool-down ends)
        await self._through_gate(item, "in")
        returned = await client.post(f"/api/v1/loans/{loan['id']}/return")
        assert returned.status_code == 200, returned.text
        await self._at_home(item)
        return (
            f"{item.ref} checked out (loan {loan['id']}), carried out and back through door-1,"
            f" returned, back on {item.home}"
        )

    async def misplace_and_put_back(self, client: httpx.AsyncClient) -> str:
        del client
        item = self._pick()
        wrong_antenna = 1 + item.antenna % ANTENNAS
        wrong = shelf_code(item.reader, wrong_antenna)
        self.devices.shelves[item.reader].reader.move(item.epc, wrong_antenna)
        await self._wait(
            f"misplaced alarm for {item.ref}",
            lambda e: (
                isinstance(e, AlarmRaised) and e.kind == "item.misplaced" and e.subject == item.ref
            ),
        )
        self.devices.shelves[item.reader].reader.move(item.epc, item.antenna)
        await self._wait(
            f"misplaced alarm for {item.ref} cleared",
            lambda e: isinstance(e, AlarmCleared) and e.kind == "item.misplaced",
        )
        return (
            f"{item.ref} put on {wrong} instead of {item.home}: misplaced alarm; put back, cleared"
        )

    async def unauthorized_removal(self, client: httpx.AsyncClient) -> str:
        item = self._pick()
        self.devices.shelves[item.reader].reader.remove(item.epc)
        self.devices.gate.add(Cross(epc=item.epc, direction="out", duration=2.0))
        alarm = await self._wait(
            f"unauthorized-removal alarm for {item.ref}",
            lambda e: (
                isinstance(e, AlarmRaised)
                and e.kind == "gate.unauthorized"
                and e.subject == item.ref
            ),
        )
        assert isinstance(alarm, AlarmRaised)
        acked = await client.post(f"/api/v1/alarms/{alarm.alarm_id}/ack")
        assert acked.status_code == 200, acked.text
        await asyncio.sleep(5.0)
        await self._through_gate(item, "in")
        await self._at_home(item)
        return (
            f"{item.ref} carried out without a loan: unauthorized-removal alarm {alarm.alarm_id},"
            " acknowledged; brought back"
        )

    async def _status_line(self) -> None:
        metrics = self.services.metrics
        last_reads, last_t = 0.0, time.monotonic()
        while True:
            await asyncio.sleep(10.0)
            reads = sum(
                s.value
                for m in metrics.rfid_reads.collect()
                for s in m.samples
                if s.name.endswith("_total")
            )
            now = time.monotonic()
            rate = (reads - last_reads) / (now - last_t)
            last_reads, last_t = reads, now
            alarms = len(await self.services.alarms.list(limit=10_000))
            open_loans, _ = await self.services.loans.counts()
            health = self.services.health.overall()
            print(
                f"status: {health} | {rate:,.0f} reads/s | {alarms} active alarm(s)"
                f" | {open_loans} open loan(s) | {self.summary()}",
                flush=True,
            )
