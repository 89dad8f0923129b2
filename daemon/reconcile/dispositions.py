"""Disposal and transfer: the end of a paper record's life in the room, approved twice.

When a record's retention period has run out (``retention.eligible_from``), the appraisal
decides: destroy it, or transfer it to another body (usually the state archives). Either is
irreversible, so it follows the four-eyes rule archives apply to destruction: a disposal is
*proposed* (a list of items, the action, the reason, the receiving body for a transfer),
*approved* by two different people (a person with the ``approver`` role, giving the approval
number, and an ``admin``), and only then *carried out*. Carrying out marks each item
``destroyed`` or ``transferred``, retires its tag (so shelf readers stop expecting it and its
"missing" alarm ends), and takes it out of inventory and reconciliation; its record, history
and audit entries are kept forever. The list of what was carried out is the disposal register
(销毁清册), given as CSV and PDF.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from daemon import messages
from daemon.events import TagRetired
from daemon.ledger.alarms import Alarms
from daemon.ledger.errors import Conflict, Invalid, NotFound
from daemon.ledger.uow import Ledger
from daemon.messages import Message, say
from daemon.reconcile.retention import eligible_from
from daemon.store.schema import disposition_items, dispositions, items, loans, tags

Action = Literal["destroy", "transfer"]
Approval = Literal["approver", "admin"]
OUTCOME: Final[dict[str, str]] = {"destroy": "destroyed", "transfer": "transferred"}
OPEN_STATES: Final = ("proposed", "approved")
MAX_ITEMS: Final = 10_000


@dataclass(frozen=True, slots=True)
class DispositionItem:
    ref: str
    title: str
    year: int | None
    retention: str
    epc: str | None
    """The tag it carried when the disposal was carried out."""


@dataclass(frozen=True, slots=True)
class Disposition:
    id: int
    room: str
    action: str
    receiver: str | None
    reason: str
    state: str
    """``proposed``, ``approved``, ``carried_out`` or ``rejected``."""
    proposed_us: int
    proposed_by: str
    approver: str | None
    approver_us: int | None
    approval_no: str | None
    admin: str | None
    admin_us: int | None
    done_us: int | None
    done_by: str | None
    note: str | None
    items: tuple[DispositionItem, ...] = ()


def _select() -> Select[Any]:
    return select(dispositions)


class Dispositions:
    def __init__(self, ledger: Ledger, alarms: Alarms | None = None) -> None:
        self.ledger = ledger
        self.alarms = alarms

    async def propose(
        self,
        refs: Sequence[str],
        *,
        action: Action,
        reason: str,
        receiver: str | None,
        actor: str,
        today: date,
    ) -> Disposition:
        if action == "transfer" and not receiver:
            raise Invalid(say("disposal.receiver"))
        wanted = list(dict.fromkeys(refs))
        if not wanted or len(wanted) > MAX_ITEMS:
            raise Invalid(say("disposal.refs", max=MAX_ITEMS))
        async with self.ledger.transaction(actor) as tx:
            found = await self._items(tx.conn, wanted)
            problems = [
                say("disposal.problem", ref=ref, problem=say("disposal.problem.not_catalogued"))
                for ref in wanted
                if ref not in found
            ]
            for ref in wanted:
                if ref in found:
                    problem = await self._why_not(tx.conn, found[ref], today)
                    if problem:
                        problems.append(say("disposal.problem", ref=ref, problem=problem))
            if problems:
                shown = tuple(problems[:20])
                if len(problems) > 20:
                    raise Conflict(
                        say("disposal.cannot_more", problems=shown, more=len(problems) - 20)
                    )
                raise Conflict(say("disposal.cannot", problems=shown))
            disposition_id = await tx.insert(
                dispositions,
                room=self.ledger.room,
                action=action,
                receiver=receiver,
                reason=reason,
                state="proposed",
                proposed_us=tx.at_us,
                proposed_by=actor,
            )
            await tx.conn.execute(
                disposition_items.insert(),
                [
                    {
                        "disposition_id": disposition_id,
                        "item_id": found[ref]["id"],
                        "ref": ref,
                        "title": found[ref]["title"],
                        "year": found[ref]["year"],
                        "retention": found[ref]["retention"],
                    }
                    for ref in wanted
                ],
            )
            tx.audit(
                "disposition.proposed",
                f"disposition:{disposition_id}",
                {"action": action, "receiver": receiver, "count": len(wanted), "refs": wanted},
            )
        return await self.get(disposition_id)

    async def approve(
        self, disposition_id: int, *, as_: Approval, actor: str, approval_no: str | None
    ) -> Disposition:
        """One of the two approvals; the second (by another person) makes it ``approved``."""
        d = await self.get(disposition_id, with_items=False)
        if d.state != "proposed":
            raise Conflict(
                say("disposal.not_proposed", disposal_id=disposition_id, state=_state(d.state))
            )
        if as_ == "approver" and not approval_no:
            raise Invalid(say("disposal.approval_no"))
        other = d.admin if as_ == "approver" else d.approver
        if other == actor:
            raise Conflict(say("disposal.second_person", disposal_id=disposition_id, actor=actor))
        if (d.approver if as_ == "approver" else d.admin) is not None:
            raise Conflict(say(f"disposal.already_approved.{as_}", disposal_id=disposition_id))
        async with self.ledger.transaction(actor) as tx:
            values: dict[str, Any] = (
                {"approver": actor, "approver_us": tx.at_us, "approval_no": approval_no}
                if as_ == "approver"
                else {"admin": actor, "admin_us": tx.at_us}
            )
            if other is not None:
                values["state"] = "approved"
            await self._update(tx.conn, d, values)
            tx.audit(
                "disposition.approved",
                f"disposition:{disposition_id}",
                {"as": as_, "approval_no": approval_no, "complete": other is not None},
            )
        return await self.get(disposition_id)

    async def reject(self, disposition_id: int, *, actor: str, reason: str) -> Disposition:
        d = await self.get(disposition_id, with_items=False)
        if d.state not in OPEN_STATES:
            raise Conflict(
                say("disposal.closed", disposal_id=disposition_id, state=_state(d.state))
            )
        async with self.ledger.transaction(actor) as tx:
            await self._update(tx.conn, d, {"state": "rejected", "note": reason})
            tx.audit("disposition.rejected", f"disposition:{disposition_id}", {"reason": reason})
        return await self.get(disposition_id)

    async def carry_out(
        self, disposition_id: int, *, actor: str, note: str | None = None
    ) -> Disposition:
        d = await self.get(disposition_id)
        if d.state != "approved":
            raise Conflict(
                say("disposal.not_approved", disposal_id=disposition_id, state=_state(d.state))
            )
        outcome = OUTCOME[d.action]
        retired: list[tuple[str, str]] = []
        async with self.ledger.transaction(actor) as tx:
            ids = {
                r.ref: r.item_id
                for r in await tx.conn.execute(
                    select(disposition_items.c.ref, disposition_items.c.item_id).where(
                        disposition_items.c.disposition_id == disposition_id
                    )
                )
            }
            lent = (
                (
                    await tx.conn.execute(
                        select(items.c.ref)
                        .select_from(loans.join(items, items.c.id == loans.c.item_id))
                        .where(
                            loans.c.item_id.in_(list(ids.values())), loans.c.returned_us.is_(None)
                        )
                    )
                )
                .scalars()
                .all()
            )
            if lent:
                raise Conflict(say("disposal.lent_now", refs=", ".join(sorted(lent))))
            await self._update(
                tx.conn,
                d,
                {"state": "carried_out", "done_us": tx.at_us, "done_by": actor, "note": note},
            )
            for ref, item_id in ids.items():
                epc = await tx.conn.scalar(
                    select(tags.c.epc).where(tags.c.item_id == item_id, tags.c.retired_us.is_(None))
                )
                if epc is not None:
                    await tx.conn.execute(
                        update(tags)
                        .where(tags.c.item_id == item_id, tags.c.retired_us.is_(None))
                        .values(retired_us=tx.at_us, retired_by=actor)
                    )
                    await tx.conn.execute(
                        update(disposition_items)
                        .where(
                            disposition_items.c.disposition_id == disposition_id,
                            disposition_items.c.item_id == item_id,
                        )
                        .values(epc=epc)
                    )
                    retired.append((ref, epc))
                    tx.audit("tag.retired", ref, {"epc": epc, "reason": f"{outcome}"})
                await tx.conn.execute(
                    update(items)
                    .where(items.c.id == item_id)
                    .values(disposition=outcome, disposed_us=tx.at_us)
                )
                tx.audit(
                    f"item.{outcome}",
                    ref,
                    {"disposition_id": disposition_id, "epc": epc, "receiver": d.receiver},
                )
            tx.audit(
                "disposition.carried_out",
                f"disposition:{disposition_id}",
                {"action": d.action, "count": len(ids)},
            )
            events = [TagRetired(ref, epc) for ref, epc in retired]
            tx.after_commit(lambda: self._announce(events))
        if self.alarms is not None:
            for _, epc in retired:
                await self.alarms.clear(f"item.missing:{epc}", reason=f"{outcome}", actor=actor)
        return await self.get(disposition_id)

    def _announce(self, events: Sequence[TagRetired]) -> None:
        for event in events:
            self.ledger.bus.publish(event)

    async def get(self, disposition_id: int, *, with_items: bool = True) -> Disposition:
        async with self.ledger.store.read() as conn:
            row = (await conn.execute(_select().where(dispositions.c.id == disposition_id))).first()
            if row is None:
                raise NotFound(say("disposal.not_found", disposal_id=disposition_id))
            listed: tuple[DispositionItem, ...] = ()
            if with_items:
                listed = tuple(
                    DispositionItem(r.ref, r.title, r.year, r.retention, r.epc)
                    for r in await conn.execute(
                        select(disposition_items)
                        .where(disposition_items.c.disposition_id == disposition_id)
                        .order_by(disposition_items.c.ref)
                    )
                )
        return Disposition(**row._asdict(), items=listed)

    async def recent(self, state: str | None = None, *, limit: int = 100) -> list[Disposition]:
        """The latest disposals, newest first, each with its items."""
        query = _select().order_by(dispositions.c.id.desc()).limit(limit)
        if state is not None:
            query = query.where(dispositions.c.state == state)
        async with self.ledger.store.read() as conn:
            rows = (await conn.execute(query)).all()
            listed: dict[int, list[DispositionItem]] = {r.id: [] for r in rows}
            if listed:
                for i in await conn.execute(
                    select(disposition_items)
                    .where(disposition_items.c.disposition_id.in_(list(listed)))
                    .order_by(disposition_items.c.ref)
                ):
                    listed[i.disposition_id].append(
                        DispositionItem(i.ref, i.title, i.year, i.retention, i.epc)
                    )
        return [Disposition(**r._asdict(), items=tuple(listed[r.id])) for r in rows]

    async def _update(self, conn: AsyncConnection, d: Disposition, values: dict[str, Any]) -> None:
        result = await conn.execute(
            update(dispositions)
            .where(dispositions.c.id == d.id, dispositions.c.state == d.state)
            .values(**values)
        )
        if result.rowcount != 1:
            raise Conflict(say("disposal.changed_meanwhile", disposal_id=d.id))

    async def _items(self, conn: AsyncConnection, refs: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for i in range(0, len(refs), 1000):
            rows = await conn.execute(
                select(
                    items.c.id,
                    items.c.ref,
                    items.c.title,
                    items.c.year,
                    items.c.retention,
                    items.c.disposition,
                ).where(items.c.ref.in_(refs[i : i + 1000]))
            )
            found.update({r.ref: r._asdict() for r in rows})
        return found

    async def _why_not(
        self, conn: AsyncConnection, item: dict[str, Any], today: date
    ) -> Message | None:
        if item["disposition"] is not None:
            done = messages.state("disposition", str(item["disposition"]))
            return say("disposal.problem.already", disposition=done)
        if item["retention"] == "Y":
            return say("disposal.problem.permanent")
        if item["year"] is None:
            return say("disposal.problem.no_year")
        start = eligible_from(int(item["year"]), str(item["retention"]))
        if start is None or start > today:
            if start is None:
                return say("disposal.problem.not_eligible")
            return say("disposal.problem.retention", date=str(start))
        loan = await conn.scalar(
            select(loans.c.id).where(loans.c.item_id == item["id"], loans.c.returned_us.is_(None))
        )
        if loan is not None:
            return say("disposal.problem.on_loan", loan_id=loan)
        pending = await conn.scalar(
            select(dispositions.c.id)
            .select_from(
                disposition_items.join(
                    dispositions, dispositions.c.id == disposition_items.c.disposition_id
                )
            )
            .where(disposition_items.c.item_id == item["id"], dispositions.c.state.in_(OPEN_STATES))
        )
        if pending is not None:
            return say("disposal.problem.in_disposal", disposal_id=pending)
        return None


def _state(value: str) -> Message | str:
    return messages.state("disposal.state", value)
