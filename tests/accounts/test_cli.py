"""``archroom user add|passwd|disable|list`` on a state directory, as an operator runs them."""

import asyncio
import time
from pathlib import Path

from sqlalchemy import select

from daemon.accounts import totp
from daemon.accounts.store import SignInRefused, standalone
from daemon.store.db import Store
from daemon.store.schema import audit
from tests.harness import run_cli

PASSWORD = "tea-kettle on the third shelf\n"


def _sign_in(state: Path, name: str, password: str, code: str | None = None) -> str:
    async def go() -> str:
        store = Store.connect(f"sqlite+aiosqlite:///{state / 'archroom.db'}")
        try:
            accounts = standalone(store, site="site-1", room="r1")
            try:
                return (await accounts.sign_in(name, password, code)).principal.role.value
            except SignInRefused as e:
                return f"refused {e.status}"
        finally:
            await store.close()

    return asyncio.run(go())


def _actions(state: Path) -> list[tuple[str, str, str]]:
    async def go() -> list[tuple[str, str, str]]:
        store = Store.connect(f"sqlite+aiosqlite:///{state / 'archroom.db'}")
        try:
            async with store.read() as conn:
                rows = await conn.execute(
                    select(audit.c.action, audit.c.subject, audit.c.actor).order_by(audit.c.seq)
                )
                return [(r.action, r.subject, r.actor.split(":")[0]) for r in rows]
        finally:
            await store.close()

    return asyncio.run(go())


def test_user_add_passwd_disable_and_list(tmp_path: Path) -> None:
    state = tmp_path / "state"
    db = ("--state-dir", str(state))
    assert run_cli("db", "upgrade", *db).returncode == 0

    added = run_cli(
        "user", "add", "wang.fang", "--role", "staff", "--password-stdin", *db, input=PASSWORD
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout == "added wang.fang (staff)\n"  # no second factor for staff
    assert _sign_in(state, "wang.fang", PASSWORD.strip()) == "staff"

    admin = run_cli(
        "user", "add", "zhao.min", "--role", "admin", "--password-stdin", *db, input=PASSWORD
    )
    assert admin.returncode == 0, admin.stderr
    secret = admin.stdout.split("secret: ")[1].split()[0]
    assert f"otpauth://totp/archroom%3Azhao.min?secret={secret}" in admin.stdout
    assert _sign_in(state, "zhao.min", PASSWORD.strip()) == "refused 401"  # the code is missing
    code = totp.code_at(secret, time.time())
    assert _sign_in(state, "zhao.min", PASSWORD.strip(), code) == "admin"

    again = run_cli(
        "user", "add", "wang.fang", "--role", "staff", "--password-stdin", *db, input=PASSWORD
    )
    assert (again.returncode, "already exists" in again.stderr) == (1, True)
    weak = run_cli(
        "user", "add", "li.wei", "--role", "staff", "--password-stdin", *db, input="password2026!\n"
    )
    assert (weak.returncode, "common passwords" in weak.stderr) == (1, True)
    catalogue = run_cli(
        "user", "add", "e-archive", "--role", "catalogue", "--password-stdin", *db, input=PASSWORD
    )
    assert catalogue.returncode == 2  # a system's role: it gets a token, not an account

    new = "a whole new sentence here\n"
    passwd = run_cli("user", "passwd", "wang.fang", "--password-stdin", *db, input=new)
    assert (passwd.returncode, passwd.stdout) == (0, "password of wang.fang set\n")
    assert _sign_in(state, "wang.fang", PASSWORD.strip()) == "refused 401"
    assert _sign_in(state, "wang.fang", new.strip()) == "staff"
    nobody = run_cli("user", "passwd", "nobody", "--password-stdin", *db, input=new)
    assert (nobody.returncode, "no account named 'nobody'" in nobody.stderr) == (1, True)

    disabled = run_cli("user", "disable", "wang.fang", *db)
    assert (disabled.returncode, disabled.stdout) == (0, "disabled wang.fang\n")
    assert _sign_in(state, "wang.fang", new.strip()) == "refused 401"
    assert run_cli("user", "disable", "wang.fang", *db).returncode == 1

    listed = run_cli("user", "list", *db)
    assert listed.returncode == 0
    rows = [line.split("\t")[:4] for line in listed.stdout.splitlines()]
    assert rows == [
        ["wang.fang", "staff", "disabled", "password"],
        ["zhao.min", "admin", "active", "password+totp"],
    ]
    assert "$argon2" not in listed.stdout
    assert secret not in listed.stdout

    changes = [a for a in _actions(state) if a[0].startswith("account.")]
    assert changes == [
        ("account.add", "wang.fang", "cli"),
        ("account.add", "zhao.min", "cli"),
        ("account.password", "wang.fang", "cli"),
        ("account.disable", "wang.fang", "cli"),
    ]
    assert run_cli("audit", "verify", *db).returncode == 0


def test_passwords_are_never_taken_as_arguments(tmp_path: Path) -> None:
    result = run_cli(
        "user",
        "add",
        "wang.fang",
        "--role",
        "staff",
        "--password",
        "x",
        "--state-dir",
        str(tmp_path),
    )
    assert result.returncode == 2
    assert "unrecognized arguments" in result.stderr
