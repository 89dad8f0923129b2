"""A bus poller against the simulator over real TCP, with RTU and Modbus TCP framing."""

from __future__ import annotations

import socket

import pytest
from pymodbus.client import AsyncModbusSerialClient

from sensors.bus import BusPoller, make_client, serial_parameters
from sensors.config import BusConfig, GenericConfig, RsWsN01Config, SensorConfig, XyMd02Config
from sensors.readings import BusLinkChange, QueueSink, Reading, SensorStateChange
from sensors.schedule import Health
from simulators.climate import ClimateSimulator

from .conftest import next_event, reading_of, running, state_of


def rs485(sim: ClimateSimulator, **kw: object) -> BusConfig:
    url = f"socket://127.0.0.1:{sim.port('rs485')}"
    return BusConfig.model_validate({"id": "rs485", "url": url, "timeout_s": 0.2, **kw})


def line_sensors(interval_s: float = 0.2, lazy: int = 3) -> list[SensorConfig]:
    return [
        XyMd02Config(type="xy-md02", id="stack-1-a", bus="rs485", room="stack-1", device_id=1,
                     interval_s=interval_s, lazy_error_count=lazy),
        RsWsN01Config(type="rs-ws-n01", id="stack-1-b", bus="rs485", room="stack-1",
                      device_id=2, interval_s=interval_s, lazy_error_count=lazy),
        XyMd02Config(type="xy-md02", id="vault-a", bus="rs485", room="film-vault", device_id=3,
                     interval_s=interval_s, lazy_error_count=lazy),
    ]  # fmt: skip


async def test_rtu_line_delivers_each_sensor_as_the_simulator_holds_it(
    climate_sim: ClimateSimulator,
) -> None:
    climate_sim.set_values("stack-1-a", 18.4, 51.2)
    climate_sim.set_values("stack-1-b", -3.7, 47.9)
    climate_sim.set_values("vault-a", 14.1, 39.5)
    sink = QueueSink()
    poller = BusPoller(rs485(climate_sim), line_sensors(), sink)
    async with running(poller):
        a = await next_event(sink, reading_of("stack-1-a"))
        b = await next_event(sink, reading_of("stack-1-b"))
        v = await next_event(sink, reading_of("vault-a"))
    assert isinstance(a, Reading)
    assert isinstance(b, Reading)
    assert isinstance(v, Reading)
    assert (a.room, a.temperature_c, a.humidity_pct) == ("stack-1", 18.4, 51.2)
    assert (b.room, b.temperature_c, b.humidity_pct) == ("stack-1", -3.7, 47.9)
    assert (v.room, v.temperature_c, v.humidity_pct) == ("film-vault", 14.1, 39.5)


async def test_serial_port_line_reads_rtu_frames(
    climate_sim: ClimateSimulator, serial_line: str
) -> None:
    climate_sim.set_values("stack-1-b", 17.2, 49.9)
    bus = BusConfig(id="rs485", url=f"serial://{serial_line}", timeout_s=0.3)
    sink = QueueSink()
    async with running(BusPoller(bus, line_sensors(), sink)):
        b = await next_event(sink, reading_of("stack-1-b"))
    assert isinstance(b, Reading)
    assert (b.temperature_c, b.humidity_pct) == (17.2, 49.9)


async def test_serial_client_takes_the_line_parameters() -> None:
    bus = BusConfig(id="rs485", url="serial:///dev/ttyUSB7", baudrate=4800, parity="E",
                    stopbits=2, timeout_s=0.4)  # fmt: skip
    client = make_client(bus)
    assert isinstance(client, AsyncModbusSerialClient)
    params = client.comm_params
    assert (params.host, params.baudrate, params.parity, params.stopbits) == (
        "/dev/ttyUSB7", 4800, "E", 2,
    )  # fmt: skip
    assert params.timeout_connect == 0.4
    client.close()


