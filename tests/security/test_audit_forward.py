"""The audit trail forwarded as RFC 5424 syslog over TLS to a real rsyslog (docs/operator-guide.md).

The server goes away and comes back: entries written meanwhile wait in the store and arrive
after it returns, none lost and in the chain's order (a repeat of an entry whose delivery was
not confirmed is allowed: it carries the same ``seq``).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from daemon.audit import AuditChain, AuditEntry
from daemon.audit_forward import AuditForwarder, Cursor, frame, syslog_message
from daemon.config import AuditConfig
from daemon.store.db import Store
from tests.security.certs import make_certificates
from tests.security.rsyslog import Rsyslog
from tests.support.tasks import running_task

SEQ = re.compile(r'\[audit@32473 seq="(\d+)"')


@pytest.fixture
def rsyslog(tmp_path: Path) -> Iterator[Rsyslog]:
    with Rsyslog(tmp_path / "rsyslog", make_certificates(tmp_path / "certs")) as server:
        yield server


async def _append(store: Store, first: int, count: int) -> None:
    chain = AuditChain("r1")
    for i in range(first, first + count):
        async with store.write() as conn:
            await chain.append(
                conn, actor="alice", action="item.put", subject=f"REF-{i}", details={"i": i}
            )


async def _received(server: Rsyslog, count: int) -> list[int]:
    """The seqs the server has written, in its order, once ``count`` distinct have arrived."""
    for _ in range(600):
        seqs = [int(m.group(1)) for line in server.lines() if (m := SEQ.search(line))]
        if len(set(seqs)) >= count:
            return seqs
        await asyncio.sleep(0.05)
    raise AssertionError(f"the log server has {server.lines()} instead of {count} entries")


@contextlib.asynccontextmanager
async def _forwarding(forwarder: AuditForwarder) -> AsyncIterator[None]:
    async with running_task(forwarder.run(), "audit-forward"):
        yield


def _forwarder(store: Store, server: Rsyslog, tmp_path: Path) -> AuditForwarder:
    config = AuditConfig(forward=server.url, ca_file=tmp_path / "certs" / "ca.crt")
    return AuditForwarder(store, "r1", config, tmp_path / "audit-forward.cursor", poll_s=0.05)


def _first_seen(seqs: list[int]) -> list[int]:
    return list(dict.fromkeys(seqs))


async def test_entries_reach_rsyslog_and_survive_its_outage_in_order(
    store: Store, rsyslog: Rsyslog, tmp_path: Path
) -> None:
    await _append(store, 1, 5)
    forwarder = _forwarder(store, rsyslog, tmp_path)
    async with _forwarding(forwarder):
        assert _first_seen(await _received(rsyslog, 5)) == [1, 2, 3, 4, 5]
        rsyslog.stop()
        while forwarder.connected:
            await asyncio.sleep(0.05)
        await _append(store, 6, 5)
        rsyslog.start()
        seqs = await _received(rsyslog, 10)
        while forwarder.confirmed < 10:
            await asyncio.sleep(0.05)
    assert _first_seen(seqs) == list(range(1, 11))
    assert Cursor(tmp_path / "audit-forward.cursor").load() == 10


async def test_a_restarted_forwarder_resumes_after_its_cursor(
    store: Store, rsyslog: Rsyslog, tmp_path: Path
) -> None:
    await _append(store, 1, 3)
    async with _forwarding(_forwarder(store, rsyslog, tmp_path)):
        await _received(rsyslog, 3)
        while Cursor(tmp_path / "audit-forward.cursor").load() < 3:
            await asyncio.sleep(0.05)
    await _append(store, 4, 2)
    async with _forwarding(_forwarder(store, rsyslog, tmp_path)):
        seqs = await _received(rsyslog, 5)
    assert seqs == [1, 2, 3, 4, 5]


def test_a_message_is_rfc5424_framed_by_its_octet_count() -> None:
    entry = AuditEntry(
        seq=7,
        at_us=1_765_000_000_123_456,
        room="r1",
        actor='ev"il]\\',
        action="item.key_fields_read",
        subject="0001-WS·2023-D30-RS-0001",
        outcome="ok",
        details='{"reason":"appeal"}',
        prev_hash="a" * 64,
        hash="b" * 64,
    )
    message = syslog_message(entry, hostname="room-101")
    framed = frame(message)
    length, _, rest = framed.partition(b" ")
    assert int(length) == len(rest) == len(message)
    text = message.decode()
    assert text.startswith("<110>1 2025-12-06T05:46:40.123456Z room-101 archroom ")
    assert ' item.key_fields_read [audit@32473 seq="7" room="r1" actor="ev\\"il\\]\\\\"' in text
    assert text.endswith(
        '{"details":"{\\"reason\\":\\"appeal\\"}","subject":"0001-WS·2023-D30-RS-0001"}'
    )


async def test_a_configured_daemon_forwards_its_trail_from_the_start(
    tmp_path: Path, db_url: str, rsyslog: Rsyslog
) -> None:
    from tests.harness import make_config, running_daemon

    audit = f'[audit]\nforward = "{rsyslog.url}"\nca_file = "{tmp_path / "certs" / "ca.crt"}"\n'
    config = make_config(tmp_path / "r1", db_url=db_url, extra=audit)
    async with running_daemon(config) as daemon:
        for _ in range(600):
            if any(" config.loaded " in line for line in rsyslog.lines()):
                break
            await asyncio.sleep(0.05)
        assert daemon.health.components["audit-forward"].status == "ok"
    assert any(" config.loaded [audit@32473 " in line for line in rsyslog.lines())
