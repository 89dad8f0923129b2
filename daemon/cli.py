"""The ``archroom`` command (docs/design.md §6.1): its root parser and the areas it registers.

Each area's ``register(commands)`` adds its subcommands with their handlers (daemon/cli_common.py
explains the pattern; docs/development.md shows it); ``AREAS`` lists them in the order
``archroom --help`` shows them. The process and record-keeping commands live here; the
reconciliation commands in daemon/reconcile/cli.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from daemon import __version__
from daemon.accounts import cli as accounts_cli
from daemon.cli_common import (
    DEFAULT_CONFIG,
    ArchroomParser,
    Commands,
    ToolMain,
    add_db_target,
    config_for,
    print_config_error,
    print_listing,
    print_withdrawn,
    quiet_libraries,
    room_database,
    setup_logging,
)
from daemon.config import ArchroomConfig, ConfigError, load_config
from daemon.reconcile import cli as reconcile_cli

if TYPE_CHECKING:
    from daemon.ledger.imports import ImportJob

__all__ = ["AREAS", "build_parser", "main", "quiet_libraries", "serve", "setup_logging"]


ROLES = ("staff", "catalogue", "facilities", "approver", "admin", "sysadmin", "security", "auditor")
"""The token roles (daemon.tokens.Role, spelled out so the parser does not import the store)."""
SCOPES = ("room", "bureau")
"""The token scopes (daemon.tokens.Scope, likewise)."""
MAX_EXPIRES_DAYS = 3650


def expires_days(text: str) -> float:
    """``token create --expires-days``: 1 to 3650 days. A token that never expires is asked
    for by leaving the option out, never by 0 (which used to mean just that, silently)."""
    try:
        days = float(text)
    except ValueError:
        days = math.nan
    if not 1 <= days <= MAX_EXPIRES_DAYS:
        raise argparse.ArgumentTypeError(
            f"must be a number of days from 1 to {MAX_EXPIRES_DAYS}, not {text!r} "
            "(leave the option out for a token that never expires)"
        )
    return days


def register_process(commands: Commands) -> None:
    """The daemon itself, its demo, and its configuration."""
    p = commands.add("run", cmd_run, help="run the daemon")
    p.add_argument("-c", "--config", default=DEFAULT_CONFIG, help="configuration file")

    p = commands.add(
        "demo", cmd_demo, help="the daemon with every simulator, on a throwaway SQLite state dir"
    )
    p.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    p.add_argument("--items", type=int, default=2000, help="catalogue size to seed")
    p.add_argument("--state-dir", default=None, help="keep the state in DIR instead of a temp dir")
    p.add_argument(
        "--port",
        type=int,
        default=None,
        help="API port (default 8080, or a free one if 8080 is taken; 0 = any free port)",
    )
    p.add_argument(
        "--mqtt", default=None, help="broker URL (default: mqtt://127.0.0.1:1883 if reachable)"
    )
    p.add_argument(
        "--no-scenario",
        dest="scenario",
        action="store_false",
        help="run the room without the scripted scenario, to drive it yourself",
    )

    p = commands.add(
        "check-config",
        cmd_check_config,
        help="validate a configuration file (exit 0 good, 1 bad)",
    )
    p.add_argument("file")


def register_records(commands: Commands) -> None:
    """The database, API tokens, the catalogue and the audit trail."""
    db = commands.group("db", help="database maintenance", dest="db_command")
    add_db_target(db.add("upgrade", cmd_db, help="create or migrate the schema"))
    add_db_target(db.add("check", cmd_db, help="show the schema revision and integrity"))

    token = commands.group("token", help="API tokens", dest="token_command")
    p = token.add("create", cmd_token, help="create a token and print it once")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--name", required=True)
    p.add_argument(
        "--scope",
        choices=SCOPES,
        default="room",
        help="room: this room's records only (default); bureau: every room sharing the database",
    )
    p.add_argument("--expires-days", type=expires_days, default=None, help="1 to 3650")
    add_db_target(p)
    p = token.add("revoke", cmd_token, help="revoke a token by name")
    p.add_argument("--name", required=True)
    add_db_target(p)
    add_db_target(token.add("list", cmd_token, help="list tokens (never their secrets)"))

    catalogue = commands.group("catalogue", help="catalogue records")
    p = catalogue.add("import", cmd_catalogue, help="load a CSV (with header) or JSON-lines file")
    p.add_argument("file")
    p.add_argument("--format", choices=["csv", "jsonl"], default=None, help="default: by content")
    add_db_target(p)

    audit = commands.group("audit", help="the audit trail")
    add_db_target(
        audit.add("verify", cmd_audit, help="prove the hash chain intact or name the first break")
    )


def register_devices(commands: Commands) -> None:
    """Simulators, and recording and replaying a reader's reads."""
    simulate = commands.group(
        "simulate",
        help="run one device simulator standalone",
        description="run one device simulator standalone; "
        "archroom simulate DEVICE --help lists its options",
        metavar="DEVICE",
    )
    for device, (module, about) in SIMULATORS.items():
        simulate.forward(device, _simulator(module), help=about)

    commands.forward("replay-gate", _replay_gate, help="run the gate engine on a recorded capture")
    commands.forward(
        "gate", _gate, help="gate tools: tune (search the parameters on labelled captures)"
    )
    commands.forward(
        "sensor", _sensor, help="commission a climate sensor on its bus (show, address, baud)"
    )

    p = commands.add(
        "capture", cmd_capture, help="record a reader's reads in the replay-gate format"
    )
    p.add_argument("reader", help="reader id from the configuration")
    p.add_argument("-o", "--output", default="-", help="CSV file (default: standard output)")
    p.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    p.add_argument("--epoch", action="store_true", help="timestamps as epoch seconds")
    p.add_argument("-c", "--config", default=DEFAULT_CONFIG, help="configuration file")


