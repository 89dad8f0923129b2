"""What the demo room does, on a loop, so every part of archroom can be seen working.

Each step is what people and devices do in a real room, driven through the same paths: staff
use the REST API; boxes are moved by changing what the simulated readers see; the daemon's
engines, ledger, alarms, MQTT and metrics react as they would to hardware. Steps: a check-out
carried out through the gate and its return; a box put on the wrong shelf and put back; a box
carried out without a loan (alarm, acknowledged); a stacker retrieval and store; a humidity
excursion and its recovery (the last two when the stacker and climate services run).

At the stacker's station a clerk works as in a real room: the box a retrieval brings is taken
out of the station (the scenario's own after a moment, one retrieved by someone else from the
console or the API after ``CLERK_TAKES_AFTER_S``), and a box goes back in by being put down at
the station and stored. A retrieval asked for while a box still stands at the station waits
for it to be taken, so the scenario and a person using the console never jam the crane.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass, field

import httpx
from sqlalchemy import select

from daemon.audit import AuditChain
from daemon.bus import Bus
from daemon.config import ArchroomConfig
from daemon.demo.devices import (
    ANTENNAS,
    SHELF_READERS,
    STACKER_BAYS,
    STACKER_LEVELS,
    DemoDevices,
    shelf_code,
)
from daemon.events import (
    AlarmCleared,
    AlarmRaised,
    ClimateActuatorSwitched,
    GatePassageRecorded,
    LocationChanged,
    StackerJobChanged,
)
from daemon.ledger.items import Catalogue, ItemRecord
from daemon.ledger.locations import Locations
from daemon.ledger.movements import move
from daemon.ledger.tags import Tags
from daemon.ledger.uow import Ledger
from daemon.outbox import Outbox
from daemon.room import prepare_room, stacker_cell_code
from daemon.services import Services
from daemon.store.db import Store
from daemon.store.schema import items, tags
from simulators.climate_room import Weather
from simulators.llrp_gate import Cross
from stacker.cells import CellAddress
from stacker.registers import epc_short_form

log = logging.getLogger("archroom.demo")

CLERK_TAKES_AFTER_S = 8.0
"""How long a box retrieved by someone else stands at the station before the clerk takes it."""

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


@dataclass(frozen=True, slots=True)
class Stored:
    ref: str
    epc: str
    cell: CellAddress


def stacker_cells() -> list[CellAddress]:
    return [
        CellAddress(1, side, bay, level, 1)
        for side in (1, 2)
        for bay in range(1, STACKER_BAYS + 1)
        for level in range(1, STACKER_LEVELS + 1)
    ]


def demo_ref(i: int) -> str:
    """The reference of the demo catalogue's ``i``-th item (every 50th is in the stacker)."""
    return f"0001-WS·{2000 + i % 25}-{RETENTIONS[i % 3]}-RS-{i + 1:05d}"


def _record(i: int, home: str | None) -> ItemRecord:
    return ItemRecord(
        ref=demo_ref(i),
        title=f"{CATEGORIES[i % 4].capitalize()} file {i + 1}",
        category=CATEGORIES[i % 4],
        year=2000 + i % 25,
        retention=RETENTIONS[i % 3],
        kind="box",
        home_location=home,
    )


