"""Gate decision latency under background shelf traffic (docs/design.md §10: p99 <= 20 ms).

The real daemon runs as its own process with a real broker, shelf readers (UHFReader18 288
dialect simulators over TCP, in another process, each with four antennas full of tags so the
daemon decodes ``--rate``-ish reads per second) and one LLRP gate (llrpkit-based simulator in
this process). Tags cross the gate one after another; for each ``gate.passage`` event received
from the broker, latency = receipt time - the event's ``decided_at`` (the moment the gate
engine became sure, stamped by the daemon). The achieved background rate is measured from the
daemon's ``archroom_rfid_reads_total`` over the same window and reported: the figure only
means something at the rate printed next to it.

    python -m bench gate_latency -- [--crossings 100] [--readers 6] [--tags 150]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import aiomqtt

from bench._rig import (
    free_port,
    metric_sum,
    percentile,
    start_broker,
    start_daemon,
    stop,
    wait_port,
)
from simulators.llrp_gate import Cross, LlrpGateSimulator


def _serve_shelves(ports: list[int], tags: int) -> None:
    from drivers.uhfreader18 import Variant
    from simulators.uhfreader18 import SimTag, SimulatedReader, Uhfreader18Simulator

    async def serve() -> None:
        sims = []
        for r, port in enumerate(ports):
            reader = SimulatedReader(Variant.UHFREADER288, antennas=4)
            for i in range(tags * 4):
                reader.place(
                    1 + i % 4, SimTag(f"E2801170{r:04X}{i:012X}", read_probability=0.97, rssi=110)
                )
            sim = Uhfreader18Simulator(reader, round_time_s=0.0)
            await sim.start_tcp(port=port)
            sims.append(sim)
        await asyncio.Event().wait()

    asyncio.run(serve())


@contextlib.contextmanager
def shelf_readers(count: int, tags: int) -> Iterator[list[int]]:
    """``count`` simulated four-antenna shelf readers with ``tags`` tags per antenna, served in
    a process of their own; yields their ports once they listen, and ends the process after."""
    ports = [free_port() for _ in range(count)]
    process = multiprocessing.get_context("spawn").Process(
        target=_serve_shelves, args=(ports, tags), daemon=True
    )
    process.start()
    try:
        for port in ports:
            wait_port(port)
        yield ports
    finally:
        process.terminate()
        process.join()


def _config(
    tmp: Path, api_port: int, broker_port: int, shelf_ports: list[int], gate_port: int
) -> Path:
    lines = [
        'room = "bench"',
        f'state_dir = "{tmp}"',
        "[api]",
        f"port = {api_port}",
        "[mqtt]",
        f'url = "mqtt://127.0.0.1:{broker_port}"',
    ]
    for r, port in enumerate(shelf_ports):
        antennas = ", ".join(f'{a} = "bench-S{r}-{a}"' for a in range(1, 5))
        lines += [
            "[[readers]]",
            'type = "uhfreader18"',
            f'id = "shelf-{r}"',
            f'url = "socket://127.0.0.1:{port}"',
            "poll_interval_s = 0.001",
            f"antennas = {{ {antennas} }}",
        ]
    lines += [
        "[[readers]]",
        'type = "llrp"',
        'id = "door"',
        f'url = "tcp://127.0.0.1:{gate_port}"',
        'role = "gate"',
        "[[gates]]",
        'id = "door"',
        'reader = "door"',
        "inside_antenna = 1",
        "outside_antenna = 2",
    ]
    path = tmp / "archroom.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


async def _measure(
    broker_port: int, gate: LlrpGateSimulator, crossings: int, api_port: int
) -> tuple[list[float], list[float], float]:
    latencies: list[float] = []
    durable: list[float] = []
    seen: set[str] = set()
    async with aiomqtt.Client("127.0.0.1", broker_port) as client:
        await client.subscribe("archroom/+/bench/events/gate.passage", qos=1)
        await asyncio.sleep(3.0)  # readers up, background steady
        reads_before, t_before = metric_sum(api_port, "archroom_rfid_reads_total"), time.monotonic()

        async def cross() -> None:
            for i in range(crossings):
                gate.add(Cross(epc=f"E28011606000030000{i:06X}", direction="out", duration=2.0))
                await asyncio.sleep(0.4)

        feeder = asyncio.create_task(cross())
        try:
            async with asyncio.timeout(crossings * 0.4 + 30):
                async for message in client.messages:
                    received = time.time()
                    event = json.loads(bytes(message.payload))
                    decided = datetime.fromisoformat(
                        event["decided_at"].replace("Z", "+00:00")
                    ).timestamp()
                    if event["epc"] not in seen:
                        seen.add(event["epc"])
                        latencies.append(received - decided)
                    if not event.get("provisional"):
                        durable.append(received - decided)
                    if len(latencies) >= crossings and len(durable) >= crossings:
                        break
        except TimeoutError:
            pass
        finally:
            feeder.cancel()
        rate = (metric_sum(api_port, "archroom_rfid_reads_total") - reads_before) / (
            time.monotonic() - t_before
        )
    return latencies, durable, rate


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench gate_latency")
    parser.add_argument("--crossings", type=int, default=100)
    parser.add_argument("--readers", type=int, default=6, help="simulated shelf readers")
    parser.add_argument("--tags", type=int, default=150, help="tags per antenna")
    args, _ = parser.parse_known_args(argv)
    with tempfile.TemporaryDirectory(prefix="archroom-gate-") as tmp_name:
        tmp = Path(tmp_name)
        broker, broker_port = start_broker(tmp)
        daemon = None
        try:
            with shelf_readers(args.readers, args.tags) as shelf_ports:

                async def run() -> tuple[list[float], list[float], float]:
                    nonlocal daemon
                    async with LlrpGateSimulator(cycle_s=0.05, seed=5) as gate:
                        api_port = free_port()
                        config = _config(tmp, api_port, broker_port, shelf_ports, gate.port)
                        daemon = await asyncio.to_thread(start_daemon, config, api_port)
                        try:
                            return await _measure(broker_port, gate, args.crossings, api_port)
                        finally:
                            await asyncio.to_thread(stop, daemon)

                latencies, durable, rate = asyncio.run(run())
        finally:
            stop(broker)
    if not latencies:
        print("gate_latency: no passage received")
        return 1
    print(f"gate_background_reads_per_s: {rate:,.0f} reads/s")
    print(f"gate_passages_received: {len(latencies)} of {args.crossings}")
    print(f"gate_latency_p50_ms: {statistics.median(latencies) * 1000:.1f} ms")
    print(f"gate_latency_p99_ms: {percentile(latencies, 99) * 1000:.1f} ms")
    print(f"gate_latency_max_ms: {max(latencies) * 1000:.1f} ms")
    if durable:
        print(f"gate_durable_received: {len(durable)} of {args.crossings}")
        print(f"gate_durable_latency_p50_ms: {statistics.median(durable) * 1000:.1f} ms")
        print(f"gate_durable_latency_p99_ms: {percentile(durable, 99) * 1000:.1f} ms")
    return 0
