"""systemd's notify protocol: one datagram per state change on ``$NOTIFY_SOCKET``.

The protocol is stable and tiny (``READY=1``, ``WATCHDOG=1``, ``STOPPING=1``, ``STATUS=...``),
so it is written here rather than taken from an unmaintained package. Outside systemd the
variable is unset and every call does nothing.
"""

from __future__ import annotations

import os
import socket


class Notifier:
    def __init__(self, address: str | None = None) -> None:
        address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):  # abstract namespace
            address = "\0" + address[1:]
        self.address = address or None

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, *states: str) -> bool:
        if self.address is None:
            return False
        message = "\n".join(states).encode()
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            try:
                sock.sendto(message, self.address)
            except OSError:
                return False
        return True


def watchdog_interval() -> float | None:
    """Half the watchdog period systemd asked for, in seconds (None when not watched)."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return int(usec) / 2 / 1_000_000
    except ValueError:
        return None
