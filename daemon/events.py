"""The events the room announces (docs/design.md §6.3), as typed records.

Each one is written to the outbox in the same transaction as the state change it reports,
then published on ``archroom/{site}/{room}/events/{type}`` with QoS 1. Subscribers recognise a
redelivery by ``event_id``. Payloads carry references, EPCs, locations and ids, never the
personal key fields of an item.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    type: ClassVar[str]
    at_us: int

    def fields(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "at_us"
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class LocationChanged(Event):
    type: ClassVar[str] = "location.changed"
    ref: str
    epc: str | None
    from_location: str | None
    to_location: str
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GatePassageRecorded(Event):
    type: ClassVar[str] = "gate.passage"
    gate: str
    epc: str
    ref: str | None
    direction: str
    authorized: bool
    loan_id: int | None
    decided_at: str | None = None
    """When the gate engine became sure (``at`` is the crossing itself)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmRaised(Event):
    type: ClassVar[str] = "alarm.raised"
    alarm_id: int
    kind: str
    source: str
    severity: str
    message: str
    subject: str | None
    message_key: str | None = None
    """The message's key and parameters (daemon/messages.py), when it has them."""
    params: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmCleared(Event):
    type: ClassVar[str] = "alarm.cleared"
    alarm_id: int
    kind: str
    source: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LoanOpened(Event):
    type: ClassVar[str] = "loan.opened"
    loan_id: int
    ref: str
    borrower: str
    due: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LoanReturned(Event):
    type: ClassVar[str] = "loan.returned"
    loan_id: int
    ref: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TagBound(Event):
    type: ClassVar[str] = "tag.bound"
    ref: str
    epc: str
    previous_epc: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StackerJobChanged(Event):
    type: ClassVar[str] = "stacker.job"
    job_id: int
    kind: str
    ref: str | None
    state: str
    result: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClimateActuatorSwitched(Event):
    """An actuator of a room's climate control was switched (and read back so)."""

    type: ClassVar[str] = "climate.actuator"
    room: str
    actuator: str
    kind: str
    on: bool
    reason: str
    by: str
    """``archroom`` for automatic control, else the user whose override it carries out."""


# -- internal: on the in-process bus only, never in the outbox ------------------------------


@dataclass(frozen=True, slots=True)
class TagRetired:
    """A tag was unbound from its item (readers forget it)."""

    ref: str
    epc: str


@dataclass(frozen=True, slots=True)
class ItemHomeChanged:
    """A catalogue record's home location was set or changed."""

    ref: str