async def test_modbus_tcp_bus_reads_a_generic_float32_sensor(climate_sim: ClimateSimulator) -> None:
    climate_sim.set_values("vault-b", 13.875, 42.25)
    bus = BusConfig(id="tcp", url=f"tcp://127.0.0.1:{climate_sim.port('tcp')}", timeout_s=0.2)
    assert bus.framer == "tcp"
    sensor = GenericConfig.model_validate({
        "type": "generic", "id": "vault-b", "bus": "tcp", "room": "film-vault",
        "interval_s": 0.2,
        "temperature": {"function_code": 3, "address": 0, "data_type": "float32"},
        "humidity": {"function_code": 3, "address": 2, "data_type": "float32"},
    })  # fmt: skip
    sink = QueueSink()
    async with running(BusPoller(bus, [sensor], sink)):
        link = await next_event(sink, lambda e: isinstance(e, BusLinkChange))
        r = await next_event(sink, reading_of("vault-b"))
    assert isinstance(link, BusLinkChange)
    assert link.up
    assert isinstance(r, Reading)
    assert (r.temperature_c, r.humidity_pct) == (13.875, 42.25)


async def test_dead_sensor_is_marked_down_after_lazy_error_count_and_others_keep_reading(
    climate_sim: ClimateSimulator,
) -> None:
    climate_sim.set_fault("stack-1-b", "dead")
    sink = QueueSink()
    poller = BusPoller(rs485(climate_sim, down_retry_s=60.0), line_sensors(lazy=3), sink)
    async with running(poller):
        down = await next_event(sink, state_of("stack-1-b", False))
        for _ in range(5):  # the live ones go on after the dead one is down
            await next_event(sink, reading_of("stack-1-a"))
            await next_event(sink, reading_of("vault-a"))
    assert isinstance(down, SensorStateChange)
    assert "no response (3 in a row)" in down.reason
    assert poller.health("stack-1-b") is Health.DOWN
    assert poller.counters["stack-1-b"].timeouts == 3  # then probed only every minute
    assert poller.counters["stack-1-b"].readings == 0
    for live in ("stack-1-a", "vault-a"):
        assert poller.health(live) is Health.UP
        assert poller.counters[live].timeouts == 0
        assert poller.counters[live].readings >= 6


async def test_dead_sensor_comes_back_up_when_it_answers_again(
    climate_sim: ClimateSimulator,
) -> None:
    climate_sim.set_fault("vault-a", "dead")
    sink = QueueSink()
    poller = BusPoller(rs485(climate_sim, down_retry_s=0.5), line_sensors(lazy=2), sink)
    async with running(poller):
        await next_event(sink, state_of("vault-a", False))
        climate_sim.set_fault("vault-a", None)
        up = await next_event(sink, state_of("vault-a", True))
        await next_event(sink, reading_of("vault-a"))
    assert isinstance(up, SensorStateChange)
    assert up.reason == "answering"


async def test_out_of_range_and_error_code_values_are_rejected_and_counted(
    climate_sim: ClimateSimulator,
) -> None:
    climate_sim.set_values("stack-1-a", 21.0, 104.0)  # RH above 100 %
    climate_sim.set_registers("stack-1-b", {1: 0x7FFF})  # the Renke's element error code
    climate_sim.set_values("vault-a", 14.0, 40.0)
    sink = QueueSink()
    poller = BusPoller(rs485(climate_sim), line_sensors(lazy=1000), sink)
    async with running(poller):
        for _ in range(4):
            await next_event(sink, reading_of("vault-a"))
        climate_sim.release("stack-1-a")
        climate_sim.set_values("stack-1-a", 21.0, 55.0)
        good = await next_event(sink, reading_of("stack-1-a"))
    events = []
    while not sink.queue.empty():
        events.append(sink.queue.get_nowait())
    assert isinstance(good, Reading)
    assert good.humidity_pct == 55.0
    assert not any(isinstance(e, Reading) and e.sensor == "stack-1-b" for e in events)
    a, b = poller.counters["stack-1-a"], poller.counters["stack-1-b"]
    assert a.rejected_out_of_range >= 3
    assert b.rejected_error_code >= 3
    assert b.readings == 0
    assert a.timeouts == b.timeouts == 0


