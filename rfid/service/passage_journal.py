"""Gate passages decided but not yet durable: a local journal between the alarm and the ledger.

A gate's decision is announced at once (the ``gate.passage`` event on MQTT, the door sounder)
and recorded afterwards (the ledger's transaction, or the spool while the database is down).
So that a passage announced is never a passage lost, the decision is appended here before it
is announced: one JSON line, written to the kernel before :meth:`PassageJournal.decided`
returns (no fsync in the alarm's path; the recorder fsyncs before it writes the record). When
the record is in the ledger or the spool, a ``done`` line follows. On start, decisions without
their ``done`` line are recorded again (docs/architecture.md, "gate decided, then killed").

The file is emptied whenever nothing is pending, so it stays a few lines long.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rfid.gate import Passage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Pending:
    """A decided passage and its journal number."""

    number: int
    passage: Passage


def _passage(data: dict[str, Any]) -> Passage:
    return Passage(
        str(data["epc"]),
        str(data["gate"]),
        data["direction"],
        float(data["at"]),
        float(data["decided_at"]),
    )


class PassageJournal:
    """Append-only lines ``{"n": 1, "passage": {...}}`` and ``{"done": 1}`` in one file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pending: dict[int, Passage] = {}
        self.unreadable = 0
        self._next = 1
        self._file: IO[str] | None = None

    def open(self) -> list[Pending]:
        """Read what a previous run left undone, and open the journal for appending."""
        left: dict[int, Passage] = {}
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            lines = []
        for line in lines:
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                if "done" in entry:
                    left.pop(int(entry["done"]), None)
                else:
                    left[int(entry["n"])] = _passage(entry["passage"])
            except (ValueError, KeyError, TypeError):
                # A line cut short by a crash mid-write: its passage was never announced.
                self.unreadable += 1
                log.warning("unreadable line in the passage journal %s skipped", self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._next = max(left, default=0) + 1
        self.pending = {}
        # Start from a file holding only what is pending (and no half-written last line).
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("", encoding="utf-8")
        self._file = tmp.open("a", encoding="utf-8")
        for n, passage in sorted(left.items()):
            self._decided(n, passage)
        self.sync()
        tmp.replace(self.path)
        return [Pending(n, p) for n, p in sorted(left.items())]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _write(self, entry: dict[str, Any]) -> None:
        if self._file is None:
            raise RuntimeError("the passage journal is not open")
        self._file.write(json.dumps(entry, separators=(",", ":")) + "\n")
        self._file.flush()

    def decided(self, passage: Passage) -> int:
        """Journal a decision (in the kernel, so it survives the process); its number."""
        n = self._next
        self._next += 1
        self._decided(n, passage)
        return n

    def _decided(self, n: int, passage: Passage) -> None:
        self._write(
            {
                "n": n,
                "passage": {
                    "epc": passage.epc,
                    "gate": passage.gate,
                    "direction": passage.direction,
                    "at": passage.at,
                    "decided_at": passage.decided_at,
                },
            }
        )
        self.pending[n] = passage

    def sync(self) -> None:
        """fsync the journal (blocking: call it from a thread)."""
        file = self._file
        if file is not None:
            os.fsync(file.fileno())

    def done(self, n: int) -> None:
        """The passage ``n`` is in the ledger or the spool."""
        if self.pending.pop(n, None) is None:
            return
        if self.pending:
            self._write({"done": n})
        elif self._file is not None:
            self._file.truncate(0)  # nothing pending: start the file afresh
