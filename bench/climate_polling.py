"""CPU cost of polling climate sensors: 500 sensors at a 10 s interval against the simulator.

The simulator runs in a child process (its CPU is not counted), serving the sensors over five
RTU-over-TCP lines of 100 sensors; this process runs one ``BusPoller`` per line, feeding a
``ClimateMonitor`` and a ``MinuteAggregator`` as the daemon would. After a warm-up round the
process CPU time is measured over the run and reported as a share of one core.

    python -m bench.climate_polling [--sensors 500] [--interval 10] [--duration 40]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time

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


async def _run(count: int, interval_s: float, duration_s: float, warmup_s: float) -> int:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c",
        "import sys; from simulators.climate import main; sys.exit(main(sys.argv[1:]))",
        "--sensors", str(count), "--port", "0",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    ports: dict[str, int] = {}
    try:
        while True:
            line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode().strip()
            if not line or line == "ready":
                break
            if line.startswith("bus "):
                _, name, _, address = line.split()
                ports[name] = int(address.rsplit(":", 1)[1])
        if not ports:
            print("simulator did not start", file=sys.stderr)
            return 1
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
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        wall = wall1 - wall0
        cpu = cpu1 - cpu0
        polls = readings1 - readings0
        timeouts = sum(c.timeouts for p in pollers for c in p.counters.values())
        rejected = sum(c.rejected for p in pollers for c in p.counters.values())
        print(f"climate_polling_sensors: {count} sensors")
        print(f"climate_polling_interval: {interval_s:g} s")
        print(f"climate_polling_buses: {len(buses)} buses")
        print(f"climate_polling_measured: {wall:.1f} s")
        print(f"climate_polling_readings: {polls / wall:.1f} readings/s")
        print(f"climate_polling_expected: {count / interval_s:.1f} readings/s")
        print(f"climate_polling_cpu: {100 * cpu / wall:.2f} % of one core")
        if polls:
            print(f"climate_polling_cpu_per_reading: {1e6 * cpu / polls:.0f} us")
        print(f"climate_polling_timeouts: {timeouts} timeouts")
        print(f"climate_polling_rejected: {rejected} values")
        print(f"climate_polling_sensors_down: {sink.downs} sensors")
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
    parser.add_argument("--warmup", type=float, default=12.0, help="seconds before measuring")
    args = parser.parse_args(argv)
    return asyncio.run(_run(args.sensors, args.interval, args.duration, args.warmup))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