async def test_rejected_values_in_a_row_mark_the_sensor_down(
    climate_sim: ClimateSimulator,
) -> None:
    climate_sim.set_registers("stack-1-a", {1: 0x8000})
    sink = QueueSink()
    async with running(BusPoller(rs485(climate_sim), line_sensors(lazy=2), sink)):
        down = await next_event(sink, state_of("stack-1-a", False))
    assert isinstance(down, SensorStateChange)
    assert "error code" in down.reason


async def test_stuck_sensor_is_marked_down_and_its_values_withheld(
    climate_sim: ClimateSimulator,
) -> None:
    climate_sim.set_fault("vault-a", "stuck")
    sensors = line_sensors()
    sensors[2] = sensors[2].model_copy(update={"stuck_after_s": 0.5})
    sink = QueueSink()
    poller = BusPoller(rs485(climate_sim), sensors, sink)
    async with running(poller):
        down = await next_event(sink, state_of("vault-a", False))
        delivered = poller.counters["vault-a"].readings
        for _ in range(3):
            await next_event(sink, reading_of("stack-1-a"))
    assert isinstance(down, SensorStateChange)
    assert "unchanged" in down.reason
    assert poller.counters["vault-a"].readings == delivered


async def test_link_loss_is_reported_and_polling_resumes_after_reconnect(
    climate_sim: ClimateSimulator,
) -> None:
    sink = QueueSink()
    poller = BusPoller(rs485(climate_sim, reconnect_max_s=0.5), line_sensors(lazy=1000), sink)
    async with running(poller):
        await next_event(sink, reading_of("stack-1-a"))
        await climate_sim.stop_bus("rs485")
        lost = await next_event(sink, lambda e: isinstance(e, BusLinkChange) and not e.up)
        await climate_sim.start_bus("rs485")
        back = await next_event(sink, lambda e: isinstance(e, BusLinkChange) and e.up)
        await next_event(sink, reading_of("stack-1-a"))
    assert isinstance(lost, BusLinkChange)
    assert isinstance(back, BusLinkChange)
    assert poller.bus_counters.link_losses >= 1
    assert poller.bus_counters.connects >= 2


async def test_unreachable_bus_marks_its_sensors_down_without_raising() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    bus = BusConfig(id="rs485", url=f"socket://127.0.0.1:{port}", timeout_s=0.2,
                    reconnect_max_s=0.2)  # fmt: skip
    sink = QueueSink()
    poller = BusPoller(bus, line_sensors(lazy=2), sink)
    async with running(poller) as task:
        link = await next_event(sink, lambda e: isinstance(e, BusLinkChange))
        down = await next_event(sink, state_of("stack-1-a", False))
        assert not task.done()
    assert isinstance(link, BusLinkChange)
    assert not link.up
    assert isinstance(down, SensorStateChange)
    assert "link down" in down.reason
    assert poller.bus_counters.connect_failures >= 1


def test_line_speed_defaults_to_the_profiles_of_the_bus() -> None:
    bus = BusConfig(id="rs485", url="serial:///dev/ttyUSB0")
    renke = [s for s in line_sensors() if s.type == "rs-ws-n01"]
    assert serial_parameters(bus, renke).baudrate == 4800
    assert serial_parameters(bus, line_sensors()).baudrate == 9600
    fixed = BusConfig(id="rs485", url="serial:///dev/ttyUSB0", baudrate=19200)
    assert serial_parameters(fixed, renke).baudrate == 19200


def test_a_bus_without_sensors_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="no sensors"):
        BusPoller(BusConfig(id="empty", url="tcp://127.0.0.1:502"), line_sensors(), QueueSink())
