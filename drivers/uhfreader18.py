"""Wire codec of the UHFReader18 / CF-RU5102 serial readers (docs/design.md §4.1). Pure: no I/O.

The reader speaks a host-initiated request/response protocol over RS232/RS485 (57600 8N1):

    command   Len Adr Cmd Data... CRC_L CRC_H          Len = len(Data) + 4
    response  Len Adr reCmd Status Data... CRC_L CRC_H  Len = len(Data) + 5

``Len`` counts the bytes after itself, ``Adr`` 0xFF is broadcast, and the CRC is CRC-16/MCRF4XX
(preset 0xFFFF, reflected polynomial 0x8408, no final XOR) over ``Len`` .. ``Data``, sent LSB
first. Because nothing is XORed at the end, the CRC over a whole frame *including* its two CRC
bytes is 0: one call checks a frame.

There is no start-of-frame marker. A receiver that lost sync (line noise, a half-sent frame
after a reader reset) only finds the next frame by trying every byte as a length and keeping
the candidate whose CRC checks, which is what the streaming decoders here do. The reader
itself drops a half-received frame after 15 ms of silence; :meth:`FrameDecoder.flush` is the
host's side of that rule.

Two inventory dialects share the framing (see :class:`Variant`):

- **UHFReader18 / CF-RU5102** (one antenna): the inventory command has no data; each response
  frame carries ``Num`` then ``(EPCLen, EPC)`` per tag. No antenna byte, no signal strength:
  reads carry ``rssi=None`` and the antenna the host asked for.
- **UHFReader288 / CF-RU5202 family** (up to four antennas, "288M" protocol): the inventory
  command carries ``Q, Session, MaskMem, MaskAdr(2), MaskLen, Target, Ant, ScanTime`` where
  ``Ant`` is 0x80 + (port - 1); each response carries ``Ant`` (a bit mask, 1 << (port - 1)),
  ``Num``, then ``(EPCLen, EPC, RSSI)`` per tag. RSSI is the reader's own 0-255 scale, larger
  is stronger.

Inventory statuses: 0x01 done, 0x02 scan time over (round cut short), 0x03 more frames follow,
0x04 reader buffer full (round cut short); 0xFB "no tag operable" is an empty round on some
firmware. Sources: the UHFReader18 user's manual V2.0 (``xynogen/uhfreader18``
docs/uhfreader18/DOCUMENTATION.md) and the captured frames pinned by ``wabson/chafon-rfid``.
"""

from __future__ import annotations

import logging
from binascii import crc_hqx
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

BROADCAST = 0xFF

CMD_INVENTORY = 0x01
CMD_WRITE_EPC = 0x04
CMD_READER_INFO = 0x21

STATUS_SUCCESS = 0x00
STATUS_INVENTORY_DONE = 0x01
STATUS_SCAN_TIME_OVER = 0x02
STATUS_MORE_FRAMES = 0x03
STATUS_BUFFER_FULL = 0x04
STATUS_ANTENNA_ERROR = 0xF8
STATUS_POOR_COMMUNICATION = 0xFA
STATUS_NO_TAG = 0xFB
STATUS_TAG_ERROR = 0xFC
STATUS_LENGTH_WRONG = 0xFD
STATUS_ILLEGAL_COMMAND = 0xFE
STATUS_PARAMETER_ERROR = 0xFF

STATUS_TEXT: dict[int, str] = {
    0x00: "success",
    0x01: "inventory finished",
    0x02: "inventory scan time over",
    0x03: "more frames follow",
    0x04: "reader buffer full",
    0x05: "access password error",
    0x09: "kill tag error",
    0x0A: "kill password cannot be zero",
    0x0B: "tag does not support the command",
    0x0C: "access password cannot be zero",
    0x0D: "tag is read-protected",
    0x0E: "tag is not protected",
    0x13: "parameter save failed",
    0x14: "cannot adjust power",
    0xF8: "antenna error (not connected?)",
    0xF9: "command execution error",
    0xFA: "poor communication with the tag",
    0xFB: "no tag operable in the field",
    0xFC: "tag returned an error code",
    0xFD: "command length wrong",
    0xFE: "illegal command or CRC error",
    0xFF: "parameter error",
}

TAG_ERROR_TEXT: dict[int, str] = {
    0x00: "other error",
    0x03: "memory overrun",
    0x04: "memory locked",
    0x0B: "insufficient power",
    0x0F: "non-specific error",
}

