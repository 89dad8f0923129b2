"""Every export of records leaves a trace: who took which report, in what form, over what span.

MLPS level 3 counts an export of personal or archival data as an important event to audit
(docs/security.md). Each route that hands out a report (reconciliation reports, the retention
list, EPCIS documents, usage statistics, disposal registers) calls ``audit_export`` before it
answers, so the entry exists even if the download is then abandoned.
"""

from __future__ import annotations

from daemon.ledger.uow import Ledger
from daemon.tokens import Principal

ExportDetail = str | int | None


async def audit_export(
    ledger: Ledger, who: Principal, kind: str, subject: str, **details: ExportDetail
) -> None:
    async with ledger.transaction(who.name) as tx:
        tx.audit("export", subject, {"kind": kind, **details})


def attachment(filename: str) -> dict[str, str]:
    """The headers that have a browser save the answer as a file named ``filename``."""
    return {"Content-Disposition": f'attachment; filename="{filename}"'}
