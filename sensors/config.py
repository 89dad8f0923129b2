"""Configuration of climate sensors and buses (assembled by daemon.config).

A *bus* is one Modbus link shared by several sensors: an RS485 line on a local serial port, the
same line behind a serial server (RTU frames carried over TCP, ``socket://``), or a Modbus TCP
device or gateway (``tcp://``). Every device on an RS485 line must use the line's speed and
framing, so those belong to the bus; a sensor carries only what is its own (address, room,
polling interval, how many misses in a row make it "down").

The ``generic`` sensor type reads any temperature/humidity transmitter the way Telegraf's modbus
input and Home Assistant's modbus sensors describe one: function code, register address, data
type, byte order, scale and offset, per measured quantity.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from drivers.links import ModbusUrl, modbus_link
from drivers.models import StrictModel


class BusConfig(StrictModel):
    """One Modbus bus: RTU on a serial port, RTU over a serial server, or Modbus TCP."""

    id: str
    """Bus id (sensors name their bus by it)."""
    url: ModbusUrl
    """``serial:///dev/ttyUSB0`` (RS485), ``socket://host:port`` (RTU over TCP) or
    ``tcp://host:502`` (Modbus TCP)."""
    framer: Literal["rtu", "tcp"] = "rtu"
    """Frame format: ``tcp://`` URLs default to ``tcp`` (MBAP header), the others to ``rtu``."""
    baudrate: int | None = Field(default=None, gt=0)
    """Line speed; unset: the default of the bus's sensor profiles (9600 if they differ)."""
    bytesize: Literal[7, 8] = 8
    """Data bits."""
    parity: Literal["N", "E", "O"] = "N"
    """Parity: none, even, odd."""
    stopbits: Literal[1, 2] = 1
    """Stop bits."""
    timeout_s: float = Field(default=0.5, gt=0, le=10)
    """How long to wait for one answer; keep it short so a dead sensor costs the bus little."""
    gap_s: float | None = Field(default=None, ge=0, le=1)
    """Quiet time between two requests; unset: 30 ms with RTU framing, none with Modbus TCP."""
    down_retry_s: float = Field(default=60.0, gt=0)
    """A sensor marked down is probed this often (or at its own interval if longer)."""
    reconnect_max_s: float = Field(default=30.0, gt=0)
    """Cap of the exponential backoff between attempts to reopen the link."""

    @model_validator(mode="before")
    @classmethod
    def _tcp_framer_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and "framer" not in data:
            url = data.get("url")
            if isinstance(url, str) and url.startswith("tcp://"):
                return {**data, "framer": "tcp"}
        return data

    @model_validator(mode="after")
    def _framer_fits_link(self) -> BusConfig:
        scheme = modbus_link(self.url).scheme
        if self.framer == "tcp" and scheme != "tcp":
            raise ValueError(f"framer 'tcp' needs a tcp:// URL, not a {scheme} link")
        return self

    def effective_gap_s(self) -> float:
        if self.gap_s is not None:
            return self.gap_s
        return 0.03 if self.framer == "rtu" else 0.0


class _SensorBase(StrictModel):
    id: str
    """Sensor id: metric label, MQTT topic ``climate/{id}``; unique across a site."""
    bus: str
    """Id of the bus it is wired to."""
    room: str
    """Room whose climate it measures."""
    device_id: int = Field(default=1, ge=1, le=247)
    """Modbus address of the sensor on its bus."""
    interval_s: float = Field(default=10.0, gt=0)
    """Seconds between two polls of this sensor."""
    lazy_error_count: int = Field(default=3, ge=1, le=1000)
    """Failed polls in a row (no answer, error answer, rejected value) before the sensor is down."""
    stuck_after_s: float | None = Field(default=6 * 3600.0, gt=0)
    """Both values unchanged this long marks the sensor down as stuck; unset disables the check."""
    temperature_offset_c: float = Field(default=0.0, ge=-20, le=20)
    """Calibration correction added to every temperature reading."""
    humidity_offset_pct: float = Field(default=0.0, ge=-50, le=50)
    """Calibration correction added to every humidity reading."""


class XyMd02Config(_SensorBase):
    type: Literal["xy-md02"]
    """XY-MD02 (SHT20) profile: FC04, T at 0x0001, RH at 0x0002, x0.1; 9600 8N1."""


class RsWsN01Config(_SensorBase):
    type: Literal["rs-ws-n01"]
    """Renke RS-WS-N01 profile: FC03, RH at 0x0000, T at 0x0001, x0.1; 4800 8N1."""


def _require_below(low: float | None, high: float | None, message: str) -> None:
    """A range given by both ends must be a range: ``low`` below ``high`` (else ``message``)."""
    if low is not None and high is not None and low >= high:
        raise ValueError(message)


DataType = Literal["int16", "uint16", "int32", "uint32", "float32"]
ByteOrder = Literal["ABCD", "CDAB", "BADC", "DCBA"]


