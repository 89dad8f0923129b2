"""``archroom replay-gate``: the gate engine run over a recorded capture, to tune a gate on site.

Every door is different (frame, floor, metal, how people walk through), so the gate
parameters are tuned on recordings made at the door itself: ``archroom capture READER`` writes
one, and ``archroom replay-gate FILE.csv --inside-antenna N --outside-antenna M [--param ...]``
prints the passages the engine finds in it, one JSON line each, ``{"epc", "direction", "at"}``,
ordered by time (``at`` is the crossing estimate, ISO 8601 UTC). With ``--labels FILE`` (what
was walked, ``epc,label`` per line) it prints the scorecard instead (``rfid.scorecard``).
``--rssi-unit`` says what the rssi column holds (``rfid.rssi``). Change a parameter, replay,
compare with what was walked; then put the values in the gate's table of the configuration;
``archroom gate tune`` (``rfid.tune``) searches them for you.

The file is CSV with the header ``epc,timestamp,antenna,rssi`` (columns in any order, ``rssi``
optional): a timestamp is ISO 8601 (a time without offset is taken as UTC) or epoch seconds,
an RSSI is in any unit where larger is stronger, or empty. Recordings come from other tools
too, so a bad row is reported with its line number and the replay stops with exit status 2,
never with a traceback.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn, TextIO

from pydantic import ValidationError

from drivers.tagread import TagRead
from rfid.config import GateParams
from rfid.gate import GateEngine, Passage
from rfid.rssi import RSSI_UNITS
from rfid.scorecard import LabelError, read_labels, score

CAPTURE_READER = "capture"
"""Reader id given to the reads of a capture file (the file does not name its reader)."""

_REQUIRED = ("epc", "timestamp", "antenna")
_COLUMNS = (*_REQUIRED, "rssi")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_EPOCH = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


class ReplayError(Exception):
    """The capture cannot be replayed; the message says where and why."""


def parse_timestamp(text: str) -> float:
    """Seconds since the epoch from epoch seconds or ISO 8601 (no offset: UTC)."""
    text = text.strip()
    if _EPOCH.fullmatch(text):
        t = float(text)
        if not math.isfinite(t):
            raise ValueError(f"timestamp {text!r} is out of range")
        return t
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"timestamp {text!r} is neither ISO 8601 nor epoch seconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _parse_row(fields: dict[str, str]) -> TagRead:
    epc = fields["epc"].strip()
    if not _HEX.fullmatch(epc):
        raise ValueError(f"EPC {epc!r} is not hexadecimal")
    t = parse_timestamp(fields["timestamp"])
    antenna_text = fields["antenna"].strip()
    try:
        antenna = int(antenna_text)
    except ValueError:
        raise ValueError(f"antenna {antenna_text!r} is not a whole number") from None
    if antenna < 0:
        raise ValueError(f"antenna {antenna} is negative")
    rssi_text = fields.get("rssi", "").strip()
    rssi: float | None = None
    if rssi_text:
        try:
            rssi = float(rssi_text)
        except ValueError:
            raise ValueError(f"rssi {rssi_text!r} is not a number") from None
        if not math.isfinite(rssi):
            raise ValueError(f"rssi {rssi_text!r} is not a finite number")
    return TagRead(CAPTURE_READER, antenna, epc.upper(), rssi, t)


def parse_capture(stream: Iterable[str], name: str = "<capture>") -> list[TagRead]:
    """The reads of a capture, in file order; ReplayError (``name:line: why``) on a bad file."""
    rows = csv.reader(stream)
    line = 0
    try:
        header = next(rows, None)
        line = rows.line_num
        if header is None:
            raise ReplayError(f"{name}: empty file (expected the header {','.join(_COLUMNS)})")
        columns = [c.strip().lower() for c in header]
        unknown = [c for c in columns if c not in _COLUMNS]
        missing = [c for c in _REQUIRED if c not in columns]
        if unknown or missing or len(set(columns)) != len(columns):
            problem = (
                f"unknown column {unknown[0]!r}"
                if unknown
                else f"missing column {missing[0]!r}"
                if missing
                else "a column appears twice"
            )
            raise ReplayError(
                f"{name}:{line}: {problem} (the header is {','.join(_COLUMNS)}; rssi optional)"
            )
        reads: list[TagRead] = []
        for row in rows:
            line = rows.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            if len(row) != len(columns):
                raise ReplayError(
                    f"{name}:{line}: expected {len(columns)} fields, found {len(row)}"
                )
            try:
                reads.append(_parse_row(dict(zip(columns, row, strict=True))))
            except ValueError as e:
                raise ReplayError(f"{name}:{line}: {e}") from None
    except csv.Error as e:
        raise ReplayError(f"{name}:{rows.line_num}: {e}") from None
    except UnicodeDecodeError:
        raise ReplayError(f"{name}:{line + 1}: not UTF-8 text") from None
    return reads


def read_capture(path: str | Path) -> list[TagRead]:
    """The reads of a capture file; ReplayError if it cannot be read or parsed."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            return parse_capture(f, str(path))
    except OSError as e:
        raise ReplayError(f"{path}: cannot read: {e.strerror}") from None


