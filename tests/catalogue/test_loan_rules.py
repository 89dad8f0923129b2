"""Loan rules per category and approvals: a personnel file leaves only with an approval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from daemon.tokens import Role
from tests.support.catalogue import item_body
from tests.support.room import Room


async def _personnel(staff: httpx.AsyncClient, ref: str = "P-1") -> None:
    body = item_body(category="personnel", record_id=f"EA-{ref}", retention="Y")
    assert (await staff.put(f"/api/v1/items/{ref}", json=body)).status_code == 201


def _loan(ref: str = "P-1", **extra: object) -> dict[str, object]:
    return {"ref": ref, "borrower": "Li Na", "purpose": "pension review", **extra}


def _request(**changes: object) -> dict[str, object]:
    """A loan request for P-1 by Li Na, an internal borrower."""
    return {
        "ref": "P-1",
        "borrower": "Li Na",
        "borrower_kind": "internal",
        "purpose": "p",
        **changes,
    }


def _in_days(n: int) -> str:
    return (datetime.now(tz=UTC).date() + timedelta(days=n)).isoformat()


async def test_personnel_file_without_an_approved_request_is_refused_in_words(
    staff: httpx.AsyncClient,
) -> None:
    await _personnel(staff)
    r = await staff.post("/api/v1/loans", json=_loan(borrower_kind="internal"))
    assert r.status_code == 409
    assert r.json()["detail"] == (
        "loan rule of category 'personnel': a check-out needs a loan request approved by an "
        "approver; none is approved for P-1"
    )
    free = item_body(category="social insurance")
    assert (await staff.put("/api/v1/items/S-1", json=free)).status_code == 201
    assert (await staff.post("/api/v1/loans", json=_loan("S-1"))).status_code == 201


async def test_request_approved_then_checked_out_carries_the_approval_number(
    staff: httpx.AsyncClient, approver: httpx.AsyncClient
) -> None:
    await _personnel(staff)
    filed = await staff.post("/api/v1/loan-requests", json=_request(purpose="review"))
    assert filed.status_code == 201, filed.text
    request = filed.json()
    assert request["state"] == "pending"
    queue = (await approver.get("/api/v1/loan-requests", params={"state": "pending"})).json()
    assert [q["id"] for q in queue] == [request["id"]]
    approved = await approver.post(
        f"/api/v1/loan-requests/{request['id']}/approve", json={"approval_no": "SP-2026-0042"}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "approved"
    assert approved.json()["retrieval"] is None  # not in the stacker: nothing to retrieve
    wrong = await staff.post(
        "/api/v1/loans", json=_loan(borrower="Wang Wu", borrower_kind="internal")
    )
    assert wrong.status_code == 409
    assert "approved for Li Na" in wrong.json()["detail"]
    loan = await staff.post("/api/v1/loans", json=_loan(borrower_kind="internal"))
    assert loan.status_code == 201, loan.text
    assert loan.json()["approval_no"] == "SP-2026-0042"
    assert loan.json()["request_id"] == request["id"]
    done = (await staff.get(f"/api/v1/loan-requests/{request['id']}")).json()
    assert done["state"] == "fulfilled"
    assert done["loan_id"] == loan.json()["id"]


async def test_rule_limits_borrower_kind_term_and_renewals(
    staff: httpx.AsyncClient, approver: httpx.AsyncClient
) -> None:
    await _personnel(staff)
    outside = await staff.post(
        "/api/v1/loan-requests", json=_request(borrower="X", borrower_kind="public")
    )
    assert outside.status_code == 409
    assert outside.json()["detail"] == (
        "loan rule of category 'personnel': borrowers of kind 'public' may not borrow "
        "(internal may)"
    )
    unnamed = await staff.post(
        "/api/v1/loan-requests", json={"ref": "P-1", "borrower": "X", "purpose": "p"}
    )
    assert unnamed.status_code == 409
    assert "borrower_kind" in unnamed.json()["detail"]
    too_long = await staff.post("/api/v1/loan-requests", json=_request(due=_in_days(30)))
    assert too_long.status_code == 409
    assert "at most 14 days" in too_long.json()["detail"]
    filed = await staff.post("/api/v1/loan-requests", json=_request())
    request_id = filed.json()["id"]
    await approver.post(f"/api/v1/loan-requests/{request_id}/approve", json={"approval_no": "SP-1"})
    loan = await staff.post("/api/v1/loans", json=_loan(borrower_kind="internal"))
    assert loan.json()["due"] == _in_days(14)
    renewed = await staff.post(f"/api/v1/loans/{loan.json()['id']}/renew")
    assert renewed.status_code == 409
    assert "loan rule of category 'personnel'" in renewed.json()["detail"]


async def test_rejected_request_and_the_filer_cannot_decide(
    staff: httpx.AsyncClient, approver: httpx.AsyncClient, room: object
) -> None:
    await _personnel(staff)
    filed = await staff.post("/api/v1/loan-requests", json=_request())
    request_id = filed.json()["id"]
    again = await staff.post("/api/v1/loan-requests", json=_request(borrower="Zhao"))
    assert again.status_code == 409
    assert f"loan request {request_id} for P-1 is already open" in again.json()["detail"]
    assert again.json()["message_key"] == "request.already_open"
    assert again.json()["params"] == {"request_id": request_id, "ref": "P-1"}
    rejected = await approver.post(
        f"/api/v1/loan-requests/{request_id}/reject", json={"reason": "no business need"}
    )
    assert rejected.json()["state"] == "rejected"
    assert rejected.json()["reason"] == "no business need"
    twice = await approver.post(
        f"/api/v1/loan-requests/{request_id}/approve", json={"approval_no": "SP-9"}
    )
    assert twice.status_code == 409
    assert (
        await staff.post("/api/v1/loans", json=_loan(borrower_kind="internal"))
    ).status_code == 409
    assert (
        await approver.post("/api/v1/loan-requests/999999/approve", json={"approval_no": "x"})
    ).status_code == 404
    assert (
        await approver.post(f"/api/v1/loan-requests/{request_id}/approve", json={})
    ).status_code == 422


async def test_whoever_files_a_request_cannot_approve_it(
    staff: httpx.AsyncClient, room: Room
) -> None:
    await _personnel(staff)
    async with room.client(Role.admin) as admin:
        filed = await admin.post("/api/v1/loan-requests", json=_request())
        request_id = filed.json()["id"]
        own = await admin.post(
            f"/api/v1/loan-requests/{request_id}/approve", json={"approval_no": "SP-1"}
        )
    assert own.status_code == 409
    assert "cannot decide it" in own.json()["detail"]
