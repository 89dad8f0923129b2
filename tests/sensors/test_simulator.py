"""The climate simulator speaks plain Modbus at each vendor's registers."""

from __future__ import annotations

import asyncio
import struct
import sys
from collections.abc import AsyncIterator

import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusIOException
from pymodbus.framer import FramerType

from simulators.climate import (
    ClimateSimulator,
    RoomModel,
    SimBus,
    SimSensor,
    default_layout,
    main,
)
from simulators.climate_room import (
    RoomPhysics,
    RoomSpec,
    Weather,
    humidity_pct,
    moisture_g_per_kg,
)


@pytest.fixture
async def rtu(climate_sim: ClimateSimulator) -> AsyncIterator[AsyncModbusTcpClient]:
    client = AsyncModbusTcpClient(
        "127.0.0.1", port=climate_sim.port("rs485"), framer=FramerType.RTU, timeout=0.3,
        retries=0, reconnect_delay=0,
    )  # fmt: skip
    assert await client.connect()
    yield client
    client.close()


@pytest.fixture
async def mbtcp(climate_sim: ClimateSimulator) -> AsyncIterator[AsyncModbusTcpClient]:
    client = AsyncModbusTcpClient(
        "127.0.0.1", port=climate_sim.port("tcp"), timeout=0.3, retries=0, reconnect_delay=0
    )
    assert await client.connect()
    yield client
    client.close()


async def test_xy_md02_answers_fc04_at_registers_1_and_2(
    climate_sim: ClimateSimulator, rtu: AsyncModbusTcpClient
) -> None:
    climate_sim.set_values("stack-1-a", -20.5, 54.6)
    rr = await rtu.read_input_registers(1, count=2, device_id=1)
    assert not rr.isError()
    assert list(rr.registers) == [0xFF33, 546]


async def test_xy_md02_holds_its_address_and_baud_code_in_holding_registers(
    rtu: AsyncModbusTcpClient,
) -> None:
    """XY-MD02 manual: 0x0102 baud code 0 = 9600 (1 is 14400), the line's speed here."""
    rr = await rtu.read_holding_registers(0x0101, count=2, device_id=3)
    assert list(rr.registers) == [3, 0]


async def test_xy_md02_refuses_measurements_over_fc03(rtu: AsyncModbusTcpClient) -> None:
    rr = await rtu.read_holding_registers(1, count=2, device_id=1)
    assert rr.isError()


async def test_rs_ws_n01_answers_fc03_humidity_then_temperature(
    climate_sim: ClimateSimulator, rtu: AsyncModbusTcpClient
) -> None:
    climate_sim.set_values("stack-1-b", -10.1, 65.8)
    rr = await rtu.read_holding_registers(0, count=2, device_id=2)
    assert list(rr.registers) == [0x0292, 0xFF9B]
    assert (await rtu.read_input_registers(0, count=2, device_id=2)).isError()


async def test_float32_sensor_answers_over_modbus_tcp(
    climate_sim: ClimateSimulator, mbtcp: AsyncModbusTcpClient
) -> None:
    climate_sim.set_values("vault-b", 14.25, 41.5)
    rr = await mbtcp.read_holding_registers(0, count=4, device_id=1)
    words = struct.pack(">4H", *rr.registers)
    assert struct.unpack(">2f", words) == (14.25, 41.5)


async def test_dead_sensor_and_unknown_address_stay_silent(
    climate_sim: ClimateSimulator, rtu: AsyncModbusTcpClient
) -> None:
    climate_sim.set_fault("stack-1-b", "dead")
    with pytest.raises(ModbusIOException):
        await rtu.read_holding_registers(0, count=2, device_id=2)
    with pytest.raises(ModbusIOException):
        await rtu.read_input_registers(1, count=2, device_id=99)
    rr = await rtu.read_input_registers(1, count=2, device_id=1)  # the line still works
    assert not rr.isError()
    climate_sim.set_fault("stack-1-b", None)
    assert not (await rtu.read_holding_registers(0, count=2, device_id=2)).isError()