MIN_COMMAND_LEN = 4
MIN_RESPONSE_LEN = 5
MAX_EPC_WORDS = 15
_INVENTORY_COMPLETE = frozenset({STATUS_INVENTORY_DONE, STATUS_NO_TAG})
_INVENTORY_STATUSES = frozenset(
    {
        STATUS_INVENTORY_DONE,
        STATUS_SCAN_TIME_OVER,
        STATUS_MORE_FRAMES,
        STATUS_BUFFER_FULL,
        STATUS_NO_TAG,
    }
)

# CRC-16/MCRF4XX is the bit-reflected twin of CRC-16/XMODEM with a 0xFFFF preset, which
# binascii computes in C: reverse each input byte, run crc_hqx, reverse the 16-bit result.
_REVERSED_BYTES = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


class Variant(Enum):
    """Which inventory dialect the reader speaks (see the module docstring)."""

    UHFREADER18 = "uhfreader18"
    UHFREADER288 = "uhfreader288"


READER_TYPE_UHFREADER18 = 0x09
READER_TYPE_UHFREADER288M = 0x0C


class Uhfreader18Error(Exception):
    """Anything the reader protocol refuses."""


class FrameError(Uhfreader18Error):
    """A frame whose CRC checks but whose content does not fit the command."""


class ReaderStatusError(Uhfreader18Error):
    """The reader answered with an error status."""

    def __init__(self, command: int, status: int, tag_error: int | None = None) -> None:
        self.command = command
        self.status = status
        self.tag_error = tag_error
        text = STATUS_TEXT.get(status, "unknown status")
        if tag_error is not None:
            text += f": {TAG_ERROR_TEXT.get(tag_error, 'unknown tag error')} (0x{tag_error:02X})"
        super().__init__(f"command 0x{command:02X} failed with status 0x{status:02X} ({text})")


def crc16(data: bytes | bytearray) -> int:
    """CRC-16/MCRF4XX of ``data`` (preset 0xFFFF, reflected polynomial 0x8408)."""
    value = crc_hqx(data.translate(_REVERSED_BYTES), 0xFFFF)
    return (_REVERSED_BYTES[value & 0xFF] << 8) | _REVERSED_BYTES[value >> 8]


def _frame(head: bytes) -> bytes:
    crc = crc16(head)
    return head + bytes((crc & 0xFF, crc >> 8))


def _check_byte(name: str, value: int) -> None:
    if not 0 <= value <= 0xFF:
        raise ValueError(f"{name} must be a byte (0..255), got {value}")


def encode_command(address: int, command: int, data: bytes = b"") -> bytes:
    """A host command frame: ``Len Adr Cmd Data CRC_L CRC_H``."""
    _check_byte("address", address)
    _check_byte("command", command)
    if len(data) > 0xFF - MIN_COMMAND_LEN:
        raise ValueError(f"command data too long: {len(data)} bytes")
    return _frame(bytes((len(data) + MIN_COMMAND_LEN, address, command)) + data)


def encode_response(address: int, command: int, status: int, data: bytes = b"") -> bytes:
    """A reader response frame: ``Len Adr reCmd Status Data CRC_L CRC_H``."""
    _check_byte("address", address)
    _check_byte("command", command)
    _check_byte("status", status)
    if len(data) > 0xFF - MIN_RESPONSE_LEN:
        raise ValueError(f"response data too long: {len(data)} bytes")
    return _frame(bytes((len(data) + MIN_RESPONSE_LEN, address, command, status)) + data)


@dataclass(frozen=True, slots=True)
class Command:
    """A decoded host command (what a reader, or the simulator, receives)."""

    address: int
    command: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Response:
    """A decoded reader response (what the host receives)."""

    address: int
    command: int
    status: int
    data: bytes


# --- streaming decoder -------------------------------------------------------------------


@dataclass(slots=True)
class DecoderStats:
    """What a decoder has seen. A *resync* is one burst of skipped bytes; the burst is counted
    once under the cause of its first skip (bad CRC, bad length, another reader's address, or a
    frame cut short by a silent gap)."""

    frames: int = 0
    resyncs: int = 0
    garbage_bytes: int = 0
    bad_crc: int = 0
    bad_length: int = 0
    foreign_address: int = 0
    truncated: int = 0


