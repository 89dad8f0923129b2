"""Alarms, as the alarm list and the climate pages show them."""

from __future__ import annotations

from typing import Any

from api.schemas.base import DomainOut
from daemon.ledger.alarms import Alarm


class AlarmOut(
    DomainOut,
    domain=Alarm,
    exclude=("key", "words"),
    rename={"acked_us": "acknowledged_at", "acked_by": "acknowledged_by"},
):
    active: bool
    message_key: str | None
    """The message's key in the console's catalogues (docs/api.md#messages), or null."""
    params: dict[str, Any] | None
    """The values that fill the message, by name (a nested message is {key, params})."""
