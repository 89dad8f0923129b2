"""Reports as files: a run's discrepancies and spot checks, and the disposal-eligibility list.

Archive staff open these in a spreadsheet and attach them to the inventory record, so the CSV
has one header line, one row per discrepancy (then one per spot-checked item, with its
outcome as ``spot_check:{outcome}``), UTF-8, times in ISO 8601 UTC. The JSON form carries the
same rows under ``rows`` beside the run and its spot checks. Both stream page by page: a
report of a million-item room is never built in memory. The API and the command line use the
same functions, so the two give the same file. A text cell that a spreadsheet would take
for a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written
with a leading ``'``, as OWASP advises against CSV injection: titles and notes are typed by
people and catalogue imports, and the report is opened by others.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import date

from daemon.clock import us_to_iso
from daemon.reconcile.retention import EligibleItem, eligible_items
from daemon.reconcile.runs import Reconciler, ReportRow, Run
from daemon.reconcile.spotcheck import CheckItem, SpotCheck
from daemon.store.db import Store

REPORT_COLUMNS = ("run_id", "discrepancy", "ref", "epc", "expected", "seen", "seen_at", "detail")
RETENTION_COLUMNS = (
    "ref",
    "title",
    "category",
    "kind",
    "year",
    "retention",
    "eligible_from",
    "location",
    "location_kind",
    "since",
    "loan_id",
    "loan_due",
)


def _iso(us: int | None) -> str | None:
    return None if us is None else us_to_iso(us)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (OWASP, CSV injection)."""


def spreadsheet_safe(value: object) -> object:
    """A text cell a spreadsheet will show as text: one starting like a formula gets a leading
    ``'`` (a title ``=HYPERLINK(...)`` typed into the catalogue must not run when staff open
    the report). Numbers are left alone: ``-3`` is a number, not a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_line(values: Iterable[object]) -> str:
    """One CSV record of an exported report, every text cell made spreadsheet-safe."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(
        ["" if v is None else spreadsheet_safe(v) for v in values]
    )
    return buffer.getvalue()


def run_fields(run: Run, checks: Sequence[SpotCheck] = ()) -> dict[str, object]:
    return {
        "id": run.id,
        "room": run.room,
        "state": run.state,
        "campaign_id": run.campaign_id,
        "requested_by": run.requested_by,
        "requested_at": us_to_iso(run.requested_us),
        "started_at": _iso(run.started_us),
        "finished_at": _iso(run.finished_us),
        "items_checked": run.items_checked,
        "tags_checked": run.tags_checked,
        "discrepancies": run.discrepancies,
        "counts": run.counts,
        "error": run.error,
        "spot_checks": [
            {"id": c.id, "seed": c.seed, "size": c.size, "outcomes": c.outcomes()} for c in checks
        ],
    }


def _shown(
    record: ReportRow | CheckItem | SpotCheck, *, leave_out: tuple[str, ...] = ()
) -> dict[str, object]:
    """A record's fields in their order, a time ``x_us`` shown as ``x_at`` (ISO 8601)."""
    fields: dict[str, object] = {}
    for f in dataclasses.fields(record):
        if f.name in leave_out:
            continue
        value = getattr(record, f.name)
        if f.name.endswith("_us"):
            fields[f.name.removesuffix("_us") + "_at"] = _iso(value)
        else:
            fields[f.name] = value
    return fields


def row_fields(row: ReportRow) -> dict[str, object]:
    return _shown(row)


def check_item_fields(item: CheckItem) -> dict[str, object]:
    return _shown(item)


def check_fields(check: SpotCheck) -> dict[str, object]:
    return {
        **_shown(check, leave_out=("room", "items")),
        "outcomes": check.outcomes(),
        "items": [check_item_fields(i) for i in check.items],
    }


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def report_csv(
    reconciler: Reconciler, run: Run, checks: Sequence[SpotCheck]
) -> AsyncIterator[str]:
    yield csv_line(REPORT_COLUMNS)
    async for page in reconciler.iter_rows(run.id):
        yield "".join(
            csv_line(
                (
                    run.id,
                    row.discrepancy,
                    row.ref,
                    row.epc,
                    row.expected,
                    row.seen,
                    _iso(row.seen_us),
                    row.detail,
                )
            )
            for row in page
        )
    for check in checks:
        for item in check.items:
            yield csv_line(
                (
                    run.id,
                    f"spot_check:{item.outcome or 'pending'}",
                    item.ref,
                    None,
                    item.expected,
                    item.found_at,
                    _iso(item.recorded_us),
                    f"spot check {check.id}" + (f": {item.note}" if item.note else ""),
                )
            )


async def report_json(
    reconciler: Reconciler, run: Run, checks: Sequence[SpotCheck]
) -> AsyncIterator[str]:
    yield '{"run":' + _json(run_fields(run, checks)) + ',"rows":['
    first = True
    async for page in reconciler.iter_rows(run.id):
        for row in page:
            yield ("" if first else ",") + _json(row_fields(row))
            first = False
    yield '],"spot_checks":[' + ",".join(_json(check_fields(c)) for c in checks) + "]}"


def eligible_fields(e: EligibleItem) -> dict[str, object]:
    return {
        "ref": e.ref,
        "title": e.title,
        "category": e.category,
        "kind": e.kind,
        "year": e.year,
        "retention": e.retention,
        "eligible_from": e.eligible_from.isoformat(),
        "location": e.location,
        "location_kind": e.location_kind,
        "since": _iso(e.since_us),
        "loan_id": e.loan_id,
        "loan_due": e.loan_due,
    }


async def retention_csv(store: Store, room: str, on: date) -> AsyncIterator[str]:
    yield csv_line(RETENTION_COLUMNS)
    async for page in eligible_items(store, room, on):
        yield "".join(csv_line(eligible_fields(e).values()) for e in page)


async def retention_json(store: Store, room: str, on: date) -> AsyncIterator[str]:
    yield '{"on":' + _json(on.isoformat()) + ',"items":['
    first = True
    async for page in eligible_items(store, room, on):
        for e in page:
            yield ("" if first else ",") + _json(eligible_fields(e))
            first = False
    yield "]}"