_BAD_CRC = "bad CRC"
_BAD_LENGTH = "bad length"
_FOREIGN = "another address"
_TRUNCATED = "frame cut short"

F = TypeVar("F", Command, Response)


class FrameDecoder(Generic[F]):
    """Splits a byte stream into CRC-checked frames and resynchronises after anything else.

    ``feed`` returns the complete frames in the bytes so far and keeps an unfinished frame for
    the next call. A byte that cannot start a valid frame (length below the minimum, CRC
    mismatch, or an address other than ``address`` when one is given) is skipped and the next
    byte is tried, so a corrupted length never swallows the frames after it. A candidate that
    claims more bytes than have arrived is held until the bytes come or :meth:`flush` is
    called after a silent gap. The buffer never holds more than one candidate frame (at most
    256 bytes) plus the last chunk, whatever is fed.
    """

    __slots__ = (
        "_address",
        "_burst_cause",
        "_burst_len",
        "_min_len",
        "_name",
        "_pending",
        "_warned",
        "stats",
    )

    def __init__(self, min_len: int, address: int | None, name: str) -> None:
        self._min_len = min_len
        self._address = address
        self._name = name
        self._pending = b""
        self._burst_len = 0
        self._burst_cause = ""
        self._warned = False
        self.stats = DecoderStats()

    @property
    def pending(self) -> int:
        """Bytes held back as the start of an unfinished frame."""
        return len(self._pending)

    def _make(self, frame: bytes) -> F:
        raise NotImplementedError

    def feed(self, data: bytes | bytearray) -> list[F]:
        """Decode the frames completed by ``data``."""
        src = self._pending + data if self._pending else bytes(data)
        out, pos = self._scan(src, final=False)
        self._pending = src[pos:]
        return out

    def flush(self) -> list[F]:
        """The line went quiet: whatever cannot complete now is garbage. Frames that are
        complete inside the held bytes (behind a bogus length) are recovered."""
        src, self._pending = self._pending, b""
        out, _ = self._scan(src, final=True)
        self._end_burst()
        return out

    def reset(self) -> None:
        """Forget held bytes (counted as garbage), e.g. after a timed-out command."""
        if self._pending:
            if not self._burst_len:
                self._burst_cause = _TRUNCATED
            self._burst_len += len(self._pending)
            self._pending = b""
        self._end_burst()

    def _scan(self, src: bytes, *, final: bool) -> tuple[list[F], int]:
        out: list[F] = []
        pos = 0
        end = len(src)
        min_len = self._min_len
        address = self._address
        make = self._make
        while pos < end:
            n = src[pos]
            if n < min_len:
                cause = _BAD_LENGTH
            else:
                stop = pos + n + 1
                if stop > end:
                    if not final:
                        break
                    cause = _TRUNCATED
                else:
                    frame = src[pos:stop]
                    if crc_hqx(frame.translate(_REVERSED_BYTES), 0xFFFF):
                        cause = _BAD_CRC
                    elif address is not None and frame[1] != address:
                        cause = _FOREIGN
                    else:
                        if self._burst_len:
                            self._end_burst()
                        out.append(make(frame))
                        pos = stop
                        continue
            if not self._burst_len:
                self._burst_cause = cause
            self._burst_len += 1
            pos += 1
        self.stats.frames += len(out)
        return out, pos

    def _end_burst(self) -> None:
        skipped = self._burst_len
        if not skipped:
            return
        stats = self.stats
        stats.resyncs += 1
        stats.garbage_bytes += skipped
        cause = self._burst_cause
        if cause == _BAD_CRC:
            stats.bad_crc += 1
        elif cause == _BAD_LENGTH:
            stats.bad_length += 1
        elif cause == _FOREIGN:
            stats.foreign_address += 1
        else:
            stats.truncated += 1
        level = logging.DEBUG if self._warned else logging.WARNING
        self._warned = True
        log.log(
            level,
            "%s: skipped %d byte(s) starting with %s; resynchronised (%d resyncs so far)",
            self._name,
            skipped,
            cause,
            stats.resyncs,
        )
        self._burst_len = 0
        self._burst_cause = ""


class ResponseDecoder(FrameDecoder[Response]):
    """Decodes what a reader sends. With ``address`` set, frames from other addresses are
    treated as noise (they are counted as ``foreign_address``)."""

    __slots__ = ()

    def __init__(self, address: int | None = None, name: str = "uhfreader18") -> None:
        super().__init__(MIN_RESPONSE_LEN, None if address == BROADCAST else address, name)

    def _make(self, frame: bytes) -> Response:
        return Response(frame[1], frame[2], frame[3], frame[4:-2])


