"""Alarms: raised once, cleared once, acknowledged by a person.

A condition alarm (a reader down, humidity above the limit, an item missing) has a key naming
the condition; raising it again while it is active does nothing, and clearing it ends it. An
event alarm (an item carried out without a loan) has nothing to clear it except a person: it
ends when it is acknowledged. Every raise, clear and acknowledgement is one transaction with its
audit entry and its MQTT event. The active set is kept in memory, so device services can
report a condition on every poll without touching the database.
"""

from __future__ import annotations

import builtins
import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, or_, select, update

from daemon.clock import now_us
from daemon.events import AlarmCleared, AlarmRaised
from daemon.ledger.errors import Conflict, NotFound
from daemon.ledger.uow import Ledger, Tx
from daemon.messages import Message, english, key_and_params, params_json
from daemon.metrics import Metrics
from daemon.mqtt import FastLane
from daemon.spool import DatabaseGuard
from daemon.store.schema import alarms

log = logging.getLogger(__name__)

Severity = Literal["info", "warning", "critical"]
EVENT_KINDS = frozenset(
    {"gate.unauthorized", "stacker.job_timeout", "stacker.job_failed", "stacker.foreign_result"}
)


@dataclass(frozen=True, slots=True)
class Alarm:
    id: int
    key: str
    kind: str
    source: str
    severity: str
    message: str
    room: str
    subject: str | None
    raised_us: int
    cleared_us: int | None
    acked_us: int | None
    acked_by: str | None
    words: str | None = None
    """The message as JSON ``{"key", "params"}`` (daemon/messages.py), or None."""

    @property
    def active(self) -> bool:
        return self.cleared_us is None

    @property
    def message_key(self) -> str | None:
        found = _words(self.words)
        return None if found is None else found.key

    @property
    def params(self) -> dict[str, Any] | None:
        found = _words(self.words)
        return None if found is None else params_json(found.params)


def _words(stored: str | None) -> Message | None:
    if not stored:
        return None
    try:
        return Message.from_json(json.loads(stored))
    except ValueError:
        return None


def stored_words(message: str | Message) -> str | None:
    """How an alarm's message is kept beside its English: JSON, or None for plain text."""
    if isinstance(message, str):
        return None
    return json.dumps(message.as_json(), ensure_ascii=False, separators=(",", ":"))


AlarmState = Literal["active", "unacknowledged", "ended", "all"]


@dataclass(frozen=True, slots=True)
class AlarmFilter:
    """Which alarms a list shows: by state, by exact kind, by kinds starting with a prefix."""

    state: AlarmState = "active"
    kind: str | None = None
    kind_prefixes: tuple[str, ...] = ()


PROVISIONAL = 0
"""Alarm id of an alarm raised while the database was unreachable (spooled, not yet stored)."""


