"""A copy of the room's audit trail on a central log server: RFC 5424 syslog over TLS.

MLPS level 3 wants audit records kept where the people they record cannot reach them; a
central syslog server run by another team is the usual answer. Each of this room's audit
entries is sent as one RFC 5424 message over TCP with TLS, framed by octet counting
(RFC 5425 §4.3: ``LEN SP MSG``), in the chain's order.

The store-and-forward queue is the audit table itself: it is on disk, append-only and ordered
by ``seq``, so nothing needs copying into a second queue. What is forwarded is remembered by a
cursor file in the state directory (the last ``seq`` the server has taken). While the server is
down entries simply wait in the table; on reconnect the forwarder resumes after the cursor.

Syslog over TLS has no acknowledgements: a message written just as the server goes away can be
lost in the socket. So the cursor moves past a batch only once the connection has been seen
alive after it (the server has not closed it by the next poll); after a break, the
unconfirmed batch is sent again. Delivery is therefore at least once: a server may see an
entry twice, and recognises the repeat by its ``seq`` (and ``hash``) in the structured data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from daemon.audit import AuditEntry, canonical_json
from daemon.config import AuditConfig
from daemon.health import ComponentStatus, Health
from daemon.store.db import Store
from daemon.store.schema import audit
from drivers.reconnect import Backoff

log = logging.getLogger(__name__)

FACILITY_LOG_AUDIT = 13
SEVERITY_INFO = 6
SEVERITY_WARNING = 4
SD_ID = "audit@32473"
"""Structured-data id: 32473 is the private enterprise number RFC 5612 reserves for examples;
a site with its own number may rewrite it at the server."""


@dataclass(frozen=True, slots=True)
class Target:
    host: str
    port: int

    @classmethod
    def parse(cls, url: str) -> Target:
        """``tls://host:port`` (port 6514, RFC 5425's, when omitted)."""
        rest = url.removeprefix("tls://")
        host, _, port = rest.partition(":")
        return cls(host, int(port) if port else 6514)


def _sd_value(value: str) -> str:
    """RFC 5424 §6.3.3: ``"``, ``\\`` and ``]`` are escaped inside a parameter value."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _printable(value: str, limit: int) -> str:
    """Header fields are printable US-ASCII without spaces (RFC 5424 §6)."""
    text = "".join(c if 33 <= ord(c) <= 126 else "_" for c in value)[:limit]
    return text or "-"


def syslog_message(entry: AuditEntry, *, hostname: str, app: str = "archroom") -> bytes:
    """One entry as an RFC 5424 message (without the framing)."""
    severity = SEVERITY_INFO if entry.outcome == "ok" else SEVERITY_WARNING
    pri = FACILITY_LOG_AUDIT * 8 + severity
    stamp = datetime.fromtimestamp(entry.at_us / 1_000_000, tz=UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ"
    )
    params = {
        "seq": str(entry.seq),
        "room": entry.room,
        "actor": entry.actor,
        "outcome": entry.outcome,
        "hash": entry.hash,
        "prev": entry.prev_hash,
    }
    sd = "[" + SD_ID + "".join(f' {k}="{_sd_value(v)}"' for k, v in params.items()) + "]"
    header = (
        f"<{pri}>1 {stamp} {_printable(hostname, 255)} {_printable(app, 48)}"
        f" {os.getpid()} {_printable(entry.action, 32)} {sd} "
    )
    body = canonical_json({"subject": entry.subject, "details": entry.details})
    return header.encode() + body.encode()


def frame(message: bytes) -> bytes:
    """RFC 5425 §4.3 octet-counting framing."""
    return str(len(message)).encode() + b" " + message


class Cursor:
    """The last forwarded ``seq``, in a small file replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> int:
        try:
            text = self.path.read_text().strip()
        except FileNotFoundError:
            return 0
        if not text.isdigit():
            log.error("%s is not a number; forwarding the audit trail from its start", self.path)
            return 0
        return int(text)

    def save(self, seq: int) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(f"{seq}\n")
        tmp.replace(self.path)


def tls_context(config: AuditConfig) -> ssl.SSLContext:
    context = ssl.create_default_context(
        cafile=str(config.ca_file) if config.ca_file is not None else None
    )
    if config.cert_file is not None:
        context.load_cert_chain(
            str(config.cert_file), str(config.key_file) if config.key_file else None
        )
    return context


class AuditForwarder:
    """Sends this room's audit entries after the cursor, in order, and keeps at it."""

    def __init__(
        self,
        store: Store,
        room: str,
        config: AuditConfig,
        cursor_path: Path,
        *,
        health: Health | None = None,
        poll_s: float = 1.0,
        batch: int = 500,
    ) -> None:
        if config.forward is None:
            raise ValueError("no [audit] forward target")
        self.store = store
        self.room = room
        self.target = Target.parse(config.forward)
        self.server_name = config.server_name or self.target.host
        self.context = tls_context(config)
        self.cursor = Cursor(cursor_path)
        self.health = health
        self.poll_s = poll_s
        self.batch = batch
        self.hostname = socket.gethostname()
        self.connected = False
        self.confirmed = 0
        """The last ``seq`` known to have reached the server (what the cursor file holds)."""

    async def run(self) -> None:
        self.confirmed = await asyncio.to_thread(self.cursor.load)
        backoff = Backoff(1.0, 60.0)
        while True:
            try:
                reader, writer = await asyncio.open_connection(
                    self.target.host,
                    self.target.port,
                    ssl=self.context,
                    server_hostname=self.server_name,
                )
            except (OSError, ssl.SSLError) as e:
                self._state("degraded", f"log server unreachable: {e}; entries wait in the store")
                backoff.failed(log, "audit forwarding to %s: %s", self.target, e)
                await asyncio.sleep(backoff.next_delay())
                continue
            backoff.recovered(log, "audit forwarding to %s resumed", self.target)
            self.connected = True
            self._state("ok", f"forwarding to {self.target.host}:{self.target.port}")
            try:
                await self._send(reader, writer)
            except (OSError, ssl.SSLError, ConnectionError) as e:
                log.warning("audit forwarding to %s broke: %s; will resend", self.target, e)
            finally:
                self.connected = False
                writer.close()
                with contextlib.suppress(OSError, ssl.SSLError, ConnectionError):
                    await writer.wait_closed()

    async def _send(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sent = self.confirmed
        while True:
            if reader.at_eof():
                raise ConnectionError("the log server closed the connection")
            if sent > self.confirmed:
                # the connection outlived the last batch: the server has it
                await asyncio.to_thread(self.cursor.save, sent)
                self.confirmed = sent
            entries = await self._after(sent)
            if not entries:
                await asyncio.sleep(self.poll_s)
                continue
            writer.write(
                b"".join(frame(syslog_message(e, hostname=self.hostname)) for e in entries)
            )
            await writer.drain()
            sent = entries[-1].seq
            await asyncio.sleep(self.poll_s)

    async def _after(self, seq: int) -> list[AuditEntry]:
        async with self.store.read() as conn:
            rows = (
                await conn.execute(
                    select(audit)
                    .where(audit.c.seq > seq, audit.c.room == self.room)
                    .order_by(audit.c.seq)
                    .limit(self.batch)
                )
            ).all()
        return [AuditEntry(**r._asdict()) for r in rows]

    def _state(self, status: ComponentStatus, detail: str) -> None:
        if self.health is not None:
            self.health.set("audit-forward", status, detail)
