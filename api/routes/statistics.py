"""Usage statistics (利用统计): loans grouped by month, category, borrower or retention class,
with the usage rate, and the annual statistical return; as JSON or CSV (docs/api.md)."""

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Auth
from api.exports import attachment, audit_export
from api.schemas.base import DomainOut
from daemon.ledger.errors import Invalid
from daemon.ledger.usage import GroupBy, Usage, UsageReport, UsageRow
from daemon.reconcile.report import csv_line
from daemon.services import Services
from daemon.tokens import Principal, Role

Format = Literal["json", "csv"]
COLUMNS = tuple(f.name for f in dataclasses.fields(UsageRow))


class UsageRowOut(DomainOut, domain=UsageRow):
    items_held: int | None
    """Items held in the period (by category or retention class, and in the total)."""
    usage_rate: float | None
    """Items lent in the period / items held."""


class UsageOut(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: date = Field(alias="from")
    """First day included."""
    to: date
    """Last day included."""
    group_by: GroupBy
    rows: list[UsageRowOut]
    total: UsageRowOut

    @classmethod
    def of(cls, report: UsageReport) -> "UsageOut":
        return cls(
            from_=report.start,
            to=report.end - timedelta(days=1),
            group_by=report.group_by,
            rows=[UsageRowOut.from_domain(r) for r in report.rows],
            total=UsageRowOut.from_domain(report.total),
        )


def _csv(report: UsageReport, name: str) -> Response:
    lines = [csv_line(COLUMNS)]
    lines += [csv_line(getattr(row, c) for c in COLUMNS) for row in [*report.rows, report.total]]
    return Response(
        "".join(lines),
        media_type="text/csv; charset=utf-8",
        headers=attachment(f"{name}.csv"),
    )


def router(svc: Services, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["statistics"])
    reader = auth.require(Role.staff, Role.catalogue)
    usage = Usage(svc.store)

    @r.get("/statistics/loans", response_model=UsageOut)
    async def loan_statistics(
        who: Annotated[Principal, Depends(reader)],
        from_: Annotated[date | None, Query(alias="from")] = None,
        to: Annotated[date | None, Query(description="last day included")] = None,
        group_by: GroupBy = "month",
        format: Format = "json",
    ) -> Response | UsageOut:
        """Loans opened from ``from`` to ``to`` (both included; default: this year so far),
        grouped, with a total row; ``format=csv`` for a spreadsheet."""
        today = datetime.now(tz=UTC).date()
        start = from_ or date(today.year, 1, 1)
        last = to or today
        if last < start:
            raise Invalid("to: before from")
        if (last - start).days > 366 * 20:
            raise Invalid("to: at most 20 years after from")
        await audit_export(
            svc.ledger,
            who,
            "statistics.loans",
            f"statistics:loans:{start}:{last}",
            group_by=group_by,
            format=format,
        )
        report = await usage.loans(start, last + timedelta(days=1), group_by)
        if format == "csv":
            return _csv(report, f"loans-{start}-{last}-by-{group_by}")
        return UsageOut.of(report)

    @r.get("/statistics/annual", response_model=UsageOut)
    async def annual_return(
        who: Annotated[Principal, Depends(reader)],
        year: Annotated[int, Query(ge=1900, le=2999)],
        format: Format = "json",
    ) -> Response | UsageOut:
        """The annual statistical return: per category, loans, items and borrowers, duration,
        overdue share, items held and the usage rate, with the total."""
        await audit_export(
            svc.ledger, who, "statistics.annual", f"statistics:annual:{year}", format=format
        )
        report = await usage.annual(year)
        if format == "csv":
            return _csv(report, f"annual-return-{year}")
        return UsageOut.of(report)

    return r
