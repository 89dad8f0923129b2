"""The polling service against the simulated reader: what a sink receives, link state, and the
desk's on-demand commands over the same connection."""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from drivers.uhfreader18 import ReaderStatusError, Variant
from drivers.uhfreader18_client import ReaderUnavailableError, Uhfreader18Poller
from simulators.uhfreader18 import SimTag, Uhfreader18Simulator
from tests.uhfreader18.conftest import RecordingSink, quick_simulator, running, start

EPC_A = "E28011606000020A1B2C3D01"
EPC_B = "E28011606000020A1B2C3D02"
EPC_C = "E28011606000020A1B2C3D03"


def poller(url: str, **options: object) -> Uhfreader18Poller:
    settings: dict[str, object] = {
        "poll_interval_s": 0.01,
        "command_timeout_s": 0.2,
        "inventory_timeout_s": 0.2,
        "backoff_initial_s": 0.02,
        "backoff_max_s": 0.1,
        "rng": random.Random(7),
    }
    settings.update(options)
    return Uhfreader18Poller("shelf-7", url, **settings)  # type: ignore[arg-type]


@pytest.fixture
async def sim288() -> AsyncIterator[Uhfreader18Simulator]:
    async with quick_simulator(Variant.UHFREADER288) as simulator:
        yield simulator


@pytest.fixture
async def sim18() -> AsyncIterator[Uhfreader18Simulator]:
    async with quick_simulator(Variant.UHFREADER18) as simulator:
        yield simulator


@pytest.mark.parametrize("transport", ["pty", "tcp"])
async def test_each_configured_antenna_is_polled_and_its_rounds_reported(
    sim288: Uhfreader18Simulator, sink: RecordingSink, transport: str, tmp_path: Path
) -> None:
    url = await start(sim288, transport, tmp_path)
    sim288.reader.place(1, SimTag(EPC_A, rssi=70, noise=0))
    sim288.reader.place(2, EPC_B)
    sim288.reader.place(4, EPC_C)  # not polled
    async with running(poller(url, antennas=[1, 2, 3]), sink):
        await sink.wait_until(lambda: all(sink.rounds_of(a) >= 3 for a in (1, 2, 3)))
    reads = sink.all_reads
    assert {(r.antenna, r.epc) for r in reads} == {(1, EPC_A), (2, EPC_B)}
    assert {r.rssi for r in reads if r.epc == EPC_A} == {70.0}
    assert {r.reader for r in reads} == {"shelf-7"}
    assert sink.rounds_of(4) == 0
    assert sink.states[0][:2] == ("shelf-7", True)


async def test_dialect_is_taken_from_the_reader_type_when_not_configured(
    sim18: Uhfreader18Simulator, sink: RecordingSink
) -> None:
    url = await start(sim18, "tcp")
    sim18.reader.place(1, EPC_A)
    service = poller(url, antennas=[1])
    async with running(service, sink):
        await sink.wait_until(lambda: sink.rounds_of(1) >= 2)
        assert service.client is not None
        assert service.client.variant is Variant.UHFREADER18
    assert {(r.antenna, r.epc, r.rssi) for r in sink.all_reads} == {(1, EPC_A, None)}


async def test_tags_moved_while_polling_show_up_on_their_new_antenna(
    sim288: Uhfreader18Simulator, sink: RecordingSink
) -> None:
    url = await start(sim288, "tcp")
    sim288.reader.place(1, EPC_A)
    async with running(poller(url, antennas=[1, 2]), sink):
        await sink.wait_until(lambda: any(r.epc == EPC_A for r in sink.all_reads))
        sim288.reader.move(EPC_A, 2)
        await sink.wait_until(lambda: any(r.antenna == 2 for r in sink.all_reads))


async def test_rounds_cut_short_deliver_reads_but_are_not_counted_as_sweeps(
    sim18: Uhfreader18Simulator, sink: RecordingSink
) -> None:
    url = await start(sim18, "tcp")
    sim18.reader.place(1, EPC_A)
    sim18.reader.cut_rounds_short = True
    service = poller(url)
    async with running(service, sink):
        await sink.wait_until(lambda: len(sink.batches) >= 3)
        assert sink.rounds == []
        assert service.incomplete_rounds >= 3
        sim18.reader.cut_rounds_short = False
        await sink.wait_until(lambda: sink.rounds_of(1) >= 1)


@pytest.mark.parametrize("transport", ["pty", "tcp"])
async def test_disconnected_reader_is_reported_down_then_up_again(
    sim18: Uhfreader18Simulator, sink: RecordingSink, transport: str, tmp_path: Path
) -> None:
    url = await start(sim18, transport, tmp_path)
    sim18.reader.place(1, EPC_A)
    async with running(poller(url), sink):
        await sink.wait_until(lambda: sink.ups() == [True] and sink.rounds_of(1) >= 1)
        await sim18.disconnect()
        await sink.wait_until(lambda: sink.ups() == [True, False, True])
        rounds = sink.rounds_of(1)
        await sink.wait_until(lambda: sink.rounds_of(1) > rounds)
    assert "closed" in sink.states[1][2] or "failed" in sink.states[1][2]


