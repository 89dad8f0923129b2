"""The MQTT side of the daemon (docs/design.md §6.3): outbox delivery and retained state.

One connection per daemon. ``status`` is retained ``online`` while connected and the broker's
Last Will turns it into ``offline`` if the daemon dies; a clean stop publishes ``offline``
itself. Events come from the outbox in order, QoS 1, and are marked delivered only after the
broker acknowledged them. Retained state topics (``climate/{sensor}``, ``stacker/state``,
``readers/{reader}/state``) keep only their latest value and are republished after every
reconnect, so a broker restarted without persistence is brought up to date.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import uuid
from typing import Any
from urllib.parse import urlsplit

import aiomqtt

from daemon.clock import now_us, us_to_iso
from daemon.config import MqttConfig, read_credential
from daemon.metrics import Metrics
from daemon.outbox import Outbox
from daemon.spool import is_unavailable
from drivers.cancellation import raise_if_cancelled
from drivers.reconnect import Backoff

log = logging.getLogger(__name__)


async def _publish(client: aiomqtt.Client, topic: str, payload: str, **kwargs: Any) -> None:
    """``client.publish``, then re-raise a cancellation it swallowed.

    aiomqtt waits for each PUBACK with ``asyncio.wait_for``, which on Python 3.11 returns the
    result instead of raising when a cancellation arrives in the same loop turn; the daemon
    would then never stop.
    """
    await client.publish(topic, payload, **kwargs)
    raise_if_cancelled()


class FastLane:
    """Safety announcements that cannot wait for the database: published at once, QoS 1, not
    durable, flagged ``"provisional": true``. Used while the database is unreachable, so an
    alarm reaches people now; its durable record (and event) follows when the spool is
    replayed."""

    def __init__(self, *, site: str, room: str) -> None:
        self.site = site
        self.room = room
        self.prefix = f"archroom/{site}/{room}"
        self.client: aiomqtt.Client | None = None
        self.sent = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def announce(self, event_type: str, fields: dict[str, object]) -> None:
        body = {
            "event_id": str(uuid.uuid4()),
            "type": event_type,
            "at": us_to_iso(now_us()),
            "site": self.site,
            "room": self.room,
            "provisional": True,
            **fields,
        }
        client = self.client
        if client is None:
            log.warning(
                "no broker either: %s %s only logged", event_type, fields.get("message", "")
            )
            return
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        task = asyncio.get_running_loop().create_task(
            client.publish(f"{self.prefix}/events/{event_type}", payload, qos=1), name="fastlane"
        )
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is None:
            self.sent += 1
        elif not task.cancelled():
            log.warning("provisional announcement not delivered: %s", task.exception())


class RetainedState:
    """Latest value of each retained topic, published whenever it changes or we reconnect."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox
        self.values: dict[str, str] = {}
        self.dirty: set[str] = set()

    def set(self, subtopic: str, value: object) -> None:
        payload = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if self.values.get(subtopic) == payload:
            return
        self.values[subtopic] = payload
        self.dirty.add(subtopic)
        self._outbox.ring()


