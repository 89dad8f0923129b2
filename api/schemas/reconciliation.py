"""Reconciliation runs and their reports, key-field copies, campaigns, spot checks
(docs/reconciliation.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.base import DomainOut, Out
from daemon import messages
from daemon.messages import key_and_params
from daemon.reconcile.campaigns import Campaign, CampaignLocation
from daemon.reconcile.copies import KeyFieldCopyRecord
from daemon.reconcile.runs import ReportRow, Run
from daemon.reconcile.spotcheck import CheckItem, Outcome, SpotCheck


class SpotCheckSummaryOut(Out):
    id: int
    seed: int
    size: int
    outcomes: dict[str, int]

    @classmethod
    def of(cls, c: SpotCheck) -> SpotCheckSummaryOut:
        return cls(id=c.id, seed=c.seed, size=c.size, outcomes=c.outcomes())


class RunOut(DomainOut, domain=Run):
    discrepancies: int
    spot_checks: list[SpotCheckSummaryOut]

    @classmethod
    def of(cls, run: Run, checks: list[SpotCheck] | None = None) -> RunOut:
        return cls.from_domain(run, spot_checks=[SpotCheckSummaryOut.of(c) for c in checks or []])


class ReportRowOut(DomainOut, domain=ReportRow):
    message_key: str | None
    """``detail`` as a message key (docs/api.md#messages), when it is one of the known words."""
    params: dict[str, Any] | None

    @classmethod
    def of(cls, row: ReportRow) -> ReportRowOut:
        key, params = key_and_params(messages.finding(row.discrepancy, row.detail))
        return cls.from_domain(row, message_key=key, params=params)


class ReportPageOut(Out):
    run_id: int
    rows: list[ReportRowOut]
    next_after: int | None
    """Pass as ``after`` for the next page (null: this was the last)."""


class KeyFieldCopiesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    copies: list[KeyFieldCopyRecord] = Field(min_length=1, max_length=10_000)


class KeyFieldCopiesOut(Out):
    stored: int
    not_found: list[str]


class KeyFieldCopyOut(Out):
    ref: str
    fields_set: list[str]


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stacker: bool = Field(default=False, description="also verify every occupied stacker cell")
    note: str = Field(default="", max_length=2000)


class CampaignLocationOut(DomainOut, domain=CampaignLocation):
    pass


class CampaignOut(DomainOut, domain=Campaign, exclude=("room",)):
    coverage: float
    locations: list[CampaignLocationOut] | None = None

    @classmethod
    def of(cls, c: Campaign, locations: list[CampaignLocation] | None = None) -> CampaignOut:
        return cls.from_domain(
            c,
            locations=None
            if locations is None
            else [CampaignLocationOut.from_domain(x) for x in locations],
        )


class SpotCheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    size: int = Field(ge=1, le=10_000, description="items to sample")
    seed: int | None = Field(
        default=None, ge=0, lt=2**63, description="to redraw a sample (default: random)"
    )
    run_id: int | None = Field(
        default=None, ge=1, lt=2**63, description="the run whose report it joins (default: latest)"
    )
    note: str = Field(default="", max_length=2000)


class SpotCheckItemOut(DomainOut, domain=CheckItem):
    pass


class SpotCheckOut(DomainOut, domain=SpotCheck, exclude=("room",)):
    items: list[SpotCheckItemOut]
    outcomes: dict[str, int]

    @classmethod
    def of(cls, c: SpotCheck) -> SpotCheckOut:
        return cls.from_domain(
            c, items=[SpotCheckItemOut.from_domain(i) for i in c.items], outcomes=c.outcomes()
        )


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    outcome: Outcome
    location: str | None = Field(
        default=None, max_length=100, description="where it was found (found_elsewhere)"
    )
    note: str | None = Field(default=None, max_length=2000)
