"""The UHFReader18 codec against frames published in public protocol documents.

Sources: docs/design.md §4.1 (command vectors), the UHFReader18 user's manual V2.0 (frame layout,
reader-information fields, CRC routine), the captured reader answers pinned by the
``wabson/chafon-rfid`` tests (UHFReader18 and UHFReader288M inventory frames), and a frame
captured from an HW-VX6330K by ``xynogen/uhfreader18``. The CRC catalogue's check value for
CRC-16/MCRF4XX over "123456789" is 0x6F91.
"""

from __future__ import annotations

import pytest

from drivers.uhfreader18 import (
    BROADCAST,
    CMD_INVENTORY,
    CMD_READER_INFO,
    CMD_WRITE_EPC,
    STATUS_ANTENNA_ERROR,
    STATUS_INVENTORY_DONE,
    STATUS_MORE_FRAMES,
    STATUS_NO_TAG,
    STATUS_SCAN_TIME_OVER,
    STATUS_TAG_ERROR,
    FrameError,
    ReaderInfo,
    ReaderStatusError,
    Response,
    ResponseDecoder,
    Variant,
    check_write_epc,
    crc16,
    encode_command,
    encode_inventory_frames,
    encode_reader_info,
    encode_response,
    epc_bytes,
    inventory_command_data,
    parse_inventory,
    parse_inventory_command,
    parse_reader_info,
    parse_write_epc_command,
    write_epc_command_data,
)

H = bytes.fromhex

# UHFReader18 inventory answers (no antenna byte, no RSSI).
UHF18_ONE_TAG = H("13000103010c0000000000000000000003133f39")
UHF18_OTHER_TAG = H("13000103010c49440000000000000a000334a5fb")
UHF18_TWO_TAGS = H("20000103020c0000000000000000000003130c0000000000000000000003149ac9")

# UHFReader288M inventory answers (antenna bit mask, RSSI after each EPC).
UHF288_ONE_TAG = H("1500010301010c0000000000000000000003136bb1a5")
UHF288_ANTENNA_3 = H("1500010304010c49440000000000000a0003346425c0")
UHF288_SHORT_EPC = H("0d000103010104003230386da3d2")
UHF288_NO_TAGS = H("0700010101001e4b")
UHF288_TWO_TAGS = H("2300010301020c0000000000000000000003136b0c0000000000000000000003146c70f2")

CAPTURED_PUSH_FRAME = H("1100ee002000708c2b380b2d00000000e056")


def decode_one(raw: bytes) -> Response:
    (response,) = ResponseDecoder().feed(raw)
    return response


def test_crc_matches_the_catalogue_check_value() -> None:
    assert crc16(b"123456789") == 0x6F91


def test_inventory_command_to_address_0_is_the_documented_frame() -> None:
    assert encode_command(0x00, CMD_INVENTORY) == H("040001DB4B")


def test_reader_information_broadcast_is_the_documented_frame() -> None:
    assert encode_command(BROADCAST, CMD_READER_INFO) == H("04FF211995")


@pytest.mark.parametrize(
    "frame",
    [
        UHF18_ONE_TAG,
        UHF18_TWO_TAGS,
        UHF288_ONE_TAG,
        UHF288_NO_TAGS,
        UHF288_TWO_TAGS,
        CAPTURED_PUSH_FRAME,
    ],
)
def test_crc_of_captured_frames_is_sent_lsb_first(frame: bytes) -> None:
    assert crc16(frame[:-2]) == frame[-2] | frame[-1] << 8
    assert crc16(frame) == 0  # no final XOR: the CRC over a whole frame is zero


def test_captured_frame_decodes_to_its_fields() -> None:
    response = decode_one(CAPTURED_PUSH_FRAME)
    assert response == Response(0x00, 0xEE, 0x00, H("2000708c2b380b2d00000000"))


def test_uhfreader18_inventory_frame_with_one_tag() -> None:
    frame = parse_inventory(decode_one(UHF18_ONE_TAG), Variant.UHFREADER18)
    assert frame.status == STATUS_MORE_FRAMES
    assert frame.more_follow
    assert frame.epcs == ("000000000000000000000313",)
    assert frame.rssi is None
    assert frame.antenna is None


