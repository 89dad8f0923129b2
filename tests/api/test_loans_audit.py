"""Circulation and the audit trail over real HTTP."""

from datetime import date, timedelta

import httpx
from sqlalchemy import update

from daemon.store.schema import loans
from daemon.tokens import Role
from tests.support.catalogue import item_body
from tests.support.room import Room


async def _item(client: httpx.AsyncClient, ref: str) -> None:
    assert (await client.put(f"/api/v1/items/{ref}", json=item_body())).status_code in (200, 201)


def _loan(ref: str, **kw: object) -> dict[str, object]:
    return {
        "ref": ref,
        "borrower": "Li Na, pensions office",
        "purpose": "appeal review",
        "approval_no": "SP-2026-17",
        **kw,
    }


async def test_check_out_and_return_with_events_and_location(
    room: Room, staff: httpx.AsyncClient
) -> None:
    await _item(staff, "BOX-1")
    r = await staff.post("/api/v1/loans", json=_loan("BOX-1"))
    assert r.status_code == 201
    loan = r.json()
    assert loan["status"] == "open"
    assert loan["due"] == (date.today() + timedelta(days=30)).isoformat()
    where = (await staff.get("/api/v1/items/BOX-1/location")).json()
    assert where["loan"]["id"] == loan["id"]

    r = await staff.post(f"/api/v1/loans/{loan['id']}/return")
    assert r.status_code == 200
    assert r.json()["status"] == "returned"
    where = (await staff.get("/api/v1/items/BOX-1/location")).json()
    assert where["loan"] is None
    assert where["location"]["code"] == "r1-desk"
    assert where["source"] == "desk"

    from sqlalchemy import select

    from daemon.store.schema import outbox

    async with room.daemon_store() as store, store.read() as conn:
        topics = (await conn.execute(select(outbox.c.topic).order_by(outbox.c.id))).scalars().all()
    assert "archroom/t/r1/events/loan.opened" in topics
    assert "archroom/t/r1/events/loan.returned" in topics


async def test_loan_errors(staff: httpx.AsyncClient) -> None:
    await _item(staff, "BOX-1")
    assert (await staff.post("/api/v1/loans", json=_loan("NOPE"))).status_code == 404
    first = (await staff.post("/api/v1/loans", json=_loan("BOX-1"))).json()
    again = await staff.post("/api/v1/loans", json=_loan("BOX-1"))
    assert again.status_code == 409
    assert "already on loan" in again.json()["detail"]
    past = await staff.post("/api/v1/loans", json=_loan("BOX-1", due="2001-01-01"))
    assert past.status_code in (409, 422)
    assert (await staff.post(f"/api/v1/loans/{first['id']}/return")).status_code == 200
    assert (await staff.post(f"/api/v1/loans/{first['id']}/return")).status_code == 409
    assert (await staff.post("/api/v1/loans/999999/return")).status_code == 404
    assert (await staff.post("/api/v1/loans", json={"ref": "BOX-1"})).status_code == 422


async def test_renewals_stop_at_the_configured_maximum(staff: httpx.AsyncClient) -> None:
    await _item(staff, "BOX-1")
    loan = (await staff.post("/api/v1/loans", json=_loan("BOX-1"))).json()
    due = loan["due"]
    for expected in (1, 2):
        r = await staff.post(f"/api/v1/loans/{loan['id']}/renew")
        assert r.status_code == 200
        assert r.json()["renewals"] == expected
        assert r.json()["due"] > due
        due = r.json()["due"]
    r = await staff.post(f"/api/v1/loans/{loan['id']}/renew")
    assert r.status_code == 409
    assert "maximum" in r.json()["detail"]


async def test_overdue_is_derived_and_listed(room: Room, staff: httpx.AsyncClient) -> None:
    for ref in ("BOX-1", "BOX-2", "BOX-3"):
        await _item(staff, ref)
    ids = [
        (await staff.post("/api/v1/loans", json=_loan(ref))).json()["id"]
        for ref in ("BOX-1", "BOX-2", "BOX-3")
    ]
    await staff.post(f"/api/v1/loans/{ids[2]}/return")
    async with room.daemon_store() as store, store.write() as conn:
        await conn.execute(update(loans).where(loans.c.id == ids[0]).values(due="2020-01-01"))
    statuses = {
        s: [x["id"] for x in (await staff.get(f"/api/v1/loans?status={s}")).json()]
        for s in ("open", "overdue", "returned")
    }
    assert sorted(statuses["open"]) == sorted(ids[:2])
    assert statuses["overdue"] == [ids[0]]
    assert statuses["returned"] == [ids[2]]
    assert (await staff.get("/api/v1/loans?status=lost")).status_code == 422

    from daemon.room import Housekeeping

    services_metrics = room.services.metrics
    keeper = Housekeeping(
        room.services.ledger, room.services.loans, room.services.alarms, services_metrics
    )
    await keeper.refresh()
    await keeper.refresh()
    assert services_metrics.loans_open._value.get() == 2
    assert services_metrics.loans_overdue._value.get() == 1
    alarms = (await staff.get("/api/v1/alarms?kind=loan.overdue")).json()
    assert len(alarms) == 1
    assert alarms[0]["subject"] == "BOX-1"
    await staff.post(f"/api/v1/loans/{ids[0]}/return")
    await keeper.refresh()
    assert (await staff.get("/api/v1/alarms?kind=loan.overdue")).json() == []


async def test_every_write_is_audited_and_the_chain_verifies(
    room: Room, staff: httpx.AsyncClient
) -> None:
    await _item(staff, "BOX-1")
    loan = (await staff.post("/api/v1/loans", json=_loan("BOX-1"))).json()
    await staff.post(f"/api/v1/loans/{loan['id']}/renew")
    await staff.post(f"/api/v1/loans/{loan['id']}/return")
    async with room.client(Role.auditor) as auditor:
        entries = (await auditor.get("/api/v1/audit?subject=BOX-1")).json()
        verify = (await auditor.get("/api/v1/audit/verify")).json()
    assert [e["action"] for e in entries] == [
        "item.created",
        "loan.opened",
        "loan.renewed",
        "item.moved",
        "loan.returned",
    ]
    assert all(e["actor"] == "staff-r1" for e in entries)
    assert verify["ok"] is True
    assert verify["entries"] >= 5
