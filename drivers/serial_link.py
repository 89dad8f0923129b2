"""Opening a byte link to a serial device as an asyncio stream pair.

Serial readers reach the host three ways, and the protocol above does not care which:
a local port (``serial:///dev/ttyUSB0``, RS232/RS485 or USB-serial), a bare device path (a pty
in tests and simulations), or a serial device server that bridges the RS485 bus to raw TCP
(``socket://host:port``, as Moxa/USR converters do). ``pyserial-asyncio-fast`` drives local
ports without a thread per port (pyserial-asyncio is abandoned; docs/design.md §4.1, §8).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Literal

import serial
import serial_asyncio_fast

from drivers.links import Link

Parity = Literal["N", "E", "O"]


async def open_link(
    link: Link,
    *,
    baudrate: int = 57600,
    bytesize: int = 8,
    parity: Parity = "N",
    stopbits: int = 1,
    timeout_s: float = 5.0,
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Open ``link``; raise ``OSError`` (``TimeoutError`` included) when it cannot be opened.

    Serial settings apply to ``serial`` links only (default 57600 8N1)."""
    async with asyncio.timeout(timeout_s):
        if link.scheme == "serial":
            try:
                reader, writer = await serial_asyncio_fast.open_serial_connection(
                    url=link.path,
                    baudrate=baudrate,
                    bytesize=bytesize,
                    parity=parity,
                    stopbits=stopbits,
                )
            except serial.SerialException as exc:
                raise OSError(f"cannot open {link.path}: {exc}") from exc
            return reader, writer
        return await asyncio.open_connection(link.host, link.port)


async def close_link(writer: asyncio.StreamWriter, *, timeout_s: float = 2.0) -> None:
    """Close a link opened by :func:`open_link` without waiting to flush unsent bytes (a dead
    device would never take them) and wait, bounded, until the transport has let go."""
    writer.transport.abort()
    with contextlib.suppress(OSError):  # TimeoutError and SerialException are OSErrors
        async with asyncio.timeout(timeout_s):
            await writer.wait_closed()