def test_uhfreader18_inventory_frame_with_two_tags() -> None:
    frame = parse_inventory(decode_one(UHF18_TWO_TAGS), Variant.UHFREADER18)
    assert frame.epcs == ("000000000000000000000313", "000000000000000000000314")


def test_uhfreader18_epc_is_upper_case_hex() -> None:
    frame = parse_inventory(decode_one(UHF18_OTHER_TAG), Variant.UHFREADER18)
    assert frame.epcs == ("49440000000000000A000334",)


def test_uhfreader288_inventory_frame_carries_antenna_and_rssi() -> None:
    frame = parse_inventory(decode_one(UHF288_ONE_TAG), Variant.UHFREADER288)
    assert frame.antenna == 1
    assert frame.epcs == ("000000000000000000000313",)
    assert frame.rssi == (0x6B,)


def test_uhfreader288_antenna_bit_mask_4_is_port_3() -> None:
    frame = parse_inventory(decode_one(UHF288_ANTENNA_3), Variant.UHFREADER288)
    assert frame.antenna == 3
    assert frame.rssi == (0x64,)


def test_uhfreader288_two_tags_each_with_rssi() -> None:
    frame = parse_inventory(decode_one(UHF288_TWO_TAGS), Variant.UHFREADER288)
    assert frame.epcs == ("000000000000000000000313", "000000000000000000000314")
    assert frame.rssi == (0x6B, 0x6C)


def test_uhfreader288_short_epc() -> None:
    frame = parse_inventory(decode_one(UHF288_SHORT_EPC), Variant.UHFREADER288)
    assert frame.epcs == ("00323038",)
    assert frame.rssi == (0x6D,)


def test_uhfreader288_round_without_tags_is_complete() -> None:
    frame = parse_inventory(decode_one(UHF288_NO_TAGS), Variant.UHFREADER288)
    assert frame.epcs == ()
    assert frame.status == STATUS_INVENTORY_DONE
    assert frame.round_complete


def test_no_tag_operable_status_is_an_empty_complete_round() -> None:
    response = Response(0, CMD_INVENTORY, STATUS_NO_TAG, b"")
    frame = parse_inventory(response, Variant.UHFREADER18)
    assert frame.epcs == ()
    assert frame.round_complete


def test_scan_time_over_is_a_round_cut_short() -> None:
    response = Response(0, CMD_INVENTORY, STATUS_SCAN_TIME_OVER, H("00"))
    assert not parse_inventory(response, Variant.UHFREADER18).round_complete


def test_inventory_error_status_raises_with_the_documented_meaning() -> None:
    response = Response(0, CMD_INVENTORY, STATUS_ANTENNA_ERROR, b"")
    with pytest.raises(ReaderStatusError, match="antenna") as caught:
        parse_inventory(response, Variant.UHFREADER288)
    assert caught.value.status == 0xF8


@pytest.mark.parametrize(
    "data",
    [
        H("020411223344"),  # announces two tags, holds one
        H("010811223344"),  # EPC runs past the end
        H("01021122ff"),  # a byte after the last tag
        b"",  # no tag count
    ],
)
def test_inventory_frame_that_does_not_add_up_is_refused(data: bytes) -> None:
    with pytest.raises(FrameError):
        parse_inventory(
            Response(0, CMD_INVENTORY, STATUS_INVENTORY_DONE, data), Variant.UHFREADER18
        )


def test_uhfreader288_inventory_command_matches_the_published_defaults() -> None:
    # chafon-rfid's G2InventoryCommand(): Q=15, session 0, EPC mask, no mask, target A,
    # antenna 1 (0x80), scan time 2 s (0x14).
    data = inventory_command_data(Variant.UHFREADER288, 1, scan_time_s=2.0, q_value=15)
    assert data == H("0f0001000000008014")


def test_uhfreader288_inventory_command_names_the_antenna() -> None:
    data = inventory_command_data(Variant.UHFREADER288, 4, scan_time_s=1.0)
    assert data[-2:] == H("830a")
    assert parse_inventory_command(Variant.UHFREADER288, data) == (4, 1.0)


