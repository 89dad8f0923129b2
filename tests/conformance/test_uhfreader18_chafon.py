"""The UHFReader18 simulator and codec against chafon-rfid, a host library written by others.

``wabson.chafon-rfid`` (PyPI; MIT, by Will Abson) talks to Chafon UHFReader18 and UHFReader288M
readers over a plain blocking socket. It is a test-only dependency. Here it drives the
simulator over TCP from a worker thread while the simulator serves from the test's event loop;
and archroom's codec decodes the response frames that chafon-rfid pins in its own tests, which
were captured from real readers.

Byte vectors below are copied from chafon-rfid's tests (tests/test_base.py,
tests/test_uhfreader18.py, tests/test_uhfreader288.py at github.com/wabson/chafon-rfid),
MIT licence, copyright Will Abson.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

import pytest
from chafon_rfid import uhfreader18 as chafon18
from chafon_rfid import uhfreader288m as chafon288
from chafon_rfid.base import CommandRunner, ReaderCommand, ReaderInfoFrame, ReaderResponseFrame
from chafon_rfid.base import ReaderType as ChafonReaderType
from chafon_rfid.command import CF_GET_READER_INFO, G2_TAG_INVENTORY
from chafon_rfid.transport import TcpTransport

from drivers.uhfreader18 import (
    STATUS_ILLEGAL_COMMAND,
    STATUS_INVENTORY_DONE,
    STATUS_MORE_FRAMES,
    ResponseDecoder,
    Variant,
    inventory_command_data,
    parse_inventory,
    parse_inventory_command,
    parse_reader_info,
)
from simulators.uhfreader18 import SimTag, SimulatedReader, Uhfreader18Simulator

T = TypeVar("T")

# --- frames captured from real readers, pinned by chafon-rfid's tests ---------------------
READER_INFO_288M = "1100210000160c034e001e0a01000000e651"
BAD_CHECKSUM_288M = "1500010301010c0000000000000000000003136bb1a6"
UHF18_TAGS_1 = "13000103010c0000000000000000000003133f39"
UHF18_TAGS_3 = "13000103010c49440000000000000a000334a5fb"
UHF18_MULTIPLE = "20000103020c0000000000000000000003130c0000000000000000000003149ac9"
UHF288_TAGS_1 = "1500010301010c0000000000000000000003136bb1a5"
UHF288_TAGS_2 = "1500010301010c3039606303c74380001a055940f93e"
UHF288_TAGS_3 = "1500010304010c49440000000000000a0003346425c0"
UHF288_TAGS_4 = "0d000103010104003230386da3d2"
UHF288_NO_TAGS = "0700010101001e4b"
UHF288_MULTIPLE = "2300010301020c0000000000000000000003136b0c0000000000000000000003146c70f2"
INVENTORY_288_DEFAULTS = "0f0001000000008014"  # G2InventoryCommand() data
INVENTORY_288_CUSTOM = "020102000000018003"  # q 2, session 1, TID mask, target B, 0.3 s


def test_codec_decodes_the_uhfreader288m_reader_information_captured_by_chafon_rfid() -> None:
    """UHFReader18 manual V2.0 §8.4.1 fields, plus the UHFReader288M's Ant BeepEn OutputRep
    CheckAnt (12 data bytes in all)."""
    (response,) = ResponseDecoder().feed(bytes.fromhex(READER_INFO_288M))
    info = parse_reader_info(response)
    assert info.version == (0, 0x16)
    assert info.reader_type == 0x0C
    assert info.variant is Variant.UHFREADER288
    assert (info.supports_6b, info.supports_6c) == (True, True)
    assert info.band == 0b0100  # EU: DMaxFre 0x4E bits 7-6 = 01, DMinFre bits 7-6 = 00
    assert (info.max_channel, info.min_channel) == (0x0E, 0)
    assert info.power_dbm == 30
    assert info.scan_time_s == 1.0
    assert info.antenna_mask == 0x01


def test_codec_drops_the_frame_whose_checksum_chafon_rfid_pins_as_bad() -> None:
    """Manual V2.0 §3.3: CRC-16 over Len..Data, LSB first."""
    decoder = ResponseDecoder()
    assert decoder.feed(bytes.fromhex(BAD_CHECKSUM_288M)) == []
    assert decoder.flush() == []
    assert decoder.stats.bad_crc == 1


@pytest.mark.parametrize(
    ("frame", "epcs"),
    [
        (UHF18_TAGS_1, ["000000000000000000000313"]),
        (UHF18_TAGS_3, ["49440000000000000A000334"]),
        (UHF18_MULTIPLE, ["000000000000000000000313", "000000000000000000000314"]),
    ],
)
def test_codec_decodes_uhfreader18_inventory_frames_captured_by_chafon_rfid(
    frame: str, epcs: list[str]
) -> None:
    """Manual V2.0 §8.2.1: ``Num`` then ``EPCLen EPC`` per tag; status 0x03 more frames."""
    (response,) = ResponseDecoder().feed(bytes.fromhex(frame))
    decoded = parse_inventory(response, Variant.UHFREADER18)
    assert decoded.status == STATUS_MORE_FRAMES
    assert list(decoded.epcs) == epcs
    assert decoded.rssi is None


@pytest.mark.parametrize(
    ("frame", "antenna", "epcs", "rssi"),
    [
        (UHF288_TAGS_1, 1, ["000000000000000000000313"], [0x6B]),
        (UHF288_TAGS_2, 1, ["3039606303C74380001A0559"], [0x40]),
        (UHF288_TAGS_3, 3, ["49440000000000000A000334"], [0x64]),
        (UHF288_TAGS_4, 1, ["00323038"], [0x6D]),
        (UHF288_NO_TAGS, 1, [], []),
        (
            UHF288_MULTIPLE,
            1,
            ["000000000000000000000313", "000000000000000000000314"],
            [0x6B, 0x6C],
        ),
    ],
)
def test_codec_decodes_uhfreader288m_inventory_frames_captured_by_chafon_rfid(
    frame: str, antenna: int, epcs: list[str], rssi: list[int]
) -> None:
    """UHFReader288M inventory: ``Ant`` (a bit mask), ``Num``, then ``EPCLen EPC RSSI``."""
    (response,) = ResponseDecoder().feed(bytes.fromhex(frame))
    decoded = parse_inventory(response, Variant.UHFREADER288)
    assert decoded.antenna == antenna
    assert list(decoded.epcs) == epcs
    assert list(decoded.rssi or ()) == rssi


def test_inventory_command_matches_chafon_rfids_288m_command_bytes() -> None:
    """The 288M inventory operands: Q Session MaskMem MaskAdr(2) MaskLen Target Ant ScanTime."""
    ours = inventory_command_data(Variant.UHFREADER288, 1, scan_time_s=2.0, q_value=15)
    assert ours.hex() == INVENTORY_288_DEFAULTS
    assert parse_inventory_command(Variant.UHFREADER288, bytes.fromhex(INVENTORY_288_CUSTOM)) == (
        1,
        0.3,
    )


# --- chafon-rfid as the host of the simulated reader ---------------------------------------


async def _in_thread(port: int, work: Callable[[TcpTransport], T]) -> T:
    def run() -> T:
        transport = TcpTransport("127.0.0.1", port, timeout=5)
        transport.connect()
        try:
            return work(transport)
        finally:
            transport.close()

    return await asyncio.to_thread(run)


def _frames_until_done(transport: TcpTransport) -> list[bytearray]:
    frames = [transport.read_frame()]
    while frames[-1][3] == STATUS_MORE_FRAMES:
        frames.append(transport.read_frame())
    return frames


async def test_chafon_rfid_reads_the_uhfreader18_simulators_information() -> None:
    """Manual V2.0 §8.4.1: Get Reader Information (0x21), 8 data bytes for a UHFReader18."""
    async with Uhfreader18Simulator(SimulatedReader()) as simulator:
        await simulator.start_tcp()
        info = await _in_thread(
            simulator.port,
            lambda t: ReaderInfoFrame(CommandRunner(t).run(ReaderCommand(CF_GET_READER_INFO, 0))),
        )
    assert info.type is ChafonReaderType.UHFReader18
    assert list(info.firmware_version) == [2, 36]
    assert len(info.data) == 8
    assert info.scan_time == 10


async def test_chafon_rfid_reads_the_288_simulators_twelve_byte_information() -> None:
    """UHFReader288M reader information: 12 data bytes (as the frame captured above)."""
    async with Uhfreader18Simulator(SimulatedReader(Variant.UHFREADER288)) as simulator:
        await simulator.start_tcp()
        info = await _in_thread(
            simulator.port,
            lambda t: ReaderInfoFrame(CommandRunner(t).run(ReaderCommand(CF_GET_READER_INFO, 0))),
        )
    assert info.type is ChafonReaderType.UHFReader288M
    assert len(info.data) == 12


async def test_chafon_rfid_inventories_every_tag_over_several_frames() -> None:
    """Manual V2.0 §8.2.1: status 0x03 while more frames follow, 0x01 on the last."""
    epcs = [f"E2801160600002{i:010X}" for i in range(45)]
    reader = SimulatedReader()
    for epc in epcs:
        reader.place(1, epc)

    def inventory(transport: TcpTransport) -> list[bytearray]:
        transport.write(ReaderCommand(G2_TAG_INVENTORY, 0).serialize())
        return _frames_until_done(transport)

    async with Uhfreader18Simulator(reader, round_time_s=0.001) as simulator:
        await simulator.start_tcp()
        frames = await _in_thread(simulator.port, inventory)
    assert len(frames) > 1
    assert frames[-1][3] == STATUS_INVENTORY_DONE
    seen = [
        bytes(tag.epc).hex().upper()
        for frame in frames
        for tag in chafon18.G2InventoryResponseFrame(frame).get_tag()
    ]
    assert sorted(seen) == sorted(epcs)


async def test_chafon_rfid_288m_inventory_reports_the_antenna_and_rssi() -> None:
    """UHFReader288M inventory on antenna 2 (Ant 0x81): the answer's Ant mask is 0x02."""
    reader = SimulatedReader(Variant.UHFREADER288)
    reader.place(2, SimTag("E28011606000020A1B2C3D01", rssi=120, noise=0))

    def inventory(transport: TcpTransport) -> list[bytearray]:
        command = chafon288.G2InventoryCommand(addr=0, antenna=0x81, scan_time=10)
        transport.write(command.serialize())
        return _frames_until_done(transport)

    async with Uhfreader18Simulator(reader, round_time_s=0.001) as simulator:
        await simulator.start_tcp()
        frames = await _in_thread(simulator.port, inventory)
    tags = [tag for frame in frames for tag in chafon288.G2InventoryResponseFrame(frame).get_tag()]
    assert [(bytes(t.epc).hex().upper(), t.antenna_num, t.rssi) for t in tags] == [
        ("E28011606000020A1B2C3D01", 2, 120)
    ]