async def seed_catalogue(
    config: ArchroomConfig, store: Store, devices: DemoDevices, n: int
) -> tuple[list[Placed], list[Stored]]:
    """``n`` catalogued, tagged boxes: every 50th in the stacker (filling at most half its
    cells), the others on their home shelves; the simulated readers and PLC are told so.

    A kept state directory (``--state-dir``) is seeded once; later runs only tell the
    simulators where the boxes are.
    """
    ledger = Ledger(
        store, AuditChain(config.room), Outbox(store, site=config.site.id, room=config.room), Bus()
    )
    locations = Locations(store)
    await prepare_room(config, ledger, locations)
    shelves = SHELF_READERS * ANTENNAS
    cells = stacker_cells()
    in_stacker = {i: cells[k] for k, i in enumerate(range(0, n, 50)) if k < len(cells) // 2}
    shelf_of = {
        i: (i % shelves // ANTENNAS, 1 + i % ANTENNAS) for i in range(n) if i not in in_stacker
    }
    records = [_record(i, shelf_code(*shelf_of[i]) if i in shelf_of else None) for i in range(n)]
    seeded = await store.scalar(select(items.c.id).limit(1)) is not None
    if not seeded:
        await Catalogue(ledger).import_rows(
            ((i, r.model_dump()) for i, r in enumerate(records, 1)), actor="demo"
        )
        await Tags(ledger, config.ledger.company_prefix).bind_new(
            [r.ref for r in records], actor="demo"
        )
        places = {
            r.ref: r.home_location or stacker_cell_code(config.room, in_stacker[i])
            for i, r in enumerate(records)
        }
        async with ledger.transaction("demo") as tx:
            ids = {
                row.ref: row.id
                for row in (await tx.conn.execute(select(items.c.id, items.c.ref))).all()
            }
            codes = await locations.ids(tx.conn, set(places.values()))
            for r in records:
                await move(
                    tx,
                    item_id=ids[r.ref],
                    ref=r.ref,
                    to_location_id=codes[places[r.ref]],
                    to_code=places[r.ref],
                    source="manual",
                    room=config.room,
                    details={"note": "initial shelving"},
                )
    async with store.read() as conn:
        epcs = {
            row.ref: row.epc
            for row in (
                await conn.execute(
                    select(items.c.ref, tags.c.epc)
                    .join(tags, tags.c.item_id == items.c.id)
                    .where(tags.c.retired_us.is_(None))
                )
            ).all()
        }
    placed: list[Placed] = []
    stored: list[Stored] = []
    for i, r in enumerate(records):
        epc = epcs.get(r.ref)
        if epc is None:
            continue
        if i in in_stacker:
            cell = in_stacker[i]
            devices.stacker.put(
                (cell.aisle, cell.side, cell.bay, cell.level, cell.depth), epc_short_form(epc)
            )
            stored.append(Stored(r.ref, epc, cell))
        else:
            reader, antenna = shelf_of[i]
            devices.shelves[reader].reader.place(antenna, epc)
            placed.append(Placed(r.ref, epc, reader, antenna))
    return placed, stored


class _Watch:
    """The events one step sees: its own bus subscription, from the moment the step starts."""

    def __init__(self, bus: Bus) -> None:
        self._events = bus.subscribe(
            GatePassageRecorded,
            AlarmRaised,
            AlarmCleared,
            LocationChanged,
            StackerJobChanged,
            ClimateActuatorSwitched,
        )
        self._seen: list[object] = []
        self.waiting_for = ""

    async def wait(self, what: str, predicate: Callable[[object], bool], within_s: float) -> object:
        self.waiting_for = what
        for event in self._seen:
            if predicate(event):
                self._seen.remove(event)
                return event
        async with asyncio.timeout(within_s):
            while True:
                event = await self._events.get()
                if predicate(event):
                    return event
                self._seen.append(event)
                del self._seen[:-500]

    def close(self) -> None:
        self._events.close()


_WATCH: contextvars.ContextVar[_Watch] = contextvars.ContextVar("demo_watch")


@dataclass(eq=False)
class Scenario:
    services: Services
    _: KW_ONLY
    devices: DemoDevices
    placed: list[Placed]
    stored: list[Stored]
    url: str
    token: str
    done: Counter[str] = field(default_factory=Counter, init=False)
    failed: Counter[str] = field(default_factory=Counter, init=False)
    _next: int = field(default=0, init=False)
    _own: set[str] = field(default_factory=set, init=False)
    """Refs the scenario's own stacker step is handling (the clerk leaves those alone)."""

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
        """Every step on its own loop, all at once, as in a room where several things happen."""
        steps: list[tuple[str, Callable[[httpx.AsyncClient], Awaitable[str]]]] = [
            ("checkout", self.check_out_and_return),
            ("misplaced", self.misplace_and_put_back),
            ("unauthorized", self.unauthorized_removal),
        ]
        clerk = self.services.stacker is not None and bool(self.stored)
        if clerk:
            steps.append(("stacker", self.retrieve_and_store))
        if self.services.climate is not None:
            steps.append(("humidity", self.humidity_excursion))
        headers = {"Authorization": f"Bearer {self.token}"}
        async with (
            httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30) as client,
            asyncio.TaskGroup() as group,
        ):
            group.create_task(self._status_line(), name="demo-status")
            if clerk:
                group.create_task(self._clerk(), name="demo-clerk")
            for k, (name, step) in enumerate(steps):
                group.create_task(self._loop(name, step, client, 4.0 + k), name=f"demo-{name}")

    async def _loop(
        self,
        name: str,
        step: Callable[[httpx.AsyncClient], Awaitable[str]],
        client: httpx.AsyncClient,
        first_after_s: float,
    ) -> None:
        await asyncio.sleep(first_after_s)  # readers connect and confirm the shelves
        while True:
            watch = _Watch(self.services.bus)
            token = _WATCH.set(watch)
            try:
                message = await asyncio.wait_for(step(client), 150)
            except (TimeoutError, httpx.HTTPError, AssertionError) as e:
                self.failed[name] += 1
                print(f"scenario: {name} did not complete: {watch.waiting_for}: {e!r}", flush=True)
            else:
                self.done[name] += 1
                print(f"scenario: {message}", flush=True)
            finally:
                _WATCH.reset(token)
                watch.close()
            await asyncio.sleep(5.0)

    async def _wait(
        self, what: str, predicate: Callable[[object], bool], within_s: float = 30.0
    ) -> object:
        return await _WATCH.get().wait(what, predicate, within_s)

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

    async def _job_done(
        self, client: httpx.AsyncClient, body: dict[str, object]
    ) -> dict[str, object]:
        r = await client.post("/api/v1/stacker/jobs", json=body)
        assert r.status_code == 202, r.text
        job = r.json()
        done = await self._wait(
            f"stacker job {job['job_id']} ({body['kind']} {body.get('ref')}) done",
            lambda e: (
                isinstance(e, StackerJobChanged)
                and e.job_id == job["job_id"]
                and e.state in ("done", "rejected", "cancelled", "unresolved", "not_executed")
            ),
            within_s=60,
        )
        assert isinstance(done, StackerJobChanged)
        assert done.state == "done", (done.state, done.result)
        assert done.result == "ok", (done.state, done.result)
        return dict(job)

    async def retrieve_and_store(self, client: httpx.AsyncClient) -> str:
        item = self.stored[self._next % len(self.stored)]
        self._next += 3
        self._own.add(item.ref)
        try:
            return await self._retrieve_and_store(client, item)
        finally:
            self._own.discard(item.ref)

    async def _retrieve_and_store(self, client: httpx.AsyncClient, item: Stored) -> str:
        plc = self.devices.stacker
        retrieved = await self._job_done(client, {"kind": "retrieve", "ref": item.ref})
        where = (await client.get(f"/api/v1/items/{item.ref}/location")).json()["location"]["code"]
        await asyncio.sleep(2.0)
        plc.clerk_takes()  # the clerk hands the box over
        await asyncio.sleep(2.0)
        # ... and brings it back once the station is clear (a console retrieval may stand there)
        await self._until(f"station clear to bring {item.ref} back", self._station_clear)
        plc.clerk_puts(epc_short_form(item.epc))
        stored = await self._job_done(client, {"kind": "store", "ref": item.ref})
        back = (await client.get(f"/api/v1/items/{item.ref}/location")).json()["location"]["code"]
        return (
            f"{item.ref} retrieved by the stacker to {where} (job {retrieved['job_id']}),"
            f" stored again in {back} (job {stored['job_id']})"
        )

    def _station_clear(self) -> bool:
        stacker = self.services.stacker
        if stacker is None or self.devices.stacker.station_box() is not None:
            return False
        status = stacker.status()
        return all(v.box is None for v in status.stations if v.sensed) and not any(
            j.destination.is_station for j in ([status.active_job] if status.active_job else [])
        )

    async def _until(self, what: str, check: Callable[[], bool], within_s: float = 60.0) -> None:
        """Look at the room every half second until ``check`` holds (the station has no event)."""
        _WATCH.get().waiting_for = what
        async with asyncio.timeout(within_s):
            while True:
                if check():
                    return
                await asyncio.sleep(0.5)

    async def _clerk(self) -> None:
        """The clerk at the station takes out a box someone else retrieved, after a while."""
        stacker = self.services.stacker
        assert stacker is not None
        standing: dict[str, float] = {}
        while True:
            await asyncio.sleep(1.0)
            for view in stacker.status().stations:
                box = view.box
                if not view.sensed or box is None or box.ref in self._own:
                    standing.pop(view.name, None)
                    continue
                since = standing.setdefault(view.name, time.monotonic())
                if time.monotonic() - since >= CLERK_TAKES_AFTER_S:
                    standing.pop(view.name)
                    if self.devices.stacker.clerk_takes() is not None:
                        print(f"scenario: the clerk takes {box.ref or box.box_id} out of station"
                              f" {view.name} for whoever asked for it", flush=True)  # fmt: skip

    async def humidity_excursion(self, client: httpx.AsyncClient) -> str:
        """The door to a humid corridor stands open: humidity climbs past the limit, the
        dehumidifier runs and pulls the room back, the alarm clears."""
        physics = self.devices.climate.physics("stack-1")
        physics.weather = Weather(26.0, 80.0)
        physics.open_door(10.0)
        try:
            raised = await self._wait(
                "humidity alarm in stack-1",
                lambda e: isinstance(e, AlarmRaised) and e.kind == "climate.humidity-high",
                within_s=60,
            )
            await self._wait(
                "dehumidifier dh-1 on",
                lambda e: isinstance(e, ClimateActuatorSwitched) and e.actuator == "dh-1" and e.on,
                within_s=60,
            )
            off = await self._wait(
                "dehumidifier dh-1 off",
                lambda e: (
                    isinstance(e, ClimateActuatorSwitched) and e.actuator == "dh-1" and not e.on
                ),
                within_s=120,
            )
        finally:
            physics.weather = Weather()
        await self._wait(
            "humidity alarm in stack-1 cleared",
            lambda e: isinstance(e, AlarmCleared) and e.kind == "climate.humidity-high",
            within_s=60,
        )
        control = (await client.get("/api/v1/climate/control")).json()
        assert control["rooms"][0]["actuators"][0]["switches"] >= 2, control
        assert isinstance(raised, AlarmRaised)
        assert isinstance(off, ClimateActuatorSwitched)
        return (
            f"door to a humid corridor open in stack-1: {raised.message}; dehumidifier dh-1 "
            f"ran until {off.reason}; alarm cleared"
        )

    def _climate_status(self) -> str:
        """`` | stack-1 58.2 % RH, dh-1 on``: the controlled rooms' humidity and actuators."""
        climate, control = self.services.climate, self.services.control
        if climate is None or control is None:
            return ""
        parts = []
        for room in control.view().rooms:
            rh = climate.monitor.room(room.room, time.time()).humidity_pct
            actuators = ", ".join(
                f"{a.config.id} {'on' if a.on else 'off'}" for a in room.actuators
            )
            parts.append(f"{room.room} {'?' if rh is None else f'{rh:.1f}'} % RH, {actuators}")
        return " | " + "; ".join(parts)

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
            print(
                f"status: {self._health_words()} | {rate:,.0f} reads/s | {alarms} active alarm(s)"
                f" | {open_loans} open loan(s){self._climate_status()} | {self.summary()}",
                flush=True,
            )

    def _health_words(self) -> str:
        """``ok``, or ``degraded`` with each component that is not ok and why; the stacker's
        waiting jobs too (they are normal, but a person at the station should know)."""
        health = self.services.health
        words: str = health.overall()
        bad = [
            f"{name}: {c.detail}" if c.detail else name
            for name, c in sorted(health.components.items())
            if c.status not in ("ok", "disabled")
        ]
        if bad:
            words += f" ({'; '.join(bad)})"
        stacker = self.services.stacker
        if stacker is not None:
            waiting = stacker.status().waiting
            if waiting:
                waits = sorted({w.text for w in waiting.values()})
                words += f" | stacker: {len(waiting)} job(s) {'; '.join(waits)}"
        return words
