"""Talking to a UHFReader18 / CF-RU5102 family reader: one command at a time, and a poller.

The reader executes one command at a time and silently drops a command sent while it is busy
(docs/design.md §4.1), so every exchange goes through one lock: write the command, then read frames
until the answer to *that* command is complete (an inventory may take several frames, status
0x03 meaning "more follow"). Frames that answer something else, such as a late answer to a
command that timed out, are counted and dropped. After a timeout the next command first waits
for the line to go quiet and forgets what came, so a late answer is never taken for a new one.

The reader answers ``05 Adr 00 FE`` to a frame whose CRC fails (manual V2.0 §8.1). Every
command this client sends is one the reader knows, so that answer means the frame was spoiled
on its way, typically by the bytes of a half-sent command still in the reader's buffer. The
reader drops a partial frame after 15 ms of silence (§2); so the client waits until the line
has been quiet for longer than that and sends the command once more. A second ``00 FE`` is
the reader's real answer and raised as :class:`ReaderStatusError`.

:class:`Uhfreader18Poller` owns the link of one reader for the daemon: it connects, asks the
reader who it is (which also proves a reader answers, not just that a port opened), polls each
configured antenna in turn and hands the reads and finished rounds to a :class:`ReadSink`. It
reconnects with capped exponential backoff and jitter when the link drops or the reader stops
answering. Desk readers use the same connection for on-demand commands (inventory, write EPC)
through the same lock, with polling switched off.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from drivers.links import parse_link
from drivers.reconnect import Backoff
from drivers.serial_link import close_link, open_link
from drivers.tagread import ReadSink, TagRead
from drivers.uhfreader18 import (
    BROADCAST,
    CMD_INVENTORY,
    CMD_READER_INFO,
    CMD_WRITE_EPC,
    STATUS_ILLEGAL_COMMAND,
    STATUS_MORE_FRAMES,
    FrameError,
    ReaderInfo,
    ReaderStatusError,
    Response,
    ResponseDecoder,
    Uhfreader18Error,
    Variant,
    check_write_epc,
    encode_command,
    inventory_command_data,
    parse_inventory,
    parse_reader_info,
    write_epc_command_data,
)

log = logging.getLogger(__name__)

_READ_SIZE = 4096


class LinkLostError(Uhfreader18Error, ConnectionError):
    """The link closed or failed under a command."""


class CommandTimeoutError(Uhfreader18Error, TimeoutError):
    """The reader did not answer a command in time."""


class ReaderUnavailableError(Uhfreader18Error, ConnectionError):
    """An on-demand command was asked of a reader that is not connected right now."""


@dataclass(frozen=True, slots=True)
class InventoryRound:
    """One inventory of one antenna. ``complete`` is False when the reader cut the round short
    (scan time over or buffer full): some tags in the field may be missing from ``reads``."""

    antenna: int
    reads: tuple[TagRead, ...]
    complete: bool
    status: int
    t: float


class Uhfreader18Client:
    """Commands over an open link, one at a time, each with its own timeout.

    Raises :class:`CommandTimeoutError`, :class:`LinkLostError`, :class:`ReaderStatusError`
    (the reader refused) or :class:`FrameError` (a CRC-valid frame that makes no sense)."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        reader_id: str,
        address: int = 0,
        variant: Variant = Variant.UHFREADER18,
        scan_time_s: float = 1.0,
        command_timeout_s: float = 1.0,
        inventory_timeout_s: float | None = None,
        gap_s: float = 0.05,
        quiet_s: float = 0.05,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0 <= address <= BROADCAST:
            raise ValueError(f"reader address must be 0..255, got {address}")
        self.reader_id = reader_id
        self.variant = variant
        self.scan_time_s = scan_time_s
        """Inventory scan time: sent with each command (288 dialect) or the reader's stored
        setting (UHFReader18, taken from :meth:`reader_info`)."""
        self._reader = reader
        self._writer = writer
        self._address = address
        self._command_timeout_s = command_timeout_s
        self._inventory_timeout_s = inventory_timeout_s
        self._gap_s = gap_s
        self._quiet_s = quiet_s
        self._clock = clock
        self._lock = asyncio.Lock()
        self._decoder = ResponseDecoder(address, name=reader_id)
        self._stale = False
        self._closed = False
        self.consecutive_timeouts = 0
        self.unexpected_frames = 0
        self.rejected_frames = 0
        """Commands the reader answered 00 FE (spoiled on the way) and that were resent."""

    @property
    def decoder(self) -> ResponseDecoder:
        return self._decoder

    @property
    def inventory_timeout_s(self) -> float:
        """The reader answers within its scan time (+ up to 75 ms), then the frames travel."""
        if self._inventory_timeout_s is not None:
            return self._inventory_timeout_s
        return self.scan_time_s + self._command_timeout_s

    async def reader_info(self) -> ReaderInfo:
        (response,) = await self._transact(CMD_READER_INFO, b"", self._command_timeout_s)
        return parse_reader_info(response)

    async def inventory(self, antenna: int | None = None) -> list[TagRead]:
        """The tags one inventory round of ``antenna`` saw (default: antenna 1)."""
        return list((await self.inventory_round(antenna)).reads)

    async def inventory_round(self, antenna: int | None = None) -> InventoryRound:
        antenna = 1 if antenna is None else antenna
        variant = self.variant
        if variant is Variant.UHFREADER18:
            data = b""  # one antenna: ``antenna`` only labels the reads
        else:
            data = inventory_command_data(variant, antenna, scan_time_s=self.scan_time_s)
        responses = await self._transact(CMD_INVENTORY, data, self.inventory_timeout_s)
        t = self._clock()
        reader_id = self.reader_id
        reads: list[TagRead] = []
        frame = None
        for response in responses:
            frame = parse_inventory(response, variant)
            port = frame.antenna or antenna
            if frame.rssi is None:
                reads.extend(TagRead(reader_id, port, epc, None, t) for epc in frame.epcs)
            else:
                reads.extend(
                    TagRead(reader_id, port, epc, float(rssi), t)
                    for epc, rssi in zip(frame.epcs, frame.rssi, strict=True)
                )
        assert frame is not None  # _transact returns at least the final frame
        return InventoryRound(antenna, tuple(reads), frame.round_complete, frame.status, t)

    async def write_epc(self, epc: str, *, password: int = 0) -> None:
        """Write ``epc`` (hex, whole 16-bit words) into the tag in the field.

        Raises :class:`ReaderStatusError` when the reader could not (no tag: status 0xFB)."""
        data = write_epc_command_data(epc, password)
        (response,) = await self._transact(CMD_WRITE_EPC, data, self._command_timeout_s)
        check_write_epc(response)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await close_link(self._writer)

    # --- one exchange -----------------------------------------------------------------

    async def _transact(self, command: int, data: bytes, timeout_s: float) -> list[Response]:
        async with self._lock:
            if self._closed:
                raise LinkLostError(f"{self.reader_id}: link closed")
            responses = await self._exchange(command, data, timeout_s)
            if _refused_as_garbage(responses):
                self.rejected_frames += 1
                log.debug("%s: command 0x%02X answered 00 FE; resending", self.reader_id, command)
                await self._forget_stale()
                responses = await self._exchange(command, data, timeout_s)
            return responses

    async def _exchange(self, command: int, data: bytes, timeout_s: float) -> list[Response]:
        try:
            if self._stale:
                await self._forget_stale()
            frame = encode_command(self._address, command, data)
            async with asyncio.timeout(timeout_s):
                self._writer.write(frame)
                await self._writer.drain()
                responses = await self._collect(command)
        except LinkLostError:
            raise
        except TimeoutError:
            self.consecutive_timeouts += 1
            self._stale = True
            raise CommandTimeoutError(
                f"{self.reader_id}: no answer to command 0x{command:02X} within {timeout_s:.2f} s"
            ) from None
        except OSError as exc:
            raise LinkLostError(f"{self.reader_id}: link failed: {exc}") from exc
        self.consecutive_timeouts = 0
        return responses

    async def _collect(self, command: int) -> list[Response]:
        answer: list[Response] = []
        while True:
            for response in await self._read_frames():
                matches = response.command == command or (
                    response.command == 0 and response.status == STATUS_ILLEGAL_COMMAND
                )
                if not matches or _answered(command, answer):
                    self.unexpected_frames += 1
                    continue
                answer.append(response)
            if _answered(command, answer):
                return answer

    async def _read_frames(self) -> list[Response]:
        decoder = self._decoder
        if decoder.pending:
            # Half a frame is waiting: if the line stays quiet, it never completes (the
            # reader's own 15 ms rule); anything whole behind a bogus length is recovered.
            try:
                async with asyncio.timeout(self._gap_s):
                    chunk = await self._reader.read(_READ_SIZE)
            except TimeoutError:
                return decoder.flush()
        else:
            chunk = await self._reader.read(_READ_SIZE)
        if not chunk:
            raise LinkLostError(f"{self.reader_id}: link closed by the other end")
        return decoder.feed(chunk)

    async def _forget_stale(self) -> None:
        """Wait until the reader has been quiet for ``quiet_s`` (at most the inventory timeout)
        and drop what arrived: it answers a command we gave up on."""
        try:
            async with asyncio.timeout(self.inventory_timeout_s):
                while True:
                    try:
                        async with asyncio.timeout(self._quiet_s):
                            chunk = await self._reader.read(_READ_SIZE)
                    except TimeoutError:
                        break
                    if not chunk:
                        raise LinkLostError(f"{self.reader_id}: link closed by the other end")
                    self.unexpected_frames += len(self._decoder.feed(chunk))
        except TimeoutError:
            pass
        self._decoder.reset()
        self._stale = False