def test_uhfreader18_inventory_command_has_no_data_and_one_antenna() -> None:
    assert inventory_command_data(Variant.UHFREADER18) == b""
    with pytest.raises(ValueError, match="single antenna"):
        inventory_command_data(Variant.UHFREADER18, 2)


def test_inventory_answer_built_for_the_simulator_matches_the_captured_frames() -> None:
    epc = H("000000000000000000000313")
    assert encode_inventory_frames(
        0, Variant.UHFREADER18, 1, [(epc, 0)], final_status=STATUS_MORE_FRAMES
    ) == [UHF18_ONE_TAG]
    assert encode_inventory_frames(
        0, Variant.UHFREADER288, 1, [(epc, 0x6B)], final_status=STATUS_MORE_FRAMES
    ) == [UHF288_ONE_TAG]
    assert encode_inventory_frames(0, Variant.UHFREADER288, 1, []) == [UHF288_NO_TAGS]


def test_large_inventory_answer_is_split_into_frames_that_announce_more() -> None:
    tags = [(i.to_bytes(12, "big"), 0) for i in range(40)]
    frames = encode_inventory_frames(0, Variant.UHFREADER18, 1, tags)
    assert len(frames) > 1
    assert all(len(f) <= 256 for f in frames)
    decoded = [
        parse_inventory(r, Variant.UHFREADER18) for r in ResponseDecoder().feed(b"".join(frames))
    ]
    assert [f.status for f in decoded] == [STATUS_MORE_FRAMES] * (len(frames) - 1) + [1]
    assert [e for f in decoded for e in f.epcs] == [f"{i:024X}" for i in range(40)]


def test_reader_information_fields_follow_the_manual() -> None:
    # Version 2.36, type 0x09 (UHFReader18), 6B+6C, DMaxFre 0x4E, DMinFre 0x00, 30 dBm, 1 s.
    raw = encode_response(0x00, CMD_READER_INFO, 0x00, H("022409034e001e0a"))
    assert raw[0] == 0x0D  # the manual's response length
    info = parse_reader_info(decode_one(raw))
    assert info == ReaderInfo(
        address=0,
        version=(2, 0x24),
        reader_type=0x09,
        supports_6b=True,
        supports_6c=True,
        band=0b0100,
        max_channel=0x0E,
        min_channel=0,
        power_dbm=30,
        scan_time_s=1.0,
    )
    assert info.variant is Variant.UHFREADER18
    assert encode_reader_info(info) == raw


def test_reader_type_0x0c_speaks_the_288_dialect() -> None:
    raw = encode_response(3, CMD_READER_INFO, 0x00, H("01010c020000ff14"))
    info = parse_reader_info(decode_one(raw))
    assert info.variant is Variant.UHFREADER288
    assert info.power_dbm is None
    assert info.address == 3


def test_write_epc_command_data_is_words_password_epc() -> None:
    data = write_epc_command_data("E2001234", password=0x01020304)
    assert data == H("0201020304E2001234")
    assert parse_write_epc_command(data) == (H("E2001234"), 0x01020304)
    frame = encode_command(0, CMD_WRITE_EPC, data)
    assert frame[:3] == H("0d0004")  # Len = 9 data bytes + 4


@pytest.mark.parametrize("epc", ["", "E2", "E2001", "XY00", "00" * 32])
def test_epc_to_write_must_be_whole_words(epc: str) -> None:
    with pytest.raises(ValueError, match="EPC"):
        epc_bytes(epc)


def test_write_epc_failure_names_the_tag_error() -> None:
    response = Response(0, CMD_WRITE_EPC, STATUS_TAG_ERROR, H("04"))
    with pytest.raises(ReaderStatusError, match="memory locked"):
        check_write_epc(response)


def test_write_epc_success_is_silent() -> None:
    check_write_epc(Response(0, CMD_WRITE_EPC, 0x00, b""))


def test_command_fields_must_be_bytes() -> None:
    with pytest.raises(ValueError, match="address"):
        encode_command(256, CMD_INVENTORY)
    with pytest.raises(ValueError, match="too long"):
        encode_command(0, CMD_INVENTORY, bytes(252))
