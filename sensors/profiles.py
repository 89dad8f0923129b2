"""How to read one kind of sensor: registers, data types, scaling, and what counts as a value.

A climate sensor on Modbus is a handful of registers: a function code (03 holding or 04 input),
an address per quantity, a data type, a scale. Cheap RS485 transmitters also answer with
numbers that are not measurements: a broken SHT20 element or an unplugged probe comes back as
an int16 extreme (0x7FFF, 0x8000) or an all-ones word, and a drifting element can report more
than 100 % RH. Such values are *rejected* here, with the reason, so that they are counted and
never averaged into a room's climate.

Two profiles are built in:

- ``xy-md02`` (SHT20/SHT40 element): FC04, temperature int16 x0.1 °C at 0x0001, humidity
  x0.1 % at 0x0002; 9600 8N1, address 1.
- ``rs-ws-n01`` (Renke): FC03, humidity x0.1 % at 0x0000, temperature int16 x0.1 °C at 0x0001;
  4800 8N1, address 1.

``generic`` builds a profile from the configuration. Decoding is pure and total: any register
contents give either a ``Measurement`` or a ``Rejected``, never an exception.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from sensors.config import (
    ByteOrder,
    DataType,
    GenericChannel,
    GenericConfig,
    RsWsN01Config,
    SensorConfig,
    XyMd02Config,
)

FunctionCode = Literal[3, 4]
RejectKind = Literal["error-code", "out-of-range", "malformed"]

_WORDS: dict[DataType, int] = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "float32": 2}
_STRUCT: dict[DataType, str] = {
    "int16": "h",
    "uint16": "H",
    "int32": "i",
    "uint32": "I",
    "float32": "f",
}
_MERGE_SPAN = 16
"""Channels on the same function code within this many registers are read in one request."""


@dataclass(frozen=True, slots=True)
class Measurement:
    temperature_c: float
    humidity_pct: float
    raw: tuple[int, ...]
    """The registers as read, so a frozen ("stuck") sensor can be recognised."""


@dataclass(frozen=True, slots=True)
class Rejected:
    kind: RejectKind
    reason: str


@dataclass(frozen=True, slots=True)
class RegisterBlock:
    """One read request."""

    function_code: FunctionCode
    address: int
    count: int


@dataclass(frozen=True, slots=True)
class Channel:
    """One quantity: where it is, how to turn registers into a number, which numbers to trust."""

    function_code: FunctionCode
    address: int
    data_type: DataType
    scale: float
    valid_min: float
    valid_max: float
    offset: float = 0.0
    byte_order: ByteOrder = "ABCD"
    error_codes: tuple[float, ...] = ()

    @property
    def words(self) -> int:
        return _WORDS[self.data_type]

    def raw_value(self, registers: Sequence[int]) -> float | int:
        """The number the registers hold, before scale and offset (registers are 0..65535)."""
        data = b"".join((r & 0xFFFF).to_bytes(2, "big") for r in registers[: self.words])
        data = _reorder(data, self.byte_order)
        value: float | int = struct.unpack(">" + _STRUCT[self.data_type], data)[0]
        return value

    def decode(
        self, registers: Sequence[int], quantity: str, correction: float
    ) -> float | Rejected:
        if len(registers) < self.words:
            return Rejected(
                "malformed", f"{quantity}: {len(registers)} registers, need {self.words}"
            )
        raw = self.raw_value(registers)
        if raw in self.error_codes:
            return Rejected("error-code", f"{quantity}: sensor error code {_show(raw)}")
        if isinstance(raw, float) and not math.isfinite(raw):
            return Rejected("error-code", f"{quantity}: not a number ({raw})")
        value = raw * self.scale + self.offset + correction
        if not math.isfinite(value) or not self.valid_min <= value <= self.valid_max:
            return Rejected(
                "out-of-range",
                f"{quantity}: {value:g} outside {self.valid_min:g}..{self.valid_max:g}",
            )
        return value


def _reorder(data: bytes, order: ByteOrder) -> bytes:
    """Bring bytes read as ABCD (register order, big-endian words) into big-endian value order."""
    if len(data) == 2:
        return data[::-1] if order in ("BADC", "DCBA") else data
    a, b, c, d = data
    arranged = {
        "ABCD": (a, b, c, d),
        "CDAB": (c, d, a, b),
        "BADC": (b, a, d, c),
        "DCBA": (d, c, b, a),
    }
    return bytes(arranged[order])


def _show(raw: float | int) -> str:
    if isinstance(raw, int):
        return f"{raw} (0x{raw & 0xFFFFFFFF:04X})"
    return f"{raw:g}"


@dataclass(frozen=True, slots=True)
class SerialDefaults:
    baudrate: int
    bytesize: int = 8
    parity: str = "N"
    stopbits: int = 1


@dataclass(frozen=True, slots=True)
class Profile:
    """How to read one sensor, and how to turn what it answers into a measurement."""

    name: str
    temperature: Channel
    humidity: Channel
    serial: SerialDefaults
    temperature_correction_c: float = 0.0
    humidity_correction_pct: float = 0.0
    blocks: tuple[RegisterBlock, ...] = field(init=False, repr=False, compare=False)
    """The read requests, in order: one when both quantities sit close together."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "blocks", _plan(self.temperature, self.humidity))

    def decode(self, answers: Sequence[Sequence[int]]) -> Measurement | Rejected:
        """Decode the registers answered to ``blocks`` (one sequence per block, in order)."""
        blocks = self.blocks
        if len(answers) != len(blocks):
            return Rejected("malformed", f"{len(answers)} answers for {len(blocks)} requests")
        raw: list[int] = []
        for block, registers in zip(blocks, answers, strict=True):
            if len(registers) != block.count:
                return Rejected(
                    "malformed", f"{len(registers)} registers answered, {block.count} asked"
                )
            raw.extend(r & 0xFFFF for r in registers)
        temperature = self.temperature.decode(
            _slice(blocks, answers, self.temperature), "temperature", self.temperature_correction_c
        )
        if isinstance(temperature, Rejected):
            return temperature
        humidity = self.humidity.decode(
            _slice(blocks, answers, self.humidity), "humidity", self.humidity_correction_pct
        )
        if isinstance(humidity, Rejected):
            return humidity
        return Measurement(temperature, humidity, tuple(raw))


