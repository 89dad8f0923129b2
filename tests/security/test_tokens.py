"""API tokens at rest and in use (daemon/tokens.py, docs/security.md).

A token reads ``arc_<id>_<secret>``; the database keeps the SHA-256 of the secret and nothing
from which the secret can be read back. A token is refused when its secret is wrong (compared
in constant time), when it has expired and when it has been revoked. The verifier caches a good
answer for ``Tokens.CACHE_S`` seconds, so a revocation made by another process (``archroom
token revoke``) takes effect in the daemon within that time; the tests move the verifier's
clock instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import io
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

import daemon.tokens
from daemon.cli import main
from daemon.clock import now_us
from daemon.store.db import Store
from daemon.store.schema import tokens as tokens_table
from daemon.tokens import Principal, Role, Tokens
from tests.support.store import open_store


class Clock:
    """Stands in for the verifier's ``time`` module: only its monotonic clock is read."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(daemon.tokens, "time", fake)
    return fake


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[Store]:
    async with open_store(sqlite_url) as s:
        yield s


def _parts(token: str) -> tuple[str, str]:
    prefix, token_id, secret = token.split("_", 2)
    assert prefix == "arc"
    return token_id, secret


async def test_the_database_keeps_the_sha256_of_the_secret_and_never_the_secret(
    store: Store, sqlite_url: str
) -> None:
    token = await Tokens(store).create(name="catalogue-service", role=Role.catalogue)
    token_id, secret = _parts(token)
    async with store.read() as conn:
        row = (await conn.execute(select(tokens_table))).one()
    assert row.id == token_id
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert all(secret not in str(value) for value in row)
    await store.close()  # checkpoint: every page is in the file
    database = Path(sqlite_url.split("///", 1)[1])
    for path in database.parent.glob(database.name + "*"):
        assert secret.encode() not in path.read_bytes(), path


async def test_a_wrong_secret_for_a_real_token_id_is_refused(store: Store, clock: Clock) -> None:
    tokens = Tokens(store)
    good = await tokens.create(name="desk-1", role=Role.staff)
    other = await tokens.create(name="desk-2", role=Role.staff)
    token_id, secret = _parts(good)
    other_id, _ = _parts(other)
    flipped = ("A" if secret[0] != "A" else "B") + secret[1:]
    for attempt in (
        f"arc_{token_id}_{flipped}",
        f"arc_{token_id}_{secret[:-1]}",
        f"arc_{token_id}_",
        f"arc_{other_id}_{secret}",
        f"arc_{token_id.upper()}_{secret}" if token_id != token_id.upper() else "arc__",
    ):
        assert await tokens.verify(attempt) is None, attempt
    assert await tokens.verify(good) == Principal("desk-1", Role.staff)


async def test_the_secret_is_compared_in_constant_time(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[str, str]] = []

    class Hmac:  # the verifier's view of the hmac module
        @staticmethod
        def compare_digest(a: str, b: str) -> bool:
            compared.append((a, b))
            return hmac.compare_digest(a, b)

    monkeypatch.setattr(daemon.tokens, "hmac", Hmac)
    tokens = Tokens(store)
    token = await tokens.create(name="desk-1", role=Role.staff)
    token_id, secret = _parts(token)
    assert await tokens.verify(f"arc_{token_id}_{'x' * len(secret)}") is None
    assert await tokens.verify(token) is not None
    assert len(compared) == 2


async def test_an_expired_token_is_refused_once_the_cache_has_let_go(
    store: Store, clock: Clock
) -> None:
    tokens = Tokens(store)
    token = await tokens.create(name="temp", role=Role.staff, expires_in_s=3600)
    assert await tokens.verify(token) is not None
    async with store.write() as conn:
        await conn.execute(update(tokens_table).values(expires_us=now_us() - 1))
    fresh = Tokens(store)  # another daemon: no cached answer
    assert await fresh.verify(token) is None
    clock.now += Tokens.CACHE_S + 0.001
    assert await tokens.verify(token) is None


async def test_a_revocation_by_another_process_holds_within_the_cache_period(
    store: Store, clock: Clock
) -> None:
    daemon_side, cli_side = Tokens(store), Tokens(store)
    token = await cli_side.create(name="laptop", role=Role.admin)
    assert await daemon_side.verify(token) == Principal("laptop", Role.admin)
    assert await cli_side.revoke("laptop")
    clock.now += Tokens.CACHE_S - 0.5
    assert await daemon_side.verify(token) is not None  # the documented grace
    clock.now += 0.5 + 0.001
    assert await daemon_side.verify(token) is None
    clock.now += 3600
    assert await daemon_side.verify(token) is None


