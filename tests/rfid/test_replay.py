"""Capture then replay: a site records its gate and replays it through the engine."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drivers.tagread import TagRead
from rfid.capture import HEADER, CaptureWriter, TimestampFormat, format_reads
from rfid.replay import main, parse_timestamp
from tests.rfid.scenarios import (
    INSIDE,
    OUTSIDE,
    T0,
    GateSite,
    crossing,
    crossing_time,
    gate_reads,
    turn_back,
    walk_past,
)


def capture(path: Path, reads: list[TagRead], timestamp: TimestampFormat = "iso") -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        CaptureWriter(f, timestamp=timestamp).write_many(reads)
    return path


def replay(argv: list[str]) -> tuple[int, list[dict[str, str]], str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(argv, stdout=out, stderr=err)
    return status, [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def at(passage: dict[str, str]) -> float:
    return datetime.fromisoformat(passage["at"]).timestamp()


def antennas(inside: int = INSIDE, outside: int = OUTSIDE) -> list[str]:
    return ["--inside-antenna", str(inside), "--outside-antenna", str(outside)]


@pytest.mark.parametrize("timestamp", ["iso", "epoch"])
@pytest.mark.parametrize("with_rssi", [True, False])
def test_captured_crossings_replay_as_passages(
    tmp_path: Path, timestamp: TimestampFormat, with_rssi: bool
) -> None:
    site = GateSite(with_rssi=with_rssi)
    reads = gate_reads(
        {"E1": crossing("out"), "E2": walk_past("inside"), "E3": turn_back("outside")},
        9.0,
        site=site,
    )
    file = capture(tmp_path / "door.csv", reads, timestamp)

    status, passages, err = replay([str(file), *antennas()])

    assert status == 0
    assert [(p["epc"], p["direction"]) for p in passages] == [("E1", "out")]
    assert abs(at(passages[0]) - (T0 + crossing_time())) <= (1.0 if with_rssi else 2.0)
    assert passages[0]["at"].endswith("Z")
    assert f"{len(reads)} reads of 3 tags" in err


def test_passages_are_printed_in_time_order(tmp_path: Path) -> None:
    late: list[TagRead] = [
        TagRead(r.reader, r.antenna, r.epc, r.rssi, r.t + 20.0)
        for r in gate_reads({"1A7E": crossing("in")}, 8.0, seed=2)
    ]
    early = gate_reads({"EA21": crossing("out")}, 8.0, seed=3)
    file = capture(tmp_path / "door.csv", late + early)  # file not in time order

    status, passages, _ = replay([str(file), *antennas()])

    assert status == 0
    assert [(p["epc"], p["direction"]) for p in passages] == [("EA21", "out"), ("1A7E", "in")]


def test_antenna_numbers_come_from_the_command_line(tmp_path: Path) -> None:
    reads = [
        TagRead(r.reader, {INSIDE: 4, OUTSIDE: 3}[r.antenna], r.epc, r.rssi, r.t)
        for r in gate_reads({"E1": crossing("in")}, 8.0)
    ]
    file = capture(tmp_path / "door.csv", reads)

    _, as_wired, _ = replay([str(file), *antennas(inside=4, outside=3)])
    _, swapped, _ = replay([str(file), *antennas(inside=3, outside=4)])

    assert [p["direction"] for p in as_wired] == ["in"]
    assert [p["direction"] for p in swapped] == ["out"]


def test_gate_parameters_can_be_tried_from_the_command_line(tmp_path: Path) -> None:
    file = capture(tmp_path / "door.csv", gate_reads({"E1": crossing("out")}, 8.0))

    _, default, _ = replay([str(file), *antennas()])
    _, strict, _ = replay([str(file), *antennas(), "--min-side-reads", "1000"])

    assert len(default) == 1
    assert strict == []


def test_hand_written_capture_with_offsets_and_without_rssi_column(tmp_path: Path) -> None:
    rows = ["epc,timestamp,antenna"]
    # Local time at UTC+8: the tag goes from the inside antenna to the outside one.
    rows += [f"e2801160,2024-11-26T13:00:{s:06.3f}+08:00,1" for s in (0.0, 0.4, 0.8, 1.2, 1.6)]
    rows += [f"e2801160,2024-11-26T13:00:{s:06.3f}+08:00,2" for s in (2.0, 2.4, 2.8, 3.2, 3.6)]
    file = tmp_path / "hand.csv"
    file.write_text("\n".join(rows) + "\n", encoding="utf-8")

    status, passages, _ = replay([str(file), *antennas()])

    assert status == 0
    assert [(p["epc"], p["direction"]) for p in passages] == [("E2801160", "out")]
    assert passages[0]["at"].startswith("2024-11-26T05:00:0")  # shown in UTC
    last_inside_only = datetime(2024, 11, 26, 5, 0, 1, 600000, tzinfo=UTC).timestamp()
    assert last_inside_only <= at(passages[0]) <= last_inside_only + 1.0


def test_capture_writes_the_replay_header_and_one_row_per_read() -> None:
    stream = io.StringIO()
    writer = CaptureWriter(stream)
    writer.write(TagRead("gate-1", 2, "E2801160", -51.5, 1732600000.25))
    writer.write(TagRead("gate-1", 1, "E2801161", None, 1732600001.0))

    assert stream.getvalue().splitlines() == [
        ",".join(HEADER),
        "E2801160,2024-11-26T05:46:40.250000Z,2,-51.5",
        "E2801161,2024-11-26T05:46:41.000000Z,1,",
    ]
    assert writer.rows == 2


def test_epoch_capture_keeps_the_exact_time() -> None:
    text = format_reads([TagRead("g", 1, "AB", -60.0, 1732600000.123456789)], "epoch")

    assert text == "AB,1732600000.1234567,1,-60.0\n"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1732600000", 1732600000.0),
        ("1732600000.5", 1732600000.5),
        ("2024-11-26T05:46:40Z", 1732600000.0),
        ("2024-11-26T13:46:40.5+08:00", 1732600000.5),
        ("2024-11-26 05:46:40", 1732600000.0),  # no offset: UTC
    ],
)
def test_timestamps_are_iso_8601_or_epoch_seconds(text: str, seconds: float) -> None:
    assert parse_timestamp(text) == seconds


GOOD = "E1,1732600000.0,1,-50\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("epc,timestamp\n" + GOOD, ":1: missing column 'antenna'"),
        ("epc,timestamp,antenna,rssi,phase\n", ":1: unknown column 'phase'"),
        ("epc,timestamp,antenna,rssi\n" + GOOD + "E1,1732600000.1,1\n", ":3: expected 4 fields"),
        ("epc,timestamp,antenna,rssi\n" + GOOD + "XYZ!,1732600000.1,1,\n", ":3: EPC 'XYZ!'"),
        ("epc,timestamp,antenna,rssi\nE1,yesterday,1,\n", ":2: timestamp 'yesterday'"),
        ("epc,timestamp,antenna,rssi\nE1,1732600000,one,\n", ":2: antenna 'one'"),
        ("epc,timestamp,antenna,rssi\nE1,1732600000,-1,\n", ":2: antenna -1 is negative"),
        ("epc,timestamp,antenna,rssi\nE1,1732600000,1,loud\n", ":2: rssi 'loud'"),
        ("epc,timestamp,antenna,rssi\nE1,1732600000,1,nan\n", ":2: rssi 'nan'"),
        ("epc,timestamp,antenna,rssi\n\n\n" + "E1,1e999,1,\n", ":4: timestamp '1e999'"),
        ('epc,timestamp,antenna,rssi\nE1,"1732600000\n', ":2:"),
    ],
)
def test_bad_capture_is_a_clear_error_with_its_line(
    tmp_path: Path, content: str, message: str
) -> None:
    file = tmp_path / "bad.csv"
    file.write_text(content, encoding="utf-8")

    status, passages, err = replay([str(file), *antennas()])

    assert status == 2
    assert passages == []
    assert f"{file}" in err
    assert message in err
    assert "Traceback" not in err


def test_binary_file_is_a_clear_error(tmp_path: Path) -> None:
    file = tmp_path / "door.csv"
    file.write_bytes(b"epc,timestamp,antenna,rssi\n\xff\xfe\x00garbage\n")

    status, _, err = replay([str(file), *antennas()])

    assert status == 2
    assert f"{file}:" in err


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    status, _, err = replay([str(tmp_path / "nope.csv"), *antennas()])

    assert status == 2
    assert "cannot read" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["door.csv", "--inside-antenna", "1"], "--outside-antenna"),
        (["door.csv", *antennas(1, 1)], "must differ"),
        (["door.csv", *antennas(), "--smoothing-s", "-1"], "--smoothing-s: Input should be"),
        (["door.csv", *antennas(), "--min-side-reads", "two"], "invalid int value"),
    ],
)
def test_bad_arguments_exit_with_status_2(tmp_path: Path, argv: list[str], message: str) -> None:
    (tmp_path / "door.csv").write_text("epc,timestamp,antenna\n", encoding="utf-8")
    argv = [str(tmp_path / a) if a == "door.csv" else a for a in argv]

    status, _, err = replay(argv)

    assert status == 2
    assert message in err


def test_help_lists_the_gate_parameters() -> None:
    out = io.StringIO()

    assert main(["--help"], stdout=out, stderr=io.StringIO()) == 0
    assert "--exit-silence-s" in out.getvalue()
    assert "--cooldown-s" in out.getvalue()


def test_replay_warns_when_the_antennas_given_have_no_read(tmp_path: Path) -> None:
    file = capture(tmp_path / "door.csv", gate_reads({"E1": crossing("out")}, 8.0))

    status, passages, err = replay([str(file), *antennas(inside=5, outside=6)])

    assert status == 0
    assert passages == []
    assert "no read on the inside antenna 5 (antennas: 1, 2)" in err
