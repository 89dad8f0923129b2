"""CPU cost of polling climate sensors: 500 sensors at a 10 s interval against the simulator.

The simulator runs in a child process (its CPU is not counted), serving the sensors over five
RTU-over-TCP lines of 100 sensors. Two ways of measuring:

- ``daemon`` (default): the real daemon as its own process (``archroom run``), configured with
  those buses and sensors, a SQLite database and a private MQTT broker, so the figure is the
  whole climate service: pollers, room judgement, alarm recording, Prometheus gauges, retained
  ``climate/{sensor}`` topics, per-minute history. Its CPU time is read from
  ``/proc/PID/stat`` (Linux). The same daemon without sensors is measured too, so the climate
  share can be told from the daemon's idle cost.
- ``pollers``: in this process, one ``BusPoller`` per line feeding a ``ClimateMonitor`` and a
  ``MinuteAggregator``: the bare polling and judging, without the daemon around it.

After a warm-up the CPU time is measured over the run and reported as a share of one core.

    python -m bench climate_polling -- [--sensors 500] [--interval 10] [--duration 40]
        [--mode daemon|pollers|both] [--no-baseline]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from bench._rig import cancel_all, free_port, metric_sum, start_broker, start_daemon, stop
from sensors.bus import BusPoller
from sensors.config import BusConfig, GenericConfig, RsWsN01Config, SensorConfig, XyMd02Config
from sensors.history import MinuteAggregator
from sensors.limits import limits_for
from sensors.monitor import ClimateMonitor
from sensors.readings import BusLinkChange, Reading, SensorStateChange
from simulators.climate import SimSensor, bench_layout


class _Counting:
    def __init__(self, monitor: ClimateMonitor, history: MinuteAggregator) -> None:
        self.monitor = monitor
        self.history = history
        self.readings = 0
        self.alarms = 0
        self.downs = 0

    def reading(self, reading: Reading) -> None:
        self.readings += 1
        self.alarms += len(self.monitor.reading(reading))
        self.history.add(reading)

    def sensor_state(self, change: SensorStateChange) -> None:
        self.downs += not change.up
        self.alarms += len(self.monitor.sensor_state(change))

    def link_state(self, change: BusLinkChange) -> None:
        pass


def _sensor(sim: SimSensor, interval_s: float) -> SensorConfig:
    """The daemon's configuration of one simulated sensor."""
    profile = sim.profile
    common = {
        "id": sim.name,
        "bus": sim.bus,
        "room": sim.room,
        "device_id": sim.device_id,
        "interval_s": interval_s,
    }
    if profile == "xy-md02":
        return XyMd02Config.model_validate({"type": "xy-md02", **common})
    if profile == "rs-ws-n01":
        return RsWsN01Config.model_validate({"type": "rs-ws-n01", **common})
    return GenericConfig.model_validate({
        "type": "generic", **common,
        "temperature": {"address": 0, "data_type": "float32"},
        "humidity": {"address": 2, "data_type": "float32"},
    })  # fmt: skip