def _plan(*channels: Channel) -> tuple[RegisterBlock, ...]:
    blocks: list[RegisterBlock] = []
    for ch in sorted(channels, key=lambda c: (c.function_code, c.address)):
        end = ch.address + ch.words
        if blocks:
            last = blocks[-1]
            if (
                last.function_code == ch.function_code
                and ch.address >= last.address
                and end - last.address <= _MERGE_SPAN
            ):
                count = max(last.count, end - last.address)
                blocks[-1] = RegisterBlock(last.function_code, last.address, count)
                continue
        blocks.append(RegisterBlock(ch.function_code, ch.address, ch.words))
    return tuple(blocks)


def _slice(
    blocks: Sequence[RegisterBlock], answers: Sequence[Sequence[int]], ch: Channel
) -> Sequence[int]:
    for block, registers in zip(blocks, answers, strict=True):
        if block.function_code == ch.function_code and block.address <= ch.address:
            start = ch.address - block.address
            if start + ch.words <= block.count:
                return registers[start : start + ch.words]
    return ()


TEMPERATURE_RANGE = (-40.0, 125.0)
HUMIDITY_RANGE = (0.0, 100.0)
INT16_ERRORS = (32767, -32768)
"""int16 extremes: what these transmitters send when the element does not answer."""

XY_MD02 = Profile(
    name="xy-md02",
    temperature=Channel(4, 0x0001, "int16", 0.1, -40.0, 125.0, error_codes=INT16_ERRORS),
    humidity=Channel(4, 0x0002, "uint16", 0.1, 0.0, 100.0, error_codes=(0xFFFF, 0x7FFF)),
    serial=SerialDefaults(9600),
)
RS_WS_N01 = Profile(
    name="rs-ws-n01",
    temperature=Channel(3, 0x0001, "int16", 0.1, -40.0, 80.0, error_codes=INT16_ERRORS),
    humidity=Channel(3, 0x0000, "uint16", 0.1, 0.0, 100.0, error_codes=(0xFFFF, 0x7FFF)),
    serial=SerialDefaults(4800),
)
GENERIC_SERIAL = SerialDefaults(9600)
BUILTIN: dict[str, Profile] = {p.name: p for p in (XY_MD02, RS_WS_N01)}


def _generic_channel(cfg: GenericChannel, default_range: tuple[float, float]) -> Channel:
    return Channel(
        function_code=cfg.function_code,
        address=cfg.address,
        data_type=cfg.data_type,
        scale=cfg.scale,
        offset=cfg.offset,
        byte_order=cfg.byte_order,
        valid_min=default_range[0] if cfg.valid_min is None else cfg.valid_min,
        valid_max=default_range[1] if cfg.valid_max is None else cfg.valid_max,
        error_codes=cfg.error_codes,
    )


def profile_for(sensor: SensorConfig) -> Profile:
    """The profile that reads ``sensor``, with its calibration corrections applied."""
    if isinstance(sensor, GenericConfig):
        base = Profile(
            name="generic",
            temperature=_generic_channel(sensor.temperature, TEMPERATURE_RANGE),
            humidity=_generic_channel(sensor.humidity, HUMIDITY_RANGE),
            serial=GENERIC_SERIAL,
        )
    elif isinstance(sensor, XyMd02Config):
        base = XY_MD02
    else:
        assert isinstance(sensor, RsWsN01Config)
        base = RS_WS_N01
    return replace(
        base,
        temperature_correction_c=sensor.temperature_offset_c,
        humidity_correction_pct=sensor.humidity_offset_pct,
    )
