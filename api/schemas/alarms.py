"""Alarms, as the alarm list and the climate pages show them."""

from __future__ import annotations

from api.schemas.base import DomainOut
from daemon.ledger.alarms import Alarm


class AlarmOut(
    DomainOut,
    domain=Alarm,
    exclude=("key",),
    rename={"acked_us": "acknowledged_at", "acked_by": "acknowledged_by"},
):
    active: bool

    @classmethod
    def of(cls, a: Alarm) -> AlarmOut:
        return cls.from_domain(a)
