import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from daemon.audit import (
    AuditChain,
    AuditEntry,
    VerifyResult,
    adopt_algorithm,
    canonical_json,
    canonical_parts,
    entry_hash,
    sm3_hex,
    verify_chain,
)
from daemon.store.db import Store


async def _append(store: Store, n: int) -> None:
    chain = AuditChain("r1")
    for i in range(n):
        async with store.write() as conn:
            await chain.append(
                conn, actor="alice", action="item.put", subject=f"REF-{i}", details={"i": i}
            )


async def test_an_intact_chain_verifies(store: Store) -> None:
    await _append(store, 25)
    async with store.read() as conn:
        result = await verify_chain(conn, batch=7)
    assert result.ok
    assert result.entries == 25


@pytest.mark.parametrize("statement", ["UPDATE audit SET actor = 'mallory'", "DELETE FROM audit"])
async def test_database_refuses_to_change_audit_rows(store: Store, statement: str) -> None:
    await _append(store, 3)
    with pytest.raises((IntegrityError, DBAPIError), match="append-only"):
        async with store.write() as conn:
            await conn.execute(text(statement))
    async with store.read() as conn:
        assert (await verify_chain(conn)).ok


async def _drop_protection(store: Store) -> None:
    async with store.write() as conn:
        if store.dialect == "sqlite":
            await conn.execute(text("DROP TRIGGER audit_no_update"))
            await conn.execute(text("DROP TRIGGER audit_no_delete"))
        else:
            await conn.execute(text("DROP TRIGGER audit_no_change ON audit"))


async def _tamper_and_verify(store: Store, entries: int, statement: str) -> VerifyResult:
    """Append ``entries``, lift the protection, run ``statement`` on the table, verify."""
    await _append(store, entries)
    await _drop_protection(store)
    async with store.write() as conn:
        await conn.execute(text(statement))
    async with store.read() as conn:
        return await verify_chain(conn)


async def test_tampered_entry_is_reported_at_its_seq(store: Store) -> None:
    result = await _tamper_and_verify(store, 10, "UPDATE audit SET actor = 'mallory' WHERE seq = 6")
    assert not result.ok
    assert result.first_broken_seq == 6
    assert "hash" in result.reason


async def test_deleted_entry_is_reported(store: Store) -> None:
    result = await _tamper_and_verify(store, 10, "DELETE FROM audit WHERE seq = 4")
    assert not result.ok
    assert result.first_broken_seq == 4


async def test_truncated_tail_is_reported(store: Store) -> None:
    result = await _tamper_and_verify(store, 10, "DELETE FROM audit WHERE seq > 8")
    assert not result.ok
    assert result.first_broken_seq == 9


def test_sm3_matches_the_published_abc_vector() -> None:
    # GB/T 32905-2016, appendix A.1: SM3("abc").
    assert sm3_hex(b"abc") == ("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")


async def test_an_sm3_chain_is_linked_and_verified_with_sm3(store: Store) -> None:
    async with store.write() as conn:
        assert await adopt_algorithm(conn, "sm3") == "sm3"
    await _append(store, 4)
    async with store.read() as conn:
        result = await verify_chain(conn)
        rows = (await conn.execute(text("SELECT * FROM audit ORDER BY seq"))).all()
    assert result.ok
    assert result.algorithm == "sm3"
    first = AuditEntry(**rows[0]._asdict())
    assert first.hash == sm3_hex(canonical_json(first.body()).encode())
    assert first.hash != entry_hash(first.body(), "sha256")


async def test_a_tampered_sm3_chain_is_reported(store: Store) -> None:
    async with store.write() as conn:
        await adopt_algorithm(conn, "sm3")
    result = await _tamper_and_verify(store, 5, "UPDATE audit SET subject = 'REF-X' WHERE seq = 3")
    assert not result.ok
    assert result.first_broken_seq == 3


async def test_the_hash_is_chosen_while_the_chain_is_empty_and_then_kept(store: Store) -> None:
    await _append(store, 2)
    async with store.write() as conn:
        assert await adopt_algorithm(conn, "sm3") == "sha256"
    await _append(store, 1)
    async with store.read() as conn:
        result = await verify_chain(conn)
    assert result.ok
    assert result.algorithm == "sha256"


AWKWARD = ["plain", 'quote " and \\ backslash', "档案 第3架", "tab\tand\nnewline", "emoji 📦", ""]


@pytest.mark.parametrize("subject", AWKWARD)
def test_the_canonical_parts_put_together_are_the_canonical_json(subject: str) -> None:
    body = {
        "seq": 0,
        "at_us": 1_700_000_000_000_000,
        "room": subject or "r1",
        "actor": subject,
        "action": "item.moved",
        "subject": subject,
        "outcome": "ok",
        "details": canonical_json({"note": subject, "n": [1, None]}),
        "prev_hash": "",
    }
    prefix, middle, suffix = canonical_parts(body)
    for seq, prev in ((1, "0" * 64), (123456789012, "ab" * 32)):
        whole = canonical_json({**body, "seq": seq, "prev_hash": prev})
        assert prefix + prev + middle + str(seq) + suffix == whole


async def test_entries_appended_at_once_by_many_writers_form_one_verified_chain(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the server hashes the entry (one statement); on SQLite the daemon does.
    Either way ``verify`` (which hashes in Python) accepts every entry, awkward text too."""
    if store.dialect == "postgresql":

        async def not_here(*_args: object) -> AuditEntry:
            raise AssertionError("a SHA-256 entry on PostgreSQL is hashed by the server")

        monkeypatch.setattr(AuditChain, "_append_here", not_here)

    async def writer(w: int) -> list[AuditEntry]:
        chain = AuditChain(f"r{w:02d}")
        out = []
        for i, subject in enumerate(AWKWARD * 2):
            async with store.write() as conn:
                out.append(
                    await chain.append(
                        conn,
                        actor=f"writer {w}",
                        action="item.moved",
                        subject=subject,
                        details={"i": i, "to": "档案-A-01"},
                    )
                )
        return out

    written = [
        e for entries in await asyncio.gather(*(writer(w) for w in range(8))) for e in entries
    ]
    assert sorted(e.seq for e in written) == list(range(1, len(written) + 1))
    for e in written:
        assert e.hash == entry_hash(e.body())
    async with store.read() as conn:
        result = await verify_chain(conn, batch=13)
    assert (result.ok, result.entries) == (True, len(written))