class GenericChannel(StrictModel):
    """Where and how one quantity is read (Telegraf ``[[inputs.modbus.request.fields]]`` style)."""

    function_code: Literal[3, 4] = 3
    """3: holding registers, 4: input registers."""
    address: int = Field(ge=0, le=65535)
    """0-based PDU address (subtract 1 from a "40001"/"30001"-style register number's tail)."""
    data_type: DataType = "int16"
    """``int16``, ``uint16``, ``int32``, ``uint32`` or ``float32``."""
    byte_order: ByteOrder = "ABCD"
    """ABCD big-endian, CDAB word-swapped, BADC byte-swapped, DCBA little-endian.

    For 16-bit types only the swap within the word counts (ABCD/CDAB = AB, BADC/DCBA = BA)."""
    scale: float = 1.0
    """Multiplier of the raw value."""
    offset: float = 0.0
    """value = raw * scale + offset."""
    valid_min: float | None = None
    """Lowest accepted value after scaling."""
    valid_max: float | None = None
    """Accepted range after scaling; unset: -40..125 °C for temperature, 0..100 % for humidity."""
    error_codes: tuple[float, ...] = ()
    """Raw values (before scale and offset) the device sends instead of a measurement."""

    @field_validator("scale")
    @classmethod
    def _scale(cls, v: float) -> float:
        if v == 0:
            raise ValueError("scale must not be 0")
        return v

    @model_validator(mode="after")
    def _fits(self) -> GenericChannel:
        words = 1 if self.data_type in ("int16", "uint16") else 2
        if self.address + words > 65536:
            raise ValueError(f"{self.data_type} at {self.address} runs past register 65535")
        _require_below(self.valid_min, self.valid_max, "valid_min must be below valid_max")
        return self


class GenericConfig(_SensorBase):
    """Any Modbus temperature/humidity sensor, described register by register."""

    type: Literal["generic"]
    """Registers, data types and scaling given in ``temperature`` and ``humidity``."""
    temperature: GenericChannel
    humidity: GenericChannel


SensorConfig = Annotated[XyMd02Config | RsWsN01Config | GenericConfig, Field(discriminator="type")]


ROOM_CLASSES = ("paper", "special", "av", "film-copy", "film-master")
"""Storage classes of JGJ 25-2010 §5.2 (the limits live in sensors.limits)."""


class LimitsOverride(StrictModel):
    """Per-room overrides of the class limits (°C and % RH); unset fields keep the class value."""

    temp_min_c: float | None = None
    """Lowest acceptable temperature, °C."""
    temp_max_c: float | None = None
    """Highest acceptable temperature, °C."""
    rh_min_pct: float | None = Field(default=None, ge=0, le=100)
    """Lowest acceptable relative humidity, %."""
    rh_max_pct: float | None = Field(default=None, ge=0, le=100)
    """Highest acceptable relative humidity, %."""
    temp_swing_c: float | None = Field(default=None, gt=0)
    """Largest temperature range allowed within 24 h, °C (JGJ 25-2010 §5.2.3: 2)."""
    rh_swing_pct: float | None = Field(default=None, gt=0)
    """Largest humidity range allowed within 24 h, % (JGJ 25-2010 §5.2.3: 5)."""
    temp_hysteresis_c: float | None = Field(default=None, ge=0)
    """How far back inside a limit the temperature must come before its alarm clears."""
    rh_hysteresis_pct: float | None = Field(default=None, ge=0)
    """How far back inside a limit the humidity must come before its alarm clears."""
    min_duration_s: float | None = Field(default=None, ge=0)
    """How long a condition must hold before its alarm is raised (and its end before it clears)."""

    @model_validator(mode="after")
    def _ordered(self) -> LimitsOverride:
        _require_below(self.temp_min_c, self.temp_max_c, "temp_min_c must be below temp_max_c")
        _require_below(self.rh_min_pct, self.rh_max_pct, "rh_min_pct must be below rh_max_pct")
        return self


class ClimateConfig(StrictModel):
    """How the daemon judges its rooms and keeps their history (the ``[climate]`` table)."""

    stale_after_s: float | None = Field(default=None, gt=0)
    """A sensor's latest reading stops counting for its room after this long; unset: three
    polling intervals of the slowest sensor, at least 30 s."""
    smoothing_s: float = Field(default=300.0, ge=0)
    """Alarms judge the mean of this many seconds of readings, not single readings."""
    per_sensor_alarms: bool = False
    """Also judge every sensor on its own against its room's limits (besides the room)."""
    history_retention_days: float = Field(default=400.0, gt=0)
    """Per-minute history older than this is deleted (default: a year and a season)."""
    history_flush_s: float = Field(default=10.0, gt=0, le=600)
    """How often finished minutes are written to the database, in one transaction."""
    replay_history_s: float = Field(default=86400.0, ge=0, le=30 * 86400.0)
    """At start, this much stored history is replayed into the rooms' judgement, so the 24 h
    fluctuation rule and the preservation figures survive a restart; 0 starts afresh."""
