"""Gate passages: what crossed the door, which way, and whether it was allowed to.

docs/design.md §3: out with an open loan is a confirmed removal (the item is now on loan, outside);
out without one is an unauthorized removal and raises a critical alarm in the same
transaction as the passage; in is an item back in the room (its loan stays open until it is
returned at the desk, unless the configuration says a passage in returns it). A tag bound to no
record is recorded too (it may be a staff badge or an untagged record's foreign tag) but
raises nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select, update

from daemon.clock import us_to_iso
from daemon.events import GatePassageRecorded, LoanReturned
from daemon.ledger.alarms import Alarms
from daemon.ledger.locations import ON_LOAN, UNKNOWN, Locations
from daemon.ledger.movements import move
from daemon.ledger.uow import Ledger
from daemon.messages import say
from daemon.metrics import Metrics
from daemon.store.schema import gate_passages, items, loans, tags

Direction = Literal["in", "out"]


@dataclass(frozen=True, slots=True)
class PassageOutcome:
    passage_id: int
    ref: str | None
    authorized: bool
    loan_id: int | None
    alarm_id: int | None


class Passages:
    def __init__(
        self,
        ledger: Ledger,
        locations: Locations,
        alarms: Alarms,
        metrics: Metrics,
        *,
        gate_in_returns: bool = False,
    ) -> None:
        self.ledger = ledger
        self.locations = locations
        self.alarms = alarms
        self.metrics = metrics
        self.gate_in_returns = gate_in_returns

    async def recorded(self, *, gate: str, epc: str, direction: Direction, at_us: int) -> bool:
        """Is this passage (this room, gate, tag, way and microsecond) already in the records?

        A spooled passage is replayed after an outage, and a decision the local journal holds is
        recorded again after a restart; if its first write landed after all (cut off in COMMIT by
        a failover to a synchronous standby, or killed after the commit), it is not recorded
        twice."""
        found = await self.ledger.store.scalar(
            select(gate_passages.c.id).where(
                gate_passages.c.room == self.ledger.room,
                gate_passages.c.gate == gate,
                gate_passages.c.epc == epc,
                gate_passages.c.direction == direction,
                gate_passages.c.at_us == at_us,
            )
        )
        return found is not None

    async def record(
        self,
        *,
        gate: str,
        epc: str,
        direction: Direction,
        at_us: int,
        decided_us: int | None = None,
    ) -> PassageOutcome:
        room = self.ledger.room
        async with self.ledger.transaction(f"gate:{gate}", at_us=at_us) as tx:
            item = (
                await tx.conn.execute(
                    select(items.c.id, items.c.ref)
                    .select_from(tags.join(items, items.c.id == tags.c.item_id))
                    .where(tags.c.epc == epc, tags.c.retired_us.is_(None))
                )
            ).first()
            handed_over = False
            if item is None:
                item = (
                    await tx.conn.execute(
                        select(items.c.id, items.c.ref)
                        .select_from(tags.join(items, items.c.id == tags.c.item_id))
                        .where(tags.c.epc == epc, items.c.disposition == "transferred")
                        .order_by(tags.c.retired_us.desc())
                        .limit(1)
                    )
                ).first()
                handed_over = item is not None  # transferred to another body: it may leave
            loan_id = None
            if item is not None:
                loan_id = await tx.conn.scalar(
                    select(loans.c.id).where(
                        loans.c.item_id == item.id, loans.c.returned_us.is_(None)
                    )
                )
            authorized = direction == "in" or loan_id is not None or handed_over
            passage_id = await tx.insert(
                gate_passages,
                epc=epc,
                item_id=item.id if item else None,
                gate=gate,
                direction=direction,
                at_us=at_us,
                room=room,
                loan_id=loan_id,
                authorized=authorized,
            )
            ref = item.ref if item is not None else None
            tx.audit(
                "gate.passage",
                ref or f"epc:{epc}",
                {
                    "gate": gate,
                    "direction": direction,
                    "epc": epc,
                    "loan_id": loan_id,
                    "authorized": authorized,
                },
                outcome="ok" if authorized or item is None else "unauthorized",
            )
            tx.emit(
                GatePassageRecorded(
                    at_us=at_us,
                    gate=gate,
                    epc=epc,
                    ref=ref,
                    direction=direction,
                    authorized=authorized,
                    loan_id=loan_id,
                    decided_at=us_to_iso(decided_us, precise=True) if decided_us else None,
                )
            )
            alarm_id = None
            if item is not None:
                if direction == "out":
                    to_code = ON_LOAN if loan_id is not None else UNKNOWN
                else:
                    to_code = f"{room}-gate-{gate}"
                to_id = await self.locations.id_of(tx.conn, to_code)
                await move(
                    tx,
                    item_id=item.id,
                    ref=item.ref,
                    to_location_id=to_id,
                    to_code=to_code,
                    source="gate",
                    room=room,
                    epc=epc,
                    at_us=at_us,
                    details={"gate": gate, "direction": direction},
                )
                if direction == "in" and loan_id is not None and self.gate_in_returns:
                    await tx.conn.execute(
                        update(loans)
                        .where(loans.c.id == loan_id)
                        .values(returned_us=at_us, returned_by=f"gate:{gate}")
                    )
                    tx.audit("loan.returned", item.ref, {"loan_id": loan_id, "by": f"gate {gate}"})
                    tx.emit(LoanReturned(at_us=at_us, loan_id=loan_id, ref=item.ref))
                if not authorized:
                    alarm_id = await self.alarms.raise_in(
                        tx,
                        f"gate.unauthorized:{gate}:{epc}:{at_us}",
                        kind="gate.unauthorized",
                        source=f"gate {gate}",
                        severity="critical",
                        subject=item.ref,
                        message=say("alarm.gate_unauthorized", ref=item.ref, gate=gate),
                    )
        self.metrics.gate_passages.labels(gate=gate, direction=direction).inc()
        if alarm_id is not None:
            self.metrics.gate_alarms.labels(gate=gate).inc()
        return PassageOutcome(passage_id, ref, authorized, loan_id, alarm_id)