async def test_stuck_sensor_repeats_its_last_registers(
    climate_sim: ClimateSimulator, rtu: AsyncModbusTcpClient
) -> None:
    first = list((await rtu.read_input_registers(1, count=2, device_id=1)).registers)
    climate_sim.set_fault("stack-1-a", "stuck")
    climate_sim.set_values("stack-1-a", 30.0, 80.0)
    for _ in range(3):
        again = list((await rtu.read_input_registers(1, count=2, device_id=1)).registers)
        assert again == first


async def test_forced_registers_carry_error_codes(
    climate_sim: ClimateSimulator, rtu: AsyncModbusTcpClient
) -> None:
    climate_sim.set_registers("stack-1-a", {1: 0x7FFF})
    rr = await rtu.read_input_registers(1, count=2, device_id=1)
    assert rr.registers[0] == 0x7FFF
    climate_sim.release("stack-1-a")
    rr = await rtu.read_input_registers(1, count=2, device_id=1)
    assert rr.registers[0] != 0x7FFF


def test_room_model_has_a_diurnal_cycle_warmest_in_the_afternoon() -> None:
    sensors, buses, _ = default_layout()
    rooms = {"stack-1": RoomModel(temperature_c=18.0, humidity_pct=50.0,
                                  diurnal_temperature_c=1.0, diurnal_humidity_pct=3.0),
             "film-vault": RoomModel()}  # fmt: skip
    sim = ClimateSimulator(sensors, buses, rooms, clock=lambda: 0.0)
    afternoon = sim.true_climate("stack-1", at=15 * 3600.0)
    night = sim.true_climate("stack-1", at=3 * 3600.0)
    assert afternoon[0] == pytest.approx(19.0)
    assert night[0] == pytest.approx(17.0)
    assert afternoon[1] == pytest.approx(47.0)
    assert night[1] == pytest.approx(53.0)


def test_dehumidifier_failure_raises_humidity_with_its_time_constant() -> None:
    now = [0.0]
    sensors, buses, _ = default_layout()
    flat = RoomModel(diurnal_temperature_c=0.0, diurnal_humidity_pct=0.0, humidity_pct=50.0)
    sim = ClimateSimulator(sensors, buses, {"stack-1": flat, "film-vault": flat},
                           clock=lambda: now[0])  # fmt: skip
    sim.dehumidifier_failure("stack-1", rise_pct=20.0, tau_s=3600.0)
    now[0] = 3600.0
    assert sim.true_climate("stack-1")[1] == pytest.approx(50.0 + 20.0 * (1 - 0.36788), abs=0.01)
    now[0] = 10 * 3600.0
    assert sim.true_climate("stack-1")[1] == pytest.approx(70.0, abs=0.01)
    assert sim.true_climate("film-vault")[1] == pytest.approx(50.0)


def test_drift_accumulates_per_day() -> None:
    now = [0.0]
    sensors, buses, _ = default_layout()
    drifting = RoomModel(diurnal_temperature_c=0.0, diurnal_humidity_pct=0.0,
                         drift_humidity_pct_per_day=0.5)  # fmt: skip
    sim = ClimateSimulator(sensors, buses, {"stack-1": drifting, "film-vault": drifting},
                           clock=lambda: now[0])  # fmt: skip
    now[0] = 4 * 86400.0
    assert sim.true_climate("stack-1")[1] == pytest.approx(52.0)


def test_speed_runs_the_model_clock_faster() -> None:
    now = [1000.0]
    sensors, buses, rooms = default_layout()
    sim = ClimateSimulator(sensors, buses, rooms, speed=60.0, clock=lambda: now[0])
    now[0] = 1010.0
    assert sim.model_time() == pytest.approx(1600.0)


def test_two_sensors_cannot_share_an_address_on_one_line() -> None:
    with pytest.raises(ValueError, match="device id 1 taken"):
        ClimateSimulator(
            [SimSensor("a", "r", "xy-md02", "l", 1), SimSensor("b", "r", "rs-ws-n01", "l", 1)],
            [SimBus("l", "rtu")],
            {"r": RoomModel()},
        )