async def test_silent_reader_is_reported_down_after_consecutive_timeouts_and_up_when_it_answers(
    sim18: Uhfreader18Simulator, sink: RecordingSink
) -> None:
    url = await start(sim18, "tcp")
    async with running(poller(url, silence_after=2), sink):
        await sink.wait_until(lambda: sink.ups() == [True])
        sim18.silent = True
        await sink.wait_until(lambda: sink.ups() == [True, False])
        assert "no answer" in sink.states[-1][2]
        sim18.silent = False
        await sink.wait_until(lambda: sink.ups() == [True, False, True])


async def test_unreachable_reader_is_reported_down_once_while_retrying(
    sink: RecordingSink,
) -> None:
    with socket.socket() as probe:  # a port with nothing behind it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    service = poller(f"socket://127.0.0.1:{port}", connect_timeout_s=0.5)
    async with running(service, sink):
        await sink.wait_until(lambda: len(sink.states) >= 1)
        await asyncio.sleep(0.3)  # several retries at 20-100 ms backoff
    assert sink.ups() == [False]
    assert "cannot connect" in sink.states[0][2]
    assert not service.up


async def test_desk_commands_share_the_connection_while_polling(
    sim18: Uhfreader18Simulator, sink: RecordingSink
) -> None:
    url = await start(sim18, "tcp")
    sim18.reader.place(1, EPC_A)
    service = poller(url)
    async with running(service, sink):
        await sink.wait_until(lambda: sink.rounds_of(1) >= 1)
        results = await asyncio.gather(
            service.write_epc(EPC_B), service.reader_info(), service.reader_info()
        )
        assert results[1] is not None
        assert [r.epc for r in await service.inventory()] == [EPC_B]
        await sink.wait_until(lambda: sink.all_reads[-1].epc == EPC_B)
    assert sim18.stats.ignored_while_busy == 0  # never two commands at once


async def test_desk_reader_without_polling_writes_and_reads_back_on_demand(
    sim18: Uhfreader18Simulator, sink: RecordingSink
) -> None:
    url = await start(sim18, "pty")
    sim18.reader.place(1, EPC_A)
    service = poller(url, poll=False, antennas=[])
    async with running(service, sink):
        await sink.wait_until(lambda: sink.ups() == [True])
        await service.write_epc(EPC_C)
        reads = await service.inventory()
    assert [(r.antenna, r.epc) for r in reads] == [(1, EPC_C)]
    assert sink.batches == []  # on-demand reads go to the caller only
    assert sink.rounds == []


async def test_desk_reader_is_reported_down_when_health_checks_go_unanswered(
    sim18: Uhfreader18Simulator, sink: RecordingSink
) -> None:
    url = await start(sim18, "tcp")
    service = poller(url, poll=False, antennas=[], health_interval_s=0.02, silence_after=2)
    async with running(service, sink):
        await sink.wait_until(lambda: sink.ups() == [True])
        sim18.silent = True
        await sink.wait_until(lambda: sink.ups() == [True, False])


async def test_on_demand_command_while_disconnected_raises_reader_unavailable() -> None:
    service = poller("socket://127.0.0.1:9")
    with pytest.raises(ReaderUnavailableError):
        await service.inventory()


async def test_write_refused_by_the_reader_reaches_the_desk(
    sim18: Uhfreader18Simulator, sink: RecordingSink
) -> None:
    url = await start(sim18, "tcp")
    service = poller(url, poll=False, antennas=[])
    async with running(service, sink):
        await sink.wait_until(lambda: sink.ups() == [True])
        with pytest.raises(ReaderStatusError, match="no tag"):
            await service.write_epc(EPC_C)


async def test_cancelled_service_closes_its_link(
    sim18: Uhfreader18Simulator, sink: RecordingSink
) -> None:
    url = await start(sim18, "tcp")
    async with running(poller(url), sink):
        await sink.wait_until(lambda: sink.rounds_of(1) >= 1)
    await asyncio.sleep(0)  # let the simulator see the end of the connection
    for _ in range(100):
        if sim18.tcp_clients == 0:
            break
        await asyncio.sleep(0.01)
    assert sim18.tcp_clients == 0


def test_misconfigured_service_is_refused_up_front() -> None:
    with pytest.raises(ValueError, match="scheme"):
        Uhfreader18Poller("r", "http://x")
    with pytest.raises(ValueError, match="antenna"):
        Uhfreader18Poller("r", "/dev/ttyUSB0", antennas=[0])
    with pytest.raises(ValueError, match="one antenna"):
        Uhfreader18Poller("r", "/dev/ttyUSB0", antennas=[1, 2], variant=Variant.UHFREADER18)
    with pytest.raises(ValueError, match="at least one antenna"):
        Uhfreader18Poller("r", "/dev/ttyUSB0", antennas=[])


async def test_reader_at_another_address_is_reported_down_with_a_hint(
    sim18: Uhfreader18Simulator, sink: RecordingSink
) -> None:
    url = await start(sim18, "tcp")
    async with running(poller(url, address=3), sink):
        await sink.wait_until(lambda: len(sink.states) >= 1)
    assert sink.ups() == [False]
    assert "address 3" in sink.states[0][2]
