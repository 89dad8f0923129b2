"""The register map's codecs: golden values from docs/design.md §4.3, garbage-proof decoders."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stacker.registers import (
    HR,
    IR,
    CmdOpts,
    CommandCode,
    ExcReq,
    Status,
    decode_command,
    decode_inputs,
    encode_command,
    encode_inputs,
    epc_short_form,
    is_valid_job_id,
    join_u32,
    next_job_id,
    pack_box_id,
    split_u32,
    strobe_value,
    unpack_box_id,
)

u16 = st.integers(min_value=0, max_value=0xFFFF)
printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=16)


def test_addresses_are_those_of_the_design_table() -> None:
    assert [HR.HOST_HEARTBEAT, HR.HOST_CTRL, HR.CMD_JOB_ID, HR.CMD_CODE, HR.SRC, HR.DST] == [
        0, 1, 2, 4, 5, 10,
    ]  # fmt: skip
    assert [HR.CMD_OPTS, HR.CMD_BOX_ID, HR.CMD_STROBE, HR.EVENT_ACK_JOB, HR.EXC_ACK] == [
        15, 16, 24, 25, 27,
    ]  # fmt: skip
    assert int(HR.EXC_DECISION) == 28
    assert [IR.MODE, IR.STATUS, IR.ACTIVE_JOB_ID, IR.LAST_DONE_JOB_ID, IR.COMPLETION_CODE] == [
        2, 3, 4, 6, 8,
    ]  # fmt: skip
    assert [IR.REJECT_REASON, IR.EXC_REQ, IR.POSITION, IR.STEP, IR.READ_BOX_ID] == [
        9, 12, 13, 18, 19,
    ]  # fmt: skip
    assert (IR.STATION, IR.DOORS) == (27, 28)
    assert Status.HOST_WATCHDOG_TRIPPED == 1 << 10
    assert Status.EXCEPTION_REQUEST == 1 << 11
    assert ExcReq.OUTER_CELL_OCCUPIED == 1 << 4


def test_32_bit_values_go_high_word_first() -> None:
    assert split_u32(0x1234_5678) == (0x1234, 0x5678)
    assert join_u32(0x1234, 0x5678) == 0x1234_5678


def test_box_id_packs_two_ascii_characters_per_register_high_byte_first() -> None:
    assert pack_box_id("BOX-1") == [0x424F, 0x582D, 0x3100, 0, 0, 0, 0, 0]
    assert unpack_box_id([0x424F, 0x582D, 0x3100, 0, 0, 0, 0, 0]) == "BOX-1"
    assert unpack_box_id([0x4142, 0x2020, 0x2020, 0x2020, 0x2020, 0x2020, 0x2020, 0x2020]) == "AB"


def test_a_96_bit_epc_is_sent_as_its_last_16_hex_digits() -> None:
    assert epc_short_form("3034257bf7194e4000001a85") == "F7194E4000001A85"
    assert epc_short_form("E2003411B802") == "E2003411B802"
    with pytest.raises(ValueError, match="hex"):
        epc_short_form("not-an-epc")


@pytest.mark.parametrize("bad", ["X" * 17, "BOX·1", "TAB\there"])
def test_box_id_that_does_not_fit_the_register_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="box id"):
        pack_box_id(bad)


def test_job_ids_skip_zero_and_a_zero_low_word() -> None:
    assert next_job_id(0) == 1
    assert next_job_id(0xFFFF) == 0x1_0001
    assert not is_valid_job_id(0x1_0000)
    assert not is_valid_job_id(0)
    with pytest.raises(ValueError, match="exhausted"):
        next_job_id(0xFFFF_FFFF)
    assert strobe_value(0x0003_0009) == 9


def test_command_block_round_trips() -> None:
    block = encode_command(
        0x0002_0001,
        CommandCode.STORE,
        source=(0, 1, 0, 1, 1),
        destination=(1, 2, 14, 3, 2),
        opts=CmdOpts.VERIFY_RFID,
        box_id="E200-3411-B802",
    )
    assert len(block) == 22
    command = decode_command(block)
    assert command.job_id == 0x0002_0001
    assert command.code == 1
    assert command.destination == (1, 2, 14, 3, 2)
    assert command.box_id == "E200-3411-B802"


@given(printable)
def test_printable_box_ids_survive_the_registers(box: str) -> None:
    assert unpack_box_id(pack_box_id(box)) == box.rstrip(" ")


@given(st.lists(u16, min_size=8, max_size=8))
def test_any_register_content_unpacks_to_a_printable_box_id(regs: list[int]) -> None:
    text = unpack_box_id(regs)
    assert len(text) <= 16
    assert all(" " <= c <= "~" for c in text)


@given(st.lists(u16, min_size=29, max_size=29))
def test_any_input_block_decodes_and_reencodes_without_crashing(regs: list[int]) -> None:
    snap = decode_inputs(regs)
    again = encode_inputs(snap)
    assert len(again) == 29
    assert again[: IR.READ_BOX_ID] == regs[: IR.READ_BOX_ID]
    assert again[IR.STATION :] == regs[IR.STATION :]


@given(st.lists(st.integers(), max_size=40))
def test_malformed_input_blocks_are_refused_with_value_error(regs: list[int]) -> None:
    if len(regs) == 29 and all(0 <= r <= 0xFFFF for r in regs):
        decode_inputs(regs)
    else:
        with pytest.raises(ValueError, match="register"):
            decode_inputs(regs)


@given(st.lists(u16, min_size=22, max_size=22))
def test_any_command_block_decodes(block: list[int]) -> None:
    command = decode_command(block)
    assert command.job_id == (block[0] << 16) | block[1]
