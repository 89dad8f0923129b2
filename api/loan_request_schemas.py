"""Bodies of the loan-request routes: filed by the desk, decided by an approver."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from daemon.clock import us_to_iso
from daemon.ledger.loan_requests import LoanRequest


def _iso(us: int | None) -> str | None:
    return None if us is None else us_to_iso(us)


class LoanRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    ref: str = Field(min_length=1, max_length=100)
    borrower: str = Field(min_length=1, max_length=200)
    borrower_kind: str | None = Field(default=None, min_length=1, max_length=40)
    purpose: str = Field(min_length=1, max_length=2000)
    due: date | None = None


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    approval_no: str = Field(min_length=1, max_length=100)


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=1, max_length=2000)


class LoanRequestOut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int
    ref: str
    room: str
    borrower: str
    borrower_kind: str | None
    purpose: str
    due: str | None
    state: str
    """``pending``, ``approved``, ``rejected``, ``fulfilled`` (checked out) or ``cancelled``."""
    requested_at: str
    requested_by: str
    decided_at: str | None
    decided_by: str | None
    approval_no: str | None
    reason: str | None
    loan_id: int | None
    retrieval: str | None

    @classmethod
    def of(cls, r: LoanRequest) -> LoanRequestOut:
        return cls(
            id=r.id,
            ref=r.ref,
            room=r.room,
            borrower=r.borrower,
            borrower_kind=r.borrower_kind,
            purpose=r.purpose,
            due=r.due,
            state=r.state,
            requested_at=us_to_iso(r.requested_us),
            requested_by=r.requested_by,
            decided_at=_iso(r.decided_us),
            decided_by=r.decided_by,
            approval_no=r.approval_no,
            reason=r.reason,
            loan_id=r.loan_id,
            retrieval=r.retrieval,
        )
