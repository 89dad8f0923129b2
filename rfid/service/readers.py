"""The room's readers: drivers in, engines in the middle, ledger out.

Each configured reader gets its driver (a UHFReader18 poller or an LLRP service), all of which
deliver into one ``ReadSink``: this module. Reads are never written to the database; they go
to the engine of the reader's role (shelf readers to the shelf engine, gate readers to their
gates' engines, desk readers nowhere: the desk reads on demand). Only the engines' decisions
(a tag settled on a shelf, a passage, a misplaced or missing item) become ledger writes,
queued for one recorder task that handles passages first, so a gate alarm never waits behind a
burst of shelf moves. Reader links going down and up raise and clear alarms and update the
retained ``readers/{id}/state`` topic.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client import Counter
from sqlalchemy import Select, select

from daemon.clock import seconds_to_us, us_to_iso
from daemon.config import ArchroomConfig
from daemon.events import ItemHomeChanged, LoanOpened, LoanReturned, TagBound, TagRetired
from daemon.events import LocationChanged as LedgerLocationChanged
from daemon.heap import settle_heap
from daemon.ledger.alarms import Alarms
from daemon.ledger.locations import Locations
from daemon.ledger.movements import move
from daemon.ledger.passages import Passages
from daemon.ledger.uow import Ledger
from daemon.messages import Param, say
from daemon.metrics import Metrics
from daemon.mqtt import FastLane, RetainedState
from daemon.reconcile.sightings import record_sighting
from daemon.room import SHELF_KINDS
from daemon.spool import DatabaseGuard, is_unavailable
from daemon.store.schema import item_locations, items, loans, locations, tags
from daemon.supervisor import Supervisor
from drivers.links import parse_link
from drivers.llrp import LlrpReaderService
from drivers.sounder import Sounder
from drivers.tagread import ReadSink, TagRead
from drivers.uhfreader18_client import Uhfreader18Poller
from rfid.config import ReaderConfig, Uhfreader18Config, shelf_antenna_locations
from rfid.gate import GateEngine, Passage
from rfid.service.passage_journal import PassageJournal
from rfid.shelf import (
    Found,
    LocationChanged,
    Misplaced,
    MisplacedCleared,
    Missing,
    ShelfDecision,
    ShelfEngine,
)
from rfid.sweeps import SweepCounter

log = logging.getLogger(__name__)


class ReaderDriver(Protocol):
    async def run(self, sink: ReadSink) -> None: ...


def make_driver(cfg: ReaderConfig, config: ArchroomConfig) -> Uhfreader18Poller | LlrpReaderService:
    """The driver for one configured reader."""
    gate_antennas = sorted(
        {
            a
            for g in config.gates
            if g.reader == cfg.id
            for a in (g.inside_antenna, g.outside_antenna)
        }
    )
    if isinstance(cfg, Uhfreader18Config):
        antennas: list[int] = sorted(cfg.antennas) if cfg.role == "shelf" else gate_antennas
        return Uhfreader18Poller(
            cfg.id,
            cfg.url,
            address=cfg.address,
            baudrate=cfg.baudrate,
            antennas=antennas if cfg.role != "desk" else [],
            poll_interval_s=cfg.poll_interval_s,
            poll=cfg.role != "desk",
        )
    link = parse_link(cfg.url, default_port=5084)
    wanted = sorted(cfg.antennas) if cfg.role == "shelf" else gate_antennas
    return LlrpReaderService(
        cfg.id, link.host, link.port, wanted or None, keepalive_s=cfg.keepalive_s
    )


@dataclass(frozen=True, slots=True)
class Decided:
    """A passage the gate engine decided, already announced, waiting for its durable record."""

    passage: Passage
    journal: int
    """Its number in the passage journal."""
    sounded: bool
    """The door sounder was switched when it was announced."""
    recovered: bool = False
    """Left undone by a previous run: it may already be in the ledger."""


@dataclass(frozen=True, slots=True)
class LinkChange:
    reader: str
    up: bool
    reason: str
    at: float


Work = Decided | ShelfDecision | LinkChange
_GATE, _LINK, _SHELF = 0, 1, 2


def _live_tags() -> Select[Any]:
    """Every unretired tag's EPC with its item's home (``home``: a location code) and current
    place (``current``: a code, and its ``kind``), None where the item has none: the rows
    ``_expectation`` turns into what the shelf engine expects."""
    home = locations.alias("home")
    current = locations.alias("current")
    return (
        select(
            tags.c.epc,
            home.c.code.label("home"),
            current.c.code.label("current"),
            current.c.kind,
        )
        .select_from(
            tags.join(items, items.c.id == tags.c.item_id)
            .outerjoin(home, home.c.id == items.c.home_location_id)
            .outerjoin(item_locations, item_locations.c.item_id == items.c.id)
            .outerjoin(current, current.c.id == item_locations.c.location_id)
        )
        .where(tags.c.retired_us.is_(None))
    )


def _expectation(
    epc: str, home: str | None, current: str | None, kind: str | None
) -> tuple[str, str | None, bool]:
    """(epc, where the item belongs, whether the records already place it there).

    An item belongs at its home; without one, at the shelf it is recorded on. When the records
    do not place it where it belongs, the engine must report its first settling there, so the
    records catch up.
    """
    expected = home or (current if kind in SHELF_KINDS else None)
    return epc, expected, expected is not None and current == expected


class RoomReaders(ReadSink):
    """Every reader of the room, their engines, and the recorder of what the engines decide."""

    def __init__(
        self,
        config: ArchroomConfig,
        *,
        ledger: Ledger,
        locations: Locations,
        alarms: Alarms,
        passages: Passages,
        metrics: Metrics,
        retained: RetainedState,
        supervisor: Supervisor,
        guard: DatabaseGuard,
        fastlane: FastLane,
        journal: PassageJournal | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.ledger = ledger
        self.locations = locations
        self.alarms = alarms
        self.passages = passages
        self.metrics = metrics
        self.retained = retained
        self.supervisor = supervisor
        self.guard = guard
        self.fastlane = fastlane
        self.journal = journal or PassageJournal(config.state_dir / "passages.jsonl")
        """Decided passages not yet recorded (see rfid/service/passage_journal.py)."""
        self.loan_epcs: set[str] = set()
        """EPCs of items on loan: lets the gate decide without the database when it is down."""
        guard.handle("rfid.passage", self._replay_passage)
        guard.handle("rfid.settled", self._replay_settled)
        self.clock = clock
        self.roles = {r.id: r.role for r in config.readers}
        self.drivers = {r.id: make_driver(r, config) for r in config.readers}
        self.shelf = ShelfEngine(shelf_antenna_locations(config.readers), config.shelf)
        self.sweeps = SweepCounter(shelf_antenna_locations(config.readers))
        """Full sweeps per shelf location, for inventory campaigns."""
        self.sounders = {g.id: Sounder(g.id, g.sounder) for g in config.gates if g.sounder}
        self.gates: dict[str, list[GateEngine]] = {}
        units = {r.id: r.rssi_unit for r in config.readers}
        for g in config.gates:
            self.gates.setdefault(g.reader, []).append(
                GateEngine(
                    g.id,
                    g.inside_antenna,
                    g.outside_antenna,
                    g,
                    rssi_unit=units.get(g.reader, "dbm"),
                )
            )
        self._queue: asyncio.PriorityQueue[tuple[int, int, Work]] = asyncio.PriorityQueue()
        self._seq = itertools.count()
        self._reads: dict[str, Counter] = {}
        self.unknown_tags: dict[str, tuple[str, float]] = {}
        """EPCs no record claims, seen settled on a shelf: epc -> (location, when)."""
        self.recorded = 0
        self.up: dict[str, bool] = {}
        self._recording = False

    # -- ReadSink (called by the drivers, in the loop; never blocks) -------------------------

    def reads(self, batch: Sequence[TagRead]) -> None:
        if not batch:
            return
        reader = batch[0].reader
        counter = self._reads.get(reader)
        if counter is None:
            counter = self._reads[reader] = self.metrics.rfid_reads.labels(reader=reader)
        counter.inc(len(batch))
        role = self.roles.get(reader)
        if role == "shelf":
            for decision in self.shelf.observe_many(batch):
                self._put(_SHELF, decision)
        elif role == "gate":
            for engine in self.gates.get(reader, ()):
                for passage in engine.observe_many(batch):
                    self._decided(passage)

    def round_done(self, reader: str, antenna: int, t: float) -> None:
        if self.roles.get(reader) == "shelf":
            self.sweeps.round_done(reader, antenna, t)
            for decision in self.shelf.round_done(reader, antenna, t):
                self._put(_SHELF, decision)

    def link_state(self, reader: str, up: bool, reason: str) -> None:
        self.metrics.rfid_reader_up.labels(reader=reader).set(1 if up else 0)
        self.up[reader] = up
        self.retained.set(
            f"readers/{reader}/state",
            {"up": up, "reason": reason, "at": us_to_iso(seconds_to_us(self.clock()))},
        )
        self._put(_LINK, LinkChange(reader, up, reason, self.clock()))

    def _decided(self, passage: Passage) -> None:
        """The engine decided: journal it, announce it and sound the door now, record it next.

        Nothing here waits for the database: the journal line is written to the kernel (it
        survives the process), the event goes out on the fast lane, the sounder is switched,
        and the durable record is queued for the recorder, ahead of any shelf work.
        """
        number = self.journal.decided(passage)
        sounded = self._announce_passage(passage)
        self._put(_GATE, Decided(passage, number, sounded))

    def _announce_passage(self, passage: Passage) -> bool:
        """Publish ``gate.passage`` (provisional) and sound the door if the removal is
        unauthorized by what is in memory; True if the sounder was switched."""
        authorized = passage.direction == "in" or passage.epc in self.loan_epcs
        self.fastlane.announce(
            "gate.passage",
            {
                "gate": passage.gate,
                "epc": passage.epc,
                "ref": None,
                "direction": passage.direction,
                "decided_at": us_to_iso(seconds_to_us(passage.decided_at), precise=True),
                "authorized": authorized,
                "loan_id": None,
            },
        )
        if authorized or not self.shelf.is_expected(passage.epc):
            return False
        self._sound(passage.gate)
        return True

    def _put(self, priority: int, work: Work) -> None:
        self._queue.put_nowait((priority, next(self._seq), work))

    # -- services -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Load expectations, then run drivers, engine ticks and the recorder until cancelled."""
        await self.load_expectations()
        for left in self.journal.open():
            log.warning(
                "gate passage %s %s at %s was decided before a restart; recording it now",
                left.passage.epc,
                left.passage.direction,
                us_to_iso(seconds_to_us(left.passage.at)),
            )
            self._put(_GATE, Decided(left.passage, left.number, sounded=True, recovered=True))
        try:
            await self._run_all()
        finally:
            self.journal.close()
            for sounder in self.sounders.values():
                await sounder.close()

    async def _run_all(self) -> None:
        async with asyncio.TaskGroup() as group:
            for reader_id, driver in self.drivers.items():
                self.metrics.rfid_reader_up.labels(reader=reader_id).set(0)
                self.supervisor.start(group, f"reader:{reader_id}", lambda d=driver: d.run(self))  # type: ignore[misc]
            self.supervisor.start(group, "rfid:ticks", self._ticks)
            self.supervisor.start(group, "rfid:expectations", self._follow_ledger)
            self.supervisor.start(group, "rfid:recorder", self._recorder)

    async def load_expectations(self) -> int:
        """Tell the shelf engine where every tagged item belongs (its home, else its shelf).

        One streamed query (a server-side cursor on PostgreSQL), consumed in slices: paging
        with ``id > last`` would make PostgreSQL hash-join whole tables once per page.
        """
        count = 0
        async with self.ledger.store.read() as conn:
            result = await conn.stream(_live_tags())
            async for rows in result.partitions(20_000):
                expectations = [_expectation(epc, h, c, kind) for epc, h, c, kind in rows]
                self.shelf.expect_many(
                    ((e, where) for e, where, there in expectations if there), assume=True
                )
                self.shelf.expect_many(
                    ((e, where) for e, where, there in expectations if not there), assume=False
                )
                count += len(rows)
                await asyncio.sleep(0)  # let the API and the readers in between slices
        self.loan_epcs = set(await self._loan_epcs())
        # Missing items stay missing across a restart, so that their next read clears the alarm.
        for alarm in await self.alarms.list(kind="item.missing", limit=1_000_000):
            self.shelf.mark_missing(alarm.key.removeprefix("item.missing:"))
        log.info("shelf engine expects %d tagged items (%d on loan)", count, len(self.loan_epcs))
        settle_heap()
        return count

    async def _loan_epcs(self, ref: str | None = None) -> list[str]:
        query = (
            select(tags.c.epc)
            .select_from(
                tags.join(loans, loans.c.item_id == tags.c.item_id).join(
                    items, items.c.id == tags.c.item_id
                )
            )
            .where(tags.c.retired_us.is_(None), loans.c.returned_us.is_(None))
        )
        if ref is not None:
            query = query.where(items.c.ref == ref)
        async with self.ledger.store.read() as conn:
            return [str(epc) for epc in (await conn.execute(query)).scalars()]

    async def _follow_ledger(self) -> None:
        """Keep the shelf engine's expectations in step with deliberate placements.

        A tag bound, a home set, an item put somewhere by a person, the stacker or the desk: the
        engine learns where the item belongs now. Moves the engine itself reported are not
        placements (a drifted item is misplaced, not re-homed), and gate passages are handled
        where they are recorded.
        """
        subscription = self.ledger.bus.subscribe(
            TagBound, TagRetired, ItemHomeChanged, LedgerLocationChanged, LoanOpened, LoanReturned
        )
        try:
            while True:
                event = await subscription.get()
                if isinstance(event, TagRetired):
                    self.shelf.forget(event.epc)
                    self.loan_epcs.discard(event.epc)
                    continue
                if isinstance(event, LoanOpened):
                    self.loan_epcs.update(await self._loan_epcs(event.ref))
                    continue
                if isinstance(event, LoanReturned):
                    self.loan_epcs.difference_update(await self._epcs_of(event.ref))
                    continue
                if isinstance(event, LedgerLocationChanged) and event.source in (
                    "shelf-read",
                    "gate",
                ):
                    continue
                if not isinstance(event, (TagBound, ItemHomeChanged, LedgerLocationChanged)):
                    continue
                ref = event.ref
                for epc, expected, there in await self._expectations_of(ref):
                    for decision in self.shelf.expect(epc, expected, assume=there):
                        self._put(_SHELF, decision)
        finally:
            subscription.close()

    async def _expectations_of(self, ref: str) -> list[tuple[str, str | None, bool]]:
        async with self.ledger.store.read() as conn:
            rows = (await conn.execute(_live_tags().where(items.c.ref == ref))).all()
        return [_expectation(r.epc, r.home, r.current, r.kind) for r in rows]

    async def _ticks(self) -> None:
        next_shelf = 0.0
        while True:
            await asyncio.sleep(0.1)
            now = self.clock()
            for engines in self.gates.values():
                for engine in engines:
                    for passage in engine.tick(now):
                        self._decided(passage)
            if now >= next_shelf:
                next_shelf = now + 1.0
                for decision in self.shelf.tick(now):
                    self._put(_SHELF, decision)

    def idle(self) -> bool:
        """Nothing the engines decided is waiting to be recorded (or being recorded)."""
        return self._queue.empty() and not self._recording

    async def _recorder(self) -> None:
        while True:
            _priority, _seq, work = await self._queue.get()
            self._recording = True
            try:
                await self._record(work)
            except Exception:
                log.exception("could not record %s; it is retried", type(work).__name__)
                self._queue.put_nowait((_priority, _seq, work))
                await asyncio.sleep(1.0)
                continue
            finally:
                self._recording = False
            self.recorded += 1

    async def _record(self, work: Work) -> None:
        if isinstance(work, Decided):
            await self._record_passage(work)
        elif isinstance(work, LocationChanged):
            record = {
                "epc": work.epc,
                "location": work.location,
                "previous": work.previous,
                "at": work.at,
            }
            await self.guard.write("rfid.settled", record, lambda: self._settled(work))
        elif isinstance(work, Misplaced):
            await self._raise_item_alarm(
                "item.misplaced",
                work.epc,
                "alarm.item_misplaced",
                seen_location=work.seen_at,
                home_location=work.home,
            )
        elif isinstance(work, MisplacedCleared):
            await self.alarms.clear(
                f"item.misplaced:{work.epc}", reason="back in its place or re-homed"
            )
        elif isinstance(work, Missing):
            await self._raise_item_alarm(
                "item.missing", work.epc, "alarm.item_missing", location=work.location
            )
        elif isinstance(work, Found):
            await self.alarms.clear(
                f"item.missing:{work.epc}", reason=f"read again at {work.location}"
            )
        else:
            await self._link(work)

    async def _record_passage(self, decided: Decided) -> None:
        """The durable record of an announced passage: the ledger, else the spool; then the
        journal line is done. Until then a restart records it again."""
        work = decided.passage
        await asyncio.to_thread(self.journal.sync)
        record = {
            "gate": work.gate,
            "epc": work.epc,
            "direction": work.direction,
            "at": work.at,
            "decided_at": work.decided_at,
        }

        async def attempt() -> None:
            if decided.recovered and await self.passages.recorded(
                gate=work.gate,
                epc=work.epc,
                direction=work.direction,
                at_us=seconds_to_us(work.at),
            ):
                return
            await self._passage(work, sounded=decided.sounded)

        if not await self.guard.write("rfid.passage", record, attempt):
            self._provisional_alarm(work)
        self.journal.done(decided.journal)

    async def _passage(self, work: Passage, *, sounded: bool = False) -> None:
        outcome = await self.passages.record(
            gate=work.gate,
            epc=work.epc,
            direction=work.direction,
            at_us=seconds_to_us(work.at),
            decided_us=seconds_to_us(work.decided_at),
        )
        if outcome.alarm_id is not None and not sounded:
            self._sound(work.gate)
        if outcome.ref is not None:
            # In: it belongs home again but is at the gate until a shelf reads it there.
            # Out on loan: it belongs nowhere in the room for now.
            home = await self._home_of(work.epc)
            back = work.direction == "in" or not outcome.authorized
            self.shelf.expect(work.epc, home if back else None, assume=False)

    def _provisional_alarm(self, work: Passage) -> None:
        """The database is unreachable: the passage (announced already) is spooled; an
        unauthorized removal by what is in memory is announced as a provisional alarm now."""
        authorized = work.direction == "in" or work.epc in self.loan_epcs
        if not authorized and self.shelf.is_expected(work.epc):
            words = say("alarm.gate_unauthorized_tag", epc=work.epc, gate=work.gate)
            message = words.english()
            log.error(
                "ALARM gate.unauthorized (critical): %s [database unreachable: spooled]", message
            )
            self.metrics.gate_alarms.labels(gate=work.gate).inc()
            self.fastlane.announce(
                "alarm.raised",
                {
                    "alarm_id": None,
                    "kind": "gate.unauthorized",
                    "source": f"gate {work.gate}",
                    "severity": "critical",
                    "message": message,
                    "message_key": words.key,
                    "params": dict(words.params),
                    "subject": f"epc:{work.epc}",
                },
            )

    def _sound(self, gate: str) -> None:
        sounder = self.sounders.get(gate)
        if sounder is not None:
            sounder.sound()

    async def _replay_passage(self, record: dict[str, Any]) -> None:
        work = Passage(
            record["epc"], record["gate"], record["direction"], record["at"], record["decided_at"]
        )
        at_us = seconds_to_us(work.at)
        if await self.passages.recorded(
            gate=work.gate, epc=work.epc, direction=work.direction, at_us=at_us
        ):
            log.warning("spooled passage of %s at %s was recorded already", work.epc, work.gate)
            return
        # The door was sounded (or not) when the passage was decided, not minutes later.
        await self._passage(work, sounded=True)

    async def _replay_settled(self, record: dict[str, Any]) -> None:
        await self._settled(
            LocationChanged(record["epc"], record["location"], record["previous"], record["at"])
        )

    async def _settled(self, work: LocationChanged) -> None:
        async with self.ledger.transaction("shelf-readers", at_us=seconds_to_us(work.at)) as tx:
            item = (
                await tx.conn.execute(
                    select(items.c.id, items.c.ref)
                    .select_from(tags.join(items, items.c.id == tags.c.item_id))
                    .where(tags.c.epc == work.epc, tags.c.retired_us.is_(None))
                )
            ).first()
            to_id = await self.locations.id_of(tx.conn, work.location)
            if item is None:
                self.unknown_tags[work.epc] = (work.location, work.at)
                await record_sighting(
                    tx,
                    room=self.ledger.room,
                    epc=work.epc,
                    location_id=to_id,
                    location=work.location,
                    at_us=tx.at_us,
                )
                return
            await move(
                tx,
                item_id=item.id,
                ref=item.ref,
                to_location_id=to_id,
                to_code=work.location,
                source="shelf-read",
                room=self.ledger.room,
                epc=work.epc,
            )

    async def _link(self, change: LinkChange) -> None:
        key = f"reader.down:{change.reader}"
        if change.up:
            await self.alarms.clear(key, reason=f"reader {change.reader} answers again")
        else:
            await self.alarms.raise_(
                key,
                kind="reader.down",
                source=f"reader {change.reader}",
                severity="critical" if self.roles.get(change.reader) == "gate" else "warning",
                message=say("alarm.reader_down", reader=change.reader, reason=change.reason),
            )

    async def _epcs_of(self, ref: str) -> list[str]:
        async with self.ledger.store.read() as conn:
            rows = await conn.execute(
                select(tags.c.epc)
                .join(items, items.c.id == tags.c.item_id)
                .where(items.c.ref == ref)
            )
            return [str(epc) for epc in rows.scalars()]

    async def _raise_item_alarm(
        self, kind: str, epc: str, message_key: str, **params: Param
    ) -> None:
        """Raise a shelf alarm about one tag, named by its item's ref when it is bound."""
        ref = await self._ref_of(epc)
        await self.alarms.raise_(
            f"{kind}:{epc}",
            kind=kind,
            source="shelf readers",
            subject=ref or f"epc:{epc}",
            message=say(message_key, what=ref or epc, **params),
        )

    async def _ref_of(self, epc: str) -> str | None:
        """The ref of a tag, or None (unbound, or the database is unreachable just now)."""
        try:
            async with self.ledger.store.read() as conn:
                ref = await conn.scalar(
                    select(items.c.ref)
                    .select_from(tags.join(items, items.c.id == tags.c.item_id))
                    .where(tags.c.epc == epc, tags.c.retired_us.is_(None))
                )
        except Exception as e:
            if not is_unavailable(e):
                raise
            return None
        return str(ref) if ref is not None else None

    async def _home_of(self, epc: str) -> str | None:
        home = locations.alias("home")
        async with self.ledger.store.read() as conn:
            code = await conn.scalar(
                select(home.c.code)
                .select_from(
                    tags.join(items, items.c.id == tags.c.item_id).join(
                        home, home.c.id == items.c.home_location_id
                    )
                )
                .where(tags.c.epc == epc, tags.c.retired_us.is_(None))
            )
        return str(code) if code is not None else None