class CommandDecoder(FrameDecoder[Command]):
    """Decodes what a host sends (the simulator's side)."""

    __slots__ = ()

    def __init__(self, name: str = "uhfreader18-sim") -> None:
        super().__init__(MIN_COMMAND_LEN, None, name)

    def _make(self, frame: bytes) -> Command:
        return Command(frame[1], frame[2], frame[3:-2])


# --- inventory ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InventoryFrame:
    """One inventory response frame. ``rssi`` is None for the UHFReader18 dialect; ``antenna``
    is the 1-based port the reader reports (288 dialect) or None."""

    status: int
    antenna: int | None
    epcs: tuple[str, ...]
    rssi: tuple[int, ...] | None

    @property
    def more_follow(self) -> bool:
        return self.status == STATUS_MORE_FRAMES

    @property
    def round_complete(self) -> bool:
        """True when this is the last frame of a round that saw every tag it could."""
        return self.status in _INVENTORY_COMPLETE


def inventory_command_data(
    variant: Variant,
    antenna: int = 1,
    *,
    scan_time_s: float = 1.0,
    q_value: int = 4,
    session: int = 0,
    target: int = 0,
) -> bytes:
    """Data of an inventory command for ``variant`` on ``antenna`` (1-based).

    The UHFReader18 takes no data (it has one antenna and its scan time is a stored setting);
    the 288 dialect names the antenna and the scan time (in 100 ms units) in every command."""
    if variant is Variant.UHFREADER18:
        if antenna != 1:
            raise ValueError("a UHFReader18 has a single antenna (1)")
        return b""
    if not 1 <= antenna <= 8:
        raise ValueError(f"antenna must be 1..8, got {antenna}")
    scan = round(scan_time_s * 10)
    if not 3 <= scan <= 0xFF:
        raise ValueError("scan time must be 0.3..25.5 s")
    if not 0 <= q_value <= 15 or not 0 <= session <= 3 or target not in (0, 1):
        raise ValueError("Q must be 0..15, session 0..3, target 0 or 1")
    # Q, Session, MaskMem (EPC), MaskAdr (2 bytes), MaskLen 0 (no mask), Target, Ant, ScanTime
    return bytes((q_value, session, 0x01, 0, 0, 0, target, 0x80 + antenna - 1, scan))


def parse_inventory_command(variant: Variant, data: bytes) -> tuple[int, float | None]:
    """The (antenna, scan time in s) an EPC inventory command asks for (the simulator's side).
    The UHFReader18 form has no data (its 2-byte TID form is :func:`parse_tid_inventory`)."""
    if variant is Variant.UHFREADER18:
        if data:
            raise FrameError(f"UHFReader18 EPC inventory has no data, got {len(data)} bytes")
        return 1, None
    if len(data) < 9:
        raise FrameError(f"288 inventory command needs at least 9 data bytes, got {len(data)}")
    ant = data[-2]
    if not 0x80 <= ant <= 0x87:
        raise FrameError(f"bad antenna byte 0x{ant:02X}")
    return ant - 0x80 + 1, data[-1] / 10


MAX_TID_WORDS = 15


def tid_inventory_command_data(start_word: int, words: int) -> bytes:
    """Data of a UHFReader18 TID inventory: ``AdrTID LenTID`` (manual V2.0 §8.2.1; firmware
    V2.36 and later). The answer has the same layout as an EPC inventory, TIDs in place of
    EPCs."""
    if not 0 <= start_word <= 0xFF or not 1 <= words <= MAX_TID_WORDS:
        raise ValueError(f"TID words must be 1..{MAX_TID_WORDS} from a start word 0..255")
    return bytes((start_word, words))


def parse_tid_inventory(data: bytes) -> tuple[int, int] | None:
    """(start word, word count) of a UHFReader18 TID inventory, None for an EPC inventory.

    Raises :class:`FrameError` for operands of the wrong length and ``ValueError`` for a word
    count outside 1..15 (the reader answers 0xFD and 0xFF to those)."""
    if not data:
        return None
    if len(data) != 2:
        raise FrameError(f"TID inventory takes 2 data bytes (AdrTID LenTID), got {len(data)}")
    if not 1 <= data[1] <= MAX_TID_WORDS:
        raise ValueError(f"LenTID must be 1..{MAX_TID_WORDS}, got {data[1]}")
    return data[0], data[1]


