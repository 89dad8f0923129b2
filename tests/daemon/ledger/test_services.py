"""The ledger services on the store, without the daemon or HTTP: loans, gate passages,
movements, whereabouts and alarms, each on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from daemon.ledger.alarms import AlarmFilter, Alarms
from daemon.ledger.errors import Conflict, NotFound
from daemon.ledger.loans import LoanFilter
from daemon.ledger.locations import ON_LOAN, UNKNOWN
from daemon.ledger.movements import move
from daemon.metrics import Metrics
from daemon.room import Housekeeping
from daemon.services import Services
from daemon.store.db import Store
from daemon.store.schema import gate_passages, loans, movements
from tests.harness import make_config
from tests.support.ledger import audit_actions, catalogued, room_services

EPC = "E28011606000020000000A01"
SHELF, OTHER_SHELF = "r1-A-01-01", "r1-A-02-01"
T = 1_767_225_600_000_000
"""2026-01-01T00:00:00Z in microseconds."""


async def _movement_count(services: Services) -> int:
    async with services.store.read() as conn:
        return int(await conn.scalar(select(func.count()).select_from(movements)) or 0)


# -- loans ------------------------------------------------------------------------------------


async def test_a_loan_opens_once_returns_to_the_desk_and_is_audited(services: Services) -> None:
    await catalogued(services, "BOX-1", home=SHELF)
    loans = services.loans
    loan = await loans.open(
        ref="BOX-1", borrower="Wang Fang", purpose="audit", approval_no=None, due=None,
        actor="staff-1",
    )  # fmt: skip
    assert (loan.ref, loan.borrower, loan.returned_us) == ("BOX-1", "Wang Fang", None)
    with pytest.raises(Conflict, match=f"already on loan \\(loan {loan.id}\\)"):
        await loans.open(
            ref="BOX-1", borrower="Li Na", purpose="audit", approval_no=None, due=None,
            actor="staff-2",
        )  # fmt: skip

    returned = await loans.return_(loan.id, actor="staff-1")
    assert returned.returned_us is not None
    where = await services.whereabouts.locate_one("BOX-1")
    assert (where.location.code, where.loan) == ("r1-desk", None)
    with pytest.raises(Conflict, match="already returned"):
        await loans.return_(loan.id, actor="staff-1")
    assert await audit_actions(services.store, "BOX-1") == [
        "item.created",
        "loan.opened",
        "item.moved",
        "loan.returned",
    ]


async def test_a_loan_is_renewed_up_to_the_rule_and_not_for_an_unknown_item(
    services: Services,
) -> None:
    await catalogued(services, "BOX-2")
    loans = services.loans
    due = date.today() + timedelta(days=3)
    loan = await loans.open(
        ref="BOX-2", borrower="Wang Fang", purpose="audit", approval_no=None, due=due,
        actor="staff-1",
    )  # fmt: skip
    for n in (1, 2):  # ledger.max_renewals = 2
        renewed = await loans.renew(loan.id, actor="staff-1")
        assert renewed.renewals == n
        assert date.fromisoformat(renewed.due) > due
    with pytest.raises(Conflict, match="renewed 2 times, the maximum"):
        await loans.renew(loan.id, actor="staff-1")
    with pytest.raises(NotFound, match="NO-SUCH-BOX"):
        await loans.open(
            ref="NO-SUCH-BOX", borrower="x", purpose="y", approval_no=None, due=None, actor="z"
        )


# -- gate passages ------------------------------------------------------------------------


async def test_a_box_carried_out_without_a_loan_is_unauthorized_alarmed_and_unknown(
    services: Services,
) -> None:
    await catalogued(services, "BOX-3", epc=EPC, home=SHELF)
    outcome = await services.passages.record(gate="door-1", epc=EPC, direction="out", at_us=T)
    assert (outcome.ref, outcome.authorized, outcome.loan_id) == ("BOX-3", False, None)
    assert outcome.alarm_id is not None
    alarm = await services.alarms.get(outcome.alarm_id)
    assert (alarm.kind, alarm.subject, alarm.severity) == ("gate.unauthorized", "BOX-3", "critical")
    assert (await services.whereabouts.locate_one("BOX-3")).location.code == UNKNOWN
    assert await services.passages.recorded(gate="door-1", epc=EPC, direction="out", at_us=T)
    assert not await services.passages.recorded(gate="door-1", epc=EPC, direction="in", at_us=T)


async def test_a_box_on_loan_goes_out_authorized_and_comes_back_in_through_the_gate(
    services: Services,
) -> None:
    await catalogued(services, "BOX-4", epc=EPC, home=SHELF)
    loan = await services.loans.open(
        ref="BOX-4", borrower="Wang Fang", purpose="audit", approval_no=None, due=None,
        actor="staff-1",
    )  # fmt: skip
    out = await services.passages.record(gate="door-1", epc=EPC, direction="out", at_us=T)
    assert (out.authorized, out.loan_id, out.alarm_id) == (True, loan.id, None)
    assert (await services.whereabouts.locate_one("BOX-4")).location.code == ON_LOAN
    back = await services.passages.record(gate="door-1", epc=EPC, direction="in", at_us=T + 1)
    assert (back.authorized, back.loan_id) == (True, loan.id)
    assert (await services.whereabouts.locate_one("BOX-4")).location.code == "r1-gate-door-1"
    assert (await services.loans.get(loan.id)).returned_us is None  # gate_in_returns is off
    assert await services.alarms.list(kind="gate.unauthorized") == []


async def test_a_tag_no_record_claims_is_recorded_without_an_alarm(services: Services) -> None:
    outcome = await services.passages.record(gate="door-1", epc=EPC, direction="out", at_us=T)
    assert (outcome.ref, outcome.authorized, outcome.alarm_id) == (None, False, None)
    async with services.store.read() as conn:
        row = (await conn.execute(select(gate_passages))).one()
    assert (row.epc, row.item_id, row.gate, row.room) == (EPC, None, "door-1", "r1")


# -- movements and whereabouts ------------------------------------------------------------


async def test_a_move_is_recorded_once_per_change_of_place_with_its_history(
    services: Services,
) -> None:
    item_id = await catalogued(services, "BOX-5", home=SHELF)
    ledger, locations = services.ledger, services.locations
    outcomes = []
    for code in (SHELF, SHELF, OTHER_SHELF):
        async with ledger.transaction("shelf-a") as tx:
            to_id = await locations.id_of(tx.conn, code)
            moved = await move(
                tx,
                item_id=item_id,
                ref="BOX-5",
                to_location_id=to_id,
                to_code=code,
                source="shelf-read",
                room="r1",
            )
            outcomes.append(moved)
    first, again, moved = outcomes
    assert first is not None
    assert (first.from_code, first.to_code) == (None, SHELF)
    assert again is None  # already there: nothing recorded
    assert moved is not None
    assert (moved.from_code, moved.to_code) == (SHELF, OTHER_SHELF)
    assert await _movement_count(services) == 2
    history = [e for e in await services.whereabouts.history("BOX-5") if e.kind == "movement"]
    assert [e.details["to"] for e in history] == [SHELF, OTHER_SHELF]  # oldest first
    assert {e.details["source"] for e in history} == {"shelf-read"}


async def test_whereabouts_name_each_item_and_a_shelf_knows_who_is_away(
    services: Services,
) -> None:
    home_id = await catalogued(services, "BOX-6", home=SHELF)
    await catalogued(services, "BOX-7", home=SHELF)
    async with services.ledger.transaction("staff-1") as tx:
        to_id = await services.locations.id_of(tx.conn, SHELF)
        await move(
            tx, item_id=home_id, ref="BOX-6", to_location_id=to_id, to_code=SHELF,
            source="manual", room="r1",
        )  # fmt: skip
    found, missing = await services.whereabouts.locate(["BOX-6", "BOX-7", "BOX-NONE"])
    assert {w.ref: w.location.code for w in found} == {"BOX-6": SHELF, "BOX-7": UNKNOWN}
    assert missing == ["BOX-NONE"]
    shelf = await services.whereabouts.at_location(SHELF)
    assert shelf.present == [("BOX-6", SHELF)]
    assert shelf.absent == [("BOX-7", UNKNOWN)]
    with pytest.raises(NotFound):
        await services.whereabouts.history("BOX-NONE")


# -- alarms -------------------------------------------------------------------------------


async def test_an_alarm_is_raised_once_cleared_acknowledged_and_known_after_a_restart(
    services: Services,
) -> None:
    alarms = services.alarms
    first = await alarms.raise_(
        "reader.down:shelf-a", kind="reader.down", source="reader shelf-a", message="down"
    )
    assert first is not None
    assert await alarms.raise_(
        "reader.down:shelf-a", kind="reader.down", source="reader shelf-a", message="again"
    ) is None  # fmt: skip
    other = await alarms.raise_("climate:x", kind="climate.humidity-high", source="x", message="m")
    assert other is not None

    restarted = Alarms(services.ledger, Metrics(room="r1"))
    await restarted.load()
    assert restarted.is_active("reader.down:shelf-a")
    assert restarted.is_active("climate:x")

    await alarms.clear("reader.down:shelf-a", reason="reader up")
    assert not alarms.is_active("reader.down:shelf-a")
    assert [a.id for a in await alarms.list()] == [other]
    ended = await alarms.list(where=AlarmFilter(state="ended"))
    assert [a.id for a in ended] == [first]
    assert await alarms.count(AlarmFilter(state="all", kind_prefixes=("climate.",))) == 1

    acked = await alarms.acknowledge(other, by="facilities-1")
    assert acked.acked_by == "facilities-1"
    with pytest.raises(Conflict, match="already acknowledged by facilities-1"):
        await alarms.acknowledge(other, by="facilities-2")
    with pytest.raises(NotFound):
        await alarms.acknowledge(999_999, by="facilities-1")


async def test_an_overdue_loan_is_reminded_by_the_room_that_lent_it_only(
    services: Services, tmp_path: Path, db_url: str, store: Store
) -> None:
    """Two rooms' daemons on one database: the overdue alarm comes from the lending room."""
    other = await room_services(
        make_config(tmp_path / "r2", db_url=db_url, extra="", room="r2"), store
    )
    item_id = await catalogued(services, "BOX-LATE", home=SHELF)
    async with services.ledger.transaction("staff-1") as tx:  # on room r1's shelf
        to_id = await services.locations.id_of(tx.conn, SHELF)
        await move(
            tx, item_id=item_id, ref="BOX-LATE", to_location_id=to_id, to_code=SHELF,
            source="manual", room="r1",
        )  # fmt: skip
    loan = await services.loans.open(
        ref="BOX-LATE", borrower="Wang Fang", purpose="audit", approval_no=None, due=None,
        actor="staff-1",
    )  # fmt: skip
    async with store.write() as conn:
        yesterday = (date.today() - timedelta(days=1)).isoformat()
        await conn.execute(update(loans).where(loans.c.id == loan.id).values(due=yesterday))
    mine = await services.loans.list("overdue", where=LoanFilter(room="r1"))
    assert [x.id for x in mine] == [loan.id]
    assert await services.loans.list("overdue", where=LoanFilter(room="r2")) == []
    for room in (services, other):
        await Housekeeping(room.ledger, room.loans, room.alarms, room.metrics).remind_overdue()
    raised = [a.subject for a in await services.alarms.list(kind="loan.overdue")]
    assert raised == ["BOX-LATE"]
    assert await other.alarms.list(kind="loan.overdue") == []
