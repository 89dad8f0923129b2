"""``archroom sensor``: reading and setting a sensor's address and baud on the simulated line,
and refusing to while the daemon's poller owns that line.

Register maps: XY-MD02 0x0101 address, 0x0102 baud code (0 = 9600); Renke RS-WS-N01 0x07D0
address, 0x07D1 baud code (0 = 2400, 1 = 4800, 2 = 9600); both written with FC06 (the
vendors' manuals, summarised in docs/device-fidelity.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from daemon.cli import main as cli_main
from sensors.bus import BusPoller
from sensors.buslock import BusLock, lock_path
from sensors.config import BusConfig, XyMd02Config
from sensors.readings import QueueSink
from simulators.climate import ClimateSimulator
from tests.sensors.conftest import next_event, reading_of, running


def _link(sim: ClimateSimulator) -> str:
    return f"socket://127.0.0.1:{sim.port('rs485')}"


async def sensor_cli(*argv: str) -> int:
    """``archroom sensor ...`` as a person runs it (it runs its own event loop: a thread)."""
    return await asyncio.to_thread(cli_main, ["sensor", *argv])


Commission = Callable[..., Awaitable[int]]


@pytest.fixture
def commission(climate_sim: ClimateSimulator, tmp_path: Path) -> Commission:
    """``archroom sensor ACTION ...`` naming the simulated line and a state directory."""

    async def run(action: str, *argv: str) -> int:
        return await sensor_cli(
            action, "--state-dir", str(tmp_path), "--link", _link(climate_sim), *argv
        )

    return run


def _poller_of_stack_1_a(sim: ClimateSimulator, lock_dir: Path) -> tuple[BusPoller, QueueSink]:
    """The daemon's poller of the simulated line, reading sensor ``stack-1-a``."""
    bus = BusConfig(id="rs485", url=_link(sim), timeout_s=0.3)
    sensors = [XyMd02Config(type="xy-md02", id="stack-1-a", bus="rs485", room="r1")]
    sink = QueueSink()
    return BusPoller(bus, sensors, sink, lock_dir=lock_dir), sink


async def test_show_prints_the_address_and_the_baud_its_code_stands_for(
    commission: Commission, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await commission("show", "--profile", "rs-ws-n01", "--address", "2")
    assert code == 0
    assert "rs-ws-n01 at address 2: baud code 2 (9600)" in capsys.readouterr().out


async def test_set_address_moves_the_sensor_and_reads_it_back_there(
    climate_sim: ClimateSimulator, commission: Commission, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await commission("set-address", "--profile", "xy-md02", "--address", "3", "17")
    assert code == 0, capsys.readouterr().err
    assert climate_sim.address_of("vault-a") == 17
    assert "now answers at address 17 (was 3)" in capsys.readouterr().out


async def test_set_address_refuses_an_address_another_device_answers_at(
    climate_sim: ClimateSimulator, commission: Commission, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await commission("set-address", "--profile", "xy-md02", "--address", "1", "2")
    assert code == 1
    assert "address 2 is already taken" in capsys.readouterr().err
    assert climate_sim.address_of("stack-1-a") == 1
    assert climate_sim.writes("stack-1-a") == 0


async def test_set_baud_of_a_configured_sensor_writes_the_renke_code(
    climate_sim: ClimateSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "archroom.toml"
    config.write_text(
        f'state_dir = "{tmp_path}"\n'
        f'[[buses]]\nid = "rs485"\nurl = "{_link(climate_sim)}"\nbaudrate = 9600\n'
        '[[sensors]]\ntype = "rs-ws-n01"\nid = "b"\nbus = "rs485"\nroom = "r1"\ndevice_id = 2\n'
    )
    code = await sensor_cli("set-baud", "-c", str(config), "--sensor", "b", "4800")
    assert code == 0, capsys.readouterr().err
    assert climate_sim.baud_of("stack-1-b") == 4800
    out = capsys.readouterr().out
    assert "now listens at 4800 baud" in out
    assert "set its line to 4800 baud" in out  # a serial server: the host cannot check


async def test_a_baud_the_vendor_has_no_code_for_is_refused_before_anything_is_sent(
    climate_sim: ClimateSimulator, commission: Commission, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await commission("set-baud", "--profile", "xy-md02", "4800")
    assert code == 1
    assert "cannot run at 4800 baud (9600, 14400, 19200)" in capsys.readouterr().err
    assert climate_sim.writes("stack-1-a") == 0


async def test_commissioning_is_refused_while_the_daemons_poller_owns_the_line(
    climate_sim: ClimateSimulator,
    tmp_path: Path,
    commission: Commission,
    capsys: pytest.CaptureFixture[str],
) -> None:
    poller, sink = _poller_of_stack_1_a(climate_sim, tmp_path)
    async with running(poller):
        await next_event(sink, reading_of("stack-1-a"))
        code = await commission("set-address", "--profile", "xy-md02", "9")
    assert code == 3
    assert "in use by another process" in capsys.readouterr().err
    assert climate_sim.writes("stack-1-a") == 0
    with BusLock(tmp_path, _link(climate_sim)) as lock:  # released when the poller stopped
        assert lock.path == lock_path(tmp_path, _link(climate_sim))


async def test_poller_waits_for_the_line_while_a_commissioning_session_holds_it(
    climate_sim: ClimateSimulator, tmp_path: Path
) -> None:
    poller, sink = _poller_of_stack_1_a(climate_sim, tmp_path)
    session = BusLock(tmp_path, _link(climate_sim))
    session.acquire()
    try:
        async with running(poller):
            change = await next_event(sink, lambda e: getattr(e, "bus", None) == "rs485")
            assert getattr(change, "up", None) is False
            assert climate_sim.reads("stack-1-a") == 0
            session.release()
            await next_event(sink, reading_of("stack-1-a"))
    finally:
        session.release()


def test_help_names_the_three_actions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["sensor", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert all(action in out for action in ("show", "set-address", "set-baud"))
