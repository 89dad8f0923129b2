"""Who owns a Modbus line: one lock file per link in the daemon's state directory.

An RS485 line is master-driven and half-duplex: two masters on it garble each other's frames,
and a serial port can be opened by two processes at once without either noticing. So the
daemon's poller holds an exclusive ``flock`` on ``<state_dir>/modbus-<link>.lock`` for as
long as it polls a bus, and ``archroom sensor`` (commissioning one sensor) takes the same
lock and refuses to touch the line while someone else has it. The kernel drops the lock when
its holder exits, however it exits, so a crashed daemon never leaves a line locked. The file
is opened read-only (``flock`` needs no more) and sits directly in the state directory, so a
lock file left by ``root`` running the command still serves the daemon's own user.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from pathlib import Path
from types import TracebackType


class BusBusyError(RuntimeError):
    """Another process (the daemon's poller, another commissioning session) holds the line."""


def lock_path(state_dir: Path, url: str) -> Path:
    """The lock file for the link ``url``: the same path for everyone naming the same link."""
    slug = re.sub(r"[^A-Za-z0-9]+", "_", url).strip("_") or "link"
    return Path(state_dir) / f"modbus-{slug}.lock"


class BusLock:
    """An exclusive, non-blocking ``flock`` on a link's lock file."""

    def __init__(self, state_dir: Path, url: str) -> None:
        self.path = lock_path(state_dir, url)
        self.url = url
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise :class:`BusBusyError` (``OSError`` if the file cannot be
        created, e.g. a state directory this user may not write)."""
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise BusBusyError(
                f"{self.url} is in use by another process (the daemon polling it, or another "
                f"commissioning session): lock {self.path}"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> BusLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
