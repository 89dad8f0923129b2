"""Climate control: each room's actuators, their state and overrides (docs/climate.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.schemas.base import Out
from daemon.clock import seconds_to_us, us_to_iso
from sensors.service.control import ActuatorView, ControlView


class OverrideOut(Out):
    on: bool
    until: str
    by: str


class ActuatorOut(Out):
    id: str
    room: str
    kind: str
    output: str = Field(description="e.g. 'coil 0 of tcp://10.0.4.20:502 (device 1)'")
    on: bool | None = Field(description="as the output last read back; null until known")
    wanted: bool = Field(description="what the controller (or an override) wants")
    reason: str
    by: str = Field(description="'archroom', or the user whose override it carries out")
    mode: Literal["auto", "on", "off"]
    override: OverrideOut | None
    fault: str | None = Field(description="why the latest switch failed (the output is retried)")
    ineffective: str | None = Field(description="'control not effective', when it is")
    switches: int
    failures: int
    runtime_s: float

    @classmethod
    def of(cls, room: str, v: ActuatorView) -> ActuatorOut:
        a, o = v.config, v.override
        return cls(
            id=a.id,
            room=room,
            kind=a.kind,
            output=f"{a.output} {a.address} of {a.url} (device {a.device_id})",
            on=v.on,
            wanted=v.wanted,
            reason=v.reason,
            by=v.by,
            mode="auto" if o is None else "on" if o.on else "off",
            override=None
            if o is None
            else OverrideOut(on=o.on, until=us_to_iso(seconds_to_us(o.until)), by=o.by),
            fault=v.fault,
            ineffective=v.ineffective,
            switches=v.switches,
            failures=v.failures,
            runtime_s=round(v.runtime_s, 1),
        )


class RoomControlOut(Out):
    id: str
    actuators: list[ActuatorOut]
    max_override_s: float


class ControlOut(Out):
    at: str
    rooms: list[RoomControlOut]

    @classmethod
    def of(cls, view: ControlView) -> ControlOut:
        return cls(
            at=us_to_iso(seconds_to_us(view.t)),
            rooms=[
                RoomControlOut(
                    id=r.room,
                    actuators=[ActuatorOut.of(r.room, a) for a in r.actuators],
                    max_override_s=r.tuning.max_override_s,
                )
                for r in view.rooms
            ],
        )


class OverrideIn(Out):
    mode: Literal["on", "off", "auto"] = Field(
        description="force on or off for duration_s, or hand back to automatic control"
    )
    duration_s: float = Field(
        default=3600.0, gt=0, description="how long the override lasts (not for 'auto')"
    )
