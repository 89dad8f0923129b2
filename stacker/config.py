"""Configuration of the automated stacker (assembled by daemon.config)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from drivers.links import parse_link


class StackerConfig(BaseModel):
    """One AS/RS crane reached over Modbus TCP (register map: stacker.registers)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = "stacker-1"
    url: str
    device_id: int = Field(default=1, ge=0, le=247)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        parse_link(v, default_port=502)
        return v
