"""Circulation: loans out, their requests, renewals and returns."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas.base import DomainOut, Out
from daemon.ledger.loan_requests import LoanRequest
from daemon.ledger.loans import Loan, LoanStatus
from rfid.service.cart import MAX_BOXES as MAX_CART_BOXES
from rfid.service.cart import BoxResult


class LoanOut(DomainOut, domain=Loan):
    status: LoanStatus

    @classmethod
    def of(cls, loan: Loan) -> LoanOut:
        return cls.from_domain(loan, status=loan.status())


class LoanIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    ref: str = Field(min_length=1, max_length=100)
    borrower: str = Field(min_length=1, max_length=200)
    purpose: str = Field(min_length=1, max_length=2000)
    approval_no: str | None = Field(default=None, max_length=100)
    due: date | None = None
    borrower_kind: str | None = Field(default=None, min_length=1, max_length=40)
    """Who borrows (e.g. ``internal``, ``unit``, ``court``), where a loan rule limits it."""
    request_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    """The approved loan request this check-out fulfils (found by item when omitted)."""


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    location: str | None = Field(
        default=None, description="where it was handed in (default: the desk)"
    )


class RenewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    due: date | None = None


StatusFilter = Literal["open", "overdue", "returned"]


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


class LoanRequestOut(DomainOut, domain=LoanRequest):
    state: str
    """``pending``, ``approved``, ``rejected``, ``fulfilled`` (checked out) or ``cancelled``."""


class CartIn(BaseModel):
    """Which boxes: a list of references, or every tagged box a desk reader sees now."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    refs: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        default=None, min_length=1, max_length=MAX_CART_BOXES
    )
    reader: str | None = Field(
        default=None, min_length=1, max_length=100, description="a desk reader's id"
    )

    @model_validator(mode="after")
    def _one_source(self) -> CartIn:
        if (self.refs is None) == (self.reader is None):
            raise ValueError("give either refs (a list of references) or reader (a desk reader)")
        return self


class CartLoanIn(CartIn):
    borrower: str = Field(min_length=1, max_length=200)
    purpose: str = Field(min_length=1, max_length=2000)
    approval_no: str | None = Field(default=None, max_length=100)
    due: date | None = None


class CartReturnIn(CartIn):
    location: str | None = Field(
        default=None, max_length=100, description="where they were handed in (default: the desk)"
    )


class BoxOut(Out):
    epc: str | None
    ref: str | None


class BoxResultOut(DomainOut, domain=BoxResult):
    outcome: Literal["done", "refused"]


class CartOut(Out):
    """One result per box, in the order the boxes were given (or by EPC for a reader)."""

    done: int
    refused: int
    results: list[BoxResultOut]

    @classmethod
    def of(cls, results: list[BoxResult]) -> CartOut:
        done = sum(1 for r in results if r.outcome == "done")
        return cls(
            done=done,
            refused=len(results) - done,
            results=[BoxResultOut.from_domain(r) for r in results],
        )
