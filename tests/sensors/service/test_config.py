"""Climate settings the daemon checks before it starts, and what it keeps out of its log."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.cli import main, quiet_libraries
from daemon.config import ConfigError, load_config
from daemon.tokens import Role
from sensors.bus import BusPoller
from sensors.config import BusConfig, XyMd02Config
from sensors.readings import QueueSink
from simulators.climate import ClimateSimulator
from tests.harness import api_client, create_token, make_config, running_daemon
from tests.support.poll import eventually

LINE = """
[[buses]]
id = "rs485"
url = "serial:///dev/ttyUSB0"
{baudrate}
[[sensors]]
type = "xy-md02"
id = "a"
bus = "rs485"
room = "r1"

[[sensors]]
type = "rs-ws-n01"
id = "b"
bus = "rs485"
room = "r1"
device_id = 2
"""

SENSORS = LINE.format(baudrate="baudrate = 9600")
"""Two sensors on a line at the baud rate both understand."""
ROOM_R1 = 'room = "r1"\n[[rooms]]\nid = "r1"\nclass = "paper"\n'


def config_errors(path: Path, text: str) -> list[str]:
    """What ``load_config`` refuses in ``text``, written to ``path``."""
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    return error.value.errors


def test_a_line_mixing_9600_and_4800_baud_sensors_needs_its_baudrate(tmp_path: Path) -> None:
    path = tmp_path / "archroom.toml"
    (line,) = [e for e in config_errors(path, LINE.format(baudrate="")) if "baudrate" in e]
    assert line.startswith("buses[0].baudrate: its sensors default to 4800 and 9600 baud")
    path.write_text(SENSORS)
    assert load_config(path).buses[0].baudrate == 9600


def test_room_limits_that_leave_an_empty_range_are_refused(tmp_path: Path) -> None:
    errors = config_errors(
        tmp_path / "archroom.toml", ROOM_R1 + "[rooms.limits]\ntemp_min_c = 30\n"
    )
    assert "rooms[0].limits: temperature limits 30..24 °C are empty" in errors


ACTUATORS = """
[[actuators]]
id = "dh-1"
room = "r1"
kind = "dehumidifier"
url = "tcp://10.0.4.20:502"
address = 0

[[actuators]]
id = "hu-1"
room = "r2"
kind = "humidifier"
url = "serial:///dev/ttyUSB1"
address = 1

[[actuators]]
id = "cool"
room = "r1"
kind = "cooling"
url = "tcp://10.0.4.20"
output = "register"
address = 40
on_value = 1
off_value = 1

[[actuators]]
id = "dh-2"
room = "r1"
kind = "dehumidifier"
url = "tcp://10.0.4.20:502"
address = 0

[[actuators]]
id = "dh-3"
room = "r1"
kind = "fan"
url = "tcp://10.0.4.21:502"
address = 0
[rooms.control]
min_on_s = -1
"""


def test_actuators_and_control_tuning_are_checked_with_their_place(tmp_path: Path) -> None:
    path = tmp_path / "archroom.toml"
    errors = config_errors(path, ROOM_R1 + SENSORS + ACTUATORS)
    assert any(
        e.startswith("actuators[1].url: an actuator is switched over Modbus TCP") for e in errors
    )
    assert "actuators[2]: on_value and off_value must differ" in errors
    assert any(e.startswith("actuators[4].kind: ") for e in errors)
    assert any(e.startswith("rooms[0].control.min_on_s: ") for e in errors), errors

    valid = ACTUATORS.split("[[actuators]]")

    def toml(*actuators: str, rooms: str = ROOM_R1, control: str = "") -> str:
        """The room(s), the sensors' line and ``actuators`` (tables from ``ACTUATORS``)."""
        return rooms + control + SENSORS + "[[actuators]]".join([valid[0], *actuators])

    # the cross-checks of the whole file come back as one line, each problem located
    assert config_errors(path, toml(valid[1], valid[4].replace('"r1"', '"r2"'))) == [
        "actuators[1].room: unknown room 'r2'; actuators[1].address: coil 0 of "
        "tcp://10.0.4.20:502 (device 1) already switches 'dh-1'"
    ]
    assert config_errors(path, toml(valid[1], valid[4])) == [
        "actuators[1].address: coil 0 of tcp://10.0.4.20:502 (device 1) already switches 'dh-1'"
    ]
    unmeasured = valid[2].replace("serial:///dev/ttyUSB1", "tcp://h")
    assert config_errors(path, toml(unmeasured, rooms=ROOM_R1 + '[[rooms]]\nid = "r2"\n')) == [
        "actuators[0].room: no sensor measures room 'r2', so nothing could decide when to switch it"
    ]
    path.write_text(toml(valid[1], control="[rooms.control]\nmin_on_s = 60\n"))
    config = load_config(path)
    assert config.actuators[0].output == "coil"
    assert config.rooms[0].control.settings().min_on_s == 60


def test_climate_table_is_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "archroom.toml"
    path.write_text("[climate]\nhistory_retention_days = 0\nsmoothing = 5\n")
    assert main(["check-config", str(path)]) == 1
    err = capsys.readouterr().err
    assert "climate.history_retention_days:" in err
    assert "climate.smoothing: unknown setting" in err


async def test_a_daemon_without_sensors_has_no_climate_service(
    tmp_path: Path, sqlite_url: str
) -> None:
    config = make_config(tmp_path / "room", db_url=sqlite_url)
    token = await create_token(sqlite_url, Role.facilities)
    async with running_daemon(config, patient=True) as daemon, api_client(daemon, token) as client:
        assert daemon.services is not None
        assert daemon.services.climate is None
        health = (await client.get("/healthz")).json()["components"]["climate"]
        assert health["status"] == "disabled"
        body = (await client.get("/api/v1/climate")).json()
        assert (body["rooms"], body["sensors"], body["buses"]) == ([], [], [])


@pytest.fixture
def daemon_logging() -> Iterator[None]:
    """The daemon's library log levels, for one test."""
    names = ("pymodbus", "pymodbus.logging")
    levels = {n: logging.getLogger(n).level for n in names}
    quiet_libraries()
    try:
        yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


async def test_a_dead_sensor_leaves_no_frame_dumps_in_the_log(
    climate_sim: ClimateSimulator, daemon_logging: None, caplog: pytest.LogCaptureFixture
) -> None:
    climate_sim.set_fault("stack-1-a", "dead")
    bus = BusConfig(id="rs485", url=f"socket://127.0.0.1:{climate_sim.port('rs485')}",
                    timeout_s=0.1)  # fmt: skip
    sensor = XyMd02Config(type="xy-md02", id="stack-1-a", bus="rs485", room="stack-1",
                          interval_s=0.05)  # fmt: skip
    poller = BusPoller(bus, [sensor], QueueSink())
    caplog.set_level(logging.DEBUG, logger="sensors")
    task = asyncio.create_task(poller.run())
    try:

        async def timed_out_thrice() -> bool:
            return poller.counters["stack-1-a"].timeouts >= 3

        await eventually(timed_out_thrice)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert [r for r in caplog.records if r.name.startswith("pymodbus")] == []
    assert any("stack-1-a down" in r.getMessage() for r in caplog.records)