class MqttPublisher:
    def __init__(
        self,
        config: MqttConfig,
        outbox: Outbox,
        retained: RetainedState,
        metrics: Metrics,
        *,
        fastlane: FastLane | None = None,
        batch: int = 200,
        prune_after_s: float = 7 * 86400,
    ) -> None:
        self.config = config
        self.outbox = outbox
        self.retained = retained
        self.metrics = metrics
        self.fastlane = fastlane
        self.batch = batch
        self.prune_after_us = int(prune_after_s * 1_000_000)
        self.status_topic = f"{outbox.prefix}/status"
        self.connected = False
        self.delivered = 0
        self._last_prune_us = 0

    def _client(self) -> aiomqtt.Client:
        url = urlsplit(self.config.url)
        tls = url.scheme == "mqtts"
        tls_context = None
        if tls:
            tls_context = ssl.create_default_context(
                cafile=str(self.config.ca_file) if self.config.ca_file else None
            )
        password = (
            read_credential(self.config.password_credential)
            if self.config.password_credential
            else None
        )
        client = aiomqtt.Client(
            hostname=url.hostname or "127.0.0.1",
            port=url.port or (8883 if tls else 1883),
            identifier=self.config.client_id or f"archroom-{self.outbox.site}-{self.outbox.room}",
            username=self.config.username,
            password=password,
            keepalive=self.config.keepalive_s,
            tls_context=tls_context,
            will=aiomqtt.Will(self.status_topic, "offline", qos=1, retain=True),
            timeout=10,
        )
        # A batch of QoS 1 publishes is in flight at once by design; don't warn about it.
        client.pending_calls_threshold = self.batch + 10
        return client

    async def run(self) -> None:
        backoff = Backoff(0.5, 15.0)
        while True:
            try:
                async with self._client() as client:
                    backoff.reset()
                    self._set_connected(True)
                    log.info("MQTT connected to %s", self.config.url)
                    try:
                        await self._session(client)
                    except asyncio.CancelledError:
                        await self._say_goodbye(client)
                        raise
            except (aiomqtt.MqttError, OSError) as e:
                self._set_connected(False)
                # Leaving the client while being stopped can fail too (its disconnect): that
                # error replaced the cancellation, and reconnecting would outlive the stop.
                raise_if_cancelled()
                delay = backoff.next_delay()
                backoff.failed(
                    log, "MQTT %s unavailable (%s); retrying in %.1fs", self.config.url, e, delay
                )
                await asyncio.sleep(delay)
            finally:
                self._set_connected(False)

    def _set_connected(self, up: bool) -> None:
        self.connected = up
        self.metrics.mqtt_connected.set(1 if up else 0)

    async def _say_goodbye(self, client: aiomqtt.Client) -> None:
        try:
            await asyncio.wait_for(
                client.publish(self.status_topic, "offline", qos=1, retain=True), 2.0
            )
        except (aiomqtt.MqttError, TimeoutError):
            log.debug("could not publish offline status on the way out")

    async def _session(self, client: aiomqtt.Client) -> None:
        await _publish(client, self.status_topic, "online", qos=1, retain=True)
        self.retained.dirty = set(self.retained.values)
        # An idle connection only notices a broker that went away through this iterator.
        lost = asyncio.create_task(anext(client.messages), name="mqtt-link-watch")
        if self.fastlane is not None:
            self.fastlane.client = client
        try:
            while True:
                if lost.done():
                    lost.result()  # raises MqttError("Disconnected ...")
                await self._flush_retained(client)
                try:
                    sent = await self._flush_outbox(client)
                    if sent < self.batch:
                        self.metrics.outbox_pending.set(await self.outbox.pending_count())
                        await self._maybe_prune()
                except Exception as e:
                    # The outbox is in the database: while it is unreachable, keep the broker
                    # session (status, retained state, provisional alarms) and wait.
                    if not is_unavailable(e):
                        raise
                    sent = 0
                    log.debug("outbox unreachable: %s", e)
                if sent < self.batch:
                    wake = asyncio.create_task(self.outbox.wait(1.0))
                    try:
                        await asyncio.wait({wake, lost}, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        wake.cancel()
        finally:
            if self.fastlane is not None:
                self.fastlane.client = None
            lost.cancel()

    async def _flush_retained(self, client: aiomqtt.Client) -> None:
        while self.retained.dirty:
            subtopic = self.retained.dirty.pop()
            payload = self.retained.values[subtopic]
            try:
                await _publish(
                    client, f"{self.outbox.prefix}/{subtopic}", payload, qos=1, retain=True
                )
            except aiomqtt.MqttError:
                self.retained.dirty.add(subtopic)
                raise

    async def _flush_outbox(self, client: aiomqtt.Client) -> int:
        rows = await self.outbox.pending(self.batch)
        if not rows:
            return 0
        results = await asyncio.gather(
            *(client.publish(r.topic, r.payload, qos=1, retain=r.retain) for r in rows),
            return_exceptions=True,
        )
        raise_if_cancelled()
        acked = []
        failure: BaseException | None = None
        for row, result in zip(rows, results, strict=True):
            if isinstance(result, BaseException):
                failure = result
                break
            acked.append(row.id)
        await self.outbox.mark_delivered(acked, now_us())
        self.delivered += len(acked)
        if failure is not None:
            raise failure
        return len(rows)

    async def _maybe_prune(self) -> None:
        now = now_us()
        if now - self._last_prune_us < 60_000_000:
            return
        self._last_prune_us = now
        pruned = await self.outbox.prune(now - self.prune_after_us)
        if pruned:
            log.info("pruned %d delivered outbox rows", pruned)


class LocalEventLog:
    """Without a broker the outbox is the room's short event log: rows are marked and pruned."""

    def __init__(self, outbox: Outbox, metrics: Metrics, *, prune_after_s: float) -> None:
        self.outbox = outbox
        self.metrics = metrics
        self.prune_after_us = int(prune_after_s * 1_000_000)

    async def run(self) -> None:
        last_prune = 0
        while True:
            rows = await self.outbox.pending(1000)
            await self.outbox.mark_delivered([r.id for r in rows], now_us())
            self.metrics.outbox_pending.set(0)
            now = now_us()
            if now - last_prune > 60_000_000:
                last_prune = now
                await self.outbox.prune(now - self.prune_after_us)
            if len(rows) < 1000:
                await self.outbox.wait(5.0)
