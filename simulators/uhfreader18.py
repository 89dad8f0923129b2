"""A UHFReader18 / CF-RU5102 (or multi-antenna UHFReader288) reader that speaks the real wire
protocol on a pty or a TCP port, for tests, demos and `archroom simulate uhfreader18`.

:class:`SimulatedReader` is the reader itself, a pure object: a tag population per antenna
that a test can change while it runs (place, move, remove), and the answer to each command,
built with the same codec as the driver (:mod:`drivers.uhfreader18`). Each tag answers an
inventory round with its read probability and, in the 288 dialect, an RSSI drawn around its
mean. Write EPC behaves as a desk encoder should: exactly one tag in the field gets the new
EPC; no tag answers 0xFB, several tags 0xFA (a real reader would write one of them at random,
which a commissioning desk must never rely on). A UHFReader18 (firmware V2.36) also answers a
TID inventory (``AdrTID LenTID``, manual V2.0 §8.2.1) with the tags' TIDs in place of EPCs.

The reader's receiving side follows the manual (V2.0 §2, §8.1), not the host's resynchronising
decoder: the first byte of a frame is its length; a frame that has all its bytes but a wrong
CRC (or an impossible length) is answered ``05 Adr 00 FE``; a frame that stays incomplete for
15 ms is dropped without an answer, so a stray byte costs at most one command.

:class:`Uhfreader18Simulator` puts the reader on a link and injects the faults a real line
shows: garbage bytes, truncated frames, bad CRCs, silence, and disconnects (closing the TCP
clients, or hanging up the pty as an unplugged USB adapter does; with a stable link path the
pty comes back under the same name, like a udev symlink).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import logging
import os
import random
import signal
import tty
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import Field, ValidationError

from drivers.models import StrictModel
from drivers.uhfreader18 import (
    BROADCAST,
    CMD_INVENTORY,
    CMD_READER_INFO,
    CMD_WRITE_EPC,
    MIN_COMMAND_LEN,
    READER_TYPE_UHFREADER18,
    READER_TYPE_UHFREADER288M,
    STATUS_ANTENNA_ERROR,
    STATUS_ILLEGAL_COMMAND,
    STATUS_INVENTORY_DONE,
    STATUS_LENGTH_WRONG,
    STATUS_NO_TAG,
    STATUS_PARAMETER_ERROR,
    STATUS_POOR_COMMUNICATION,
    STATUS_SCAN_TIME_OVER,
    STATUS_SUCCESS,
    Command,
    FrameError,
    ReaderInfo,
    Variant,
    crc16,
    encode_inventory_frames,
    encode_reader_info,
    encode_response,
    epc_bytes,
    parse_inventory_command,
    parse_tid_inventory,
    parse_write_epc_command,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SimTag:
    """A tag in a reader's field. ``rssi`` is the mean on the reader's 0-255 scale (288
    dialect only), ``noise`` its standard deviation."""

    epc: str
    read_probability: float = 1.0
    rssi: float = 100.0
    noise: float = 2.0
    tid: str = ""
    """TID memory, hex; empty: a 96-bit TID derived from the first EPC (class E2, a made-up
    model). The TID is factory-programmed: Write EPC keeps it."""

    def __post_init__(self) -> None:
        epc_bytes(self.epc)
        if not 0.0 <= self.read_probability <= 1.0:
            raise ValueError(f"read probability must be 0..1, got {self.read_probability}")
        object.__setattr__(self, "epc", self.epc.upper())
        tid = self.tid or "E2801190" + hashlib.sha256(bytes.fromhex(self.epc)).hexdigest()[:16]
        epc_bytes(tid)
        object.__setattr__(self, "tid", tid.upper())


class SimulatedReader:
    """The reader's state and its answer to each command (no I/O)."""

    def __init__(
        self,
        variant: Variant = Variant.UHFREADER18,
        *,
        address: int = 0,
        antennas: int | None = None,
        scan_time_s: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        count = antennas if antennas is not None else (1 if variant is Variant.UHFREADER18 else 4)
        if variant is Variant.UHFREADER18 and count != 1:
            raise ValueError("a UHFReader18 has one antenna")
        if not 1 <= count <= 8:
            raise ValueError("antennas must be 1..8")
        self.variant = variant
        self.address = address
        self.antenna_count = count
        self.scan_time_s = scan_time_s
        self.rng = rng or random.Random()
        self.write_antenna = 1
        """Where Write EPC acts: the antenna of the last inventory (288), else 1."""
        self.cut_rounds_short = False
        """While True, rounds end with status 0x02 (scan time over) as in a crowded field."""
        self._fields: dict[int, dict[str, SimTag]] = {a: {} for a in range(1, count + 1)}
        self.commands = 0

    # --- the population -----------------------------------------------------------------

    def _field(self, antenna: int) -> dict[str, SimTag]:
        try:
            return self._fields[antenna]
        except KeyError:
            raise ValueError(f"no antenna {antenna} (1..{self.antenna_count})") from None

    def place(self, antenna: int, tag: SimTag | str) -> SimTag:
        """Put ``tag`` in the field of ``antenna`` (taking it out of any other field)."""
        tag = SimTag(tag) if isinstance(tag, str) else tag
        field = self._field(antenna)
        self.remove(tag.epc)
        field[tag.epc] = tag
        return tag

    def move(self, epc: str, antenna: int) -> None:
        tag = self.find(epc)
        if tag is None:
            raise KeyError(epc)
        self.place(antenna, tag)

    def remove(self, epc: str) -> bool:
        epc = epc.upper()
        return any(field.pop(epc, None) is not None for field in self._fields.values())

    def clear(self, antenna: int | None = None) -> None:
        for a, field in self._fields.items():
            if antenna is None or a == antenna:
                field.clear()

    def find(self, epc: str) -> SimTag | None:
        epc = epc.upper()
        for field in self._fields.values():
            if epc in field:
                return field[epc]
        return None

    def tags(self, antenna: int) -> list[SimTag]:
        return list(self._field(antenna).values())

    def info(self) -> ReaderInfo:
        uhf18 = self.variant is Variant.UHFREADER18
        mask = None if uhf18 else (1 << self.antenna_count) - 1
        return ReaderInfo(
            address=self.address,
            version=(2, 36),
            reader_type=READER_TYPE_UHFREADER18 if uhf18 else READER_TYPE_UHFREADER288M,
            supports_6b=True,
            supports_6c=True,
            band=1,
            max_channel=19,
            min_channel=0,
            power_dbm=30,
            scan_time_s=self.scan_time_s,
            antenna_mask=mask,
            beep_enabled=None if uhf18 else False,
            output_rep=None if uhf18 else 0,
            check_antenna=None if uhf18 else False,
        )

    # --- commands -----------------------------------------------------------------------

    def handle(self, command: Command) -> list[bytes]:
        """The frames the reader sends back; none when the command is for another address."""
        if command.address not in (self.address, BROADCAST):
            return []
        self.commands += 1
        code = command.command
        if code == CMD_INVENTORY:
            return self._inventory(command.data)
        if code == CMD_READER_INFO:
            if command.data:
                return [self._status(code, STATUS_LENGTH_WRONG)]
            return [encode_reader_info(self.info())]
        if code == CMD_WRITE_EPC:
            return [self._write_epc(command.data)]
        return [self.illegal()]

    def illegal(self) -> bytes:
        """``05 Adr 00 FE``: the answer to an unknown command or a CRC error (§8.1)."""
        return encode_response(self.address, 0x00, STATUS_ILLEGAL_COMMAND)

    def hears(self, frame: bytes) -> bool:
        """Whether a frame with a bad CRC is taken as meant for this reader: its address byte
        is ours or broadcast, or too little arrived to tell (§8.1: a reader does not answer
        a command for another address)."""
        return len(frame) < 2 or frame[1] in (self.address, BROADCAST)

    def _status(self, code: int, status: int) -> bytes:
        return encode_response(self.address, code, status)

    def _inventory(self, data: bytes) -> list[bytes]:
        if self.variant is Variant.UHFREADER18 and data:
            return self._tid_inventory(data)
        try:
            antenna, _scan = parse_inventory_command(self.variant, data)
        except FrameError:
            return [self._status(CMD_INVENTORY, STATUS_PARAMETER_ERROR)]
        if antenna > self.antenna_count:
            return [self._status(CMD_INVENTORY, STATUS_ANTENNA_ERROR)]
        self.write_antenna = antenna
        rng = self.rng
        seen = [
            (bytes.fromhex(tag.epc), max(0, min(0xFF, round(rng.gauss(tag.rssi, tag.noise)))))
            for tag in self._fields[antenna].values()
            if tag.read_probability >= 1.0 or rng.random() < tag.read_probability
        ]
        final = STATUS_SCAN_TIME_OVER if self.cut_rounds_short else STATUS_INVENTORY_DONE
        return encode_inventory_frames(
            self.address, self.variant, antenna, seen, final_status=final
        )

    def _tid_inventory(self, data: bytes) -> list[bytes]:
        """TID inventory (§8.2.1, firmware V2.36+): each tag's TID words from ``AdrTID``; a tag
        whose TID is shorter than asked does not answer (its read fails)."""
        try:
            request = parse_tid_inventory(data)
        except FrameError:
            return [self._status(CMD_INVENTORY, STATUS_LENGTH_WRONG)]
        except ValueError:
            return [self._status(CMD_INVENTORY, STATUS_PARAMETER_ERROR)]
        assert request is not None
        start, words = request
        self.write_antenna = 1
        rng = self.rng
        seen = [
            (tid[2 * start : 2 * (start + words)], 0)
            for tag in self._fields[1].values()
            if (tid := bytes.fromhex(tag.tid)) and len(tid) >= 2 * (start + words)
            if tag.read_probability >= 1.0 or rng.random() < tag.read_probability
        ]
        final = STATUS_SCAN_TIME_OVER if self.cut_rounds_short else STATUS_INVENTORY_DONE
        return encode_inventory_frames(self.address, self.variant, 1, seen, final_status=final)

    def _write_epc(self, data: bytes) -> bytes:
        try:
            raw, _password = parse_write_epc_command(data)
        except FrameError:
            return self._status(CMD_WRITE_EPC, STATUS_PARAMETER_ERROR)
        field = self._fields[self.write_antenna]
        present = [tag for tag in field.values() if tag.read_probability > 0.0]
        if not present:
            return self._status(CMD_WRITE_EPC, STATUS_NO_TAG)
        if len(present) > 1:
            return self._status(CMD_WRITE_EPC, STATUS_POOR_COMMUNICATION)
        (old,) = present
        new = replace(old, epc=raw.hex().upper(), tid=old.tid)
        self.remove(old.epc)
        self.remove(new.epc)
        field[new.epc] = new
        return self._status(CMD_WRITE_EPC, STATUS_SUCCESS)


# --- the reader's receiving side ----------------------------------------------------------

FRAME_GAP_S = 0.015
"""Silence after which the reader drops a partial frame (manual V2.0 §2)."""


@dataclass(frozen=True, slots=True)
class BadFrame:
    """A frame with all the bytes its length byte announced, whose CRC does not check."""

    raw: bytes


class CommandReceiver:
    """How the reader cuts its input into frames (manual V2.0 §2, §8.1), without timing.

    The length byte is believed: a frame is complete when ``Len + 1`` bytes have arrived.
    A complete frame with a good CRC is a :class:`Command`; with a bad CRC (or a length below
    4, which cannot hold an address, a command and a CRC) a :class:`BadFrame`. Bytes of a
    frame that never completes stay until :meth:`drop_partial`, which the link calls after
    :data:`FRAME_GAP_S` of silence.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Command | BadFrame]:
        self._buffer += data
        out: list[Command | BadFrame] = []
        buffer = self._buffer
        while buffer and len(buffer) >= buffer[0] + 1:
            size = buffer[0] + 1
            frame = bytes(buffer[:size])
            del buffer[:size]
            if frame[0] < MIN_COMMAND_LEN or crc16(frame):
                out.append(BadFrame(frame))
            else:
                out.append(Command(frame[1], frame[2], frame[3:-2]))
        return out

    def drop_partial(self) -> int:
        """Forget an incomplete frame; return how many bytes it had."""
        dropped = len(self._buffer)
        self._buffer.clear()
        return dropped


# --- on a link, with faults ---------------------------------------------------------------


@dataclass(slots=True)
class SimulatorStats:
    connections: int = 0
    commands: int = 0
    responses: int = 0
    unanswered: int = 0
    ignored_while_busy: int = 0
    dropped_bytes: int = 0
    bad_frames: int = 0
    """Complete frames with a bad CRC, answered 00 FE."""
    partial_frames_dropped: int = 0
    """Incomplete frames dropped after 15 ms of silence."""


class Uhfreader18Simulator:
    """Serves a :class:`SimulatedReader` on TCP (``start_tcp``) and/or a pty (``start_pty``)."""

    def __init__(
        self,
        reader: SimulatedReader | None = None,
        *,
        round_time_s: float = 0.002,
        frame_gap_s: float = FRAME_GAP_S,
    ):
        self.reader = reader or SimulatedReader()
        self.round_time_s = round_time_s
        """How long an inventory round takes before the answer goes out."""
        self.frame_gap_s = frame_gap_s
        """Silence after which a partial command is dropped (the manual's 15 ms)."""
        self.silent = False
        """While True, commands are read and never answered."""
        self.stats = SimulatorStats()
        self._garbage: list[bytes] = []
        self._truncate = 0
        self._corrupt = 0
        self._server: asyncio.Server | None = None
        self._port = 0
        self._host = ""
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._pty: _Pty | None = None
        self._pty_link: Path | None = None

    # --- faults -------------------------------------------------------------------------

    def inject_garbage(self, data: bytes, count: int = 1) -> None:
        """Send ``data`` ahead of each of the next ``count`` answers."""
        self._garbage.extend([data] * count)

    def truncate_next(self, count: int = 1) -> None:
        """Cut each of the next ``count`` answers after half of its first frame."""
        self._truncate += count

    def corrupt_next(self, count: int = 1) -> None:
        """Spoil the CRC of the first frame of each of the next ``count`` answers."""
        self._corrupt += count

    def _with_faults(self, frames: list[bytes]) -> bytes:
        first = frames[0]
        prefix = self._garbage.pop(0) if self._garbage else b""
        if self._corrupt:
            self._corrupt -= 1
            first = first[:-1] + bytes((first[-1] ^ 0xFF,))
        if self._truncate:
            self._truncate -= 1
            return prefix + first[: max(1, len(first) // 2)]
        return prefix + first + b"".join(frames[1:])

    # --- transports ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Where a client connects: ``socket://host:port`` or the pty path."""
        if self._server is not None:
            return f"socket://{self._host}:{self._port}"
        if self._pty is not None:
            return str(self._pty_link or self._pty.path)
        raise RuntimeError("simulator not started")

    @property
    def port(self) -> int:
        return self._port

    @property
    def tcp_clients(self) -> int:
        """TCP clients connected right now."""
        return len(self._writers)

    @property
    def pty_path(self) -> str:
        """The path to open for the pty: the stable link if one was given, else the slave."""
        if self._pty is None:
            raise RuntimeError("no pty")
        return str(self._pty_link or self._pty.path)

    async def start_tcp(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on ``host:port`` (0: a free port); return the port."""
        self._server = await asyncio.start_server(self._on_client, host, port)
        self._host = host
        self._port = self._server.sockets[0].getsockname()[1]
        return self._port

    async def start_pty(self, link: str | os.PathLike[str] | None = None) -> str:
        """Open a pty; with ``link``, keep a symlink to it there that survives hang-ups."""
        self._pty_link = Path(link) if link is not None else None
        self._open_pty()
        return self.pty_path

    def _open_pty(self) -> None:
        pty = _Pty(self._count_dropped)
        self._pty = pty
        if self._pty_link is not None:
            tmp = self._pty_link.with_name(self._pty_link.name + ".new")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(pty.path)
            tmp.replace(self._pty_link)
        self._spawn(self._serve(pty.stream, pty.write), f"uhfreader18-sim pty {pty.path}")

    def _count_dropped(self, n: int) -> None:
        self.stats.dropped_bytes += n

    def _spawn(self, coro: Coroutine[object, object, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._writers.add(writer)
        try:
            await self._serve(reader, writer.write)
        except OSError:
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()

    async def _serve(self, stream: asyncio.StreamReader, write: Callable[[bytes], None]) -> None:
        self.stats.connections += 1
        receiver = CommandReceiver()
        busy: asyncio.Task[None] | None = None
        try:
            while True:
                if receiver.pending:
                    try:
                        async with asyncio.timeout(self.frame_gap_s):
                            data = await stream.read(4096)
                    except TimeoutError:
                        receiver.drop_partial()
                        self.stats.partial_frames_dropped += 1
                        continue
                else:
                    data = await stream.read(4096)
                if not data:
                    return
                for frame in receiver.feed(data):
                    if busy is not None and not busy.done():
                        self.stats.ignored_while_busy += 1  # as the real reader does
                        continue
                    if isinstance(frame, BadFrame):
                        self.stats.bad_frames += 1
                        if self.reader.hears(frame.raw) and not self.silent:
                            write(self.reader.illegal())
                            self.stats.responses += 1
                        continue
                    self.stats.commands += 1
                    busy = asyncio.create_task(
                        self._execute(frame, write), name="uhfreader18-sim command"
                    )
        finally:
            if busy is not None and not busy.done():
                busy.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await busy

    async def _execute(self, command: Command, write: Callable[[bytes], None]) -> None:
        if self.silent:
            self.stats.unanswered += 1
            return
        frames = self.reader.handle(command)
        if not frames:
            return
        if command.command == CMD_INVENTORY and self.round_time_s > 0:
            await asyncio.sleep(self.round_time_s)
        write(self._with_faults(frames))
        self.stats.responses += 1

    async def disconnect(self) -> None:
        """Drop every TCP client and hang up the pty (which comes back at its link path)."""
        for writer in list(self._writers):
            writer.transport.abort()
        if self._pty is not None:
            await self._hang_up()
            if self._pty_link is not None:
                self._open_pty()
        await asyncio.sleep(0)

    async def _hang_up(self) -> None:
        pty, self._pty = self._pty, None
        if pty is not None:
            pty.close()
        await self._settle()

    async def _settle(self) -> None:
        current = asyncio.current_task()
        pending = [t for t in self._tasks if t is not current and not t.done()]
        if pending:
            _done, still = await asyncio.wait(pending, timeout=1.0)
            for task in still:
                task.cancel()
            if still:
                await asyncio.wait(still)

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._hang_up()  # also waits for every connection task to finish
        if server is not None:
            await server.wait_closed()
        if self._pty_link is not None:
            with contextlib.suppress(FileNotFoundError):
                self._pty_link.unlink()

    async def __aenter__(self) -> Uhfreader18Simulator:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class _Pty:
    """The reader's end of a pseudo-terminal: the host opens ``path`` as its serial port."""

    def __init__(self, on_dropped: Callable[[int], None]) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo or line editing, whoever opens the slave
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        self.stream = asyncio.StreamReader()
        self._on_dropped = on_dropped
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self._master, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self._master, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            self.stream.feed_data(data)

    def write(self, data: bytes) -> None:
        """Like a UART: what the host's buffer cannot take is lost (and counted)."""
        try:
            sent = os.write(self._master, data)
        except (BlockingIOError, OSError):
            sent = 0
        if sent < len(data):
            self._on_dropped(len(data) - sent)

    def close(self) -> None:
        self._loop.remove_reader(self._master)
        os.close(self._master)
        os.close(self._slave)
        self.stream.feed_eof()


# --- command line -------------------------------------------------------------------------


class _TagSpec(StrictModel):
    epc: str
    read_probability: float = Field(default=1.0, ge=0.0, le=1.0)
    rssi: float = 100.0
    noise: float = Field(default=2.0, ge=0.0)


class _PopulationFile(StrictModel):
    antennas: dict[int, list[_TagSpec]]


def load_population(path: str | os.PathLike[str]) -> dict[int, list[SimTag]]:
    """Read ``{"antennas": {"1": [{"epc": "...", "read_probability": 0.9, ...}]}}``."""
    try:
        parsed = _PopulationFile.model_validate(json.loads(Path(path).read_text()))
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
    return {
        antenna: [SimTag(**spec.model_dump()) for spec in specs]
        for antenna, specs in parsed.antennas.items()
    }


def _parse_tag_option(text: str) -> tuple[int, SimTag]:
    parts = text.split(":")
    if not 2 <= len(parts) <= 4:
        raise ValueError(f"--tag wants ANTENNA:EPC[:PROBABILITY[:RSSI]], got {text!r}")
    antenna = int(parts[0])
    tag = SimTag(
        parts[1],
        read_probability=float(parts[2]) if len(parts) > 2 else 1.0,
        rssi=float(parts[3]) if len(parts) > 3 else 100.0,
    )
    return antenna, tag


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="archroom simulate uhfreader18",
        description="A UHFReader18 / UHFReader288 reader on a TCP port or a pty.",
        epilog=(
            'Tag population file: {"antennas": {"1": [{"epc": "E280...", '
            '"read_probability": 0.9, "rssi": 100, "noise": 2}]}}'
        ),
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", type=int, help="listen on this TCP port (0: any free port)")
    where.add_argument("--pty", action="store_true", help="open a pty and print its path")
    parser.add_argument("--host", default="127.0.0.1", help="TCP address to listen on")
    parser.add_argument("--link", help="with --pty: keep a symlink to the pty at this path")
    parser.add_argument(
        "--variant", choices=[v.value for v in Variant], default=Variant.UHFREADER18.value
    )
    parser.add_argument("--address", type=int, default=0, help="reader address 0..254")
    parser.add_argument("--antennas", type=int, help="antenna ports (288 dialect, default 4)")
    parser.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="ANT:EPC[:P[:RSSI]]",
        help="a tag in the field of an antenna (repeatable)",
    )
    parser.add_argument("--tags", metavar="FILE.json", help="tag population file")
    parser.add_argument(
        "--random-tags", type=int, default=0, metavar="N", help="N random 96-bit tags per antenna"
    )
    parser.add_argument("--seed", type=int, help="random seed (reads, RSSI, random tags)")
    parser.add_argument("--round-time", type=float, default=0.05, help="inventory round, s")
    return parser


def make_reader(args: argparse.Namespace) -> SimulatedReader:
    """The reader and population described by parsed command-line options."""
    rng = random.Random(args.seed)
    reader = SimulatedReader(
        Variant(args.variant), address=args.address, antennas=args.antennas, rng=rng
    )
    if args.tags:
        for antenna, tags in load_population(args.tags).items():
            for tag in tags:
                reader.place(antenna, tag)
    for text in args.tag:
        antenna, tag = _parse_tag_option(text)
        reader.place(antenna, tag)
    for antenna in range(1, reader.antenna_count + 1):
        for _ in range(args.random_tags):
            reader.place(antenna, SimTag(rng.randbytes(12).hex(), read_probability=0.9))
    return reader


async def _serve_until_stopped(args: argparse.Namespace, reader: SimulatedReader) -> None:
    simulator = Uhfreader18Simulator(reader, round_time_s=args.round_time)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        if args.pty:
            await simulator.start_pty(args.link)
        else:
            await simulator.start_tcp(args.host, args.port)
        print(f"uhfreader18 simulator ({reader.variant.value}) on {simulator.url}", flush=True)
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await simulator.close()


def main(argv: list[str]) -> int:
    """``archroom simulate uhfreader18 ...``: serve until SIGINT/SIGTERM. Exit 2 on bad input."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.link and not args.pty:
        parser.error("--link goes with --pty")
    try:
        reader = make_reader(args)
    except (ValueError, KeyError) as exc:
        parser.error(str(exc))
    asyncio.run(_serve_until_stopped(args, reader))
    return 0
