"""Disposal and transfer: proposals, approvals, the items and what was done."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.base import DomainOut
from daemon.ledger.items import Ref
from daemon.reconcile.dispositions import Action, Disposition, DispositionItem


class DispositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    refs: list[Ref] = Field(min_length=1, max_length=10_000)
    action: Action
    reason: str = Field(min_length=1, max_length=2000)
    """The appraisal's decision and its basis (e.g. the committee's minutes)."""
    receiver: str | None = Field(default=None, min_length=1, max_length=200)
    """The receiving body, for a transfer."""


class ApprovalIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    approval_no: str | None = Field(default=None, min_length=1, max_length=100)
    """Required from the approver."""


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=1, max_length=2000)


class CarryOutIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    note: str | None = Field(default=None, max_length=2000)


class DispositionItemOut(DomainOut, domain=DispositionItem):
    pass


class DispositionOut(
    DomainOut,
    domain=Disposition,
    rename={"approver_us": "approved_at", "admin_us": "countersigned_at"},
):
    items: list[DispositionItemOut]

    @classmethod
    def of(cls, d: Disposition) -> DispositionOut:
        return cls.from_domain(d, items=[DispositionItemOut.from_domain(i) for i in d.items])
