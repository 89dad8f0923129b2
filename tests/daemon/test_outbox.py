"""The outbox delivers every event to a real broker, in order, across a broker outage."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import suppress

import aiomqtt
import pytest

from daemon.config import MqttConfig
from daemon.events import LoanReturned
from daemon.metrics import Metrics
from daemon.mqtt import MqttPublisher, RetainedState
from daemon.outbox import Outbox
from daemon.store.db import Store
from tests.services import Mosquitto
from tests.support.mqtt import Listener


async def _produce(store: Store, outbox: Outbox, first: int, count: int) -> None:
    for i in range(first, first + count):
        async with store.write() as conn:
            await outbox.add(conn, LoanReturned(at_us=1_000 + i, loan_id=i, ref=f"REF-{i}"))
        outbox.ring()


async def test_broker_outage_loses_no_event_and_keeps_order(
    mosquitto: Mosquitto, db_url: str
) -> None:
    store = Store.connect(db_url)
    outbox = Outbox(store, site="t", room="r1")
    metrics = Metrics()
    publisher = MqttPublisher(MqttConfig(url=mosquitto.url), outbox, RetainedState(outbox), metrics)
    collector = Listener(
        mosquitto.port, "archroom/t/r1/events/#", session=f"collector-{uuid.uuid4().hex[:8]}"
    )
    tasks = [asyncio.create_task(collector.run()), asyncio.create_task(publisher.run())]
    try:
        await asyncio.wait_for(collector.ready.wait(), 10)
        await _produce(store, outbox, 0, 10)
        async with asyncio.timeout(20):
            while len(collector.received) < 10:
                await asyncio.sleep(0.05)

        mosquitto.stop()
        await _produce(store, outbox, 10, 1000)
        assert await outbox.pending_count() == 1000
        mosquitto.start()

        async with asyncio.timeout(60):
            while len({m["event_id"] for m in collector.objects()}) < 1010:
                await asyncio.sleep(0.1)
        # Duplicates are allowed (QoS 1 redelivery) but only as repeats of the same event_id.
        first_seen: dict[object, int] = {}
        for m in collector.objects():
            first_seen.setdefault(m["event_id"], int(m["loan_id"]))
        assert list(first_seen.values()) == list(range(1010))
        async with asyncio.timeout(10):
            while await outbox.pending_count():
                await asyncio.sleep(0.05)
        assert metrics.mqtt_connected._value.get() == 1
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with suppress(asyncio.CancelledError):
                await t
        await store.close()


async def test_status_is_online_while_connected_and_offline_after_clean_stop(
    mosquitto: Mosquitto, sqlite_url: str
) -> None:
    store = Store.connect(sqlite_url)
    outbox = Outbox(store, site="t", room="r1")
    publisher = MqttPublisher(
        MqttConfig(url=mosquitto.url), outbox, RetainedState(outbox), Metrics()
    )
    task = asyncio.create_task(publisher.run())
    try:
        assert await _retained(mosquitto, "archroom/t/r1/status") == "online"
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        await store.close()
    assert await _retained(mosquitto, "archroom/t/r1/status") == "offline"


async def test_retained_state_is_republished_after_broker_restart_without_persistence(
    mosquitto: Mosquitto, sqlite_url: str
) -> None:
    store = Store.connect(sqlite_url)
    outbox = Outbox(store, site="t", room="r1")
    retained = RetainedState(outbox)
    publisher = MqttPublisher(MqttConfig(url=mosquitto.url), outbox, retained, Metrics())
    task = asyncio.create_task(publisher.run())
    try:
        retained.set("stacker/state", {"mode": "auto"})
        assert await _retained(mosquitto, "archroom/t/r1/stacker/state") == '{"mode": "auto"}'
        mosquitto.close()  # killed: nothing saved
        for f in mosquitto.workdir.glob("*.db"):
            f.unlink()
        mosquitto.start()
        assert (
            await _retained(mosquitto, "archroom/t/r1/stacker/state", timeout=30)
            == '{"mode": "auto"}'
        )
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        await store.close()


async def _retained(broker: Mosquitto, topic: str, timeout: float = 10) -> str:
    """The retained payload of ``topic`` as a fresh subscriber sees it (waits for it to appear)."""
    async with asyncio.timeout(timeout):
        while True:
            with suppress(aiomqtt.MqttError):
                async with aiomqtt.Client("127.0.0.1", broker.port) as client:
                    await client.subscribe(topic, qos=1)
                    with suppress(TimeoutError):
                        async with asyncio.timeout(1):
                            async for message in client.messages:
                                return bytes(message.payload).decode()
            await asyncio.sleep(0.1)


@pytest.fixture(autouse=True)
def _quiet_paho(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("WARNING")


async def test_delivered_rows_are_pruned_after_their_age_and_pending_ones_never(
    store: Store,
) -> None:
    outbox = Outbox(store, site="t", room="r1")
    await _produce(store, outbox, 0, 5)
    rows = await outbox.pending(10)
    await outbox.mark_delivered([r.id for r in rows[:3]], at_us=1_000)
    assert await outbox.prune(older_than_us=500) == 0
    assert await outbox.prune(older_than_us=2_000) == 3
    assert [r.id for r in await outbox.pending(10)] == [r.id for r in rows[3:]]
    assert await outbox.pending_count() == 2
