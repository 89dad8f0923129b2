"""Configuration of the automated stacker (assembled by daemon.config).

Besides the link, the host needs the rack's shape (to choose free cells and to know when a
double-deep cell is blocked), the pick/drop stations, and the handshake's timing. The timing
defaults are those of docs/design.md §4.3: heartbeat at least every second, PLC heartbeat stale
after 3 s, accept within 5 s, execution within 10 minutes.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from drivers.links import ModbusUrl, modbus_link
from drivers.models import StrictModel
from stacker.cells import STATION_AISLE, CellAddress, RackGeometry


class StationConfig(StrictModel):
    """A pick/drop station; stations sit in the reserved aisle 0."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
    side: int = Field(default=1, ge=0, le=65535)
    bay: int = Field(default=0, ge=0, le=65535)
    level: int = Field(default=1, ge=0, le=65535)


class StackerConfig(StrictModel):
    """One AS/RS crane reached over Modbus TCP (register map: stacker.registers)."""

    id: str = "stacker-1"
    """Stacker id (labels, alarms); unique among rooms sharing a database."""
    url: ModbusUrl
    """Modbus TCP link of the PLC, ``tcp://host:502``."""
    device_id: int = Field(default=1, ge=0, le=247)
    """Modbus unit (device) id of the PLC."""

    aisles: int = Field(default=1, ge=1, le=99)
    """Aisles served by the crane."""
    sides: int = Field(default=2, ge=1, le=2)
    """Rack sides along each aisle (1 or 2)."""
    bays: int = Field(default=20, ge=1, le=999)
    """Bays per rack side."""
    levels: int = Field(default=8, ge=1, le=99)
    """Levels per bay."""
    depths: int = Field(default=1, ge=1, le=2)
    """1 = single-deep; 2 = double-deep (depth 1 is the outer cell, next to the aisle)."""
    stations: tuple[StationConfig, ...] = (StationConfig(name="io-1"),)
    """Pick/drop stations (aisle 0 in the register map)."""
    default_station: str | None = None
    """Where retrievals go and stores come from when a job names none (default: the first)."""

    heartbeat_interval_s: float = Field(default=0.5, gt=0, le=1.0)
    """How often the host heartbeat (HR0) is incremented (the PLC holds motion after ~3 s)."""
    poll_interval_s: float = Field(default=0.15, gt=0, le=1.0)
    """How often the PLC's input registers are read."""
    fast_poll_interval_s: float = Field(default=0.01, gt=0, le=1.0)
    """Polling while a strobe waits for its answer."""
    heartbeat_stale_s: float = Field(default=3.0, gt=0)
    """PLC heartbeat (IR0) unchanged this long: stacker down, alarm, no commands."""
    accept_timeout_s: float = Field(default=5.0, gt=0)
    """A strobed job not accepted within this raises an alarm (never a blind resend)."""
    execution_timeout_s: float = Field(default=600.0, gt=0)
    """An accepted job not done within this raises an alarm."""
    request_timeout_s: float = Field(default=1.0, gt=0)
    """Timeout of one Modbus request."""
    reconnect_min_s: float = Field(default=0.5, gt=0)
    """First delay before reconnecting to the PLC."""
    reconnect_max_s: float = Field(default=30.0, gt=0)
    """Cap of the exponential reconnect backoff."""
    station_grace_s: float = Field(default=60.0, ge=0)
    """A box the host did not bring stands at the sensed station this long: alarm (after 2 s
    when a retrieval waits for the station). See docs/stacker.md, "Stations"."""
    verify_rfid: bool = True
    """Ask the PLC to read the box's tag at the pick whenever the job names a box id."""

    @model_validator(mode="after")
    def _stations(self) -> StackerConfig:
        names = [s.name for s in self.stations]
        if not names:
            raise ValueError("stations: at least one pick/drop station is needed")
        if len(set(names)) != len(names):
            raise ValueError("stations: duplicate station name")
        if self.default_station is not None and self.default_station not in names:
            raise ValueError(f"default_station: unknown station {self.default_station!r}")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must not be below reconnect_min_s")
        return self

    @property
    def geometry(self) -> RackGeometry:
        """The rack's shape, as the cell model takes it."""
        return RackGeometry(self.aisles, self.sides, self.bays, self.levels, self.depths)

    def station_cells(self) -> dict[str, CellAddress]:
        """Each station's cell (in aisle 0, at the outer depth) by name, in configured order."""
        return {s.name: CellAddress(STATION_AISLE, s.side, s.bay, s.level) for s in self.stations}

    @property
    def host(self) -> str:
        return modbus_link(self.url).host

    @property
    def port(self) -> int:
        return modbus_link(self.url).port