AREAS: tuple[Callable[[Commands], None], ...] = (
    register_process,
    register_records,
    register_devices,
    reconcile_cli.register,
    accounts_cli.register,
)
"""Each adds its subcommands to the root; a new area is one more entry."""


def build_parser() -> argparse.ArgumentParser:
    parser = ArchroomParser(
        prog="archroom", description="the RFID archive room daemon and its tools"
    )
    parser.add_argument("--version", action="version", version=f"archroom {__version__}")
    commands = Commands(parser)
    for register in AREAS:
        register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except ConfigError as e:
        print_config_error(e)
        return 1
    except KeyboardInterrupt:
        return 130


def _run_async(fn: Callable[[], Coroutine[Any, Any, int]]) -> int:
    return asyncio.run(fn())


def cmd_check_config(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.file)
    except ConfigError as e:
        for line in e.errors:
            print(line, file=sys.stderr)
        print(f"{args.file}: {len(e.errors)} error(s)", file=sys.stderr)
        return 1
    print(
        f"{args.file}: ok (room {config.room}, {len(config.readers)} reader(s), "
        f"{len(config.sensors)} sensor(s), stacker {'yes' if config.stacker else 'no'})"
    )
    return 0


async def serve(
    config: ArchroomConfig,
    *,
    config_hint: str,
    config_file: Path | None = None,
    duration: float | None = None,
    on_ready: Callable[[Any], None] | None = None,
) -> int:
    """Run a daemon until SIGTERM/SIGINT (or ``duration``); 0 on a clean stop."""
    from daemon.runtime import Daemon
    from daemon.store.db import SchemaError

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    daemon = Daemon(config, config_hint=config_hint, config_file=config_file)

    async def announce() -> None:
        await daemon.ready.wait()
        if on_ready is not None:
            on_ready(daemon)
        if duration is not None:
            await asyncio.sleep(duration)
            stop.set()

    watcher = asyncio.create_task(announce(), name="announce")
    try:
        await daemon.run(stop)
    except SchemaError as e:
        print(f"archroom: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"archroom: cannot start: {e}", file=sys.stderr)
        return 1
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    setup_logging(config.log_level)
    return asyncio.run(
        serve(
            config,
            config_hint=f"-c {args.config}",
            config_file=Path(args.config) if args.config else None,
        )
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from daemon.demo import run_demo

    setup_logging("INFO")
    return run_demo(args)


def cmd_db(args: argparse.Namespace) -> int:
    from daemon.audit import adopt_algorithm
    from daemon.store.db import Store

    config, _hint = config_for(args)

    async def go() -> int:
        store = Store.connect(config.database_url())
        try:
            if args.db_command == "upgrade":
                before, after = await store.upgrade()
                async with store.write() as conn:
                    algorithm = await adopt_algorithm(conn, config.audit.hash)
                print(f"database schema: {before or 'empty'} -> {after}; audit hash {algorithm}")
                return 0
            current = await store.current_revision()
            print(
                f"database schema: {current or 'none'}; integrity: {await store.integrity_check()}"
            )
            return 0
        finally:
            await store.close()

    return _run_async(go)


def cmd_token(args: argparse.Namespace) -> int:
    import getpass

    from daemon.audit import AuditChain
    from daemon.store.db import SchemaError
    from daemon.tokens import Role, Scope, TokenError, Tokens

    config, hint = config_for(args)

    async def go() -> int:
        try:
            async with room_database(config, hint) as store:
                tokens = Tokens(store, AuditChain(config.room))
                actor = f"cli:{getpass.getuser()}"
                if args.token_command == "create":  # noqa: S105
                    expires = None if args.expires_days is None else args.expires_days * 86400
                    print(
                        await tokens.create(
                            name=args.name,
                            role=Role(args.role),
                            scope=Scope(args.scope),
                            expires_in_s=expires,
                            actor=actor,
                        )
                    )
                    return 0
                if args.token_command == "revoke":  # noqa: S105
                    return print_withdrawn(
                        await tokens.revoke(args.name, actor=actor),
                        f"revoked {args.name}",
                        f"no active token named {args.name!r}",
                    )
                return print_listing(await tokens.list())
        except (SchemaError, TokenError) as e:
            print(f"archroom: {e}", file=sys.stderr)
            return 1

    return _run_async(go)


def cmd_audit(args: argparse.Namespace) -> int:
    from daemon.audit import verify_chain
    from daemon.store.db import SchemaError

    config, hint = config_for(args)

    async def go() -> int:
        try:
            async with room_database(config, hint) as store, store.read() as conn:
                result = await verify_chain(conn)
        except SchemaError as e:
            print(f"archroom: {e}", file=sys.stderr)
            return 1
        if result.ok:
            print(f"audit chain OK: {result.entries} entries ({result.algorithm})")
            return 0
        print(
            f"audit chain BROKEN at seq {result.first_broken_seq}: {result.reason}"
            f" ({result.algorithm})"
        )
        return 1

    return _run_async(go)


def cmd_catalogue(args: argparse.Namespace) -> int:
    import getpass

    from daemon.audit import AuditChain
    from daemon.bus import Bus
    from daemon.ledger.imports import ImportJob, run_import
    from daemon.ledger.items import Catalogue
    from daemon.ledger.pairing import Pairing
    from daemon.ledger.uow import Ledger
    from daemon.outbox import Outbox
    from daemon.store.db import SchemaError

    config, hint = config_for(args)
    path = Path(args.file)
    if not path.is_file():
        print(f"archroom: cannot read {args.file}: not a file", file=sys.stderr)
        return 1
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() else None

    async def go() -> ImportJob | int:
        try:
            async with room_database(config, hint) as store:
                outbox = Outbox(store, site=config.site.id, room=config.room)
                ledger = Ledger(store, AuditChain(config.room), outbox, Bus())
                job = ImportJob("cli", f"cli:{getpass.getuser()}", path, args.format)
                await run_import(
                    job,
                    Catalogue(ledger, Pairing.of(config.pairing)),
                    on_progress=bar.show if bar is not None else None,
                )
        except SchemaError as e:
            print(f"archroom: {e}", file=sys.stderr)
            return 1
        return job

    job = asyncio.run(go())
    if isinstance(job, int):
        return job
    if bar is not None:
        bar.end()
    report = job.report
    for error in report.errors:
        ref = f" ({error.ref})" if error.ref else ""
        print(f"{args.file}:{error.line}{ref}: {error.error}", file=sys.stderr)
    if report.error_count > len(report.errors):
        print(f"... and {report.error_count - len(report.errors)} more", file=sys.stderr)
    if job.state == "failed":
        print(f"archroom: {args.file}: {job.detail}", file=sys.stderr)
        return 1
    print(f"loaded {report.loaded} record(s), {report.error_count} row(s) rejected")
    return 0 if report.error_count == 0 else 2


class ProgressBar:
    """One line on a terminal, redrawn in place: how much of the file is read and loaded."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def show(self, job: ImportJob) -> None:
        share = job.bytes_read / job.bytes_total if job.bytes_total else 1.0
        filled = int(share * self.WIDTH)
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {share:4.0%}"
            f"  {job.lines_read:,} lines, {job.report.loaded:,} loaded,"
            f" {job.report.error_count:,} rejected"
        )
        self.stream.flush()

    def end(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


SIMULATORS: dict[str, tuple[str, str]] = {
    "uhfreader18": ("simulators.uhfreader18", "a UHFReader18 serial reader (pty or TCP)"),
    "llrp-gate": ("simulators.llrp_gate", "an LLRP gate reader"),
    "stacker": ("simulators.stacker_plc", "the stacker PLC (Modbus TCP)"),
    "climate": ("simulators.climate", "climate sensors (Modbus RTU over TCP, and TCP)"),
}
"""Device name -> (the simulator's module, what it simulates)."""


def _simulator(module_name: str) -> ToolMain:
    def run(argv: list[str]) -> int:
        import importlib

        setup_logging("INFO")
        module = importlib.import_module(module_name)
        return int(module.main(argv))

    return run


def _sensor(argv: list[str]) -> int:
    from sensors.commission import Site
    from sensors.commission import main as sensor_main

    def site(options: argparse.Namespace) -> Site:
        config, _ = config_for(options)
        return Site(config.state_dir, config.buses, config.sensors)

    setup_logging("WARNING")
    return sensor_main(argv, site)


def _gate(argv: list[str]) -> int:
    from rfid.tune import main as gate_main

    return gate_main(argv)


def _replay_gate(argv: list[str]) -> int:
    from rfid.replay import main as replay_main

    return replay_main(argv)


def cmd_capture(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    setup_logging("WARNING")
    reader = next((r for r in config.readers if r.id == args.reader), None)
    if reader is None:
        known = ", ".join(r.id for r in config.readers) or "none configured"
        print(f"archroom: no reader {args.reader!r} (readers: {known})", file=sys.stderr)
        return 1
    from rfid.service.capture import capture

    return asyncio.run(
        capture(config, reader, args.output, duration=args.duration, epoch=args.epoch)
    )


if __name__ == "__main__":
    sys.exit(main())
