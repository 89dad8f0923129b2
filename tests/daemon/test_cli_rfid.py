"""capture -> replay-gate through the command line, against a simulated reader over TCP."""

import asyncio
import sys
from pathlib import Path

import pytest

from drivers.uhfreader18 import Variant
from simulators.uhfreader18 import SimTag, SimulatedReader, Uhfreader18Simulator
from tests.harness import base_config_text, run_cli


async def _cli(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "daemon",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_capture_records_live_reads_that_replay_gate_reads_back(tmp_path: Path) -> None:
    reader = SimulatedReader(Variant.UHFREADER288, antennas=2)
    reader.place(1, SimTag("E28011606000020000000001", rssi=120))
    reader.place(2, SimTag("E28011606000020000000002", rssi=90))
    async with Uhfreader18Simulator(reader) as sim:
        await sim.start_tcp()
        config = tmp_path / "archroom.toml"
        config.write_text(
            base_config_text(tmp_path, port=0)
            + f'[[readers]]\ntype = "uhfreader18"\nid = "gate-a"\nurl = "socket://127.0.0.1:{sim.port}"\n'
            'role = "gate"\npoll_interval_s = 0.05\n'
            '[[gates]]\nid = "door"\nreader = "gate-a"\ninside_antenna = 1\noutside_antenna = 2\n'
        )
        out_file = tmp_path / "capture.csv"
        code, _, err = await _cli(
            "capture", "gate-a", "-c", str(config), "--duration", "2", "-o", str(out_file)
        )
    assert code == 0, err
    lines = out_file.read_text().splitlines()
    assert lines[0] == "epc,timestamp,antenna,rssi"
    rows = [line.split(",") for line in lines[1:]]
    assert {(r[0], r[2]) for r in rows} == {
        ("E28011606000020000000001", "1"),
        ("E28011606000020000000002", "2"),
    }
    assert f"captured {len(rows)} reads" in err

    replay = run_cli(
        "replay-gate", str(out_file), "--inside-antenna", "1", "--outside-antenna", "2"
    )
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout == ""  # two static tags, one each side: no passage


def test_capture_of_an_unknown_reader_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "archroom.toml"
    config.write_text(base_config_text(tmp_path))
    result = run_cli("capture", "nope", "-c", str(config), "--duration", "1")
    assert result.returncode == 1
    assert "no reader 'nope'" in result.stderr


@pytest.mark.parametrize("device", ["uhfreader18", "llrp-gate", "stacker", "climate"])
def test_every_simulator_runs_from_the_command_line(device: str) -> None:
    result = run_cli("simulate", device, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout.lower()
