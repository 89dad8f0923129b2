"""The demo room's devices: simulators speaking the real protocols, in this process.

Shelf readers are UHFReader288-dialect readers with four antennas each, on pseudo-terminals
(the daemon opens them as serial ports); the desk reader is a one-antenna UHFReader18; the
door gate is an LLRP reader on TCP; the stacker PLC serves Modbus TCP (a single-deep 2 x 6 x 4
rack with real motion times); the climate bus has four sensors in two rooms, three on an
RS485 line (Modbus RTU over TCP, as through a serial server) and one on Modbus TCP.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from types import TracebackType

from drivers.uhfreader18 import Variant
from simulators.climate import ClimateSimulator, default_layout
from simulators.climate_room import Channel, RelayModule, RoomSpec
from simulators.llrp_gate import LlrpGateSimulator
from simulators.stacker_plc import PlcSettings, StackerPlcSimulator
from simulators.uhfreader18 import SimulatedReader, Uhfreader18Simulator
from stacker.cells import RackGeometry

ROOM = "stack-1"  # the paper stack this daemon owns; "film-vault" is watched for its climate
STACKER_BAYS = 6
STACKER_LEVELS = 4
SHELF_READERS = 4
ANTENNAS = 4
BAYS = 4  # rack A: bays 1-4, levels 1-4; reader k watches bay k+1, antenna n level n


DEMO_ROOM = RoomSpec(volume_m3=10.0, door_air_changes_per_h=120.0, dehumidifier_g_per_h=6000.0)
"""A small, leaky room with a strong dehumidifier: things happen within a minute."""


def shelf_code(reader: int, antenna: int) -> str:
    return f"{ROOM}-A-{reader + 1:02d}-{antenna:02d}"


class DemoDevices:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.shelves = [
            Uhfreader18Simulator(
                SimulatedReader(Variant.UHFREADER288, antennas=ANTENNAS), round_time_s=0.01
            )
            for _ in range(SHELF_READERS)
        ]
        self.desk = Uhfreader18Simulator(SimulatedReader(Variant.UHFREADER18), round_time_s=0.01)
        self.gate = LlrpGateSimulator(cycle_s=0.05, seed=7)
        self.stacker = StackerPlcSimulator(
            PlcSettings(
                geometry=RackGeometry(bays=STACKER_BAYS, levels=STACKER_LEVELS, depths=1),
                seconds_per_bay=0.3,
                seconds_per_level=0.5,
                seconds_per_fork=1.0,
                host_watchdog_s=10.0,
            )
        )
        # The paper stack is a small room with a physical model and a dehumidifier on a relay
        # module (coil 0), so the daemon's climate control pulls an excursion back in a minute.
        self.climate = ClimateSimulator(
            *default_layout(),
            seed=3,
            physics={ROOM: DEMO_ROOM},
            relays=RelayModule([Channel(0, ROOM, "dehumidifier")]),
        )
        self.shelf_paths: list[str] = []
        self.desk_path = ""
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> DemoDevices:
        # The daemon opens the links (symlinks that survive a simulated hang-up), not the ptys.
        for i, shelf in enumerate(self.shelves):
            self._stack.push_async_callback(shelf.close)
            link = self.state_dir / f"shelf-{i + 1}.pty"
            await shelf.start_pty(link)
            self.shelf_paths.append(str(link))
        self._stack.push_async_callback(self.desk.close)
        await self.desk.start_pty(self.state_dir / "desk-1.pty")
        self.desk_path = str(self.state_dir / "desk-1.pty")
        await self.gate.start()
        self._stack.push_async_callback(self.gate.stop)
        await self.stacker.start()
        self._stack.push_async_callback(self.stacker.stop)
        await self.climate.start()
        self._stack.push_async_callback(self.climate.stop)
        return self

    @property
    def relays(self) -> RelayModule:
        assert self.climate.relays is not None
        return self.climate.relays

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stack.aclose()

    def locate(self, epc: str) -> tuple[int, int] | None:
        """(shelf reader index, antenna) whose field holds ``epc``."""
        for i, shelf in enumerate(self.shelves):
            for antenna in range(1, ANTENNAS + 1):
                if epc in shelf.reader._field(antenna):
                    return i, antenna
        return None


def demo_config_text(
    state_dir: Path, devices: DemoDevices, *, port: int, mqtt_url: str | None
) -> str:
    lines = [
        "# Written by `archroom demo`: every device is a simulator on this machine.",
        f'room = "{ROOM}"',
        f'state_dir = "{state_dir}"',
        "",
        "[site]",
        'id = "demo"',
        'name = "Demo archive"',
        "",
        "[api]",
        'bind = "127.0.0.1"',
        f"port = {port}",
        "",
        "[[rooms]]",
        f'id = "{ROOM}"',
        'name = "Paper stacks"',
        'class = "paper"',
        "[rooms.limits]",
        "min_duration_s = 5.0  # a real room waits longer (default 600 s); the demo is impatient",
        "[rooms.control]",
        "interval_s = 1.0",
        "min_on_s = 10.0  # a compressor wants minutes (default 300 s)",
        "min_off_s = 10.0",
        "feedback_after_s = 120.0",
        "",
        "[[rooms]]",
        'id = "film-vault"',
        'name = "Film masters"',
        'class = "film-master"',
        "[rooms.limits]",
        "min_duration_s = 5.0",
        "",
        "[climate]",
        "smoothing_s = 5.0",
        "",
        "[[racks]]",
        'id = "A"',
        f"bays = {BAYS}",
        f"levels = {ANTENNAS}",
        "",
        "[shelf]",
        "min_reads = 2",
        "half_life_sweeps = 2.0",
        "silence_s = 10.0",
        "missing_sweeps = 20",
        "misplaced_after_s = 3.0",
    ]
    for i, path in enumerate(devices.shelf_paths):
        antennas = ", ".join(f'{a} = "{shelf_code(i, a)}"' for a in range(1, ANTENNAS + 1))
        lines += [
            "",
            "[[readers]]",
            'type = "uhfreader18"',
            f'id = "shelf-{i + 1}"',
            f'url = "serial://{path}"',
            'role = "shelf"',
            "poll_interval_s = 0.25",
            f"antennas = {{ {antennas} }}",
        ]
    lines += [
        "",
        "[[readers]]",
        'type = "uhfreader18"',
        'id = "desk-1"',
        f'url = "serial://{devices.desk_path}"',
        'role = "desk"',
        "",
        "[[readers]]",
        'type = "llrp"',
        'id = "door-1"',
        f'url = "tcp://127.0.0.1:{devices.gate.port}"',
        'role = "gate"',
        "",
        "[[gates]]",
        'id = "door-1"',
        'reader = "door-1"',
        "inside_antenna = 1",
        "outside_antenna = 2",
        "confirm_s = 0.5",
    ]
    lines += [
        "",
        "[stacker]",
        'id = "stacker-1"',
        f'url = "tcp://127.0.0.1:{devices.stacker.port}"',
        "bays = 6",
        "levels = 4",
        "depths = 1",
        'stations = [{ name = "io-1", side = 1, bay = 0, level = 1 }]',
        "",
        "[[buses]]",
        'id = "rs485"',
        f'url = "socket://127.0.0.1:{devices.climate.port("rs485")}"',
        "baudrate = 9600",
        "",
        "[[buses]]",
        'id = "tcp"',
        f'url = "tcp://127.0.0.1:{devices.climate.port("tcp")}"',
        "",
        "[[actuators]]",
        'id = "dh-1"',
        f'room = "{ROOM}"',
        'kind = "dehumidifier"',
        f'url = "tcp://127.0.0.1:{devices.relays.port}"',
        'output = "coil"',
        "address = 0",
    ]
    for sensor_type, sensor, bus, room, address in (
        ("xy-md02", "stack-1-a", "rs485", ROOM, 1),
        ("rs-ws-n01", "stack-1-b", "rs485", ROOM, 2),
        ("xy-md02", "vault-a", "rs485", "film-vault", 3),
        ("generic", "vault-b", "tcp", "film-vault", 1),
    ):
        lines += [
            "",
            "[[sensors]]",
            f'type = "{sensor_type}"',
            f'id = "{sensor}"',
            f'bus = "{bus}"',
            f'room = "{room}"',
            f"device_id = {address}",
            "interval_s = 2.0",
        ]
    lines += [
        "[sensors.temperature]",
        "address = 0",
        'data_type = "float32"',
        "[sensors.humidity]",
        "address = 2",
        'data_type = "float32"',
    ]
    if mqtt_url:
        lines += ["", "[mqtt]", f'url = "{mqtt_url}"']
    return "\n".join(lines) + "\n"
