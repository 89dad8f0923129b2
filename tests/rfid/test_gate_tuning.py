"""Site tuning through the command line: ``replay-gate --labels`` and ``gate tune``.

A commissioning walk is recorded at the door and labelled; here the walk comes from the
physical gate model, written in the capture format, and the commands run as a site runs them.
"""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

import pytest

from drivers.tagread import TagRead
from rfid.capture import CaptureWriter
from rfid.config import GateParams
from rfid.replay import main as replay_main
from rfid.rssi import LINEAR_OFFSET_DB
from rfid.scorecard import LabelError, parse_labels
from simulators.gate_model import suite
from tests.harness import run_cli

WALK = ("walk_in", "walk_out", "turn_back", "walk_past")


def commissioning(tmp_path: Path, per_class: int, *, linear: bool = False) -> tuple[Path, Path]:
    """A capture of a small commissioning walk (one walk after the other) and its labels."""
    reads: list[TagRead] = []
    labels: dict[str, str] = {}
    offset = 0.0
    for recording in suite(per_class, seed=21, classes=WALK):
        for r in recording.reads:
            rssi = r.rssi
            if linear and rssi is not None:
                rssi = 10.0 ** ((rssi - LINEAR_OFFSET_DB) / 20.0)
            reads.append(TagRead(r.reader, r.antenna, r.epc, rssi, r.t + offset))
        labels.update(recording.labels)
        offset += recording.scenario.duration + 10.0
    capture = tmp_path / "walk.csv"
    with open(capture, "w", encoding="utf-8", newline="") as f:
        CaptureWriter(f).write_many(reads)
    label_file = tmp_path / "labels.csv"
    label_file.write_text(
        "epc,label\n" + "".join(f"{epc},{label}\n" for epc, label in labels.items())
    )
    return capture, label_file


def test_replay_with_labels_prints_the_scorecard_through_the_cli(tmp_path: Path) -> None:
    capture, labels = commissioning(tmp_path, 3)

    result = run_cli(
        "replay-gate", str(capture), "--inside-antenna", "1", "--outside-antenna", "2",
        "--labels", str(labels),
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["class", "tags", "outcome"]
    classes = {line.split()[0]: int(line.split()[1]) for line in lines[1:5]}
    assert classes == {"in": 3, "out": 3, "turn_back": 3, "walk_past": 3}
    assert "crossings right: " in result.stdout
    assert "/6 (" in result.stdout  # six crossings were walked
    assert "non-crossings with a passage: " in result.stdout


def test_a_crossing_labelled_as_a_walk_past_counts_as_a_false_passage(tmp_path: Path) -> None:
    capture, _labels = commissioning(tmp_path, 2)
    out = io.StringIO()
    replay_main(
        [str(capture), "--inside-antenna", "1", "--outside-antenna", "2", "--gate", "door"],
        stdout=out,
        stderr=io.StringIO(),
    )
    found = [line for line in out.getvalue().splitlines() if '"direction"' in line]
    assert found
    crossed = found[0].split('"epc": "')[1].split('"')[0]
    mislabelled = tmp_path / "wrong.csv"
    mislabelled.write_text(f"{crossed},walk_past\n")

    card = io.StringIO()
    status = replay_main(
        [str(capture), "--inside-antenna", "1", "--outside-antenna", "2",
         "--labels", str(mislabelled)],
        stdout=card,
        stderr=io.StringIO(),
    )  # fmt: skip

    assert status == 0
    assert "non-crossings with a passage: 1/1" in card.getvalue()


def test_linear_rssi_is_replayed_with_its_unit(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    capture_dbm, labels = commissioning(tmp_path / "a", 2)
    capture_linear, _ = commissioning(tmp_path / "b", 2, linear=True)
    assert "-" not in capture_linear.read_text().split("\n")[1].split(",")[3]  # magnitudes
    args = ["--inside-antenna", "1", "--outside-antenna", "2", "--labels", str(labels)]

    def card(*argv: str) -> str:
        out = io.StringIO()
        assert replay_main(list(argv), stdout=out, stderr=io.StringIO()) == 0
        return out.getvalue()

    in_dbm = card(str(capture_dbm), *args)
    in_linear = card(str(capture_linear), *args, "--rssi-unit", "linear")

    assert in_linear == in_dbm


def test_a_bad_labels_file_is_reported_with_its_line(tmp_path: Path) -> None:
    capture, _ = commissioning(tmp_path, 1)
    labels = tmp_path / "labels.csv"
    labels.write_text("E2801170,in\nnot-hex,out\n")

    result = run_cli(
        "replay-gate", str(capture), "--inside-antenna", "1", "--outside-antenna", "2",
        "--labels", str(labels),
    )  # fmt: skip

    assert result.returncode == 2
    assert f"{labels}:2: EPC 'not-hex' is not hexadecimal" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("text", "problem"),
    [("E1,in\nE1,out\n", "two labels"), ("E1\n", "expected 'epc,label'"), ("", "no labels")],
)
def test_labels_files_are_checked(text: str, problem: str) -> None:
    with pytest.raises(LabelError, match=problem):
        parse_labels(text.splitlines(keepends=True))


def test_gate_tune_prints_a_config_block_and_its_cross_validated_scorecard(
    tmp_path: Path,
) -> None:
    capture, labels = commissioning(tmp_path, 3)

    result = run_cli(
        "gate", "tune", str(capture), "--labels", str(labels),
        "--inside-antenna", "1", "--outside-antenna", "2",
        "--draws", "4", "--folds", "3", "--gate", "door-7",
        timeout=300,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    block = tomllib.loads(result.stdout)["gates"][0]
    assert block.pop("id") == "door-7"
    params = GateParams(**block)  # every key is a gate parameter with a valid value
    assert set(block) == set(GateParams.model_fields)
    assert params.cooldown_s == GateParams().cooldown_s  # a policy, not tuned
    assert "# cross-validated scorecard (3 folds):" in result.stdout
    assert "# crossings right: " in result.stdout
    assert "/6 (" in result.stdout


def test_gate_tune_refuses_captures_without_labelled_tags(tmp_path: Path) -> None:
    capture, _ = commissioning(tmp_path, 1)
    labels = tmp_path / "labels.csv"
    labels.write_text("E2801170FFFFFFFF,in\n")

    result = run_cli(
        "gate", "tune", str(capture), "--labels", str(labels),
        "--inside-antenna", "1", "--outside-antenna", "2",
    )  # fmt: skip

    assert result.returncode == 2
    assert "no labelled tag is read in the captures" in result.stderr