async def test_chafon_rfid_unknown_command_is_answered_illegal_command() -> None:
    """Manual V2.0 §8.1: an unrecognised command is answered ``05 Adr 00 FE``."""
    async with Uhfreader18Simulator(SimulatedReader()) as simulator:
        await simulator.start_tcp()
        frame = await _in_thread(
            simulator.port,
            lambda t: ReaderResponseFrame(CommandRunner(t).run(ReaderCommand(0x77, 0))),
        )
    assert (frame.len, frame.resp_cmd, frame.result_status) == (5, 0x00, STATUS_ILLEGAL_COMMAND)


async def test_chafon_rfid_command_with_a_bad_crc_is_answered_illegal_command() -> None:
    """Manual V2.0 §8.1: a CRC error is answered ``05 Adr 00 FE`` (§5: status 0xFE)."""

    def send_spoiled(transport: TcpTransport) -> ReaderResponseFrame:
        raw = ReaderCommand(CF_GET_READER_INFO, 0).serialize()
        raw[-1] ^= 0xFF
        transport.write(raw)
        return ReaderResponseFrame(transport.read_frame())

    async with Uhfreader18Simulator(SimulatedReader()) as simulator:
        await simulator.start_tcp()
        frame = await _in_thread(simulator.port, send_spoiled)
    assert (frame.reader_addr, frame.resp_cmd, frame.result_status) == (0, 0x00, 0xFE)


async def test_chafon_rfid_half_command_is_dropped_after_15_ms_and_the_next_answered() -> None:
    """Manual V2.0 §2: more than 15 ms between bytes loses the partial frame, and §8.1: an
    incomplete command is not answered; the next whole command is."""

    def half_then_whole(transport: TcpTransport) -> ReaderInfoFrame:
        raw = ReaderCommand(CF_GET_READER_INFO, 0).serialize()
        transport.write(raw[:2])
        time.sleep(0.1)  # the line stays quiet well past the reader's 15 ms
        return ReaderInfoFrame(CommandRunner(transport).run(ReaderCommand(CF_GET_READER_INFO, 0)))

    async with Uhfreader18Simulator(SimulatedReader()) as simulator:
        await simulator.start_tcp()
        info = await _in_thread(simulator.port, half_then_whole)
        assert simulator.stats.partial_frames_dropped == 1
    assert info.type is ChafonReaderType.UHFReader18