async def test_a_revocation_in_the_same_process_is_immediate(store: Store, clock: Clock) -> None:
    tokens = Tokens(store)
    token = await tokens.create(name="laptop", role=Role.admin)
    assert await tokens.verify(token) is not None
    assert await tokens.revoke("laptop")
    assert await tokens.verify(token) is None


def _cli(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue() + err.getvalue()


def test_the_cli_prints_a_secret_once_at_creation_and_never_lists_it(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    assert _cli("db", "upgrade", "--state-dir", state)[0] == 0
    code, created = _cli(
        "token", "create", "--role", "catalogue", "--name", "e-archive", "--state-dir", state
    )
    assert code == 0
    token = next(word for word in created.split() if word.startswith("arc_"))
    _, secret = _parts(token)
    code, listed = _cli("token", "list", "--state-dir", state)
    assert code == 0
    assert "e-archive" in listed
    assert secret not in listed
    code, revoked = _cli("token", "revoke", "--name", "e-archive", "--state-dir", state)
    assert code == 0
    assert secret not in revoked


@pytest.mark.parametrize("days", ["0", "-1", "0.5", "nan", "inf", "1e9", "soon"])
def test_a_token_lifetime_below_a_day_or_beyond_reason_is_refused_in_words(
    tmp_path: Path, days: str, capsys: pytest.CaptureFixture[str]
) -> None:
    state = str(tmp_path / "state")
    assert _cli("db", "upgrade", "--state-dir", state)[0] == 0
    args = ["token", "create", "--role", "staff", "--name", "n", "--state-dir", state]
    with pytest.raises(SystemExit) as refused:
        main([*args, f"--expires-days={days}"])
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert "--expires-days: must be a number of days from 1 to 3650" in err
    assert "leave the option out for a token that never expires" in err
    code, listed = _cli("token", "list", "--state-dir", state)
    assert code == 0
    assert listed == ""  # nothing was created


async def test_the_verifier_refuses_to_mint_a_token_that_is_born_expired(store: Store) -> None:
    for lifetime in (0, -1, float("inf")):
        with pytest.raises(daemon.tokens.TokenError, match="positive"):
            await Tokens(store).create(name="x", role=Role.staff, expires_in_s=lifetime)


def test_token_list_shows_each_tokens_state_and_dates(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    assert _cli("db", "upgrade", "--state-dir", state)[0] == 0
    for name, extra in (("forever", []), ("month", ["--expires-days", "30"]), ("gone", [])):
        args = ["token", "create", "--role", "staff", "--name", name, *extra]
        assert _cli(*args, "--state-dir", state)[0] == 0
    assert _cli("token", "revoke", "--name", "gone", "--state-dir", state)[0] == 0
    code, before = _cli("token", "list", "--state-dir", state)
    assert code == 0
    rows = {line.split("\t")[0]: line.split("\t") for line in before.splitlines()}
    assert rows["forever"][1:3] == ["staff", "room"]
    assert rows["forever"][3] == "active"
    assert rows["forever"][4].startswith("created 20")
    assert rows["forever"][5] == "expires never"
    assert rows["month"][3] == "active"
    created = datetime.fromisoformat(rows["month"][4].removeprefix("created "))
    expires = datetime.fromisoformat(rows["month"][5].removeprefix("expires "))
    assert abs((expires - created).total_seconds() - 30 * 86400) < 60
    assert rows["gone"][3] == "revoked"
    assert rows["gone"][6].startswith("revoked 20")

    async def expire_month() -> None:
        store = Store.connect(f"sqlite+aiosqlite:///{tmp_path / 'state' / 'archroom.db'}")
        try:
            async with store.write() as conn:
                await conn.execute(
                    update(tokens_table)
                    .where(tokens_table.c.name == "month")
                    .values(expires_us=now_us() - 1)
                )
        finally:
            await store.close()

    asyncio.run(expire_month())
    code, after = _cli("token", "list", "--state-dir", state)
    assert code == 0
    assert [line.split("\t")[3] for line in after.splitlines()] == ["active", "revoked", "expired"]
