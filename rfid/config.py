"""Configuration of readers, gates and the shelf engine (assembled by daemon.config).

The engine parameters live here, next to the devices they tune, with defaults that suit a
typical room: near-field shelf antennas inventoried every second or so, and a door gate with
one antenna facing the room and one facing out. ``docs/rfid-tuning.md`` says what each one
does and how to tune it on site from a capture.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from drivers.links import modbus_link, parse_link
from drivers.models import StrictModel
from rfid.rssi import RssiUnit

ReaderId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
ReaderRole = Literal["shelf", "gate", "desk"]


class Uhfreader18Config(StrictModel):
    """A UHFReader18 / CF-RU5102 family reader on a serial port or a serial server."""

    type: Literal["uhfreader18"]
    """UHFReader18 / CF-RU5102 family (UHFReader288 dialect detected from the reader type)."""
    id: ReaderId
    """Reader id (lower case, digits, ``-``, ``_``): metric labels, alarms, captures."""
    url: str
    """``serial:///dev/ttyUSB0``, ``socket://host:port`` (serial server) or a device path."""
    role: ReaderRole = "shelf"
    """``shelf`` (locates items), ``gate`` (a door gate's reader) or ``desk`` (tagging)."""
    address: int = Field(default=0, ge=0, le=255)
    """Reader address on the bus (0xFF broadcast)."""
    baudrate: int = 57600
    """Serial line speed (8N1)."""
    antennas: dict[int, str] = Field(default_factory=dict)
    """Antenna number -> location code it watches (shelf readers)."""
    poll_interval_s: float = Field(default=0.2, gt=0)
    """Pause between two inventory rounds of one antenna."""
    rssi_unit: RssiUnit = "raw"
    """Unit of the reader's RSSI: the UHFReader288 dialect reports a raw byte (0-255)."""

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        parse_link(v)
        return v


class LlrpReaderConfig(StrictModel):
    """An LLRP fixed reader (gates, ceiling readers), TCP port 5084."""

    type: Literal["llrp"]
    """LLRP fixed reader."""
    id: ReaderId
    """Reader id (lower case, digits, ``-``, ``_``): metric labels, alarms, captures."""
    url: str
    """``tcp://host:5084``."""
    role: ReaderRole = "gate"
    """``gate`` (a door gate's reader) or ``shelf`` (antennas watching shelves)."""
    antennas: dict[int, str] = Field(default_factory=dict)
    """Antenna number -> location code it watches (shelf role)."""
    keepalive_s: float = Field(default=5.0, gt=0)
    """Keepalive period asked of the reader; a missed keepalive means a dead link."""
    rssi_unit: RssiUnit = "dbm"
    """Unit of the reader's RSSI: LLRP readers report dBm; ``linear`` for readers that report
    a magnitude (hundreds to thousands), ``raw`` for a 0-255 byte."""

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        parse_link(v, default_port=5084)
        return v


ReaderConfig = Annotated[Uhfreader18Config | LlrpReaderConfig, Field(discriminator="type")]


def shelf_antenna_locations(readers: Iterable[ReaderConfig]) -> dict[tuple[str, int], str]:
    """(reader id, antenna) -> location code, for every antenna of every shelf reader."""
    return {
        (reader.id, antenna): location
        for reader in readers
        if reader.role == "shelf"
        for antenna, location in reader.antennas.items()
    }


class ShelfEngineConfig(StrictModel):
    """How sure the shelf engine must be before it moves an item or calls it missing."""

    half_life_sweeps: float = Field(default=3.0, gt=0, le=1000)
    """A read's weight halves with every full sweep of its location."""
    min_reads: int = Field(default=3, ge=2, le=65535)
    """Reads a location needs (since it last forgot the tag) before the tag can settle there.
    At least 2, so that one stray read never moves an item."""
    margin: float = Field(default=2.0, gt=1)
    """A location must score this many times the tag's current location to take it over."""
    absent_sweeps_without_rssi: int = Field(default=10, ge=0, le=1000)
    """``absent_sweeps`` for a read without RSSI (serial readers), which must also beat every
    other location by ``margin``: in a still room a fade of a box's own antenna can last
    several sweeps while the next shelf's antenna keeps hearing it."""
    absent_sweeps: int = Field(default=2, ge=0, le=1000)
    """Full sweeps in a row in which a tag's current location must miss it before the tag can
    settle elsewhere (0: no such condition)."""
    silence_s: float = Field(default=60.0, gt=0)
    """A location forgets a tag once a full sweep that began this long after its last read
    there has completed without reading it."""
    missing_sweeps: int = Field(default=10, ge=1, le=10000)
    """Full sweeps of its expected location without any read of the tag before it is missing."""
    misplaced_after_s: float = Field(default=60.0, ge=0)
    """A tag settled away from its expected location must still be read there this long later
    before it is reported misplaced (a box carried past shelves is not misplaced)."""
    rssi_reference: float = -60.0
    """RSSI (reader units) at which a read weighs as much as a read without RSSI."""
    rssi_doubling: float = Field(default=6.0, gt=0)
    """Every this many RSSI units stronger doubles a read's weight (6 dB by default)."""


