"""Configuration of readers, gates and the shelf engine (assembled by daemon.config)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from drivers.links import parse_link

ReaderId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
ReaderRole = Literal["shelf", "gate", "desk"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Uhfreader18Config(_Strict):
    """A UHFReader18 / CF-RU5102 family reader on a serial port or a serial server."""

    type: Literal["uhfreader18"]
    id: ReaderId
    url: str
    role: ReaderRole = "shelf"
    address: int = Field(default=0, ge=0, le=255)
    baudrate: int = 57600
    antennas: dict[int, str] = Field(default_factory=dict)
    """Antenna number -> location code it watches (shelf readers)."""
    poll_interval_s: float = Field(default=0.2, gt=0)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        parse_link(v)
        return v


class LlrpReaderConfig(_Strict):
    """An LLRP fixed reader (gates, ceiling readers), TCP port 5084."""

    type: Literal["llrp"]
    id: ReaderId
    url: str
    role: ReaderRole = "gate"
    antennas: dict[int, str] = Field(default_factory=dict)
    keepalive_s: float = Field(default=5.0, gt=0)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        parse_link(v, default_port=5084)
        return v


ReaderConfig = Annotated[Uhfreader18Config | LlrpReaderConfig, Field(discriminator="type")]


class GateConfig(_Strict):
    """A door gate: one reader, an antenna facing the room and one facing out."""

    id: ReaderId
    reader: str
    inside_antenna: int
    outside_antenna: int
