"""Everything a broker carries, as raw bytes: what another system on the network would see."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

import aiomqtt

from tests.support.tasks import running_task


class Subscriber:
    def __init__(self, port: int, *, tls: ssl.SSLContext | None = None) -> None:
        self.port = port
        self.tls = tls
        self.messages: list[tuple[str, bytes]] = []
        self.ready = asyncio.Event()

    async def run(self) -> None:
        while True:
            with suppress(aiomqtt.MqttError):
                async with aiomqtt.Client("127.0.0.1", self.port, tls_context=self.tls) as client:
                    await client.subscribe("#", qos=1)
                    self.ready.set()
                    async for m in client.messages:
                        raw = m.payload
                        payload = bytes(raw) if isinstance(raw, bytes | bytearray) else b"%r" % raw
                        self.messages.append((str(m.topic), payload))
            await asyncio.sleep(0.1)

    def topics(self) -> list[str]:
        return [topic for topic, _ in self.messages]

    async def wait_for(self, found: Callable[[str, bytes], bool], timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout):
            while not any(found(topic, payload) for topic, payload in self.messages):
                await asyncio.sleep(0.05)


@asynccontextmanager
async def subscribed(port: int, *, tls: ssl.SSLContext | None = None) -> AsyncIterator[Subscriber]:
    subscriber = Subscriber(port, tls=tls)
    async with running_task(subscriber.run(), "test-subscriber"):
        async with asyncio.timeout(20):
            await subscriber.ready.wait()
        yield subscriber