def parse_inventory(response: Response, variant: Variant) -> InventoryFrame:
    """Decode one inventory response frame.

    Raises :class:`ReaderStatusError` for an error status and :class:`FrameError` when the
    tag list does not exactly fill the frame."""
    status = response.status
    if status not in _INVENTORY_STATUSES:
        raise ReaderStatusError(response.command, status)
    data = response.data
    if status == STATUS_NO_TAG and not data:
        return InventoryFrame(status, None, (), None if variant is Variant.UHFREADER18 else ())
    end = len(data)
    antenna: int | None = None
    if variant is Variant.UHFREADER18:
        pos = 0
        tail = 0
    else:
        if end < 1:
            raise FrameError("288 inventory frame without an antenna byte")
        mask = data[0]
        antenna = mask.bit_length() if mask and not mask & (mask - 1) else None
        pos = 1
        tail = 1
    if pos >= end:
        raise FrameError("inventory frame without a tag count")
    count = data[pos]
    pos += 1
    text = data.hex().upper()
    epcs: list[str] = []
    rssi: list[int] = []
    for _ in range(count):
        if pos >= end:
            raise FrameError(f"inventory frame announces {count} tags but holds {len(epcs)}")
        stop = pos + 1 + data[pos]
        if stop + tail > end:
            raise FrameError("EPC runs past the end of the inventory frame")
        epcs.append(text[2 * pos + 2 : 2 * stop])
        if tail:
            rssi.append(data[stop])
        pos = stop + tail
    if pos != end:
        raise FrameError(f"{end - pos} unexpected byte(s) after {count} tags")
    return InventoryFrame(
        status, antenna, tuple(epcs), None if variant is Variant.UHFREADER18 else tuple(rssi)
    )


def encode_inventory_frames(
    address: int,
    variant: Variant,
    antenna: int,
    tags: Sequence[tuple[bytes, int]],
    *,
    final_status: int = STATUS_INVENTORY_DONE,
) -> list[bytes]:
    """The response frames a reader sends for one inventory round (the simulator's side).

    ``tags`` are (EPC bytes, RSSI) pairs; RSSI is only sent in the 288 dialect. Tags are split
    across frames that fit in one length byte; every frame but the last has status 0x03."""
    if variant is Variant.UHFREADER18:
        head = b""
        per_tag = 1
    else:
        head = bytes((1 << (antenna - 1),))
        per_tag = 2
    room = 0xFF - MIN_RESPONSE_LEN - len(head) - 1
    chunks: list[list[tuple[bytes, int]]] = [[]]
    used = 0
    for epc, rssi in tags:
        size = len(epc) + per_tag
        if size > room:
            raise ValueError("EPC too long for one frame")
        if used + size > room:
            chunks.append([])
            used = 0
        chunks[-1].append((epc, rssi))
        used += size
    frames: list[bytes] = []
    for i, chunk in enumerate(chunks):
        body = bytearray(head)
        body.append(len(chunk))
        for epc, rssi in chunk:
            body.append(len(epc))
            body += epc
            if per_tag == 2:
                body.append(rssi)
        status = final_status if i == len(chunks) - 1 else STATUS_MORE_FRAMES
        frames.append(encode_response(address, CMD_INVENTORY, status, bytes(body)))
    return frames


# --- reader information ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReaderInfo:
    """Answer to Get Reader Information (0x21)."""

    address: int
    version: tuple[int, int]
    reader_type: int
    supports_6b: bool
    supports_6c: bool
    band: int
    """Frequency band code: DMaxFre bits 7-6 then DMinFre bits 7-6 (0 user, 1 China 2, 2 US,
    3 Korea, 4 EU on later firmware)."""
    max_channel: int
    min_channel: int
    power_dbm: int | None
    """Output power 0..30, None when the reader reports 0xFF (unknown)."""
    scan_time_s: float
    antenna_mask: int | None = None
    """UHFReader288M only (12 data bytes): the antenna ports enabled, bit 0 = port 1."""
    beep_enabled: bool | None = None
    output_rep: int | None = None
    check_antenna: bool | None = None

    @property
    def variant(self) -> Variant:
        """The inventory dialect this reader type speaks (unknown types: UHFReader18)."""
        if self.reader_type == READER_TYPE_UHFREADER288M:
            return Variant.UHFREADER288
        return Variant.UHFREADER18


