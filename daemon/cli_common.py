"""What every ``archroom`` subcommand shares: how it registers, its database options, logging.

The command is one argparse tree. ``daemon/cli.py`` builds the root and hands a ``Commands``
to each area's ``register(commands)`` (listed in its ``AREAS``); an area adds its commands
there, each with the handler that runs it, so a new command is a new ``register`` function
(or a few lines in an existing one) and one line in ``AREAS``. Every path of the tree answers
``--help`` (tests/daemon/test_cli_help.py runs them all). docs/development.md shows the
pattern.

A command whose arguments are parsed by the tool it runs (a simulator, ``replay-gate``) is
``forward``-ed: its parser takes no options of its own and hands everything after the
command's name to the tool's ``main(argv)``, ``--help`` included.

Commands that touch the database take ``-c FILE`` (the daemon's configuration) or
``--state-dir DIR`` (e.g. a demo's state directory), so the same tools work on a server and
on a laptop demo.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from daemon.config import ArchroomConfig, ConfigError, load_config

if TYPE_CHECKING:
    from daemon.store.db import Store

DEFAULT_CONFIG = "/etc/archroom/archroom.toml"

Handler = Callable[[argparse.Namespace], int]
"""Runs one command with its parsed arguments and returns the exit status."""

ToolMain = Callable[[list[str]], int]
"""A tool's own entry point: its arguments in, its exit status out."""


class ArchroomParser(argparse.ArgumentParser):
    """An argparse parser that can also forward its arguments untouched (``Commands.forward``)."""

    forwarding = False

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if not self.forwarding:
            return super().parse_known_args(args, namespace)
        parsed, _ = super().parse_known_args([], namespace)  # the handler default
        parsed.forwarded = list(sys.argv[1:] if args is None else args)
        return parsed, []


class Commands:
    """One level of the command tree, where an area adds its commands."""

    def __init__(
        self, parser: ArchroomParser, *, metavar: str = "COMMAND", dest: str | None = None
    ) -> None:
        self.parser = parser
        self._sub = parser.add_subparsers(
            parser_class=ArchroomParser,
            required=True,
            metavar=metavar,
            dest=argparse.SUPPRESS if dest is None else dest,
        )

    def add(
        self, name: str, handler: Handler, *, help: str, description: str | None = None
    ) -> ArchroomParser:
        """A command run by ``handler``; add its arguments to the parser returned."""
        parser = self._sub.add_parser(name, help=help, description=description or help)
        parser.set_defaults(handler=handler)
        return parser

    def group(
        self,
        name: str,
        *,
        help: str,
        description: str | None = None,
        dest: str | None = None,
        metavar: str = "ACTION",
    ) -> Commands:
        """A command made of actions (``archroom db upgrade``); ``dest`` names the action in
        the parsed arguments for a handler shared by several actions."""
        parser = self._sub.add_parser(name, help=help, description=description or help)
        return Commands(parser, metavar=metavar, dest=dest)

    def forward(self, name: str, tool: ToolMain, *, help: str) -> ArchroomParser:
        """A command whose arguments (``--help`` too) are parsed by ``tool`` itself."""
        parser = self._sub.add_parser(name, help=help, description=help, add_help=False)
        parser.forwarding = True
        parser.set_defaults(handler=partial(_forward, tool))
        return parser


def _forward(tool: ToolMain, args: argparse.Namespace) -> int:
    return tool(list(args.forwarded))


def add_db_target(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``-c FILE`` or ``--state-dir DIR``: the database a command acts on."""
    g = parser.add_mutually_exclusive_group()
    g.add_argument("-c", "--config", help=f"configuration file (default {DEFAULT_CONFIG})")
    g.add_argument("--state-dir", help="state directory of a daemon or demo (SQLite inside)")
    return parser


def config_for(args: argparse.Namespace) -> tuple[ArchroomConfig, str]:
    """The configuration a database command acts on, and how to name it in messages."""
    state_dir = getattr(args, "state_dir", None)
    if state_dir:
        demo_config = Path(state_dir) / "archroom.toml"
        if demo_config.exists():
            return load_config(demo_config, state_dir=state_dir), f"--state-dir {state_dir}"
        return load_config(None, state_dir=state_dir), f"--state-dir {state_dir}"
    path = getattr(args, "config", None) or DEFAULT_CONFIG
    return load_config(path), f"-c {path}"


@asynccontextmanager
async def room_database(config: ArchroomConfig, hint: str) -> AsyncIterator[Store]:
    """The database a command acts on, closed at the end; its schema is checked first (a
    ``SchemaError`` names the upgrade command, with ``hint`` from ``config_for``)."""
    from daemon.store.db import Store

    store = Store.connect(config.database_url())
    try:
        await store.check_schema(f"archroom db upgrade {hint}")
        yield store
    finally:
        await store.close()


class Listed(Protocol):
    def line(self, now: int) -> str: ...


def print_listing(entries: Iterable[Listed]) -> int:
    """Print one line per entry (a token, an account), as of now; exit status 0."""
    from daemon.clock import now_us

    now = now_us()
    for entry in entries:
        print(entry.line(now))
    return 0


def print_withdrawn(withdrawn: bool, done: str, not_found: str) -> int:
    """The outcome of revoking or disabling by name: ``done`` (0), or ``not_found`` on stderr
    (1)."""
    if withdrawn:
        print(done)
        return 0
    print(not_found, file=sys.stderr)
    return 1


def print_config_error(e: ConfigError) -> None:
    for line in e.errors:
        print(f"{e.source}: {line}", file=sys.stderr)


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
