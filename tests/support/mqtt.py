"""Reading a real broker from a test: every message under a filter, or one retained topic."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from typing import Any, Self

import aiomqtt

from tests.services import Mosquitto
from tests.support.poll import eventually
from tests.support.tasks import running_task


class Listener:
    """Every message under a topic filter on a real broker, as it was sent: (topic, bytes).

    It connects again (and subscribes again) until it is cancelled, so the broker may stop and
    start under it. With ``session`` (a client id) the broker keeps a persistent session for
    it: what is published while the listener is away is delivered when it is back.
    """

    def __init__(
        self,
        port: int,
        topic: str = "#",
        *,
        session: str | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.port = port
        self.topic = topic
        self.session = session
        self.tls = tls
        self.received: list[tuple[str, bytes]] = []
        self.ready = asyncio.Event()

    async def run(self) -> None:
        while True:
            with suppress(aiomqtt.MqttError):
                async with aiomqtt.Client(
                    "127.0.0.1",
                    self.port,
                    identifier=self.session,
                    clean_session=False if self.session else None,
                    tls_context=self.tls,
                ) as client:
                    await client.subscribe(self.topic, qos=1)
                    self.ready.set()
                    async for m in client.messages:
                        raw = m.payload
                        payload = bytes(raw) if isinstance(raw, bytes | bytearray) else b"%r" % raw
                        self.received.append((str(m.topic), payload))
            await asyncio.sleep(0.1)

    async def start(self, stack: AsyncExitStack) -> Self:
        """Run until ``stack`` closes; returns once subscribed."""
        self.ready.clear()
        await stack.enter_async_context(running_task(self.run(), "mqtt listener"))
        await asyncio.wait_for(self.ready.wait(), 10)
        return self

    def topics(self) -> list[str]:
        return [topic for topic, _ in self.received]

    def objects(self) -> list[dict[str, Any]]:
        """The payloads that are JSON objects, in the order they arrived."""
        found = []
        for _, payload in self.received:
            with suppress(ValueError):  # not UTF-8, or not JSON
                value = json.loads(payload)
                if isinstance(value, dict):
                    found.append(value)
        return found


@asynccontextmanager
async def listening(port: int, *, tls: ssl.SSLContext | None = None) -> AsyncIterator[Listener]:
    """Everything the broker on ``port`` carries, for the body of an ``async with``."""
    async with AsyncExitStack() as stack:
        yield await Listener(port, tls=tls).start(stack)


class Subscriber(Listener):
    """What a room publishes under a topic filter, each payload read as JSON (as text if it is
    not JSON)."""

    def __init__(self, broker: Mosquitto, topic: str) -> None:
        super().__init__(broker.port, topic)

    @property
    def messages(self) -> list[tuple[str, dict[str, object] | str]]:
        decoded: list[tuple[str, dict[str, object] | str]] = []
        for topic, payload in self.received:
            text = payload.decode()
            try:
                decoded.append((topic, json.loads(text)))
            except json.JSONDecodeError:
                decoded.append((topic, text))
        return decoded

    def events(self, event_type: str) -> list[dict[str, object]]:
        return [
            p
            for t, p in self.messages
            if t.endswith(f"/events/{event_type}") and isinstance(p, dict)
        ]

    async def wait_for(
        self, event_type: str, timeout: float = 20.0, **match: object
    ) -> dict[str, object]:
        """The first ``event_type`` event whose fields include ``match``."""

        def found() -> dict[str, object] | None:
            for event in self.events(event_type):
                if all(event.get(k) == v for k, v in match.items()):
                    return event
            return None

        return await eventually(found, timeout=timeout, what=f"event {event_type} {match}")


class Retained:
    """Reads one retained topic from the broker with a fresh connection."""

    def __init__(self, broker: Mosquitto) -> None:
        self.broker = broker

    async def get(self, topic: str) -> dict[str, Any] | None:
        """The retained value a new subscriber is given, or None if there is none yet."""
        async with aiomqtt.Client("127.0.0.1", self.broker.port) as client:
            await client.subscribe(topic, qos=1)
            with suppress(TimeoutError):
                async with asyncio.timeout(3):
                    async for message in client.messages:
                        if message.retain:
                            payload: dict[str, Any] = json.loads(bytes(message.payload))
                            return payload
        return None
