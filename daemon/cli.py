"""The ``archroom`` command (DESIGN §6.1).

Commands that touch the database take ``-c FILE`` (the daemon's configuration) or
``--state-dir DIR`` (e.g. a demo's state directory), so the same tools work on a server and on
a laptop demo.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from daemon import __version__
from daemon.config import ArchroomConfig, ConfigError, load_config

DEFAULT_CONFIG = "/etc/archroom/archroom.toml"
log = logging.getLogger("archroom")


def setup_logging(level: str = "INFO") -> None:
    fmt = "%(levelname)s %(name)s: %(message)s"
    if "JOURNAL_STREAM" not in os.environ:
        fmt = "%(asctime)s " + fmt
    logging.basicConfig(level=level, format=fmt, stream=sys.stderr, force=True)
    quiet_libraries()


def quiet_libraries() -> None:
    """Libraries that log request contents (SQL parameters, frames) never log below WARNING:
    their debug output would carry personal key fields into the journal."""
    for noisy in (
        "aiosqlite",
        "sqlalchemy",
        "asyncpg",
        "pymodbus",
        "asyncio",
        "alembic",
        "httpcore",
        "httpx",
        "uvicorn.error",
        "uvicorn.access",
        "mqtt",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("pymodbus.logging").setLevel(logging.CRITICAL)  # an ERROR per timeout


def _add_db_target(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("-c", "--config", help=f"configuration file (default {DEFAULT_CONFIG})")
    g.add_argument("--state-dir", help="state directory of a daemon or demo (SQLite inside)")


def _config_for(args: argparse.Namespace) -> tuple[ArchroomConfig, str]:
    """The configuration a database command acts on, and how to name it in messages."""
    state_dir = getattr(args, "state_dir", None)
    if state_dir:
        demo_config = Path(state_dir) / "archroom.toml"
        if demo_config.exists():
            return load_config(demo_config, state_dir=state_dir), f"--state-dir {state_dir}"
        return load_config(None, state_dir=state_dir), f"--state-dir {state_dir}"
    path = getattr(args, "config", None) or DEFAULT_CONFIG
    return load_config(path), f"-c {path}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="archroom", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"archroom {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run the daemon")
    p.add_argument("-c", "--config", default=DEFAULT_CONFIG, help="configuration file")

    p = sub.add_parser(
        "demo", help="the daemon with every simulator, on a throwaway SQLite state dir"
    )
    p.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    p.add_argument("--items", type=int, default=2000, help="catalogue size to seed")
    p.add_argument("--state-dir", default=None, help="keep the state in DIR instead of a temp dir")
    p.add_argument("--port", type=int, default=8080, help="API port (0 = any free port)")
    p.add_argument(
        "--mqtt", default=None, help="broker URL (default: mqtt://127.0.0.1:1883 if reachable)"
    )

    p = sub.add_parser("check-config", help="validate a configuration file (exit 0 good, 1 bad)")
    p.add_argument("file")

    p = sub.add_parser("db", help="database maintenance")
    dbsub = p.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    _add_db_target(dbsub.add_parser("upgrade", help="create or migrate the schema"))
    _add_db_target(dbsub.add_parser("check", help="show the schema revision and integrity"))

    p = sub.add_parser("token", help="API tokens")
    tsub = p.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    tp = tsub.add_parser("create", help="create a token and print it once")
    tp.add_argument("--role", required=True, choices=["staff", "catalogue", "facilities", "admin"])
    tp.add_argument("--name", required=True)
    tp.add_argument("--expires-days", type=float, default=None)
    _add_db_target(tp)
    tp = tsub.add_parser("revoke", help="revoke a token by name")
    tp.add_argument("--name", required=True)
    _add_db_target(tp)
    tp = tsub.add_parser("list", help="list tokens (never their secrets)")
    _add_db_target(tp)

    p = sub.add_parser("catalogue", help="catalogue records")
    csub = p.add_subparsers(dest="catalogue_command", required=True, metavar="ACTION")
    cp = csub.add_parser("import", help="load a CSV (with header) or JSON-lines file")
    cp.add_argument("file")
    cp.add_argument("--format", choices=["csv", "jsonl"], default=None, help="default: by content")
    _add_db_target(cp)

    p = sub.add_parser("simulate", help="run one device simulator standalone")
    p.add_argument("device", choices=sorted(SIMULATORS), help="which device")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the simulator's own options (--help)")

    p = sub.add_parser(
        "replay-gate", help="run the gate engine on a recorded capture", add_help=False
    )
    p.add_argument("args", nargs=argparse.REMAINDER)

    p = sub.add_parser(
        "gate", help="gate tools: tune (search the parameters on labelled captures)", add_help=False
    )
    p.add_argument("args", nargs=argparse.REMAINDER)

    p = sub.add_parser("capture", help="record a reader's reads in the replay-gate format")
    p.add_argument("reader", help="reader id from the configuration")
    p.add_argument("-o", "--output", default="-", help="CSV file (default: standard output)")
    p.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    p.add_argument("--epoch", action="store_true", help="timestamps as epoch seconds")
    p.add_argument("-c", "--config", default=DEFAULT_CONFIG, help="configuration file")

    p = sub.add_parser("reconcile", help="catalogue/shelf reconciliation runs", add_help=False)
    p.add_argument("args", nargs=argparse.REMAINDER)

    p = sub.add_parser("audit", help="the audit trail")
    asub = p.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    _add_db_target(
        asub.add_parser("verify", help="prove the hash chain intact or name the first break")
    )

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = COMMANDS[args.command]
    try:
        return handler(args)
    except ConfigError as e:
        for line in e.errors:
            print(f"{e.source}: {line}", file=sys.stderr)
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
    daemon = Daemon(config, config_hint=config_hint)

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
    return asyncio.run(serve(config, config_hint=f"-c {args.config}"))


def cmd_demo(args: argparse.Namespace) -> int:
    from daemon.demo import run_demo

    setup_logging("INFO")
    return run_demo(args)


def cmd_db(args: argparse.Namespace) -> int:
    from daemon.store.db import Store

    config, _hint = _config_for(args)

    async def go() -> int:
        store = Store.connect(config.database_url())
        try:
            if args.db_command == "upgrade":
                before, after = await store.upgrade()
                print(f"database schema: {before or 'empty'} -> {after}")
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
    from daemon.store.db import SchemaError, Store
    from daemon.tokens import Role, TokenError, Tokens

    config, hint = _config_for(args)

    async def go() -> int:
        store = Store.connect(config.database_url())
        try:
            await store.check_schema(f"archroom db upgrade {hint}")
            tokens = Tokens(store)
            if args.token_command == "create":  # noqa: S105
                expires = args.expires_days * 86400 if args.expires_days else None
                print(
                    await tokens.create(name=args.name, role=Role(args.role), expires_in_s=expires)
                )
                return 0
            if args.token_command == "revoke":  # noqa: S105
                if await tokens.revoke(args.name):
                    print(f"revoked {args.name}")
                    return 0
                print(f"no active token named {args.name!r}", file=sys.stderr)
                return 1
            for t in await tokens.list():
                state = "revoked" if t.revoked_us else "active"
                print(f"{t.name}\t{t.role.value}\t{state}")
            return 0
        except (SchemaError, TokenError) as e:
            print(f"archroom: {e}", file=sys.stderr)
            return 1
        finally:
            await store.close()

    return _run_async(go)


def cmd_audit(args: argparse.Namespace) -> int:
    from daemon.audit import verify_chain
    from daemon.store.db import SchemaError, Store

    config, hint = _config_for(args)

    async def go() -> int:
        store = Store.connect(config.database_url())
        try:
            await store.check_schema(f"archroom db upgrade {hint}")
            async with store.read() as conn:
                result = await verify_chain(conn)
        except SchemaError as e:
            print(f"archroom: {e}", file=sys.stderr)
            return 1
        finally:
            await store.close()
        if result.ok:
            print(f"audit chain OK: {result.entries} entries")
            return 0
        print(f"audit chain BROKEN at seq {result.first_broken_seq}: {result.reason}")
        return 1

    return _run_async(go)


def cmd_catalogue(args: argparse.Namespace) -> int:
    import getpass

    from daemon.audit import AuditChain
    from daemon.bus import Bus
    from daemon.ledger.items import Catalogue, parse_rows
    from daemon.ledger.uow import Ledger
    from daemon.outbox import Outbox
    from daemon.store.db import SchemaError, Store

    config, hint = _config_for(args)
    try:
        data = Path(args.file).read_bytes()
    except OSError as e:
        print(f"archroom: cannot read {args.file}: {e.strerror}", file=sys.stderr)
        return 1

    async def go() -> int:
        store = Store.connect(config.database_url())
        try:
            await store.check_schema(f"archroom db upgrade {hint}")
            outbox = Outbox(store, site=config.site.id, room=config.room)
            ledger = Ledger(store, AuditChain(config.room), outbox, Bus())
            report = await Catalogue(ledger).import_rows(
                parse_rows(data, fmt=args.format), actor=f"cli:{getpass.getuser()}"
            )
        except SchemaError as e:
            print(f"archroom: {e}", file=sys.stderr)
            return 1
        except UnicodeDecodeError:
            print(f"archroom: {args.file} is not UTF-8 text", file=sys.stderr)
            return 1
        finally:
            await store.close()
        for error in report.errors:
            ref = f" ({error.ref})" if error.ref else ""
            print(f"{args.file}:{error.line}{ref}: {error.error}", file=sys.stderr)
        if report.error_count > len(report.errors):
            print(f"... and {report.error_count - len(report.errors)} more", file=sys.stderr)
        print(f"loaded {report.loaded} record(s), {report.error_count} row(s) rejected")
        return 0 if report.error_count == 0 else 2

    return _run_async(go)


SIMULATORS = {
    "uhfreader18": "simulators.uhfreader18",
    "llrp-gate": "simulators.llrp_gate",
    "stacker": "simulators.stacker_plc",
    "climate": "simulators.climate",
}


def cmd_simulate(args: argparse.Namespace) -> int:
    import importlib

    setup_logging("INFO")
    module = importlib.import_module(SIMULATORS[args.device])
    return int(module.main(list(args.args)))


def cmd_replay_gate(args: argparse.Namespace) -> int:
    from rfid.replay import main as replay_main

    return replay_main(list(args.args))


def cmd_gate(args: argparse.Namespace) -> int:
    from rfid.tune import main as gate_main

    return gate_main(list(args.args))


def cmd_reconcile(args: argparse.Namespace) -> int:
    from daemon.reconcile.cli import main as reconcile_main

    return reconcile_main(list(args.args))


def cmd_capture(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    setup_logging("WARNING")
    reader = next((r for r in config.readers if r.id == args.reader), None)
    if reader is None:
        known = ", ".join(r.id for r in config.readers) or "none configured"
        print(f"archroom: no reader {args.reader!r} (readers: {known})", file=sys.stderr)
        return 1
    from daemon.capture import capture

    return asyncio.run(
        capture(config, reader, args.output, duration=args.duration, epoch=args.epoch)
    )


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": cmd_run,
    "demo": cmd_demo,
    "check-config": cmd_check_config,
    "db": cmd_db,
    "token": cmd_token,
    "audit": cmd_audit,
    "catalogue": cmd_catalogue,
    "simulate": cmd_simulate,
    "replay-gate": cmd_replay_gate,
    "gate": cmd_gate,
    "capture": cmd_capture,
    "reconcile": cmd_reconcile,
}


if __name__ == "__main__":
    sys.exit(main())
