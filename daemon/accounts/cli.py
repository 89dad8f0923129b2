"""``archroom user add|passwd|disable|list``: people's accounts, from the server's shell.

Passwords are never arguments (they would sit in the shell's history and in ``ps``): they are
asked for twice without echo, or read from one line of standard input with
``--password-stdin`` (for scripts). ``add`` of an administrator's role prints the account's
TOTP secret and its ``otpauth://`` URI once, for the person's authenticator app. Every change
is an audit entry whose actor is ``cli:`` and the operating-system user.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from daemon.cli_common import (
    Commands,
    add_db_target,
    config_for,
    print_listing,
    print_withdrawn,
    room_database,
)

ROLES = ("staff", "facilities", "approver", "admin", "sysadmin", "security", "auditor")
"""Roles a person may hold (``catalogue`` is a system's: it keeps a token)."""


def register(commands: Commands) -> None:
    user = commands.group("user", help="people's console accounts", dest="user_command")
    p = user.add("add", cmd_user, help="create an account (asks for its first password)")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=ROLES)
    _password_options(p)
    p = user.add("passwd", cmd_user, help="set an account's password (and unlock it)")
    p.add_argument("name")
    _password_options(p)
    p = user.add("disable", cmd_user, help="disable an account and end its sessions")
    p.add_argument("name")
    add_db_target(p)
    add_db_target(user.add("list", cmd_user, help="list accounts (never a hash or a secret)"))


def _password_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from one line of standard input instead of asking",
    )
    add_db_target(p)


def _read_password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    try:
        first = getpass.getpass("password: ")
        again = getpass.getpass("again: ")
    except EOFError:
        print("archroom: no password given (use --password-stdin in scripts)", file=sys.stderr)
        return None
    if again != first:
        print("archroom: the two passwords differ", file=sys.stderr)
        return None
    return first


def cmd_user(args: argparse.Namespace) -> int:
    from daemon.accounts import totp
    from daemon.accounts.passwords import PasswordRejected
    from daemon.accounts.store import AccountError, standalone
    from daemon.store.db import SchemaError
    from daemon.tokens import Role

    config, hint = config_for(args)
    password = None
    if args.user_command in ("add", "passwd"):
        password = _read_password(args)
        if password is None:
            return 1
    actor = f"cli:{getpass.getuser()}"

    async def go() -> int:
        try:
            async with room_database(config, hint) as store:
                accounts = standalone(store, site=config.site.id, room=config.room)
                if args.user_command == "add":
                    assert password is not None
                    secret = await accounts.add(args.name, Role(args.role), password, actor=actor)
                    print(f"added {args.name} ({args.role})")
                    if secret:
                        print(f"one-time codes (TOTP) secret: {secret}")
                        print(totp.uri(secret, account=args.name))
                    return 0
                if args.user_command == "passwd":
                    assert password is not None
                    await accounts.set_password(args.name, password, actor=actor)
                    print(f"password of {args.name} set")
                    return 0
                if args.user_command == "disable":
                    return print_withdrawn(
                        await accounts.disable(args.name, actor=actor),
                        f"disabled {args.name}",
                        f"archroom: no active account named {args.name!r}",
                    )
                return print_listing(await accounts.list())
        except (SchemaError, AccountError, PasswordRejected) as e:
            print(f"archroom: {e}", file=sys.stderr)
            return 1

    return asyncio.run(go())