def _refused_as_garbage(answer: list[Response]) -> bool:
    """``05 Adr 00 FE``: the reader saw a frame with a bad CRC (or an unknown command)."""
    return (
        len(answer) == 1 and answer[0].command == 0 and answer[0].status == STATUS_ILLEGAL_COMMAND
    )


def _answered(command: int, answer: list[Response]) -> bool:
    """Whether ``answer`` is complete: one frame, or an inventory's frames up to the last."""
    return bool(answer) and (command != CMD_INVENTORY or answer[-1].status != STATUS_MORE_FRAMES)


# --- the polling service ---------------------------------------------------------------


class Uhfreader18Poller:
    """Owns the link to one reader: connect, poll, deliver, reconnect; on-demand commands.

    ``antennas`` are the 1-based ports to poll in turn (a UHFReader18 has only port 1; its
    reads carry the single configured number). With ``poll=False`` (desk readers) nothing is
    polled: the link is checked every ``health_interval_s`` with a reader-information command
    and otherwise waits for :meth:`inventory` / :meth:`write_epc`. ``variant`` None means: ask
    the reader its type at connect. ``silence_after`` timeouts in a row mean the link is down.
    """

    def __init__(
        self,
        reader_id: str,
        link_url: str,
        *,
        address: int = 0,
        antennas: Sequence[int] = (1,),
        poll_interval_s: float = 0.2,
        poll: bool = True,
        variant: Variant | None = None,
        baudrate: int = 57600,
        scan_time_s: float = 1.0,
        command_timeout_s: float = 1.0,
        inventory_timeout_s: float | None = None,
        silence_after: int = 3,
        health_interval_s: float = 5.0,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        connect_timeout_s: float = 5.0,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._link = parse_link(link_url)
        if not 0 <= address <= BROADCAST:
            raise ValueError(f"{reader_id}: reader address must be 0..255, got {address}")
        ports = list(dict.fromkeys(antennas))
        if any(not 1 <= a <= 8 for a in ports):
            raise ValueError(f"{reader_id}: antenna ports must be 1..8, got {list(antennas)}")
        if poll and not ports:
            raise ValueError(f"{reader_id}: a polled reader needs at least one antenna")
        if variant is Variant.UHFREADER18 and len(ports) > 1:
            raise ValueError(f"{reader_id}: a UHFReader18 has one antenna, got {ports}")
        if silence_after < 1:
            raise ValueError("silence_after must be at least 1")
        self.reader_id = reader_id
        self._address = address
        self._antennas = ports
        self._poll_interval_s = poll_interval_s
        self._poll = poll
        self._variant = variant
        self._baudrate = baudrate
        self._scan_time_s = scan_time_s
        self._command_timeout_s = command_timeout_s
        self._inventory_timeout_s = inventory_timeout_s
        self._silence_after = silence_after
        self._health_interval_s = health_interval_s
        self._connect_timeout_s = connect_timeout_s
        self._clock = clock
        self._backoff = Backoff(backoff_initial_s, backoff_max_s, rng=rng)
        self._gap_s = 0.05 if self._link.scheme == "serial" else 0.25
        self._client: Uhfreader18Client | None = None
        self._reported_up: bool | None = None
        self._round_warned: set[tuple[int, str]] = set()
        self.info: ReaderInfo | None = None
        """What the reader said about itself at the last connect."""
        self.rounds = 0
        self.incomplete_rounds = 0
        self.failed_rounds = 0

    @property
    def up(self) -> bool:
        return self._client is not None

    @property
    def client(self) -> Uhfreader18Client | None:
        """The connected client (its ``decoder.stats`` count garbage, CRC errors, resyncs)."""
        return self._client

    # --- on-demand commands, through the poller's connection and lock -------------------

    def _connected(self) -> Uhfreader18Client:
        client = self._client
        if client is None:
            raise ReaderUnavailableError(f"{self.reader_id}: reader not connected")
        return client

    async def inventory(self, antenna: int | None = None) -> list[TagRead]:
        """One inventory round now (between polls); the reads go to the caller only."""
        if antenna is None:
            antenna = self._antennas[0] if self._antennas else 1
        return await self._connected().inventory(antenna)

    async def write_epc(self, epc: str, *, password: int = 0) -> None:
        await self._connected().write_epc(epc, password=password)

    async def reader_info(self) -> ReaderInfo:
        return await self._connected().reader_info()

    # --- the service ----------------------------------------------------------------------

    async def run(self, sink: ReadSink) -> None:
        """Serve the reader until cancelled; the link is closed on the way out."""
        while True:
            try:
                client = await self._connect()
            except (OSError, Uhfreader18Error) as exc:
                self._went_down(sink, f"cannot connect: {exc}")
                await asyncio.sleep(self._backoff.next_delay())
                continue
            self._client = client
            self._set_state(sink, up=True, reason=f"connected: {self._describe()}")
            try:
                reason = await self._serve(client, sink)
            except LinkLostError as exc:
                reason = str(exc)
            finally:
                self._client = None
                await client.close()
            self._went_down(sink, reason)
            await asyncio.sleep(self._backoff.next_delay())

    async def _connect(self) -> Uhfreader18Client:
        reader, writer = await open_link(
            self._link, baudrate=self._baudrate, timeout_s=self._connect_timeout_s
        )
        client = Uhfreader18Client(
            reader,
            writer,
            reader_id=self.reader_id,
            address=self._address,
            scan_time_s=self._scan_time_s,
            command_timeout_s=self._command_timeout_s,
            inventory_timeout_s=self._inventory_timeout_s,
            gap_s=self._gap_s,
            clock=self._clock,
        )
        try:
            info = await client.reader_info()
        except CommandTimeoutError as exc:
            await client.close()
            serial = f" at {self._baudrate} baud" if self._link.scheme == "serial" else ""
            raise CommandTimeoutError(
                f"{exc} (is a reader at address {self._address}{serial} on {self._link}?)"
            ) from None
        except BaseException:
            await client.close()
            raise
        self.info = info
        client.variant = self._variant or info.variant
        if client.variant is Variant.UHFREADER18:
            client.scan_time_s = info.scan_time_s
        return client

    def _describe(self) -> str:
        info = self.info
        if info is None:
            return "reader"
        variant = self._client.variant.value if self._client else "?"
        return (
            f"{variant} type 0x{info.reader_type:02X} firmware {info.version[0]}."
            f"{info.version[1]:02d} at address {info.address}"
        )

    def _poll_ports(self, variant: Variant) -> list[int]:
        if variant is Variant.UHFREADER18 and len(self._antennas) > 1:
            key = (0, "single-antenna")
            if key not in self._round_warned:
                self._round_warned.add(key)
                log.error(
                    "%s: the reader is a single-antenna UHFReader18 but antennas %s are "
                    "configured; polling antenna %d only",
                    self.reader_id,
                    self._antennas,
                    self._antennas[0],
                )
            return self._antennas[:1]
        return self._antennas

    async def _serve(self, client: Uhfreader18Client, sink: ReadSink) -> str:
        """Poll (or watch) until the reader goes silent; return why the link is down."""
        while True:
            if not self._poll:
                await asyncio.sleep(self._health_interval_s)
                try:
                    await client.reader_info()
                except CommandTimeoutError:
                    if client.consecutive_timeouts >= self._silence_after:
                        return self._silent(client)
                    continue
                except (ReaderStatusError, FrameError) as exc:
                    log.debug("%s: health check: %s", self.reader_id, exc)
                self._healthy()
                continue
            for antenna in self._poll_ports(client.variant):
                try:
                    result = await client.inventory_round(antenna)
                except CommandTimeoutError:
                    self.failed_rounds += 1
                    if client.consecutive_timeouts >= self._silence_after:
                        return self._silent(client)
                    continue
                except (ReaderStatusError, FrameError) as exc:
                    self.failed_rounds += 1
                    self._round_problem(antenna, str(exc))
                    continue
                if result.reads:
                    sink.reads(result.reads)
                self.rounds += 1
                if result.complete:
                    sink.round_done(self.reader_id, antenna, result.t)
                else:
                    self.incomplete_rounds += 1
                    self._round_problem(antenna, "round cut short (scan time over or buffer full)")
                self._healthy()
            await asyncio.sleep(self._poll_interval_s)

    def _silent(self, client: Uhfreader18Client) -> str:
        return f"no answer to {client.consecutive_timeouts} commands in a row"

    def _round_problem(self, antenna: int, what: str) -> None:
        key = (antenna, what)
        level = logging.DEBUG if key in self._round_warned else logging.WARNING
        self._round_warned.add(key)
        log.log(level, "%s antenna %d: %s", self.reader_id, antenna, what)

    def _healthy(self) -> None:
        self._backoff.reset()

    def _went_down(self, sink: ReadSink, reason: str) -> None:
        self._backoff.failed(log, "%s: link down (%s); retrying", self.reader_id, reason)
        self._set_state(sink, up=False, reason=reason)

    def _set_state(self, sink: ReadSink, *, up: bool, reason: str) -> None:
        if self._reported_up is up:
            return
        self._reported_up = up
        if up:
            log.info("%s: link up (%s)", self.reader_id, reason)
        sink.link_state(self.reader_id, up, reason)
