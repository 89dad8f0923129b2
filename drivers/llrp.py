"""LLRP reader service: one gate or fixed reader over TCP, delivered as ``TagRead`` batches.

LLRP (EPCglobal/GS1 Low Level Reader Protocol, TCP 5084) is spoken through ``llrpkit``; this
module adds what a long-running room controller needs on top of it, for facts of the protocol
that a one-off inventory script can ignore:

- A reader greets every client with a ``ConnectionAttemptEvent``; anything but ``Success`` means
  another client already controls it (LLRP allows one). ``llrpkit`` waits for that greeting.
- Readers keep ROSpecs and AccessSpecs across connections, so a restarted daemon finds its own
  stale spec (or a commissioning tool's) still installed. Every session first deletes them all,
  then installs one inventory ROSpec reporting antenna, peak RSSI and first-seen time per tag.
- TCP does not notice a reader that lost power or a cable cut somewhere on the path: the socket
  just goes quiet. LLRP keepalives exist for that. The reader is asked to send a ``KEEPALIVE``
  every ``keepalive_s`` (``llrpkit`` acknowledges each); when none arrives for ``dead_after_s``
  (1.5 periods: one keepalive missed), the link is declared dead and torn down.
- Vendor extensions (Impinj Octane: sub-dBm peak RSSI, search modes) are switched on only when
  the reader's capabilities name Impinj as the manufacturer; other readers reject them.
- After any drop the service reconnects with capped exponential backoff and jitter and installs
  the ROSpec again: nothing of the previous session is assumed to survive.

Time of a read: ``TagRead.t`` comes from the reader's first-seen timestamp mapped onto the local
wall clock (``ReaderClock``). The reader's clock keeps the true spacing and order of reads across
antennas, which gate direction depends on, even when the reader batches several tags into one
report or the network delays a report; receipt time alone would stamp a whole batch with one
instant. The reader's clock is not trusted as wall time, though (many readers are never
synchronised and restart at 1970), so only its differences are used: the offset to the local clock
is the smallest (receipt - reader time) seen recently. Reads without a timestamp get their
receipt time.

Continuous inventory (null start/stop triggers, as here) has no inventory round the host can see:
the reader reports tags as it singulates them, never "every tag in the field had its chance". The
shelf engine counts sweeps with ``round_done``, so the service closes a window every ``round_s``
seconds for each antenna that is reading (not reported disconnected by an AntennaEvent); at
hundreds of reads per second a tag in the field is read many times within one window.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn

from llrpkit import ReaderCapabilities, TagReport
from llrpkit.client import LLRPClient, check_status
from llrpkit.constants import LLRP_PORT
from llrpkit.exceptions import (
    CapabilityError,
    LLRPConnectionError,
    LLRPError,
    LLRPStatusError,
)
from llrpkit.inventory import build_rospec
from llrpkit.protocol import LLRPMessage, enums, impinj, messages, params

from drivers.reconnect import Backoff
from drivers.tagread import ReadSink, TagRead

log = logging.getLogger(__name__)

#: Gen2 EPCs are at most 496 bits (the PC word's length field counts up to 31 words).
MAX_EPC_BYTES = 62
#: Peak RSSI outside this range (dBm) is not a backscatter level; the read is kept without it.
RSSI_RANGE_DBM = (-128.0, 0.0)


# -- conversion: llrpkit tag report -> TagRead --------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rejection:
    """A tag report that could not become a ``TagRead``, and why (a short stable phrase)."""

    reason: str


class ReaderClock:
    """Maps a reader's timestamps onto the local wall clock, keeping the reader's spacing.

    The offset is the smallest ``received - reader_t`` of the last ``window_s`` seconds: the read
    that travelled fastest shows the clock difference plus the least latency. A read whose
    offset differs from that by more than ``stale_s`` (the reader's clock jumped, a garbled
    timestamp, reads held back in the reader's buffer) restarts the estimate from itself, so it is
    stamped with its receipt time. Hence ``received - stale_s <= t <= received`` always.
    """

    def __init__(self, *, window_s: float = 60.0, stale_s: float = 2.0) -> None:
        self._window_s = window_s
        self._stale_s = stale_s
        # (received, offset) with increasing offsets: the front is the window's minimum.
        self._offsets: deque[tuple[float, float]] = deque()
        self.restarts = 0

    def observe(self, reader_t: float, received: float) -> None:
        """Take a read's reader time and receipt time into the offset estimate."""
        offset = received - reader_t
        samples = self._offsets
        while samples and samples[0][0] < received - self._window_s:
            samples.popleft()
        if samples and abs(offset - samples[0][1]) > self._stale_s:
            samples.clear()
            self.restarts += 1
        while samples and samples[-1][1] >= offset:
            samples.pop()
        samples.append((received, offset))

    def local_time(self, reader_t: float, received: float) -> float:
        """Local wall-clock time of a read stamped ``reader_t`` and received at ``received``."""
        self.observe(reader_t, received)
        return reader_t + self._offsets[0][1]


def _epc_of(trd: params.TagReportData) -> bytes | Rejection:
    epc_param: object = trd.epc_parameter  # typed as required, but decoded from the wire
    if isinstance(epc_param, params.EPC_96):
        epc = epc_param.epc
        if not isinstance(epc, bytes) or len(epc) != 12:
            return Rejection("EPC-96 is not 12 bytes")
        return epc
    if isinstance(epc_param, params.EPCData):
        bits = epc_param.epc
        if bits.bit_len % 16 or len(bits.data) * 8 != bits.bit_len:
            return Rejection("EPC is not whole 16-bit words")
        return bits.data
    return Rejection("no EPC parameter")


def _first_seen_s(trd: params.TagReportData) -> float | None:
    stamp: object = trd.first_seen_timestamp_utc
    us = getattr(stamp, "microseconds", None)
    if isinstance(us, int) and 0 < us < 1 << 64:
        return us / 1_000_000
    return None


def convert_tag_report(
    reader: str, trd: params.TagReportData, received: float, clock: ReaderClock
) -> TagRead | Rejection:
    """Turn one decoded ``TagReportData`` into a ``TagRead``, or say why it cannot.

    ``received`` is the local wall-clock time the report arrived. Never raises on content: a
    report missing its EPC or antenna, or carrying impossible values, becomes a ``Rejection``.
    """
    epc = _epc_of(trd)
    if isinstance(epc, Rejection):
        return epc
    if not epc:
        return Rejection("empty EPC")
    if len(epc) > MAX_EPC_BYTES:
        return Rejection("EPC longer than 496 bits")
    try:
        report = TagReport.from_param(trd)
    except (AttributeError, TypeError, ValueError, OverflowError):
        return Rejection("undecodable tag report")
    antenna = report.antenna
    if not isinstance(antenna, int) or antenna < 1:
        return Rejection("no antenna id")
    rssi = report.rssi_dbm
    if rssi is not None and not (
        math.isfinite(rssi) and RSSI_RANGE_DBM[0] <= rssi <= RSSI_RANGE_DBM[1]
    ):
        rssi = None
    first_seen = _first_seen_s(trd)
    t = received if first_seen is None else clock.local_time(first_seen, received)
    return TagRead(reader=reader, antenna=antenna, epc=epc.hex().upper(), rssi=rssi, t=t)


def convert_report(
    reader: str, report: messages.RO_ACCESS_REPORT, received: float, clock: ReaderClock
) -> tuple[list[TagRead], list[Rejection]]:
    """All tag reports of one RO_ACCESS_REPORT, sorted into reads and rejections.

    The clock sees every timestamp of the report before any read is placed, so reads that the
    reader held back and sent together keep their spacing (the latest one fixes the offset).
    """
    for trd in report.tag_report_datas:
        first_seen = _first_seen_s(trd)
        if first_seen is not None:
            clock.observe(first_seen, received)
    reads: list[TagRead] = []
    rejections: list[Rejection] = []
    for trd in report.tag_report_datas:
        result = convert_tag_report(reader, trd, received, clock)
        if isinstance(result, Rejection):
            rejections.append(result)
        else:
            reads.append(result)
    return reads, rejections


# -- the asyncio shell ---------------------------------------------------------------------------


class _LinkLostError(Exception):
    """The session ended; the message is the reason reported with ``link_state``."""


class _WatchedClient(LLRPClient):
    """An ``LLRPClient`` that remembers when the reader last sent a KEEPALIVE and why the link
    closed (``LLRPClient`` acknowledges keepalives but does not expose them)."""

    def __init__(
        self, host: str, port: int, *, response_timeout: float, connect_timeout: float
    ) -> None:
        super().__init__(
            host, port, response_timeout=response_timeout, connect_timeout=connect_timeout
        )
        self.last_keepalive = time.monotonic()
        self.lost_reason: str | None = None

    def _dispatch(self, msg: LLRPMessage) -> None:
        if isinstance(msg, messages.KEEPALIVE):
            self.last_keepalive = time.monotonic()
        super()._dispatch(msg)

    def _shutdown(self, exc: LLRPConnectionError | None) -> None:
        if exc is not None and self.lost_reason is None:
            self.lost_reason = str(exc)
        super()._shutdown(exc)

    async def abort(self) -> None:
        """Drop the transport without the CLOSE_CONNECTION courtesy (the reader is silent)."""
        await self._abort()


@dataclass(frozen=True, slots=True)
class ReaderInfo:
    """What the reader said about itself in its capabilities."""

    manufacturer: int
    model: int
    firmware: str
    max_antennas: int
    vendor_extensions: bool


_WATCH_TICK_S = 0.25
_EVENT_NOTIFICATIONS = (
    enums.NotificationEventType.ROSpec_Event,
    enums.NotificationEventType.Report_Buffer_Fill_Warning,
    enums.NotificationEventType.Reader_Exception_Event,
    enums.NotificationEventType.Antenna_Event,
)


class LlrpReaderService:
    """Keeps one LLRP reader inventorying and hands every read to a ``ReadSink``.

    ``run(sink)`` returns only when cancelled. Counters (plain attributes, cumulative):
    ``reports`` RO_ACCESS_REPORTs received, ``reads`` TagReads delivered, ``rejected`` tag reports
    refused (``rejections`` by reason), ``rospec_installs`` sessions that reached reading,
    ``reconnects`` connection attempts after the first, ``link_losses`` up-to-down transitions,
    ``keepalive_misses`` links declared dead for a missed keepalive, ``dropped_reports`` reports
    ``llrpkit`` discarded because this service fell behind.
    """

    def __init__(
        self,
        reader_id: str,
        host: str,
        port: int = LLRP_PORT,
        antennas: Sequence[int] | None = None,
        keepalive_s: float = 5.0,
        *,
        dead_after_s: float | None = None,
        session: int = 0,
        tag_population: int = 16,
        report_every_n: int = 1,
        tx_power_dbm: float | None = None,
        vendor_extensions: bool = True,
        search_mode: int | None = None,
        ro_spec_id: int = 1,
        round_s: float | None = 1.0,
        response_timeout_s: float = 5.0,
        connect_timeout_s: float = 10.0,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        max_reports_per_batch: int = 1024,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if keepalive_s <= 0:
            raise ValueError(f"keepalive_s must be positive, got {keepalive_s}")
        if antennas is not None and (not antennas or any(a < 1 for a in antennas)):
            raise ValueError(f"antennas must be 1-based port numbers, got {list(antennas)}")
        if round_s is not None and round_s <= 0:
            raise ValueError(f"round_s must be positive or None, got {round_s}")
        self.reader_id = reader_id
        self.host = host
        self.port = port
        self.antennas = tuple(antennas) if antennas is not None else None
        self.keepalive_s = keepalive_s
        self.dead_after_s = dead_after_s if dead_after_s is not None else 1.5 * keepalive_s
        self._session = session
        self._tag_population = tag_population
        self._report_every_n = report_every_n
        self._tx_power_dbm = tx_power_dbm
        self._vendor_extensions = vendor_extensions
        self._search_mode = search_mode
        self._ro_spec_id = ro_spec_id
        self._round_s = round_s
        self._response_timeout_s = response_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._backoff = Backoff(backoff_initial_s, backoff_max_s)
        self._max_reports_per_batch = max_reports_per_batch
        self._wall_clock = wall_clock
        self._clock = ReaderClock()
        self._up: bool | None = None
        self._reading_antennas: tuple[int, ...] = ()
        self._disconnected_antennas: set[int] = set()
        #: Capabilities of the reader in the current (or last) session.
        self.info: ReaderInfo | None = None
        self.reports = 0
        self.reads = 0
        self.rejected = 0
        self.rejections: Counter[str] = Counter()
        self.rospec_installs = 0
        self.reconnects = 0
        self.link_losses = 0
        self.keepalive_misses = 0
        self.dropped_reports = 0

    @property
    def up(self) -> bool:
        """True while the ROSpec is running and the link is alive."""
        return bool(self._up)

    @property
    def disconnected_antennas(self) -> frozenset[int]:
        """Antennas the reader reported disconnected (AntennaEvent) in the current session."""
        return frozenset(self._disconnected_antennas)

    async def run(self, sink: ReadSink) -> None:
        """Connect, read, reconnect after every drop; return only when cancelled.

        On cancellation the ROSpec is deleted and the connection closed politely (at most 3 s),
        then ``link_state(..., False, "service stopped")``. Exceptions raised by the sink are
        bugs, not link trouble: they propagate.
        """
        try:
            while True:
                installs = self.rospec_installs
                reason = await self._one_session(sink)
                if self.rospec_installs > installs:  # it was reading: a drop, not a failed retry
                    self.link_losses += 1
                self._set_link(sink, False, reason)
                delay = self._backoff.next_delay()
                self._backoff.failed(
                    log,
                    "LLRP reader %s (%s:%d): %s; retrying in %.1fs",
                    self.reader_id,
                    self.host,
                    self.port,
                    reason,
                    delay,
                )
                await asyncio.sleep(delay)
                self.reconnects += 1
        finally:
            self._set_link(sink, False, "service stopped")

    # -- one connection ---------------------------------------------------------------------------

    async def _one_session(self, sink: ReadSink) -> str:
        client = _WatchedClient(
            self.host,
            self.port,
            response_timeout=self._response_timeout_s,
            connect_timeout=self._connect_timeout_s,
        )
        clean_exit = False
        try:
            try:
                await self._start(client)
            except (LLRPError, OSError) as exc:
                return f"setup failed: {exc}"
            self._backoff.reset()
            self._set_link(sink, True, self._describe())
            try:
                await self._pump(client, sink)
            except _LinkLostError as exc:
                return str(exc)
        except asyncio.CancelledError:
            clean_exit = True
            raise
        finally:
            self.dropped_reports += client.dropped_reports
            try:
                if clean_exit and client.connected:
                    await self._say_goodbye(client)
            finally:
                await client.abort()

    async def _start(self, client: _WatchedClient) -> None:
        await client.connect()  # waits for ConnectionAttemptEvent(Success)
        await self._delete_all_specs(client)
        caps_msg = check_status(
            await client.transact(
                messages.GET_READER_CAPABILITIES(
                    requested_data=enums.GetReaderCapabilitiesRequestedData.All
                )
            )
        )
        if not isinstance(caps_msg, messages.GET_READER_CAPABILITIES_RESPONSE):
            raise LLRPError(f"capabilities request answered with {type(caps_msg).__name__}")
        caps = ReaderCapabilities(caps_msg)
        extensions = False
        if self._vendor_extensions and caps.is_impinj:
            try:
                check_status(await client.transact(impinj.IMPINJ_ENABLE_EXTENSIONS()))
                extensions = True
            except LLRPStatusError as exc:
                log.warning("reader %s refused vendor extensions: %s", self.reader_id, exc)
        self.info = ReaderInfo(
            manufacturer=caps.manufacturer,
            model=caps.model_number,
            firmware=caps.firmware,
            max_antennas=caps.max_antennas,
            vendor_extensions=extensions,
        )
        antennas = self._antennas_of(caps)
        rospec = self._build_rospec(caps, extensions)
        check_status(
            await client.transact(
                messages.SET_READER_CONFIG(
                    reset_to_factory_default=False,
                    reader_event_notification_spec=params.ReaderEventNotificationSpec(
                        event_notification_states=[
                            params.EventNotificationState(event_type=e, notification_state=True)
                            for e in _EVENT_NOTIFICATIONS
                        ]
                    ),
                    keepalive_spec=params.KeepaliveSpec(
                        keepalive_trigger_type=enums.KeepaliveTriggerType.Periodic,
                        periodic_trigger_value=max(1, round(self.keepalive_s * 1000)),
                    ),
                )
            )
        )
        client.last_keepalive = time.monotonic()
        while not client.reports.empty():  # reads of a spec deleted above
            client.reports.get_nowait()
        check_status(await client.transact(messages.ADD_ROSPEC(ro_spec=rospec)))
        check_status(await client.transact(messages.ENABLE_ROSPEC(ro_spec_id=self._ro_spec_id)))
        check_status(await client.transact(messages.START_ROSPEC(ro_spec_id=self._ro_spec_id)))
        self._clock = ReaderClock()
        self._reading_antennas = antennas
        self._disconnected_antennas = set()
        self.rospec_installs += 1

    async def _delete_all_specs(self, client: _WatchedClient) -> None:
        try:
            check_status(await client.transact(messages.DELETE_ROSPEC(ro_spec_id=0)))
        except LLRPStatusError:
            # Some readers refuse the "all" id when nothing is installed: list and delete.
            listing = check_status(await client.transact(messages.GET_ROSPECS()))
            if isinstance(listing, messages.GET_ROSPECS_RESPONSE):
                for spec in listing.ro_specs:
                    check_status(
                        await client.transact(messages.DELETE_ROSPEC(ro_spec_id=spec.ro_spec_id))
                    )
        check_status(await client.transact(messages.DELETE_ACCESSSPEC(access_spec_id=0)))

    def _antennas_of(self, caps: ReaderCapabilities) -> tuple[int, ...]:
        if self.antennas is None:
            return tuple(range(1, caps.max_antennas + 1))
        beyond = [a for a in self.antennas if a > caps.max_antennas]
        if beyond:
            raise CapabilityError(
                f"antennas {beyond} configured but the reader has {caps.max_antennas}"
            )
        return self.antennas

    def _build_rospec(self, caps: ReaderCapabilities, extensions: bool) -> params.ROSpec:
        if self._search_mode is not None and not extensions:
            log.warning(
                "reader %s: search mode %s needs vendor extensions; using the reader default",
                self.reader_id,
                self._search_mode,
            )
        power_index = (
            caps.power_index_for_dbm(self._tx_power_dbm) if self._tx_power_dbm is not None else None
        )
        return build_rospec(
            ro_spec_id=self._ro_spec_id,
            antennas=self.antennas or (),
            session=self._session,
            search_mode=self._search_mode if extensions else None,
            transmit_power_index=power_index,
            tag_population=self._tag_population,
            report_every_n=self._report_every_n,
            enable_impinj_reports=extensions,
        )

    def _describe(self) -> str:
        info = self.info
        assert info is not None
        return (
            f"reading on {self.host}:{self.port} (model {info.model}, firmware {info.firmware!r},"
            f" antennas {list(self._reading_antennas)}, vendor extensions"
            f" {'on' if info.vendor_extensions else 'off'})"
        )

    async def _say_goodbye(self, client: _WatchedClient) -> None:
        """Leave the reader idle: stop and delete our ROSpec, then CLOSE_CONNECTION."""
        with contextlib.suppress(LLRPError, OSError, TimeoutError):
            async with asyncio.timeout(3.0):
                await client.transact(messages.DELETE_ROSPEC(ro_spec_id=self._ro_spec_id))
                await client.close()

    # -- reading ---------------------------------------------------------------------------------

    async def _pump(self, client: _WatchedClient, sink: ReadSink) -> NoReturn:
        """Deliver reports until the link dies; raises ``_LinkLostError`` with the reason."""
        round_s = self._round_s
        next_round = time.monotonic() + (round_s or 0.0)
        reports = client.reports
        while True:
            pending: list[messages.RO_ACCESS_REPORT] = []
            if reports.empty():
                now = time.monotonic()
                wait = min(_WATCH_TICK_S, client.last_keepalive + self.dead_after_s - now)
                if round_s is not None:
                    wait = min(wait, next_round - now)
                try:
                    async with asyncio.timeout(max(0.0, wait)):
                        pending.append(await reports.get())
                except TimeoutError:
                    pass
            while len(pending) < self._max_reports_per_batch and not reports.empty():
                pending.append(reports.get_nowait())
            if pending:
                self._deliver(pending, sink)
            while not client.events.empty():
                ended = self._on_event(client.events.get_nowait())
                if ended is not None:
                    raise _LinkLostError(ended)
            now = time.monotonic()
            if round_s is not None and now >= next_round:
                t = self._wall_clock()
                for antenna in self._reading_antennas:
                    if antenna not in self._disconnected_antennas:
                        sink.round_done(self.reader_id, antenna, t)
                next_round = max(next_round + round_s, now)
            if not client.connected:
                raise _LinkLostError(
                    f"connection lost: {client.lost_reason or 'closed by the reader'}"
                )
            silent = now - client.last_keepalive
            if silent >= self.dead_after_s:
                self.keepalive_misses += 1
                raise _LinkLostError(
                    f"keepalive missed: nothing from the reader for {silent:.1f}s"
                    f" (period {self.keepalive_s:g}s)"
                )

    def _deliver(self, pending: Sequence[messages.RO_ACCESS_REPORT], sink: ReadSink) -> None:
        received = self._wall_clock()
        batch: list[TagRead] = []
        for report in pending:
            self.reports += 1
            reads, rejections = convert_report(self.reader_id, report, received, self._clock)
            batch.extend(reads)
            for rejection in rejections:
                self.rejected += 1
                self.rejections[rejection.reason] += 1
                if self.rejections[rejection.reason] == 1:
                    log.warning("reader %s: tag report rejected: %s", self.reader_id, rejection)
        if batch:
            self.reads += len(batch)
            sink.reads(batch)

    def _on_event(self, msg: LLRPMessage) -> str | None:
        """Digest one reader event; returns a reason when the session cannot go on as it is."""
        if isinstance(msg, messages.ERROR_MESSAGE):
            log.warning("reader %s sent ERROR_MESSAGE: %s", self.reader_id, msg.llrp_status)
            return None
        if not isinstance(msg, messages.READER_EVENT_NOTIFICATION):
            log.debug("reader %s: unsolicited %s", self.reader_id, type(msg).__name__)
            return None
        data = msg.reader_event_notification_data
        antenna_event = data.antenna_event
        if antenna_event is not None:
            antenna = antenna_event.antenna_id
            if int(antenna_event.event_type) == int(enums.AntennaEventType.Antenna_Connected):
                self._disconnected_antennas.discard(antenna)
                log.info("reader %s: antenna %d connected", self.reader_id, antenna)
            else:
                self._disconnected_antennas.add(antenna)
                log.warning("reader %s: antenna %d disconnected", self.reader_id, antenna)
        if data.reader_exception_event is not None:
            log.warning(
                "reader %s exception: %s", self.reader_id, data.reader_exception_event.message
            )
        if data.report_buffer_level_warning_event is not None:
            log.warning("reader %s: report buffer filling up", self.reader_id)
        if data.connection_close_event is not None:
            log.info("reader %s is closing the connection", self.reader_id)
        ro_event = data.ro_spec_event
        if (
            ro_event is not None
            and ro_event.ro_spec_id == self._ro_spec_id
            and int(ro_event.event_type) != int(enums.ROSpecEventType.Start_Of_ROSpec)
        ):
            # Null stop trigger: only someone else (a reader UI, a reader fault) ends it.
            return "the reader ended the inventory ROSpec"
        return None

    def _set_link(self, sink: ReadSink, up: bool, reason: str) -> None:
        if self._up == up:
            return
        self._up = up
        log.info("LLRP reader %s %s: %s", self.reader_id, "up" if up else "down", reason)
        sink.link_state(self.reader_id, up, reason)
