"""The LLRP reader service against the gate simulator, over real TCP."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Literal

import pytest
from llrpkit import Reader
from llrpkit.client import LLRPClient, check_status
from llrpkit.inventory import build_rospec
from llrpkit.protocol import messages, params

from drivers.llrp import LlrpReaderService
from drivers.tagread import TagRead
from simulators.llrp_gate import (
    INSIDE_ANTENNA,
    OUTSIDE_ANTENNA,
    Cross,
    GateScript,
    LlrpGateSimulator,
    Static,
)
from tests.llrp.conftest import RecordingSink, eventually, running

EPC = "E28011700000020A000000AA"


def service_for(
    sim: LlrpGateSimulator, *, round_s: float | None = None, antennas: list[int] | None = None
) -> LlrpReaderService:
    """A service tuned for tests: keepalive every 0.3 s (dead after 1 s without one, so a busy
    test machine does not look like a dead reader), quick timeouts, quick retries."""
    return LlrpReaderService(
        "gate-1",
        "127.0.0.1",
        sim.port,
        antennas,
        keepalive_s=0.3,
        dead_after_s=1.0,
        response_timeout_s=0.5,
        connect_timeout_s=1.0,
        backoff_initial_s=0.05,
        backoff_max_s=0.2,
        round_s=round_s,
    )


@contextlib.asynccontextmanager
async def serving(
    sim: LlrpGateSimulator,
    sink: RecordingSink,
    *,
    round_s: float | None = None,
    antennas: list[int] | None = None,
) -> AsyncIterator[LlrpReaderService]:
    """Run a ``service_for`` the started ``sim`` that delivers into ``sink``."""
    service = service_for(sim, round_s=round_s, antennas=antennas)
    async with running(service, sink):
        yield service


def static_tag(antenna: int = INSIDE_ANTENNA, rssi: float = -55.0) -> GateScript:
    return GateScript([Static(epc=EPC, antenna=antenna, rssi=rssi, read_probability=1.0)])


async def test_service_installs_and_starts_one_rospec_then_reports_link_up() -> None:
    sink = RecordingSink()
    async with LlrpGateSimulator(static_tag()) as sim, serving(sim, sink) as service:
        await sink.until(lambda: sink.ups == 1)
        assert sim.rospec_states() == {1: "Active"}
        assert sim.rospec_adds == 1
        assert service.up
        up, reason = sink.links[0]
        assert up
        assert "antennas [1, 2]" in reason


async def test_installed_rospec_reports_each_tag_with_antenna_peak_rssi_and_first_seen() -> None:
    sink = RecordingSink()
    async with LlrpGateSimulator(static_tag()) as sim, serving(sim, sink):
        await sink.until(lambda: sink.ups == 1)
        report_spec = sim.rospecs()[1].ro_report_spec
    assert report_spec is not None
    content = report_spec.tag_report_content_selector
    assert content.enable_antenna_id
    assert content.enable_peak_rssi
    assert content.enable_first_seen_timestamp
    assert report_spec.n == 1


async def test_llrpkits_own_inventory_reads_the_gate_simulator() -> None:
    async with (
        LlrpGateSimulator(static_tag(antenna=OUTSIDE_ANTENNA)) as sim,
        Reader("127.0.0.1", sim.port) as reader,
    ):
        tags = [tag async for tag in reader.inventory(max_tags=3)]
    assert {(tag.epc_hex.upper(), tag.antenna) for tag in tags} == {(EPC, OUTSIDE_ANTENNA)}


async def test_reads_arrive_as_tag_reads_with_antenna_upper_hex_epc_and_dbm() -> None:
    sink = RecordingSink()
    script = GateScript([Static(epc=EPC.lower(), antenna=OUTSIDE_ANTENNA, rssi=-50.0)])
    async with LlrpGateSimulator(script, noise_db=0.0) as sim, serving(sim, sink) as service:
        await sink.until(lambda: len(sink.all_reads) >= 5)
    for read in sink.all_reads:
        assert read.reader == "gate-1"
        assert read.epc == EPC
        assert read.antenna == OUTSIDE_ANTENNA
        assert read.rssi == -50.0
    assert service.reads == len(sink.all_reads)
    assert service.reports >= len(sink.batches)


def _centre_of_strength(reads: list[TagRead], antenna: int) -> float:
    """Read time weighted by linear signal power: where along the pass an antenna saw it best."""
    weights = [(r.t, 10 ** ((r.rssi or -100.0) / 10)) for r in reads if r.antenna == antenna]
    return sum(t * w for t, w in weights) / sum(w for _, w in weights)


@pytest.mark.parametrize(
    ("direction", "near", "far"),
    [("out", INSIDE_ANTENNA, OUTSIDE_ANTENNA), ("in", OUTSIDE_ANTENNA, INSIDE_ANTENNA)],
)
async def test_crossing_is_seen_first_and_rising_on_the_near_side_and_last_on_the_far_side(
    direction: Literal["in", "out"], near: int, far: int
) -> None:
    sink = RecordingSink()
    crossing = Cross(epc=EPC, direction=direction, start=0.3, duration=1.2)
    script = GateScript([crossing])
    async with LlrpGateSimulator(script, seed=7) as sim, serving(sim, sink) as service:
        await sink.until(lambda: sink.ups == 1)
        await eventually(lambda: script.finished(sim.script_time()))
        await eventually(lambda: service.reports >= sim.reads_sent)
    reads = sink.all_reads
    assert {r.antenna for r in reads} == {near, far}
    assert reads[0].antenna == near
    assert reads[-1].antenna == far
    near_reads = [r for r in reads if r.antenna == near]
    assert near_reads[0].rssi is not None
    assert max(r.rssi or -100.0 for r in near_reads) > near_reads[0].rssi + 10
    assert _centre_of_strength(reads, near) < _centre_of_strength(reads, far)
    assert [r.t for r in reads] == sorted(r.t for r in reads)


async def test_stale_rospecs_left_on_the_reader_are_deleted_before_installing() -> None:
    sink = RecordingSink()
    async with LlrpGateSimulator(static_tag()) as sim:
        async with LLRPClient("127.0.0.1", sim.port) as other:
            check_status(
                await other.transact(messages.ADD_ROSPEC(ro_spec=build_rospec(ro_spec_id=7)))
            )
        assert sim.rospec_states() == {7: "Disabled"}
        async with serving(sim, sink):
            await sink.until(lambda: sink.ups == 1)
            assert sim.rospec_states() == {1: "Active"}


async def test_dropped_link_goes_down_then_reconnects_reinstalls_rospec_and_reads_resume() -> None:
    sink = RecordingSink()
    async with LlrpGateSimulator(static_tag()) as sim, serving(sim, sink) as service:
        await sink.until(lambda: sink.ups == 1 and len(sink.batches) >= 1)
        assert await sim.drop_connection()
        await sink.until(lambda: len(sink.downs) == 1)
        assert sink.downs[0].startswith("connection lost")
        assert not service.up
        await sink.until(lambda: sink.ups == 2)
        reads_before = len(sink.all_reads)
        await sink.until(lambda: len(sink.all_reads) > reads_before)
        assert sim.rospec_adds == 2
        assert sim.rospec_states() == {1: "Active"}
        assert service.rospec_installs == 2
        assert service.link_losses == 1
        assert service.reconnects >= 1


async def test_inventory_ended_on_the_reader_side_is_reinstalled_and_reads_resume() -> None:
    sink = RecordingSink()
    async with LlrpGateSimulator(static_tag()) as sim, serving(sim, sink):
        await sink.until(lambda: sink.ups == 1)
        await sim.end_inventory()
        await sink.until(lambda: sink.ups == 2)
        reads_before = len(sink.all_reads)
        await sink.until(lambda: len(sink.all_reads) > reads_before)
    assert sink.downs[0] == "the reader ended the inventory ROSpec"
    assert sim.rospec_adds == 2


async def test_repeated_connection_failures_warn_once_then_log_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with LlrpGateSimulator() as sim:
        port = sim.port
    service = LlrpReaderService(
        "gate-1", "127.0.0.1", port, keepalive_s=0.3, backoff_initial_s=0.01, backoff_max_s=0.02
    )
    with caplog.at_level(logging.DEBUG, logger="drivers.llrp"):
        async with running(service, RecordingSink()):
            await eventually(lambda: service.reconnects >= 3)
    retries = [r.levelno for r in caplog.records if "retrying in" in r.getMessage()]
    assert retries[0] == logging.WARNING
    assert set(retries[1:]) == {logging.DEBUG}


async def test_reader_that_stops_sending_keepalives_is_declared_dead_and_reconnected() -> None:
    sink = RecordingSink()
    async with LlrpGateSimulator(static_tag()) as sim, serving(sim, sink) as service:
        await sink.until(lambda: sink.ups == 1)
        await eventually(lambda: sim.keepalives_sent >= 2)
        sim.silence_keepalives()
        await sink.until(lambda: len(sink.downs) == 1)
        assert sink.downs[0].startswith("keepalive missed")
        assert service.keepalive_misses == 1
        sim.silence_keepalives(False)
        await sink.until(lambda: sink.ups == 2)


async def test_hung_reader_behind_an_open_socket_is_dead_until_it_answers_again() -> None:
    sink = RecordingSink()
    async with LlrpGateSimulator(static_tag()) as sim, serving(sim, sink) as service:
        await sink.until(lambda: sink.ups == 1)
        sim.go_silent()
        await sink.until(lambda: len(sink.downs) == 1)
        assert sink.downs[0].startswith("keepalive missed")
        await eventually(lambda: service.reconnects >= 2)
        assert sink.ups == 1
        sim.go_silent(False)
        await sink.until(lambda: sink.ups == 2)


async def test_keepalives_from_the_reader_are_acknowledged() -> None:
    sink = RecordingSink()
    async with LlrpGateSimulator(static_tag()) as sim, serving(sim, sink):
        await eventually(lambda: sim.keepalive_acks >= 2)
        assert sink.downs == []


async def test_vendor_extensions_are_enabled_on_an_impinj_reader_for_sub_dbm_rssi() -> None:
    sink = RecordingSink()
    async with (
        LlrpGateSimulator(static_tag(rssi=-55.3), noise_db=0.0) as sim,
        serving(sim, sink) as service,
    ):
        await sink.until(lambda: len(sink.all_reads) >= 3)
    assert sim.extension_requests == 1
    assert service.info is not None
    assert service.info.vendor_extensions
    assert {r.rssi for r in sink.all_reads} == {-55.3}


async def test_vendor_extensions_are_not_requested_when_capabilities_name_another_maker() -> None:
    sink = RecordingSink()
    async with (
        LlrpGateSimulator(static_tag(rssi=-55.3), noise_db=0.0, impinj=False) as sim,
        serving(sim, sink) as service,
    ):
        await sink.until(lambda: len(sink.all_reads) >= 3)
    assert sim.extension_requests == 0
    assert service.info is not None
    assert not service.info.vendor_extensions
    assert {r.rssi for r in sink.all_reads} == {-55.0}


async def test_read_times_are_on_the_local_clock_when_the_readers_clock_is_an_hour_behind() -> None:
    sink = RecordingSink()
    began = time.time()
    async with (
        LlrpGateSimulator(static_tag(), reader_clock_offset_s=-3600.0) as sim,
        serving(sim, sink),
    ):
        await sink.until(lambda: len(sink.all_reads) >= 5)
    ended = time.time()
    assert all(began <= r.t <= ended for r in sink.all_reads)


async def test_malformed_tag_reports_are_counted_and_the_rest_of_the_report_delivered() -> None:
    sink = RecordingSink()
    async with LlrpGateSimulator() as sim, serving(sim, sink) as service:
        await sink.until(lambda: sink.ups == 1)
        good = params.TagReportData(
            epc_parameter=params.EPC_96(epc=bytes.fromhex(EPC)),
            antenna_id=params.AntennaID(antenna_id=2),
            peak_rssi=params.PeakRSSI(peak_rssi=-61),
        )
        no_antenna = params.TagReportData(epc_parameter=params.EPC_96(epc=bytes(12)))
        await sim.send_report([no_antenna, good])
        await sink.until(lambda: len(sink.all_reads) == 1)
        assert service.rejected == 1
        assert service.rejections == {"no antenna id": 1}
        assert service.up
    assert sink.all_reads[0].antenna == 2
    assert sink.all_reads[0].rssi == -61.0


async def test_rounds_close_for_each_reading_antenna_but_not_a_disconnected_one() -> None:
    sink = RecordingSink()
    async with LlrpGateSimulator(static_tag()) as sim, serving(sim, sink, round_s=0.1) as service:
        await sink.until(lambda: {a for a, _ in sink.rounds} == {1, 2})
        await sim.set_antenna_connected(OUTSIDE_ANTENNA, False)
        await eventually(lambda: service.disconnected_antennas == {OUTSIDE_ANTENNA})
        seen = len(sink.rounds)
        await sink.until(lambda: len(sink.rounds) >= seen + 3)
        assert {a for a, _ in sink.rounds[seen:]} == {INSIDE_ANTENNA}


async def test_stopping_the_service_deletes_its_rospec_closes_the_link_and_reports_down() -> None:
    sink = RecordingSink()
    async with LlrpGateSimulator(static_tag()) as sim:
        async with serving(sim, sink):
            await sink.until(lambda: sink.ups == 1)
        assert sink.links[-1] == (False, "service stopped")
        assert sim.rospec_states() == {}
        await eventually(lambda: not sim.client_connected)


async def test_connection_refused_while_another_client_holds_the_reader_is_retried() -> None:
    sink = RecordingSink()
    async with LlrpGateSimulator(static_tag()) as sim:
        holder = LLRPClient("127.0.0.1", sim.port)
        await holder.connect()
        try:
            async with serving(sim, sink) as service:
                await sink.until(lambda: len(sink.downs) == 1)
                assert "refused" in sink.downs[0]
                await eventually(lambda: service.reconnects >= 2)
                assert sink.ups == 0
                await holder.close()
                await sink.until(lambda: sink.ups == 1)
        finally:
            await holder.close()


async def test_unreachable_reader_is_reported_down_and_retried_with_backoff() -> None:
    sink = RecordingSink()
    async with LlrpGateSimulator() as sim:
        port = sim.port
    service = LlrpReaderService(
        "gate-1", "127.0.0.1", port, keepalive_s=0.3, backoff_initial_s=0.01, backoff_max_s=0.05
    )
    async with running(service, sink):
        await sink.until(lambda: len(sink.downs) == 1)
        await eventually(lambda: service.reconnects >= 3)
    assert sink.downs[0].startswith("setup failed: cannot connect")
    assert sink.links == [(False, sink.downs[0])]


async def test_configured_antenna_the_reader_lacks_is_a_setup_failure_naming_it() -> None:
    sink = RecordingSink()
    async with LlrpGateSimulator() as sim, serving(sim, sink, antennas=[1, 5]):
        await sink.until(lambda: len(sink.downs) == 1)
    assert "antennas [5]" in sink.downs[0]
    assert sink.ups == 0