def _toml(sim: SimSensor, interval_s: float) -> str:
    """The same sensor as the daemon's TOML configuration has it."""
    text = (
        f'[[sensors]]\ntype = "{"generic" if sim.profile == "float32" else sim.profile}"\n'
        f'id = "{sim.name}"\nbus = "{sim.bus}"\nroom = "{sim.room}"\n'
        f"device_id = {sim.device_id}\ninterval_s = {interval_s}\n"
    )
    if sim.profile == "float32":
        text += (
            '[sensors.temperature]\naddress = 0\ndata_type = "float32"\n'
            '[sensors.humidity]\naddress = 2\ndata_type = "float32"\n'
        )
    return text


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _simulator(count: int) -> tuple[asyncio.subprocess.Process, dict[str, int]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c",
        "import sys; from simulators.climate import main; sys.exit(main(sys.argv[1:]))",
        "--sensors", str(count), "--port", "0",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    ports: dict[str, int] = {}
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode().strip()
        if not line or line == "ready":
            break
        if line.startswith("bus "):
            _, name, _, address = line.split()
            ports[name] = int(address.rsplit(":", 1)[1])
    return proc, ports


async def _run_pollers(
    count: int, ports: dict[str, int], interval_s: float, duration_s: float, warmup_s: float
) -> None:
    sim_sensors, _, sim_rooms = bench_layout(count)
    sensors = [_sensor(s, interval_s) for s in sim_sensors]
    buses = [
        BusConfig(id=name, url=f"socket://127.0.0.1:{port}", baudrate=9600)
        for name, port in ports.items()
    ]
    monitor = ClimateMonitor(
        {room: limits_for("paper") for room in sim_rooms},
        {s.id: s.room for s in sensors},
        stale_after_s=3 * interval_s,
    )
    sink = _Counting(monitor, MinuteAggregator())
    pollers = [BusPoller(bus, sensors, sink) for bus in buses]
    tasks = [asyncio.create_task(p.run(), name=f"poll {p.bus.id}") for p in pollers]
    try:
        await asyncio.sleep(warmup_s)
        readings0, cpu0, wall0 = sink.readings, time.process_time(), time.perf_counter()
        await asyncio.sleep(duration_s)
        readings1, cpu1, wall1 = sink.readings, time.process_time(), time.perf_counter()
    finally:
        await cancel_all(*tasks)
    wall = wall1 - wall0
    cpu = cpu1 - cpu0
    polls = readings1 - readings0
    timeouts = sum(c.timeouts for p in pollers for c in p.counters.values())
    rejected = sum(c.rejected for p in pollers for c in p.counters.values())
    print(f"climate_polling_pollers_readings: {polls / wall:.1f} readings/s")
    print(f"climate_polling_pollers_cpu: {100 * cpu / wall:.2f} % of one core")
    if polls:
        print(f"climate_polling_pollers_cpu_per_reading: {1e6 * cpu / polls:.0f} us")
    print(f"climate_polling_pollers_timeouts: {timeouts} timeouts")
    print(f"climate_polling_pollers_rejected: {rejected} values")
    print(f"climate_polling_pollers_sensors_down: {sink.downs} sensors")


def _daemon_config(workdir: Path, room: str, broker_port: int, api_port: int, climate: str) -> Path:
    state = workdir / "state"
    state.mkdir(parents=True)
    path = workdir / "archroom.toml"
    path.write_text(
        f'room = "{room}"\nstate_dir = "{state}"\nlog_level = "WARNING"\n'
        f'[api]\nbind = "127.0.0.1"\nport = {api_port}\n'
        f'[mqtt]\nurl = "mqtt://127.0.0.1:{broker_port}"\n{climate}'
    )
    return path


async def _measure_daemon(
    workdir: Path, room: str, broker_port: int, climate: str, *, duration_s: float, warmup_s: float
) -> tuple[float, float, float]:
    """(CPU share of one core, readings/s, sensors up) of a daemon configured with ``climate``
    (its rooms, buses and sensors)."""
    api_port = free_port()
    config = _daemon_config(workdir, room, broker_port, api_port, climate)
    daemon = await asyncio.to_thread(start_daemon, config, api_port)
    try:
        await asyncio.sleep(warmup_s)
        read0 = await asyncio.to_thread(metric_sum, api_port, "archroom_sensor_readings_total")
        cpu0, wall0 = _cpu_seconds(daemon.pid), time.perf_counter()
        await asyncio.sleep(duration_s)
        cpu1, wall1 = _cpu_seconds(daemon.pid), time.perf_counter()
        read1 = await asyncio.to_thread(metric_sum, api_port, "archroom_sensor_readings_total")
        up = await asyncio.to_thread(metric_sum, api_port, "archroom_sensor_up{")
    finally:
        await asyncio.to_thread(stop, daemon)
    wall = wall1 - wall0
    return 100 * (cpu1 - cpu0) / wall, (read1 - read0) / wall, up


async def _run_daemon(args: argparse.Namespace, ports: dict[str, int]) -> None:
    sim_sensors, _, sim_rooms = bench_layout(args.sensors)
    timing = {"duration_s": args.duration, "warmup_s": args.warmup}
    rooms = "".join(f'[[rooms]]\nid = "{room}"\nclass = "paper"\n' for room in sim_rooms)
    buses = "".join(
        f'[[buses]]\nid = "{name}"\nurl = "socket://127.0.0.1:{port}"\nbaudrate = 9600\n'
        for name, port in ports.items()
    )
    sensors = "".join(_toml(s, args.interval) for s in sim_sensors)
    with tempfile.TemporaryDirectory(prefix="archroom-climate-bench-") as tmp:
        broker, broker_port = start_broker(Path(tmp))
        try:
            climate = rooms + buses + sensors
            room = next(iter(sim_rooms))
            cpu, rate, up = await _measure_daemon(
                Path(tmp) / "climate", room, broker_port, climate, **timing
            )
            print(f"climate_polling_daemon_readings: {rate:.1f} readings/s")
            print(f"climate_polling_daemon_sensors_up: {up:.0f} sensors")
            print(f"climate_polling_daemon_cpu: {cpu:.2f} % of one core")
            if rate:
                print(f"climate_polling_daemon_cpu_per_reading: {1e4 * cpu / rate:.0f} us")
            if args.baseline:
                idle, _, _ = await _measure_daemon(
                    Path(tmp) / "idle", "bench", broker_port, "", **timing
                )
                print(f"climate_polling_daemon_idle_cpu: {idle:.2f} % of one core")
                print(f"climate_polling_daemon_climate_share: {cpu - idle:.2f} % of one core")
        finally:
            stop(broker)


async def _run(args: argparse.Namespace) -> int:
    proc, ports = await _simulator(args.sensors)
    try:
        if not ports:
            print("simulator did not start", file=sys.stderr)
            return 1
        print(f"climate_polling_sensors: {args.sensors} sensors")
        print(f"climate_polling_interval: {args.interval:g} s")
        print(f"climate_polling_buses: {len(ports)} buses")
        print(f"climate_polling_measured: {args.duration:g} s")
        print(f"climate_polling_expected: {args.sensors / args.interval:.1f} readings/s")
        if args.mode in ("pollers", "both"):
            await _run_pollers(args.sensors, ports, args.interval, args.duration, args.warmup)
        if args.mode in ("daemon", "both"):
            await _run_daemon(args, ports)
        return 0
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="bench.climate_polling", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sensors", type=int, default=500)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--duration", type=float, default=40.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds before measuring")
    parser.add_argument("--mode", choices=("daemon", "pollers", "both"), default="daemon")
    parser.add_argument(
        "--no-baseline", dest="baseline", action="store_false",
        help="do not measure the daemon without sensors",
    )  # fmt: skip
    args = parser.parse_args(argv)
    return asyncio.run(_run(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
