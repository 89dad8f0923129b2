"""Configuration of climate sensors and buses (assembled by daemon.config)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from drivers.links import parse_link


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BusConfig(_Strict):
    """One Modbus bus: RTU on a serial port, RTU over a serial server, or Modbus TCP."""

    id: str
    url: str
    framer: Literal["rtu", "tcp"] = "rtu"

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        parse_link(v, default_port=502)
        return v


class _SensorBase(_Strict):
    id: str
    bus: str
    room: str
    device_id: int = Field(default=1, ge=1, le=247)
    interval_s: float = Field(default=10.0, gt=0)


class XyMd02Config(_SensorBase):
    type: Literal["xy-md02"]


class RsWsN01Config(_SensorBase):
    type: Literal["rs-ws-n01"]


SensorConfig = Annotated[XyMd02Config | RsWsN01Config, Field(discriminator="type")]


ROOM_CLASSES = ("paper", "special", "av", "film-copy", "film-master")
"""Storage classes of JGJ 25-2010 §5.2 (the limits live in sensors.limits)."""


class LimitsOverride(_Strict):
    """Per-room overrides of the class limits (°C and % RH); unset fields keep the class value."""

    temp_min_c: float | None = None
    temp_max_c: float | None = None
    rh_min_pct: float | None = Field(default=None, ge=0, le=100)
    rh_max_pct: float | None = Field(default=None, ge=0, le=100)
    temp_swing_c: float | None = Field(default=None, gt=0)
    rh_swing_pct: float | None = Field(default=None, gt=0)
