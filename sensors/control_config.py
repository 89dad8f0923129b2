"""Configuration of climate control: the actuators a room may switch and the controller's tuning.

An actuator is one on/off output: a coil of a Modbus TCP relay module (``output = "coil"``), or
a holding register of the air handler's controller written with a run value and a stop value
(``output = "register"``). Each belongs to one room and does one thing to it (dehumidify,
humidify, cool, heat); the room's controller (sensors/control.py) decides when, from the limits
of the room's class and the tuning in ``[rooms.control]``. See docs/climate.md for wiring and
tuning.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Literal

from pydantic import Field, field_validator, model_validator

from drivers.links import modbus_link
from drivers.models import StrictModel
from sensors.control import ActuatorKind, ControlSettings


class ActuatorConfig(StrictModel):
    """One actuator: where its output is wired, and what it does to its room."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
    """Actuator id: metric label, MQTT event field, API path segment."""
    room: str
    """Room whose climate it changes (the room needs at least one sensor)."""
    kind: ActuatorKind
    """``dehumidifier``, ``humidifier``, ``cooling`` or ``heating``."""
    url: str
    """Modbus TCP device that switches it: ``tcp://host:502``."""
    device_id: int = Field(default=1, ge=0, le=247)
    """Modbus unit (device) id of the relay module or controller."""
    output: Literal["coil", "register"] = "coil"
    """``coil``: a coil switched with FC05 and read back with FC01; ``register``: a holding
    register written with FC06 and read back with FC03."""
    address: int = Field(ge=0, le=65535)
    """0-based PDU address of the coil or register."""
    on_value: int = Field(default=1, ge=0, le=65535)
    """Register value that runs the actuator (``output = "register"`` only)."""
    off_value: int = Field(default=0, ge=0, le=65535)
    """Register value that stops it (``output = "register"`` only)."""
    timeout_s: float = Field(default=1.0, gt=0, le=10)
    """How long to wait for each answer."""
    retry_s: float = Field(default=10.0, gt=0, le=3600)
    """A write that failed is tried again this often until it succeeds."""

    @field_validator("url")
    @classmethod
    def _tcp(cls, v: str) -> str:
        if modbus_link(v).scheme != "tcp":
            raise ValueError(
                f"an actuator is switched over Modbus TCP: use tcp://host:port, not {v!r}"
            )
        return v

    @model_validator(mode="after")
    def _values(self) -> ActuatorConfig:
        if self.output == "register" and self.on_value == self.off_value:
            raise ValueError("on_value and off_value must differ")
        if self.output == "coil" and (self.on_value, self.off_value) != (1, 0):
            raise ValueError("on_value and off_value apply to output = 'register' only")
        return self


_DEFAULTS = ControlSettings()


class ControlTuning(StrictModel):
    """How one room's controller switches its actuators (docs/climate.md, tuning)."""

    interval_s: float = Field(default=5.0, gt=0, le=600)
    """How often the controller looks at the room."""
    temp_margin_c: float = Field(default=_DEFAULTS.temp_margin_c, ge=0, le=10)
    """Cooling/heating switch on this far inside the temperature limit."""
    temp_deadband_c: float = Field(default=_DEFAULTS.temp_deadband_c, gt=0, le=10)
    """... and off again this much further in."""
    rh_margin_pct: float = Field(default=_DEFAULTS.rh_margin_pct, ge=0, le=30)
    """Dehumidifier/humidifier switch on this far inside the humidity limit."""
    rh_deadband_pct: float = Field(default=_DEFAULTS.rh_deadband_pct, gt=0, le=30)
    """... and off again this much further in."""
    min_on_s: float = Field(default=_DEFAULTS.min_on_s, ge=0)
    """Shortest run of an actuator (compressors and elements wear in short cycles)."""
    min_off_s: float = Field(default=_DEFAULTS.min_off_s, ge=0)
    """Shortest rest of an actuator between two runs."""
    stale_after_s: float = Field(default=_DEFAULTS.stale_after_s, gt=0)
    """Readings older than this switch nothing on, and what runs is stopped."""
    condensation_margin_c: float = Field(default=_DEFAULTS.condensation_margin_c, ge=0, le=20)
    """No cooling or humidifying while the air is less than this above its dew point."""
    feedback_after_s: float = Field(default=_DEFAULTS.feedback_after_s, gt=0)
    """An actuator that has run this long without moving the room raises "control not
    effective"."""
    feedback_min_temp_c: float = Field(default=_DEFAULTS.feedback_min_temp_c, gt=0)
    """How far cooling/heating must have moved the temperature by then."""
    feedback_min_rh_pct: float = Field(default=_DEFAULTS.feedback_min_rh_pct, gt=0)
    """How far a (de)humidifier must have moved the humidity by then."""
    max_override_s: float = Field(default=8 * 3600.0, gt=0)
    """Longest manual override a person may ask for."""

    def settings(self) -> ControlSettings:
        """The controller's settings: this tuning's value for each of them."""
        return ControlSettings(**{f.name: getattr(self, f.name) for f in fields(ControlSettings)})