class GateParams(StrictModel):
    """How the gate engine tells a crossing from a tag that only came close."""

    edge_share: float = Field(default=0.2, gt=0, le=0.5)
    """Share of a visit, at its start and at its end, whose reads say where the tag came from
    and where it went."""
    margin_db: float = Field(default=10.0, ge=0)
    """Balance between the sides (dB) that each end of a visit must show for a crossing."""
    late_margin_db: float = Field(default=1.0, ge=0)
    """Balance (dB) towards the far side that the rest of the visit, after the tag last leaned
    to the side it came from, must show. Smaller than ``margin_db``: a tag carried away is
    shadowed by its carrier, so both antennas hear it weakly."""
    late_share: float = Field(default=0.12, ge=0, lt=1)
    """Share of the visit's reads that the part after the crossing must hold."""
    dwell_s: float = Field(default=0.0, ge=0)
    """How long the part of a visit after the crossing must last."""
    min_side_reads: int = Field(default=2, ge=1, le=1000)
    """Reads the leading side needs at each end of a visit."""
    confirm_s: float = Field(default=1.5, gt=0)
    """Early decision: the last this many seconds of a visit lean conclusively to the other side
    than all of it before: the passage is decided without waiting for the end of the visit."""
    conclusive_db: float = Field(default=30.0, ge=0)
    """Balance (dB) that counts as conclusive for an early decision, both before and after."""
    linger_s: float = Field(default=10.0, ge=0)
    """Early decision: the tag has been on the far side, by ``margin_db``, this long (a box
    carried out and put down within range); 0: never."""
    linger_margin_db: float = Field(default=10.0, ge=0)
    """Early decision by lingering: every ``smoothing_s`` window of the time beyond the gate
    must lean to the far side by this much (a person standing in the doorway with a box sways
    between the sides); 0: the whole stretch's lean is enough."""
    standing_s: float = Field(default=15.0, ge=0)
    """A visit whose part beyond the gate lasted this long is a crossing only if every
    ``smoothing_s`` window of that part leaned there by ``linger_margin_db`` (a person who
    stood in the doorway and went back sways between the sides); 0: never checked."""
    sparse_share: float = Field(default=0.25, ge=0)
    """When looking for where a tag crossed, each side's count in a window gets this share of
    the visit's mean reads per window added (at least one read): a window of a few reads (a
    fading burst as the tag leaves the field) leans much less than one of many."""
    smoothing_s: float = Field(default=1.5, gt=0)
    """Window over which the balance is judged at a moment: the shortest end of a visit, and
    the crossing estimate. Longer than the reader's antenna switching."""
    companions: int = Field(default=3, ge=0, le=1000)
    """A tag heard too little to be sure by itself (a box in the middle of a cart) goes with
    at least this many tags that crossed one way while it was at the gate, if its own reads
    lean that way too (0: never)."""
    exit_silence_s: float = Field(default=5.0, gt=0)
    """Silence that ends a tag's visit to the gate; the visit is then decided."""
    cooldown_s: float = Field(default=3.0, ge=0)
    """After a passage, no other passage of the same tag whose crossing falls within this time."""
    rssi_doubling: float = Field(default=10.0, gt=0)
    """A side that reads a tag twice as often counts as this many dB stronger."""


class SounderConfig(StrictModel):
    """A sounder or beacon on a Modbus coil (an I/O module or the door PLC), switched on when
    an item leaves without a loan."""

    url: str
    """``tcp://host:502`` of the Modbus TCP device."""
    device_id: int = Field(default=1, ge=0, le=247)
    """Modbus unit (device) id."""
    coil: int = Field(default=0, ge=0, le=65535)
    """Coil (0-based) that switches the sounder."""
    seconds: float = Field(default=10.0, gt=0, le=600)
    """How long it sounds after the last unauthorized removal."""

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if modbus_link(v).scheme != "tcp":
            raise ValueError("the sounder is reached over Modbus TCP: tcp://host:port")
        return v


class GateConfig(GateParams):
    """A door gate: one reader, an antenna facing the room and one facing out."""

    id: ReaderId
    """Gate id (metric label; the gate's location is ``{room}-gate-{id}``)."""
    reader: str
    """Id of the gate's reader (role ``gate``)."""
    inside_antenna: int
    """Antenna facing into the room."""
    outside_antenna: int
    """Antenna facing out of the room."""
    sounder: SounderConfig | None = None
    """Optional sounder switched on by an unauthorized removal through this gate."""

    @model_validator(mode="after")
    def _two_antennas(self) -> GateConfig:
        if self.inside_antenna == self.outside_antenna:
            raise ValueError("inside_antenna and outside_antenna must differ")
        return self