def replay_gate(
    reads: Iterable[TagRead],
    inside_antenna: int,
    outside_antenna: int,
    params: GateParams | None = None,
    gate_id: str = "gate",
    *,
    rssi_unit: str = "dbm",
) -> list[Passage]:
    """Run the gate engine over reads as the daemon would (ticking as time passes between
    reads, and once more after the last); the passages ordered by crossing time."""
    engine = GateEngine(gate_id, inside_antenna, outside_antenna, params, rssi_unit=rssi_unit)
    ordered = sorted(reads, key=lambda r: r.t)
    passages: list[Passage] = []
    for read in ordered:
        passages.extend(engine.tick(read.t))
        passages.extend(engine.observe(read))
    if ordered:
        passages.extend(engine.tick(ordered[-1].t + engine.params.exit_silence_s))
    passages.sort(key=lambda p: (p.at, p.epc))
    return passages


def format_time(t: float) -> str:
    """ISO 8601 UTC to the millisecond, as the records show time."""
    return (
        datetime.fromtimestamp(t, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def passage_json(passage: Passage) -> str:
    return json.dumps(
        {"epc": passage.epc, "direction": passage.direction, "at": format_time(passage.at)}
    )


class _ParserExitError(Exception):
    def __init__(self, status: int, message: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Parser(argparse.ArgumentParser):
    """argparse that reports instead of exiting, so ``main`` returns its status."""

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise _ParserExitError(status, message)

    def error(self, message: str) -> NoReturn:
        raise _ParserExitError(2, f"{self.format_usage()}{self.prog}: error: {message}\n")

    def arguments(self, argv: Sequence[str], out: TextIO, err: TextIO) -> argparse.Namespace | int:
        """The parsed arguments, or the exit status once the help (on ``out``) or the error (on
        ``err``) is written."""
        if "-h" in argv or "--help" in argv:
            out.write(self.format_help())
            return 0
        try:
            return self.parse_args(list(argv))
        except _ParserExitError as stop:
            if stop.message:
                err.write(stop.message)
            return stop.status


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def build_parser(prog: str = "archroom replay-gate") -> _Parser:
    parser = _Parser(
        prog=prog,
        add_help=False,
        description="Run the gate engine over a capture (CSV epc,timestamp,antenna,rssi) and "
        'print one JSON line per passage: {"epc", "direction", "at"}.',
    )
    parser.add_argument("-h", "--help", action="store_true", help="show this help and exit")
    parser.add_argument("file", help="capture CSV, as written by archroom capture")
    parser.add_argument("--inside-antenna", type=int, required=True, metavar="N")
    parser.add_argument("--outside-antenna", type=int, required=True, metavar="M")
    parser.add_argument("--gate", default="gate", help="gate id (default: gate)")
    parser.add_argument(
        "--rssi-unit",
        choices=RSSI_UNITS,
        default="dbm",
        help="unit of the rssi column: dbm, linear (a magnitude, e.g. 500-4000) or raw "
        "(a 0-255 byte); default dbm",
    )
    parser.add_argument(
        "--labels",
        metavar="FILE",
        default=None,
        help="epc,label per line (in, out, or a non-crossing such as turn_back): print the "
        "scorecard instead of the passages",
    )
    tuning = parser.add_argument_group("gate parameters (default: the configuration's default)")
    for name, field in GateParams.model_fields.items():
        kind = int if field.annotation is int else float
        tuning.add_argument(
            _option(name),
            dest=name,
            type=kind,
            default=None,
            metavar=kind.__name__.upper(),
            help=f"{field.description} (default {field.default})",
        )
    return parser


def _params(args: argparse.Namespace) -> GateParams:
    if args.inside_antenna == args.outside_antenna:
        raise ReplayError("--inside-antenna and --outside-antenna must differ")
    given = {
        name: getattr(args, name)
        for name in GateParams.model_fields
        if getattr(args, name) is not None
    }
    try:
        return GateParams(**given)
    except ValidationError as e:
        problems = "; ".join(
            f"{_option(str(err['loc'][0]))}: {err['msg']}" for err in e.errors(include_url=False)
        )
        raise ReplayError(problems) from None


def main(argv: Sequence[str], *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """``archroom replay-gate``; returns the exit status (0 done, 2 bad arguments or file)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = build_parser().arguments(argv, out, err)
    if isinstance(args, int):
        return args
    try:
        params = _params(args)
        reads = read_capture(args.file)
        labels = read_labels(args.labels) if args.labels else None
    except (ReplayError, LabelError) as e:
        err.write(f"archroom replay-gate: {e}\n")
        return 2
    passages = replay_gate(
        reads,
        args.inside_antenna,
        args.outside_antenna,
        params,
        args.gate,
        rssi_unit=args.rssi_unit,
    )
    if labels is None:
        for passage in passages:
            out.write(passage_json(passage) + "\n")
    else:
        seen = {r.epc for r in reads}
        unseen = sorted(epc for epc in labels if epc not in seen)
        if unseen:
            err.write(f"warning: {len(unseen)} labelled tags have no read: {', '.join(unseen)}\n")
        out.write(score(labels, passages).format())
    err.write(_summary(reads, passages, args.inside_antenna, args.outside_antenna))
    return 0


def _summary(
    reads: Sequence[TagRead], passages: Sequence[Passage], inside: int, outside: int
) -> str:
    antennas = sorted({r.antenna for r in reads})
    lines = []
    for label, antenna in (("inside", inside), ("outside", outside)):
        if antenna not in antennas:
            found = ", ".join(map(str, antennas)) or "none"
            lines.append(f"warning: no read on the {label} antenna {antenna} (antennas: {found})")
    span = max(r.t for r in reads) - min(r.t for r in reads) if reads else 0.0
    tags = len({r.epc for r in reads})
    lines.append(f"{len(reads)} reads of {tags} tags over {span:.1f} s: {len(passages)} passages")
    return "".join(f"{line}\n" for line in lines)