_INFO_288_LEN = 12


def parse_reader_info(response: Response) -> ReaderInfo:
    """Decode Get Reader Information (0x21). The UHFReader18 answers 8 data bytes (manual V2.0
    §8.4.1); the UHFReader288M 12, adding ``Ant BeepEn OutputRep CheckAnt`` (the UHFReader288MP
    SDK's GetReaderInformation, and the frame captured from a real reader that chafon-rfid
    pins in its tests)."""
    if response.status != STATUS_SUCCESS:
        raise ReaderStatusError(response.command, response.status)
    d = response.data
    if len(d) < 8:
        raise FrameError(f"reader information needs 8 data bytes, got {len(d)}")
    return ReaderInfo(
        address=response.address,
        version=(d[0], d[1]),
        reader_type=d[2],
        supports_6b=bool(d[3] & 0x01),
        supports_6c=bool(d[3] & 0x02),
        band=((d[4] >> 6) << 2) | (d[5] >> 6),
        max_channel=d[4] & 0x3F,
        min_channel=d[5] & 0x3F,
        power_dbm=None if d[6] == 0xFF else d[6],
        scan_time_s=d[7] / 10,
        antenna_mask=d[8] if len(d) >= _INFO_288_LEN else None,
        beep_enabled=bool(d[9]) if len(d) >= _INFO_288_LEN else None,
        output_rep=d[10] if len(d) >= _INFO_288_LEN else None,
        check_antenna=bool(d[11]) if len(d) >= _INFO_288_LEN else None,
    )


def encode_reader_info(info: ReaderInfo) -> bytes:
    """The response frame for ``info`` (the simulator's side)."""
    data = bytes(
        (
            info.version[0],
            info.version[1],
            info.reader_type,
            (0x01 if info.supports_6b else 0) | (0x02 if info.supports_6c else 0),
            ((info.band >> 2) << 6) | info.max_channel,
            ((info.band & 0x03) << 6) | info.min_channel,
            0xFF if info.power_dbm is None else info.power_dbm,
            round(info.scan_time_s * 10),
        )
    )
    if info.antenna_mask is not None:
        data += bytes(
            (
                info.antenna_mask,
                1 if info.beep_enabled else 0,
                info.output_rep or 0,
                1 if info.check_antenna else 0,
            )
        )
    return encode_response(info.address, CMD_READER_INFO, STATUS_SUCCESS, data)


# --- write EPC ---------------------------------------------------------------------------


def epc_bytes(epc: str) -> bytes:
    """An EPC given as hex, checked to be 1..15 whole 16-bit words as the tag stores it."""
    try:
        raw = bytes.fromhex(epc)
    except ValueError:
        raise ValueError(f"EPC must be hexadecimal: {epc!r}") from None
    if not raw or len(raw) % 2 or len(raw) > 2 * MAX_EPC_WORDS:
        raise ValueError(f"EPC must be 1..{MAX_EPC_WORDS} 16-bit words, got {len(raw)} bytes")
    return raw


def write_epc_command_data(epc: str, password: int = 0) -> bytes:
    """Data of Write EPC (0x04): ``ENum`` (words), access password (4 bytes, MSB first), EPC."""
    raw = epc_bytes(epc)
    if not 0 <= password <= 0xFFFFFFFF:
        raise ValueError("access password must be a 32-bit value")
    return bytes((len(raw) // 2,)) + password.to_bytes(4, "big") + raw


def parse_write_epc_command(data: bytes) -> tuple[bytes, int]:
    """(EPC bytes, access password) of a Write EPC command (the simulator's side)."""
    if len(data) < 5:
        raise FrameError("write EPC command too short")
    words = data[0]
    raw = data[5:]
    if not 1 <= words <= MAX_EPC_WORDS or len(raw) != 2 * words:
        raise FrameError(f"write EPC announces {words} words but carries {len(raw)} bytes")
    return raw, int.from_bytes(data[1:5], "big")


def check_write_epc(response: Response) -> None:
    """Raise :class:`ReaderStatusError` unless the write succeeded."""
    if response.status != STATUS_SUCCESS:
        tag_error = (
            response.data[0] if response.status == STATUS_TAG_ERROR and response.data else None
        )
        raise ReaderStatusError(CMD_WRITE_EPC, response.status, tag_error)
