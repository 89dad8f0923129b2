"""The client against the simulated reader over a real pty (through pyserial) and over TCP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from drivers.links import parse_link
from drivers.serial_link import open_link
from drivers.uhfreader18 import (
    STATUS_NO_TAG,
    STATUS_POOR_COMMUNICATION,
    STATUS_SCAN_TIME_OVER,
    ReaderStatusError,
    Variant,
)
from drivers.uhfreader18_client import (
    CommandTimeoutError,
    LinkLostError,
    Uhfreader18Client,
)
from simulators.uhfreader18 import SimTag, Uhfreader18Simulator
from tests.uhfreader18.conftest import quick_simulator, start

EPC_A = "E28011606000020A1B2C3D01"
EPC_B = "E28011606000020A1B2C3D02"
EPC_C = "E28011606000020A1B2C3D03"


@pytest.fixture(params=["pty", "tcp"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def variant() -> Variant:
    return Variant.UHFREADER18


@pytest.fixture
async def simulator(variant: Variant) -> AsyncIterator[Uhfreader18Simulator]:
    async with quick_simulator(variant) as simulator:
        yield simulator


@pytest.fixture
async def client(
    simulator: Uhfreader18Simulator, transport: str, variant: Variant, tmp_path: Path
) -> AsyncIterator[Uhfreader18Client]:
    url = await start(simulator, transport, tmp_path)
    reader, writer = await open_link(parse_link(url))
    client = Uhfreader18Client(
        reader,
        writer,
        reader_id="desk-1",
        variant=variant,
        command_timeout_s=0.25,
        inventory_timeout_s=0.25,
    )
    try:
        yield client
    finally:
        await client.close()


async def test_reader_information_names_the_reader_type_and_scan_time(
    client: Uhfreader18Client,
) -> None:
    info = await client.reader_info()
    assert info.reader_type == 0x09
    assert info.variant is Variant.UHFREADER18
    assert info.scan_time_s == 1.0


async def test_inventory_returns_every_tag_in_the_field(
    simulator: Uhfreader18Simulator, client: Uhfreader18Client
) -> None:
    simulator.reader.place(1, EPC_A)
    simulator.reader.place(1, EPC_B)
    reads = await client.inventory()
    assert sorted(r.epc for r in reads) == [EPC_A, EPC_B]
    assert {(r.reader, r.antenna, r.rssi) for r in reads} == {("desk-1", 1, None)}


async def test_empty_field_gives_an_empty_complete_round(client: Uhfreader18Client) -> None:
    result = await client.inventory_round()
    assert result.reads == ()
    assert result.complete


async def test_round_cut_short_by_the_reader_is_marked_incomplete(
    simulator: Uhfreader18Simulator, client: Uhfreader18Client
) -> None:
    simulator.reader.place(1, EPC_A)
    simulator.reader.cut_rounds_short = True
    result = await client.inventory_round()
    assert [r.epc for r in result.reads] == [EPC_A]
    assert not result.complete
    assert result.status == STATUS_SCAN_TIME_OVER


async def test_many_tags_arrive_over_several_frames_and_are_all_returned(
    simulator: Uhfreader18Simulator, client: Uhfreader18Client
) -> None:
    epcs = [f"{i:024X}" for i in range(60)]
    for epc in epcs:
        simulator.reader.place(1, epc)
    reads = await client.inventory()
    assert sorted(r.epc for r in reads) == epcs


async def test_written_epc_is_read_back(
    simulator: Uhfreader18Simulator, client: Uhfreader18Client
) -> None:
    simulator.reader.place(1, EPC_A)
    await client.write_epc(EPC_C)
    assert [r.epc for r in await client.inventory()] == [EPC_C]


async def test_write_with_no_tag_in_the_field_is_refused(client: Uhfreader18Client) -> None:
    with pytest.raises(ReaderStatusError) as caught:
        await client.write_epc(EPC_C)
    assert caught.value.status == STATUS_NO_TAG


async def test_write_with_two_tags_in_the_field_is_refused_and_changes_nothing(
    simulator: Uhfreader18Simulator, client: Uhfreader18Client
) -> None:
    simulator.reader.place(1, EPC_A)
    simulator.reader.place(1, EPC_B)
    with pytest.raises(ReaderStatusError) as caught:
        await client.write_epc(EPC_C)
    assert caught.value.status == STATUS_POOR_COMMUNICATION
    assert sorted(r.epc for r in await client.inventory()) == [EPC_A, EPC_B]


async def test_garbage_before_an_answer_is_skipped_and_counted(
    simulator: Uhfreader18Simulator, client: Uhfreader18Client
) -> None:
    simulator.reader.place(1, EPC_A)
    simulator.inject_garbage(b"\x00\x13\xff\xfe\x55")
    assert [r.epc for r in await client.inventory()] == [EPC_A]
    stats = client.decoder.stats
    assert stats.garbage_bytes == 5
    assert stats.resyncs == 1


async def test_garbage_with_a_bogus_length_is_dropped_at_the_silent_gap(
    simulator: Uhfreader18Simulator, client: Uhfreader18Client
) -> None:
    simulator.reader.place(1, EPC_A)
    simulator.inject_garbage(b"\xf0\x00")  # claims a 241-byte frame that never comes
    assert [r.epc for r in await client.inventory()] == [EPC_A]
    assert client.decoder.stats.garbage_bytes == 2


@pytest.mark.parametrize(
    ("spoil", "counted"),
    [
        pytest.param(Uhfreader18Simulator.corrupt_next, "bad_crc", id="bad_crc"),
        pytest.param(Uhfreader18Simulator.truncate_next, "truncated", id="truncated"),
    ],
)
async def test_a_spoilt_answer_times_out_is_counted_and_the_next_command_succeeds(
    simulator: Uhfreader18Simulator,
    client: Uhfreader18Client,
    spoil: Callable[[Uhfreader18Simulator], None],
    counted: str,
) -> None:
    """A bad CRC is dropped, a truncated answer never completes: either way the command
    times out, the decoder counts it, and the next command gets its own answer."""
    simulator.reader.place(1, EPC_A)
    spoil(simulator)
    with pytest.raises(CommandTimeoutError):
        await client.inventory()
    assert client.consecutive_timeouts == 1
    assert getattr(client.decoder.stats, counted) == 1
    assert [r.epc for r in await client.inventory()] == [EPC_A]
    assert client.consecutive_timeouts == 0


async def test_late_answer_is_never_taken_for_the_answer_to_another_command(
    simulator: Uhfreader18Simulator, client: Uhfreader18Client
) -> None:
    simulator.reader.place(1, EPC_A)
    simulator.round_time_s = 0.5  # the inventory answer comes after the client gave up
    with pytest.raises(CommandTimeoutError):
        await client.inventory()
    # The reader ignores commands while it is busy, then the late inventory answer arrives
    # while the client waits for reader information: it must not be taken for it.
    try:
        info = await client.reader_info()
    except CommandTimeoutError:
        pass
    else:
        assert info.reader_type == 0x09
    simulator.round_time_s = 0.001
    assert (await client.reader_info()).reader_type == 0x09
    assert client.unexpected_frames == 1


async def test_silent_reader_times_out_and_counts_consecutive_timeouts(
    simulator: Uhfreader18Simulator, client: Uhfreader18Client
) -> None:
    simulator.silent = True
    for expected in (1, 2):
        with pytest.raises(CommandTimeoutError):
            await client.reader_info()
        assert client.consecutive_timeouts == expected
    simulator.silent = False
    await client.reader_info()
    assert client.consecutive_timeouts == 0


async def test_disconnect_under_a_command_raises_link_lost(
    simulator: Uhfreader18Simulator, client: Uhfreader18Client
) -> None:
    await client.reader_info()
    await simulator.disconnect()
    with pytest.raises(LinkLostError):
        await client.reader_info()


async def test_commands_after_close_raise_link_lost(client: Uhfreader18Client) -> None:
    await client.close()
    with pytest.raises(LinkLostError):
        await client.reader_info()


@pytest.mark.parametrize("variant", [Variant.UHFREADER288])
async def test_multi_antenna_reader_reports_each_antenna_with_rssi(
    simulator: Uhfreader18Simulator, client: Uhfreader18Client
) -> None:
    simulator.reader.place(1, SimTag(EPC_A, rssi=80, noise=0))
    simulator.reader.place(3, SimTag(EPC_B, rssi=120, noise=0))
    simulator.reader.place(3, SimTag(EPC_C, rssi=60, noise=0))
    one = await client.inventory(1)
    two = await client.inventory(2)
    three = await client.inventory(3)
    assert [(r.antenna, r.epc, r.rssi) for r in one] == [(1, EPC_A, 80.0)]
    assert two == []
    assert sorted((r.antenna, r.epc, r.rssi) for r in three) == [
        (3, EPC_B, 120.0),
        (3, EPC_C, 60.0),
    ]


@pytest.mark.parametrize("variant", [Variant.UHFREADER288])
async def test_multi_antenna_reader_refuses_a_port_it_does_not_have(
    client: Uhfreader18Client,
) -> None:
    with pytest.raises(ReaderStatusError, match="antenna"):
        await client.inventory(6)


@pytest.mark.parametrize("variant", [Variant.UHFREADER288])
async def test_multi_antenna_write_acts_on_the_antenna_last_inventoried(
    simulator: Uhfreader18Simulator, client: Uhfreader18Client
) -> None:
    simulator.reader.place(1, EPC_A)
    simulator.reader.place(2, EPC_B)
    await client.inventory(2)
    await client.write_epc(EPC_C)
    assert [r.epc for r in await client.inventory(2)] == [EPC_C]
    assert [r.epc for r in await client.inventory(1)] == [EPC_A]


async def test_half_sent_command_spoils_the_next_which_is_answered_00_fe_and_resent(
    simulator: Uhfreader18Simulator, client: Uhfreader18Client
) -> None:
    """Manual V2.0 §8.1 (a CRC error is answered 05 Adr 00 FE) and §2 (a partial frame is
    dropped after 15 ms of silence): the client waits out the 15 ms and sends again."""
    # The first two bytes of a get-reader-information command, as a host cut off mid-write
    # leaves them; the next command lands behind them in the reader's buffer.
    client._writer.write(bytes.fromhex("0400"))
    info = await client.reader_info()
    assert info.reader_type == 0x09
    assert client.rejected_frames == 1
    assert simulator.stats.bad_frames == 1
    assert simulator.stats.partial_frames_dropped == 1  # the spoiled frame's last two bytes


async def test_stray_byte_claiming_a_long_frame_costs_one_command_only(
    simulator: Uhfreader18Simulator, client: Uhfreader18Client
) -> None:
    """Manual V2.0 §2 and §8.1: a frame whose Len is longer than what arrives is never
    answered and is dropped after 15 ms of silence, so the next command is answered."""
    client._writer.write(b"\x50")  # claims an 81-byte frame; the command after it is swallowed
    with pytest.raises(CommandTimeoutError):
        await client.reader_info()
    assert simulator.stats.partial_frames_dropped == 1
    assert (await client.reader_info()).reader_type == 0x09
    assert client.consecutive_timeouts == 0
