"""The simulated reader's own behaviour: population, read probability, addressing, faults and
the command line used by `archroom simulate uhfreader18`."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from asyncio import open_connection
from pathlib import Path

import pytest

from drivers.uhfreader18 import (
    CMD_INVENTORY,
    CMD_READER_INFO,
    STATUS_ILLEGAL_COMMAND,
    STATUS_LENGTH_WRONG,
    Command,
    ResponseDecoder,
    Variant,
    encode_command,
    parse_inventory,
    parse_reader_info,
    tid_inventory_command_data,
    write_epc_command_data,
)
from simulators.uhfreader18 import (
    BadFrame,
    CommandReceiver,
    SimTag,
    SimulatedReader,
    Uhfreader18Simulator,
    build_parser,
    load_population,
    main,
    make_reader,
)

EPC_A = "E28011606000020A1B2C3D01"
EPC_B = "E28011606000020A1B2C3D02"


def inventory_epcs(reader: SimulatedReader, antenna: int = 1) -> list[str]:
    data = (
        b"" if reader.variant is Variant.UHFREADER18 else bytes(7) + bytes((0x80 + antenna - 1, 10))
    )
    frames = reader.handle(Command(0, CMD_INVENTORY, data))
    decoded = ResponseDecoder().feed(b"".join(frames))
    return [epc for r in decoded for epc in parse_inventory(r, reader.variant).epcs]


def test_placing_a_tag_on_another_antenna_moves_it() -> None:
    reader = SimulatedReader(Variant.UHFREADER288)
    reader.place(1, EPC_A)
    reader.place(2, EPC_A.lower())
    assert reader.tags(1) == []
    assert [t.epc for t in reader.tags(2)] == [EPC_A]
    assert reader.remove(EPC_A)
    assert not reader.remove(EPC_A)


def test_tag_with_zero_read_probability_is_never_seen_and_certain_tag_always() -> None:
    reader = SimulatedReader(rng=random.Random(3))
    reader.place(1, SimTag(EPC_A, read_probability=0.0))
    reader.place(1, SimTag(EPC_B, read_probability=1.0))
    for _ in range(50):
        assert inventory_epcs(reader) == [EPC_B]


def test_tag_with_half_read_probability_is_sometimes_missed() -> None:
    reader = SimulatedReader(rng=random.Random(5))
    reader.place(1, SimTag(EPC_A, read_probability=0.5))
    seen = sum(len(inventory_epcs(reader)) for _ in range(200))
    assert 0 < seen < 200


def test_command_for_another_address_is_ignored_and_broadcast_answered() -> None:
    reader = SimulatedReader(address=5)
    assert reader.handle(Command(4, CMD_READER_INFO, b"")) == []
    (frame,) = reader.handle(Command(0xFF, CMD_READER_INFO, b""))
    assert frame[1] == 5


def test_unknown_command_gets_the_illegal_command_answer() -> None:
    (frame,) = SimulatedReader().handle(Command(0, 0x77, b""))
    (response,) = ResponseDecoder().feed(frame)
    assert (response.command, response.status) == (0x00, STATUS_ILLEGAL_COMMAND)


def test_command_with_a_wrong_length_gets_the_length_wrong_answer() -> None:
    (frame,) = SimulatedReader().handle(Command(0, CMD_READER_INFO, b"\x01"))
    (response,) = ResponseDecoder().feed(frame)
    assert response.status == STATUS_LENGTH_WRONG


def test_single_antenna_reader_refuses_more_antennas() -> None:
    with pytest.raises(ValueError, match="one antenna"):
        SimulatedReader(Variant.UHFREADER18, antennas=2)
    with pytest.raises(ValueError, match="antenna 2"):
        SimulatedReader(Variant.UHFREADER18).place(2, EPC_A)


def test_tag_epc_must_be_whole_words() -> None:
    with pytest.raises(ValueError, match="EPC"):
        SimTag("ABC")


async def test_injected_faults_apply_once_each_in_order() -> None:
    simulator = Uhfreader18Simulator(round_time_s=0)
    await simulator.start_tcp()
    reader, writer = await open_connection("127.0.0.1", simulator.port)
    try:
        good = encode_command(0, CMD_READER_INFO)
        simulator.inject_garbage(b"\xaa\xbb")
        simulator.corrupt_next()
        writer.write(good)
        first = await reader.read(100)
        writer.write(good)
        second = await reader.read(100)
    finally:
        writer.close()
        await writer.wait_closed()
        await simulator.close()
    assert first[:2] == b"\xaa\xbb"
    decoder = ResponseDecoder()
    assert decoder.feed(first) + decoder.flush() == []  # garbage, then a frame with a bad CRC
    # One burst, counted under its first byte: 0xAA announced a frame that never completed.
    assert (decoder.stats.resyncs, decoder.stats.truncated) == (1, 1)
    assert len(decoder.feed(second)) == 1


def test_population_file_is_read_into_tags(tmp_path: Path) -> None:
    path = tmp_path / "tags.json"
    path.write_text(
        json.dumps({"antennas": {"2": [{"epc": EPC_A, "read_probability": 0.8, "rssi": 90}]}})
    )
    assert load_population(path) == {2: [SimTag(EPC_A, read_probability=0.8, rssi=90.0)]}


def test_population_file_with_unknown_fields_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "tags.json"
    path.write_text(json.dumps({"antennas": {"1": [{"epc": EPC_A, "colour": "red"}]}}))
    with pytest.raises(ValueError, match=r"tags\.json"):
        load_population(path)


def test_command_line_builds_the_described_reader(tmp_path: Path) -> None:
    path = tmp_path / "tags.json"
    path.write_text(json.dumps({"antennas": {"3": [{"epc": EPC_B}]}}))
    args = build_parser().parse_args(
        [
            "--port=0",
            "--variant=uhfreader288",
            f"--tag=1:{EPC_A}:0.5:80",
            f"--tags={path}",
            "--random-tags=2",
            "--seed=1",
        ]
    )
    reader = make_reader(args)
    assert reader.variant is Variant.UHFREADER288
    assert reader.find(EPC_A) == SimTag(EPC_A, read_probability=0.5, rssi=80.0)
    assert reader.tags(3)[0].epc == EPC_B
    assert [len(reader.tags(a)) for a in (1, 2, 3, 4)] == [3, 2, 3, 2]


def test_command_line_refuses_a_bad_tag_option() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--port=0", "--tag=1:XYZ"])
    assert exited.value.code == 2


def test_command_line_serves_until_sigterm(tmp_path: Path) -> None:
    code = "import sys; from simulators.uhfreader18 import main; sys.exit(main(sys.argv[1:]))"
    link = tmp_path / "reader"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "--pty", f"--link={link}", f"--tag=1:{EPC_A}"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert str(link) in line
        assert link.is_symlink()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert not link.exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_receiver_takes_the_length_byte_at_its_word_and_flags_a_bad_crc() -> None:
    """Manual V2.0 §3.1 (Len counts the bytes after itself) and §8.1 (CRC error)."""
    receiver = CommandReceiver()
    good = encode_command(0, CMD_READER_INFO)
    bad = good[:-1] + bytes((good[-1] ^ 0x01,))
    assert receiver.feed(good[:3]) == []
    assert receiver.pending == 3
    assert receiver.feed(good[3:] + bad) == [Command(0, CMD_READER_INFO, b""), BadFrame(bad)]
    assert receiver.feed(b"\x02\x00\x00") == [BadFrame(b"\x02\x00\x00")]  # Len below 4
    assert receiver.feed(b"\x50\x00") == []
    assert receiver.drop_partial() == 2
    assert receiver.pending == 0


def test_bad_crc_is_answered_illegal_command_only_for_this_reader_or_broadcast() -> None:
    """Manual V2.0 §8.1: ``05 Adr 00 FE``; a frame for another address is not answered."""
    reader = SimulatedReader(address=3)
    answer = ResponseDecoder().feed(reader.illegal())
    assert [(r.address, r.command, r.status) for r in answer] == [(3, 0, STATUS_ILLEGAL_COMMAND)]
    assert reader.hears(b"\x04\x03\x21\x00\x00")
    assert reader.hears(b"\x04\xff\x21\x00\x00")
    assert not reader.hears(b"\x04\x07\x21\x00\x00")


def test_tid_inventory_answers_each_tags_tid_words() -> None:
    """Manual V2.0 §8.2.1: AdrTID and LenTID select TID words (firmware V2.36 and later)."""
    reader = SimulatedReader()
    reader.place(1, SimTag(EPC_A, tid="E28011702000015A3C6D0102"))
    reader.place(1, SimTag(EPC_B, tid="E2801170"))  # too short for three words: no answer
    frames = reader.handle(Command(0, CMD_INVENTORY, tid_inventory_command_data(0, 3)))
    (response,) = ResponseDecoder().feed(b"".join(frames))
    assert parse_inventory(response, Variant.UHFREADER18).epcs == ("E28011702000",)
    frames = reader.handle(Command(0, CMD_INVENTORY, bytes((2, 4))))
    (response,) = ResponseDecoder().feed(b"".join(frames))
    assert parse_inventory(response, Variant.UHFREADER18).epcs == ("2000015A3C6D0102",)


@pytest.mark.parametrize(("data", "status"), [(b"\x00", 0xFD), (b"\x00\x10", 0xFF)])
def test_tid_inventory_with_bad_operands_is_refused(data: bytes, status: int) -> None:
    """Manual V2.0 §8.1 (operand length wrong: 0xFD) and §8.2.1 (LenTID under 16, else 0xFF)."""
    (response,) = ResponseDecoder().feed(
        b"".join(SimulatedReader().handle(Command(0, CMD_INVENTORY, data)))
    )
    assert response.status == status


def test_written_epc_keeps_the_tags_tid() -> None:
    reader = SimulatedReader()
    tid = reader.place(1, EPC_A).tid
    reader.handle(Command(0, 0x04, write_epc_command_data(EPC_B)))
    found = reader.find(EPC_B)
    assert found is not None
    assert found.tid == tid


def test_288_reader_information_has_twelve_data_bytes_like_the_uhfreader288m() -> None:
    """The UHFReader288M answers Version Type Tr_Type DMaxFre DMinFre Power Scntm Ant BeepEn
    OutputRep CheckAnt (12 bytes), as in the frame chafon-rfid captured from a real reader."""
    reader = SimulatedReader(Variant.UHFREADER288)
    (response,) = ResponseDecoder().feed(b"".join(reader.handle(Command(0, CMD_READER_INFO, b""))))
    assert len(response.data) == 12
    info = parse_reader_info(response)
    assert info.antenna_mask == 0x0F
    assert info.variant is Variant.UHFREADER288
    (single,) = ResponseDecoder().feed(
        b"".join(SimulatedReader().handle(Command(0, CMD_READER_INFO, b"")))
    )
    assert len(single.data) == 8
