"""The live feed: the room's events pushed to open console pages as server-sent events.

The console only ever needs one direction (a page acts through the REST API), so it listens
with ``EventSource``: plain HTTP that passes proxies, reconnects by itself, and needs nothing
beyond what the daemon already serves. Each open page is one subscription to the daemon's
in-process bus, with a bounded queue: a page that stops reading (a tablet asleep with the tab
open) loses events instead of slowing the room, and is told to reload what it shows
(``resync``). Every event a page receives is one the room also announces on MQTT
(docs/design.md §6.3), so personal key fields never travel here either.

A stream ends when its client goes away (the server cancels it), when the token it was
opened with is revoked or expires (checked every ``recheck_s``), or when the feed is closed
(the daemon stopping); in the last two cases the page is told why in an ``end`` event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import ClassVar, Protocol

from fastapi.sse import ServerSentEvent

from api.console.tickets import Grant
from daemon.bus import Bus
from daemon.clock import us_to_iso
from daemon.events import (
    AlarmCleared,
    AlarmRaised,
    Event,
    GatePassageRecorded,
    LoanOpened,
    LoanReturned,
    LocationChanged,
    StackerJobChanged,
    TagBound,
)
from daemon.tokens import Principal

log = logging.getLogger(__name__)

LIVE_EVENTS: tuple[type[Event], ...] = (
    AlarmRaised,
    AlarmCleared,
    LocationChanged,
    GatePassageRecorded,
    LoanOpened,
    LoanReturned,
    TagBound,
    StackerJobChanged,
)
RETRY_MS = 3000


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedClosed(Event):
    """The feed's own end marker: queued behind every event the streams still have to send."""

    type: ClassVar[str] = "feed.closed"
    reason: str


class FeedUnavailable(Exception):
    """No stream can be opened now (the feed is closed, or too many streams are open)."""


def message_of(event: Event) -> ServerSentEvent:
    """One bus event as the page receives it: the event type, and its fields with ``at``."""
    return ServerSentEvent(event=event.type, data={**event.fields(), "at": us_to_iso(event.at_us)})


def end_message(reason: str, detail: str) -> ServerSentEvent:
    """Why the server ends a stream: ``token`` (log in again) or ``closed`` (reconnect later)."""
    return ServerSentEvent(event="end", data={"reason": reason, "detail": detail})


class Slot:
    """One admitted stream's place in the feed; releasing it twice gives back one place."""

    def __init__(self, feed: LiveFeed) -> None:
        self._feed: LiveFeed | None = feed

    def release(self) -> None:
        if self._feed is not None:
            self._feed.open_streams -= 1
            self._feed = None


class Verifier(Protocol):
    """Checks a stream's token or session secret again (``api.auth.Credentials``)."""

    async def verify(self, credential: str, /) -> Principal | None: ...


class LiveFeed:
    def __init__(
        self,
        bus: Bus,
        tokens: Verifier,
        *,
        recheck_s: float = 15.0,
        queue_size: int = 1000,
        max_streams: int = 100,
    ) -> None:
        self.bus = bus
        self.tokens = tokens
        self.recheck_s = recheck_s
        self.queue_size = queue_size
        self.max_streams = max_streams
        self.open_streams = 0
        self.closed = False

    def admit(self) -> Slot:
        """Take one of the ``max_streams`` places, or raise FeedUnavailable, in words.

        The place is counted here, when the request is admitted, not when its stream starts
        sending: requests that arrive together are all admitted before any stream starts, so
        counting later would let any number of them in."""
        if self.closed:
            raise FeedUnavailable("the daemon is stopping; the page reconnects by itself")
        if self.open_streams >= self.max_streams:
            raise FeedUnavailable(
                f"{self.open_streams} live pages are open already; close some and reload"
            )
        self.open_streams += 1
        return Slot(self)

    def close(self, reason: str = "the daemon is stopping") -> None:
        """End every open stream, after the events already queued for it."""
        self.closed = True
        self.bus.publish(FeedClosed(at_us=0, reason=reason))

    async def stream(self, grant: Grant, slot: Slot) -> AsyncGenerator[ServerSentEvent, None]:
        """The stream of an admitted request; its place is given back when it ends."""
        sub = self.bus.subscribe(*LIVE_EVENTS, FeedClosed, maxsize=self.queue_size)
        log.debug("live stream opened for %s", grant.principal.name)
        try:
            yield ServerSentEvent(
                event="hello", data={"user": grant.principal.name}, retry=RETRY_MS
            )
            loop = asyncio.get_running_loop()
            next_check = loop.time() + self.recheck_s
            dropped = 0
            while True:
                event: Event | None = None
                try:
                    async with asyncio.timeout_at(next_check):
                        event = await sub.get()
                except TimeoutError:
                    pass
                if loop.time() >= next_check:
                    if await self.tokens.verify(grant.token) is None:
                        yield end_message("token", "the token was revoked or has expired")
                        return
                    next_check = loop.time() + self.recheck_s
                if event is None:
                    continue
                if isinstance(event, FeedClosed):
                    yield end_message("closed", event.reason)
                    return
                if sub.dropped != dropped:
                    dropped = sub.dropped
                    yield ServerSentEvent(event="resync", data={"dropped": dropped})
                yield message_of(event)
        finally:
            sub.close()
            slot.release()
            log.debug("live stream closed for %s", grant.principal.name)