async def test_standalone_simulator_prints_its_ports_and_stops_on_sigterm() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; from simulators.climate import main; "
        "sys.exit(main(['--port', '0', '--tcp-port', '0', '--dead', 'vault-a']))",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    lines = []
    while raw := await asyncio.wait_for(proc.stdout.readline(), 20):
        if (line := raw.decode().strip()) == "ready":
            break
        lines.append(line)
    else:
        pytest.fail(f"simulator exited early: {lines}")
    proc.terminate()
    assert await asyncio.wait_for(proc.wait(), 20) == 0
    buses = [line.split() for line in lines if line.startswith("bus ")]
    assert [(b[1], b[2]) for b in buses] == [("rs485", "rtu"), ("tcp", "tcp")]
    assert all(int(b[3].rsplit(":", 1)[1]) > 0 for b in buses)
    assert sum(line.startswith("sensor ") for line in lines) == 4


def test_standalone_simulator_refuses_an_unknown_sensor(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--dead", "nobody"])
    assert exit_info.value.code == 2
    assert "unknown sensor 'nobody'" in capsys.readouterr().err


def test_a_sensor_that_cannot_run_at_its_lines_baud_is_refused() -> None:
    """Renke RS-WS-N01 baud codes are 2400, 4800 and 9600 only (register 0x07D1)."""
    with pytest.raises(ValueError, match="cannot run at 19200"):
        ClimateSimulator(
            [SimSensor("a", "r", "rs-ws-n01", "l", 1)],
            [SimBus("l", "rtu", baud=19200)],
            {"r": RoomModel()},
        )


# -- the physical room model (simulators/climate_room.py) -----------------------------------


def _physics(**spec: float) -> RoomPhysics:
    return RoomPhysics(RoomSpec(**spec), Weather(), 0.0)


def test_a_room_left_alone_in_its_own_weather_stays_where_it_is() -> None:
    room = _physics()
    room.advance(6 * 3600, frozenset())
    assert room.temperature_c == pytest.approx(19.0, abs=1e-6)
    assert room.humidity_pct == pytest.approx(52.0, abs=1e-6)


def test_an_open_door_lets_humid_corridor_air_in_and_a_dehumidifier_takes_it_out() -> None:
    room = _physics()
    room.weather = Weather(26.0, 80.0)
    room.open_door(600)
    room.advance(600, frozenset())
    humid = room.humidity_pct
    assert humid > 60  # six air changes an hour for ten minutes
    room.advance(1800, frozenset())
    leaks_only = room.humidity_pct
    assert leaks_only > humid  # the door is shut, but the leaks still bring moisture in

    dried = _physics()
    dried.weather = Weather(26.0, 80.0)
    dried.open_door(600)
    dried.advance(600, frozenset())
    dried.advance(1800, frozenset({"dehumidifier"}))
    assert dried.humidity_pct < humid - 10


def test_heating_warms_the_room_and_lowers_its_relative_humidity() -> None:
    room = _physics()
    room.advance(3600, frozenset({"heating"}))
    assert room.temperature_c > 19.5
    assert room.humidity_pct < 52.0
    assert room.moisture == pytest.approx(moisture_g_per_kg(19.0, 52.0))


def test_a_broken_actuator_runs_without_effect() -> None:
    room = _physics()
    room.broken.add("humidifier")
    room.advance(3600, frozenset({"humidifier"}))
    assert room.humidity_pct == pytest.approx(52.0, abs=1e-6)


def test_moisture_and_relative_humidity_convert_both_ways() -> None:
    for t, rh in ((0.0, 30.0), (19.0, 52.0), (30.0, 90.0)):
        assert humidity_pct(t, moisture_g_per_kg(t, rh)) == pytest.approx(rh)
    # 20 °C / 50 % at sea level: about 7.3 g of water per kg of dry air
    assert moisture_g_per_kg(20.0, 50.0) == pytest.approx(7.3, abs=0.1)
