"""Setting up a room's records at start-up and keeping its gauges and reminders current.

The locations a room always has (the room itself, its desk, ``on-loan`` and ``unknown``, each
gate, the shelves its readers watch and the racks in the configuration) are created when the
daemon starts, so the first read of a tag always has somewhere to land.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import func, select

from daemon.clock import now_us
from daemon.config import ArchroomConfig
from daemon.ledger.alarms import Alarms
from daemon.ledger.loans import LoanFilter, Loans
from daemon.ledger.locations import (
    ON_LOAN,
    UNKNOWN,
    Locations,
    NewLocation,
    parse_range,
    rack_locations,
)
from daemon.ledger.uow import Ledger
from daemon.messages import say
from daemon.metrics import ITEM_STATES, Metrics
from daemon.store.schema import item_locations, locations, movements
from stacker.cells import STATION_AISLE, CellAddress
from stacker.config import StackerConfig

log = logging.getLogger(__name__)

SHELF_KINDS = ("rack", "side", "bay", "level", "slot", "shelf")
STACKER_KINDS = ("stacker-cell", "station")


def gate_code(room: str, gate: str) -> str:
    return f"{room}-gate-{gate}"


def stacker_cell_code(room: str, cell: CellAddress) -> str:
    """``{room}-S{aisle}{side}-{bay:02}-{level:02}-{depth}``, e.g. ``r101-S12-14-03-1``.

    The side is one digit (1 or 2), so the digits after ``S`` read unambiguously as the aisle
    followed by the side, as on the rack labels: aisle 1, side 2, bay 14, level 3, outer cell.
    """
    return f"{room}-S{cell.aisle}{cell.side}-{cell.bay:02d}-{cell.level:02d}-{cell.depth}"


def station_code(room: str, station: str) -> str:
    """A stacker pick/drop station, e.g. ``r101-station-io-1``."""
    return f"{room}-station-{station}"


def stacker_locations(room: str, stacker: StackerConfig) -> list[NewLocation]:
    """Every cell of the stacker's rack and its stations, from the configured geometry."""

    def coords(cell: CellAddress) -> dict[str, object]:
        return {"stacker": stacker.id, **dict(zip(_CELL_AXES, cell.coordinates(), strict=True))}

    out = [
        NewLocation(
            station_code(room, s.name),
            "station",
            room,
            room,
            f"{stacker.id} station {s.name}",
            coords(CellAddress(STATION_AISLE, s.side, s.bay, s.level)),
        )
        for s in stacker.stations
    ]
    out += [
        NewLocation(
            stacker_cell_code(room, cell),
            "stacker-cell",
            room,
            room,
            f"{stacker.id} cell {cell.code}",
            coords(cell),
        )
        for cell in stacker.geometry.cells()
    ]
    return out


_CELL_AXES = ("aisle", "side", "bay", "level", "depth")


def base_locations(config: ArchroomConfig) -> list[NewLocation]:
    room = config.room
    out = [
        NewLocation(room, "room", room, None, config.room_config().name),
        NewLocation(f"{room}-desk", "desk", room, room, "desk"),
        NewLocation(ON_LOAN, "on-loan", None, None, "on loan, outside the archive"),
        NewLocation(UNKNOWN, "unknown", None, None, "whereabouts unknown"),
    ]
    out += [
        NewLocation(gate_code(room, g.id), "gate", room, room, f"gate {g.id}") for g in config.gates
    ]
    for rack in config.racks:
        out += rack_locations(
            room, rack.id, parse_range(rack.bays), parse_range(rack.levels), rack.sides
        )
    for reader in config.readers:
        for antenna, code in sorted(reader.antennas.items()):
            out.append(NewLocation(code, "shelf", room, room, f"{reader.id} antenna {antenna}"))
    if config.stacker is not None:
        out += stacker_locations(room, config.stacker)
    return out


