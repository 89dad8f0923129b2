"""Reading a real broker from a test: every message under a filter, or one retained topic."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack, suppress
from typing import Any

import aiomqtt

from tests.services import Mosquitto
from tests.support.poll import eventually


class Subscriber:
    """Collects every message under a topic filter from a real broker."""

    def __init__(self, broker: Mosquitto, topic: str) -> None:
        self.broker = broker
        self.topic = topic
        self.messages: list[tuple[str, dict[str, object] | str]] = []
        self.ready = asyncio.Event()

    async def run(self) -> None:
        while True:
            with suppress(aiomqtt.MqttError):
                async with aiomqtt.Client("127.0.0.1", self.broker.port) as client:
                    await client.subscribe(self.topic, qos=1)
                    self.ready.set()
                    async for m in client.messages:
                        text = bytes(m.payload).decode()
                        try:
                            self.messages.append((str(m.topic), json.loads(text)))
                        except json.JSONDecodeError:
                            self.messages.append((str(m.topic), text))
            await asyncio.sleep(0.1)

    async def start(self, stack: AsyncExitStack) -> Subscriber:
        """Run until ``stack`` closes; returns once subscribed."""
        task = asyncio.create_task(self.run(), name="mqtt subscriber")

        async def stop() -> None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

        stack.push_async_callback(stop)
        await asyncio.wait_for(self.ready.wait(), 10)
        return self

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
