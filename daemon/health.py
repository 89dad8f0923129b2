"""What ``/healthz`` reports: each component's state in words, and the room's overall state.

``ok`` when every component is ok, ``degraded`` when any is not (the daemon still does its
safety duties), never an HTTP error: the endpoint answers as long as the event loop runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

ComponentStatus = Literal["ok", "degraded", "down", "disabled", "starting"]


@dataclass(frozen=True, slots=True)
class Component:
    status: ComponentStatus
    detail: str
    since: float


class Health:
    def __init__(self) -> None:
        self.components: dict[str, Component] = {}

    def set(self, name: str, status: ComponentStatus, detail: str = "") -> None:
        current = self.components.get(name)
        if current is not None and current.status == status and current.detail == detail:
            return
        since = current.since if current is not None and current.status == status else time.time()
        self.components[name] = Component(status, detail, since)

    def remove(self, name: str) -> None:
        self.components.pop(name, None)

    def overall(self) -> Literal["ok", "degraded"]:
        bad = [c for c in self.components.values() if c.status not in ("ok", "disabled")]
        return "degraded" if bad else "ok"
