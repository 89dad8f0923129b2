"""``archroom reconcile``: reconciliation runs and reports from the command line.

Works on the room's database like the other database commands (``-c FILE`` or
``--state-dir DIR``), with or without the daemon running: a run executed here is recorded,
audited and announced (through the outbox, which the daemon publishes) exactly like one
requested through the API. Campaigns and spot checks need the daemon (the readers, staff at
the shelves) and are driven through the API.

    archroom reconcile run [-c FILE]              # execute a run now, print its counts
    archroom reconcile list [-c FILE]
    archroom reconcile show RUN_ID [--rows N] [-c FILE]
    archroom reconcile export RUN_ID [--format csv|json] [-o FILE] [-c FILE]
    archroom reconcile retention [--on YYYY-MM-DD] [--format csv|json] [-o FILE] [-c FILE]

Exit status: 0 done, 1 a usage, configuration or database problem, 2 the run failed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from daemon.cli_common import Commands, add_db_target, config_for, quiet_libraries, room_database

if TYPE_CHECKING:
    from daemon.config import ArchroomConfig
    from daemon.ledger.uow import Ledger
    from daemon.reconcile.runs import Run


def register(commands: Commands) -> None:
    """``archroom reconcile ACTION``; every action runs ``reconcile``."""
    reconcile = commands.group(
        "reconcile",
        help="catalogue/shelf reconciliation runs",
        description="catalogue/room reconciliation runs and reports",
        dest="action",
    )
    add_db_target(reconcile.add("run", reconcile_command, help="execute a reconciliation run now"))
    p = reconcile.add("list", reconcile_command, help="the room's runs, newest first")
    p.add_argument("--limit", type=int, default=20)
    add_db_target(p)
    p = reconcile.add("show", reconcile_command, help="a run's counts and its first rows")
    p.add_argument("run_id", type=int)
    p.add_argument("--rows", type=int, default=20, help="rows to print (default 20)")
    add_db_target(p)
    p = reconcile.add("export", reconcile_command, help="a run's full report as CSV or JSON")
    p.add_argument("run_id", type=int)
    p.add_argument("--format", choices=["csv", "json"], default="csv")
    p.add_argument("-o", "--output", default="-", help="file (default: standard output)")
    add_db_target(p)
    p = reconcile.add(
        "retention", reconcile_command, help="records whose retention period has passed"
    )
    p.add_argument("--on", type=date.fromisoformat, default=None, help="YYYY-MM-DD (today)")
    p.add_argument("--format", choices=["csv", "json"], default="csv")
    p.add_argument("-o", "--output", default="-", help="file (default: standard output)")
    add_db_target(p)


def reconcile_command(args: argparse.Namespace) -> int:
    """Runs one ``archroom reconcile`` action (``args.action``) on the room's database."""
    quiet_libraries()
    config, hint = config_for(args)  # a ConfigError is reported by daemon/cli.py's main

    async def go() -> int:
        async with _ledger(config, hint) as ledger:
            return await _act(args, ledger, config)

    return _run(go)


@asynccontextmanager
async def _ledger(config: ArchroomConfig, hint: str) -> AsyncIterator[Ledger]:
    from daemon.audit import AuditChain
    from daemon.bus import Bus
    from daemon.ledger.uow import Ledger
    from daemon.outbox import Outbox

    async with room_database(config, hint) as store:
        outbox = Outbox(store, site=config.site.id, room=config.room)
        yield Ledger(store, AuditChain(config.room), outbox, Bus())


def _summary(run: Run, out: TextIO) -> None:
    from daemon.clock import us_to_iso

    print(
        f"run {run.id} ({run.state}) room {run.room}: {run.items_checked} items, "
        f"{run.tags_checked} tags, {run.discrepancies} discrepancies",
        file=out,
    )
    if run.finished_us is not None:
        print(f"  finished {us_to_iso(run.finished_us)}", file=out)
    for cls, n in run.counts.items():
        print(f"  {cls}: {n}", file=out)
    if run.error:
        print(f"  error: {run.error}", file=out)


async def _write(chunks: AsyncIterator[str], output: str) -> None:
    if output == "-":
        async for chunk in chunks:
            sys.stdout.write(chunk)
        return
    with Path(output).open("w", encoding="utf-8", newline="") as f:  # noqa: ASYNC230
        async for chunk in chunks:
            f.write(chunk)


async def _act(args: argparse.Namespace, ledger: Ledger, config: ArchroomConfig) -> int:
    import getpass

    from daemon.clock import us_to_iso
    from daemon.ledger.locations import Locations
    from daemon.reconcile.report import report_csv, report_json, retention_csv, retention_json
    from daemon.reconcile.runs import Reconciler
    from daemon.reconcile.spotcheck import SpotChecks

    settings = config.inventory
    reconciler = Reconciler(
        ledger, chunk=settings.chunk, sighting_window_s=settings.unknown_tag_days * 86_400
    )
    if args.action == "run":
        try:
            run = await reconciler.reconcile(actor=f"cli:{getpass.getuser()}")
        except Exception as e:
            print(f"archroom: the run failed: {type(e).__name__}: {e}", file=sys.stderr)
            return 2
        _summary(run, sys.stdout)
        return 0
    if args.action == "list":
        for run in await reconciler.recent(limit=args.limit):
            when = us_to_iso(run.finished_us or run.requested_us)
            print(f"{run.id}\t{run.state}\t{when}\t{run.items_checked}\t{run.discrepancies}")
        return 0
    if args.action == "retention":
        on = args.on or datetime.now(tz=UTC).date()
        make = retention_csv if args.format == "csv" else retention_json
        await _write(make(ledger.store, config.room, on), args.output)
        return 0
    run = await reconciler.get(args.run_id)
    if args.action == "show":
        _summary(run, sys.stdout)
        for row in await reconciler.rows(run.id, limit=max(args.rows, 1)):
            where = f"{row.expected or '-'} -> {row.seen or '-'}"
            print(f"  {row.discrepancy}\t{row.ref or row.epc}\t{where}\t{row.detail}")
        return 0
    checks = await SpotChecks(ledger, Locations(ledger.store)).of_run(run.id)
    make_report = report_csv if args.format == "csv" else report_json
    await _write(make_report(reconciler, run, checks), args.output)
    return 0


def _run(fn: Callable[[], Awaitable[int]]) -> int:
    from daemon.ledger.errors import LedgerError
    from daemon.store.db import SchemaError

    async def guarded() -> int:
        try:
            return await fn()
        except (SchemaError, LedgerError, OSError) as e:
            print(f"archroom: {e}", file=sys.stderr)
            return 1

    return asyncio.run(guarded())