class Alarms:
    def __init__(
        self,
        ledger: Ledger,
        metrics: Metrics,
        *,
        guard: DatabaseGuard | None = None,
        fastlane: FastLane | None = None,
    ) -> None:
        self.ledger = ledger
        self.metrics = metrics
        self.room = ledger.room
        self.guard = guard
        self.fastlane = fastlane
        self._active: dict[str, tuple[int, str]] = {}  # key -> (id, kind)
        self._known_kinds: set[str] = set()
        if guard is not None:
            guard.handle("alarm.raise", self._replay_raise)
            guard.handle("alarm.clear", self._replay_clear)

    async def load(self) -> None:
        rows = await self.ledger.store.all(
            select(alarms.c.id, alarms.c.key, alarms.c.kind).where(
                alarms.c.room == self.room, alarms.c.cleared_us.is_(None)
            )
        )
        self._active = {r.key: (r.id, r.kind) for r in rows}
        self._publish_metric()

    def _publish_metric(self) -> None:
        counts = Counter(kind for _, kind in self._active.values())
        for kind in {*counts, *self._known_kinds}:
            self.metrics.alarms_active.labels(kind=kind).set(counts.get(kind, 0))
        self._known_kinds.update(counts)

    def is_active(self, key: str) -> bool:
        return key in self._active

    async def raise_(
        self,
        key: str,
        *,
        kind: str,
        source: str,
        message: str | Message,
        severity: Severity = "warning",
        subject: str | None = None,
        actor: str = "archroom",
        at_us: int | None = None,
    ) -> int | None:
        """Raise the alarm unless it is already active; returns the new alarm id.

        With the database unreachable, the alarm is spooled, announced at once as provisional
        (MQTT and the log) and counted as active; it returns ``PROVISIONAL``.
        """
        if key in self._active:
            return None
        record = {
            "key": key,
            "kind": kind,
            "source": source,
            "message": english(message),
            "words": stored_words(message),
            "severity": severity,
            "subject": subject,
            "actor": actor,
            "at_us": at_us if at_us is not None else now_us(),
        }
        raised: list[int | None] = [None]

        async def attempt() -> None:
            raised[0] = await self._raise_stored(record)

        if self.guard is None:
            await attempt()
            return raised[0]
        if await self.guard.write("alarm.raise", record, attempt):
            return raised[0]
        self._active[key] = (PROVISIONAL, kind)
        self._publish_metric()
        log.error(
            "ALARM %s (%s): %s [database unreachable: spooled]", kind, severity, english(message)
        )
        message_key, params = key_and_params(message)
        if self.fastlane is not None:
            self.fastlane.announce(
                "alarm.raised",
                {
                    "alarm_id": None,
                    "kind": kind,
                    "source": source,
                    "severity": severity,
                    "message": english(message),
                    "message_key": message_key,
                    "params": params,
                    "subject": subject,
                },
            )
        return PROVISIONAL

    async def _raise_stored(self, record: dict[str, Any]) -> int | None:
        async with self.ledger.transaction(record["actor"], at_us=record["at_us"]) as tx:
            return await self.raise_in(
                tx,
                record["key"],
                kind=record["kind"],
                source=record["source"],
                message=_words(record.get("words")) or record["message"],
                severity=record["severity"],
                subject=record["subject"],
            )

    async def _replay_raise(self, record: dict[str, Any]) -> None:
        if self._active.get(record["key"], (None,))[0] == PROVISIONAL:
            del self._active[record["key"]]
        await self._raise_stored(record)

    async def raise_in(
        self,
        tx: Tx,
        key: str,
        *,
        kind: str,
        source: str,
        message: str | Message,
        severity: Severity = "warning",
        subject: str | None = None,
    ) -> int | None:
        """Raise inside the caller's transaction (one commit with the change that caused it)."""
        if key in self._active:
            return None
        existing = await tx.conn.scalar(
            select(alarms.c.id).where(
                alarms.c.room == self.room, alarms.c.key == key, alarms.c.cleared_us.is_(None)
            )
        )
        if existing is not None:
            self._active[key] = (int(existing), kind)
            return None
        alarm_id = await tx.insert(
            alarms,
            key=key,
            kind=kind,
            source=source,
            severity=severity,
            message=english(message),
            words=stored_words(message),
            room=self.room,
            subject=subject,
            raised_us=tx.at_us,
        )
        message_key, params = key_and_params(message)
        tx.audit(
            "alarm.raised",
            subject or source,
            {"alarm_id": alarm_id, "kind": kind, "message": english(message)},
        )
        tx.emit(
            AlarmRaised(
                at_us=tx.at_us,
                alarm_id=alarm_id,
                kind=kind,
                source=source,
                severity=severity,
                message=english(message),
                message_key=message_key,
                params=params,
                subject=subject,
            )
        )

        def activate() -> None:
            self._active[key] = (alarm_id, kind)
            self._publish_metric()

        tx.after_commit(activate)
        return alarm_id

    async def clear(
        self, key: str, *, reason: str, actor: str = "archroom", at_us: int | None = None
    ) -> bool:
        entry = self._active.get(key)
        if entry is None:
            return False
        record = {
            "key": key,
            "reason": reason,
            "actor": actor,
            "at_us": at_us if at_us is not None else now_us(),
        }

        async def attempt() -> None:
            await self._clear_stored(record)

        if self.guard is None:
            await attempt()
            return True
        if not await self.guard.write("alarm.clear", record, attempt):
            self._active.pop(key, None)
            self._publish_metric()
            log.warning("alarm %s cleared (%s) [database unreachable: spooled]", key, reason)
            if self.fastlane is not None:
                self.fastlane.announce(
                    "alarm.cleared",
                    {"alarm_id": None, "kind": entry[1], "source": key, "reason": reason},
                )
        return True

    async def _clear_stored(self, record: dict[str, Any]) -> None:
        alarm_id = await self._active_id(record["key"])
        if alarm_id is not None:
            await self._end(
                alarm_id, reason=record["reason"], actor=record["actor"], at_us=record["at_us"]
            )

    async def _replay_clear(self, record: dict[str, Any]) -> None:
        await self._clear_stored(record)

    async def _active_id(self, key: str) -> int | None:
        found = await self.ledger.store.scalar(
            select(alarms.c.id).where(
                alarms.c.room == self.room, alarms.c.key == key, alarms.c.cleared_us.is_(None)
            )
        )
        return int(found) if found is not None else None

    async def _end(self, alarm_id: int, *, reason: str, actor: str, at_us: int | None) -> None:
        async with self.ledger.transaction(actor, at_us=at_us) as tx:
            row = (await tx.conn.execute(select(alarms).where(alarms.c.id == alarm_id))).first()
            if row is None or row.cleared_us is not None:
                self._active.pop(row.key if row is not None else "", None)
                return
            await tx.conn.execute(
                update(alarms).where(alarms.c.id == alarm_id).values(cleared_us=tx.at_us)
            )
            tx.audit(
                "alarm.cleared", row.subject or row.source, {"alarm_id": alarm_id, "reason": reason}
            )
            tx.emit(
                AlarmCleared(
                    at_us=tx.at_us,
                    alarm_id=alarm_id,
                    kind=row.kind,
                    source=row.source,
                    reason=reason,
                )
            )
        self._active.pop(row.key, None)
        self._publish_metric()

    async def acknowledge(self, alarm_id: int, *, by: str) -> Alarm:
        async with self.ledger.transaction(by) as tx:
            row = (await tx.conn.execute(select(alarms).where(alarms.c.id == alarm_id))).first()
            if row is None or row.room != self.room:
                raise NotFound(f"no alarm {alarm_id} in room {self.room}")
            if row.acked_us is not None:
                raise Conflict(f"alarm {alarm_id} was already acknowledged by {row.acked_by}")
            await tx.conn.execute(
                update(alarms).where(alarms.c.id == alarm_id).values(acked_us=tx.at_us, acked_by=by)
            )
            tx.audit(
                "alarm.acknowledged",
                row.subject or row.source,
                {"alarm_id": alarm_id, "kind": row.kind},
            )
        if row.kind in EVENT_KINDS and row.cleared_us is None:
            await self._end(alarm_id, reason=f"acknowledged by {by}", actor=by, at_us=None)
        return await self.get(alarm_id)

    async def get(self, alarm_id: int) -> Alarm:
        row = await self.ledger.store.first(select(alarms).where(alarms.c.id == alarm_id))
        if row is None:
            raise NotFound(f"no alarm {alarm_id}")
        return Alarm(**row._asdict())

    async def list(
        self,
        *,
        active_only: bool = True,
        kind: str | None = None,
        limit: int = 1000,
        offset: int = 0,
        where: AlarmFilter | None = None,
    ) -> list[Alarm]:
        """Alarms of this room, newest first: active ones, or as ``where`` says."""
        where = where or AlarmFilter(state="active" if active_only else "all", kind=kind)
        query = select(alarms).where(*self._conditions(where))
        query = query.order_by(alarms.c.id.desc()).limit(limit).offset(offset)
        rows = await self.ledger.store.all(query)
        return [Alarm(**r._asdict()) for r in rows]

    async def count(self, where: AlarmFilter) -> int:
        query = select(func.count()).select_from(alarms).where(*self._conditions(where))
        return int(await self.ledger.store.scalar(query) or 0)

    def _conditions(self, where: AlarmFilter) -> Sequence[ColumnElement[bool]]:
        found: builtins.list[ColumnElement[bool]] = [alarms.c.room == self.room]
        if where.state == "active":
            found.append(alarms.c.cleared_us.is_(None))
        elif where.state == "ended":
            found.append(alarms.c.cleared_us.is_not(None))
        elif where.state == "unacknowledged":
            found += [alarms.c.cleared_us.is_(None), alarms.c.acked_us.is_(None)]
        if where.kind is not None:
            found.append(alarms.c.kind == where.kind)
        if where.kind_prefixes:
            kinds = [alarms.c.kind.startswith(p, autoescape=True) for p in where.kind_prefixes]
            found.append(or_(*kinds))
        return found