async def prepare_room(config: ArchroomConfig, ledger: Ledger, locations_: Locations) -> None:
    wanted = base_locations(config)
    async with ledger.transaction("archroom") as tx:
        before = await locations_.ids(tx.conn, [n.code for n in wanted])
        await locations_.ensure(tx.conn, wanted)
        created = [n.code for n in wanted if n.code not in before]
        if created:
            tx.audit(
                "locations.created", config.room, {"count": len(created), "codes": created[:200]}
            )
            log.info("created %d locations for room %s", len(created), config.room)


class Housekeeping:
    """Every minute: item and loan gauges; daily reminders for overdue loans."""

    def __init__(
        self,
        ledger: Ledger,
        loans: Loans,
        alarms: Alarms,
        metrics: Metrics,
        *,
        period_s: float = 30.0,
    ) -> None:
        self.ledger = ledger
        self.loans = loans
        self.alarms = alarms
        self.metrics = metrics
        self.period_s = period_s

    async def run(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(self.period_s)

    async def refresh(self) -> None:
        self.metrics.bus_dropped.set(self.ledger.bus.dropped)
        open_n, overdue_n = await self.loans.counts(self.ledger.room)
        self.metrics.loans_open.set(open_n)
        self.metrics.loans_overdue.set(overdue_n)
        counts = await self.item_states(open_n)
        for state in ITEM_STATES:
            self.metrics.items.labels(state=state).set(counts.get(state, 0))
        await self.remind_overdue()

    async def item_states(self, on_loan: int) -> dict[str, int]:
        """This room's items by state. Each daemon counts its own room only (several rooms
        may share the database, and their gauges are summed): the items whose place is in the
        room, by the place's kind, through the index of places by room and the index of
        current places by place; and the items whose place is in no room (``unknown``) whose
        last movement this room recorded. An item never placed is in no room's gauge."""
        room = self.ledger.room
        async with self.ledger.store.read() as conn:
            rows = (
                await conn.execute(
                    select(locations.c.kind, func.count())
                    .select_from(
                        item_locations.join(
                            locations, locations.c.id == item_locations.c.location_id
                        )
                    )
                    .where(locations.c.room == room)
                    .group_by(locations.c.kind)
                )
            ).all()
            lost_here = int(
                await conn.scalar(
                    select(func.count())
                    .select_from(
                        item_locations.join(
                            locations, locations.c.id == item_locations.c.location_id
                        ).join(movements, movements.c.id == item_locations.c.movement_id)
                    )
                    .where(
                        locations.c.room.is_(None),
                        locations.c.kind == "unknown",
                        movements.c.room == room,
                    )
                )
                or 0
            )
        by_kind = {kind: int(n) for kind, n in rows}
        missing = sum(1 for a in await self.alarms.list(kind="item.missing", limit=100_000))
        return {
            "on_shelf": sum(by_kind.get(k, 0) for k in SHELF_KINDS),
            "in_stacker": sum(by_kind.get(k, 0) for k in STACKER_KINDS),
            "on_loan": on_loan,
            "missing": missing,
            "unknown": lost_here + by_kind.get("unknown", 0),
        }

    async def remind_overdue(self) -> None:
        """One overdue alarm per loan per day until it is returned, raised by the room that
        lent it (several rooms' daemons may share the database)."""
        day_us = 86_400_000_000
        mine = LoanFilter(room=self.ledger.room)
        overdue = await self.loans.list("overdue", limit=100_000, where=mine)
        overdue_ids = {loan.id for loan in overdue}
        for active in await self.alarms.list(kind="loan.overdue", limit=100_000):
            loan_id = int(active.key.rsplit(":", 1)[1])
            if loan_id not in overdue_ids:
                await self.alarms.clear(active.key, reason="returned or renewed")
            elif active.raised_us < now_us() - day_us:
                await self.alarms.clear(active.key, reason="daily reminder follows")
        for loan in overdue:
            await self.alarms.raise_(
                f"loan.overdue:{loan.id}",
                kind="loan.overdue",
                source="circulation",
                severity="info",
                subject=loan.ref,
                message=say(
                    "alarm.loan_overdue", ref=loan.ref, due=loan.due, borrower=loan.borrower
                ),
            )
