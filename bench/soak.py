"""Soak: the whole room under load for ten minutes (docs/design.md §10; reliability issue, part 5).

The real daemon runs as its own process on SQLite with a real broker and every device
simulated over its real protocol: shelf readers (UHFReader18 288 dialect over TCP, in another
process) producing ``--rate``-ish reads per second, an LLRP gate with a crossing every 2 s, the
stacker PLC taking a verify job every 8 s, and four climate sensors polled every second. After
a warm-up minute the daemon's resident memory is the baseline; at the end this reports:

- the background read rate actually decoded (``archroom_rfid_reads_total``);
- crossings made vs ``gate.passage`` events received on MQTT, stacker jobs submitted vs done
  (nothing dropped means equal counts), events left in the outbox and events dropped on the
  daemon's internal bus;
- RSS growth after warm-up (budget: under 10 %);
- event-loop lag p99 over the run from the daemon's own histogram (budget: under 50 ms).

    python -m bench soak -- [--duration 600] [--readers 2] [--tags 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiomqtt
import httpx

from bench._rig import cancel_all, free_port, rss_mb, start_broker, start_daemon, stop
from bench.gate_latency import shelf_readers
from simulators.climate import ClimateSimulator, default_layout
from simulators.llrp_gate import Cross, LlrpGateSimulator
from simulators.stacker_plc import PlcSettings, StackerPlcSimulator
from stacker.cells import RackGeometry

LAG_BUCKETS = "archroom_event_loop_lag_seconds_bucket"


def _metrics(api_port: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in httpx.get(f"http://127.0.0.1:{api_port}/metrics", timeout=10).text.splitlines():
        if line.startswith("archroom_") and " " in line:
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def _lag_p99(before: dict[str, float], after: dict[str, float]) -> tuple[float, float]:
    """(p99 upper bucket bound in seconds, samples) from the lag histogram's bucket deltas."""
    buckets = []
    for name, value in after.items():
        if name.startswith(LAG_BUCKETS):
            le = name.split('le="', 1)[1].split('"', 1)[0]
            bound = float("inf") if le == "+Inf" else float(le)
            buckets.append((bound, value - before.get(name, 0.0)))
    buckets.sort()
    total = buckets[-1][1] if buckets else 0.0
    for bound, count in buckets:
        if total and count >= 0.99 * total:
            return bound, total
    return float("nan"), total


def _config(
    tmp: Path,
    *,
    api: int,
    broker: int,
    shelves: list[int],
    gate: int,
    plc: int,
    climate: ClimateSimulator,
) -> Path:
    lines = [
        'room = "stack-1"',
        f'state_dir = "{tmp}"',
        f"[api]\nport = {api}",
        f'[mqtt]\nurl = "mqtt://127.0.0.1:{broker}"',
        '[[rooms]]\nid = "stack-1"\nclass = "paper"',
        '[[rooms]]\nid = "film-vault"\nclass = "film-master"',
    ]
    for r, port in enumerate(shelves):
        antennas = ", ".join(f'{a} = "stack-1-S{r}-{a}"' for a in range(1, 5))
        lines.append(
            f'[[readers]]\ntype = "uhfreader18"\nid = "shelf-{r}"\nurl = "socket://127.0.0.1:{port}"\n'
            f"poll_interval_s = 0.001\nantennas = {{ {antennas} }}"
        )
    lines.append(
        f'[[readers]]\ntype = "llrp"\nid = "door"\nurl = "tcp://127.0.0.1:{gate}"\nrole = "gate"'
    )
    lines.append('[[gates]]\nid = "door"\nreader = "door"\ninside_antenna = 1\noutside_antenna = 2')
    lines.append(
        f'[stacker]\nid = "soak"\nurl = "tcp://127.0.0.1:{plc}"\nbays = 6\nlevels = 4\ndepths = 1\n'
        'stations = [{ name = "io-1", side = 1, bay = 0, level = 1 }]'
    )
    lines.append(
        f'[[buses]]\nid = "rs485"\nurl = "socket://127.0.0.1:{climate.port("rs485")}"\n'
        "baudrate = 9600"
    )
    lines.append(f'[[buses]]\nid = "tcp"\nurl = "tcp://127.0.0.1:{climate.port("tcp")}"')
    for kind, sensor, bus, room, address in (
        ("xy-md02", "stack-1-a", "rs485", "stack-1", 1),
        ("rs-ws-n01", "stack-1-b", "rs485", "stack-1", 2),
        ("xy-md02", "vault-a", "rs485", "film-vault", 3),
        ("generic", "vault-b", "tcp", "film-vault", 1),
    ):
        lines.append(
            f'[[sensors]]\ntype = "{kind}"\nid = "{sensor}"\nbus = "{bus}"\nroom = "{room}"\n'
            f"device_id = {address}\ninterval_s = 1.0"
        )
    lines.append('[sensors.temperature]\naddress = 0\ndata_type = "float32"')
    lines.append('[sensors.humidity]\naddress = 2\ndata_type = "float32"')
    path = tmp / "archroom.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _prepare(config: Path) -> str:
    """Schema and a staff token for the job requests."""
    run = [sys.executable, "-m", "daemon"]
    subprocess.run([*run, "db", "upgrade", "-c", str(config)], check=True, capture_output=True)
    create = [*run, "token", "create", "--role", "staff", "--name", "soak", "-c", str(config)]
    return subprocess.run(create, check=True, capture_output=True, text=True).stdout.strip()


async def _soak(
    args: argparse.Namespace, tmp: Path, broker_port: int, shelf_ports: list[int]
) -> tuple[dict[str, float], list[str]]:
    async with (
        LlrpGateSimulator(cycle_s=0.05, seed=11) as gate,
        StackerPlcSimulator(
            PlcSettings(geometry=RackGeometry(bays=6, levels=4, depths=1), host_watchdog_s=10.0)
        ) as plc,
        ClimateSimulator(*default_layout(), seed=5) as climate,
    ):
        api_port = free_port()
        config = _config(
            tmp,
            api=api_port,
            broker=broker_port,
            shelves=shelf_ports,
            gate=gate.port,
            plc=plc.port,
            climate=climate,
        )
        token = await asyncio.to_thread(_prepare, config)
        daemon = await asyncio.to_thread(start_daemon, config, api_port)
        refusals: list[str] = []
        counts = {"crossings": 0, "passages": 0, "jobs": 0, "jobs_done": 0, "job_refusals": 0}
        try:
            async with (
                aiomqtt.Client("127.0.0.1", broker_port) as mqtt,
                httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{api_port}",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                ) as api,
            ):
                await mqtt.subscribe("archroom/+/stack-1/events/#", qos=1)

                async def listen() -> None:
                    async for m in mqtt.messages:
                        event = json.loads(bytes(m.payload))
                        if event.get("type") == "gate.passage" and not event.get("provisional"):
                            counts["passages"] += 1
                        elif event.get("type") == "stacker.job" and event.get("state") == "done":
                            counts["jobs_done"] += 1

                async def crossings() -> None:
                    while True:
                        n = counts["crossings"]
                        gate.add(
                            Cross(
                                epc=f"E2801160600004{n:010X}",
                                direction="out" if n % 2 else "in",
                                duration=2.0,
                            )
                        )
                        counts["crossings"] += 1
                        await asyncio.sleep(2.0)

                async def stacker_jobs() -> None:
                    cells = [(s, b, lv) for s in (1, 2) for b in range(1, 7) for lv in range(1, 5)]
                    while True:
                        side, bay, level = cells[counts["jobs"] % len(cells)]
                        r = await api.post(
                            "/api/v1/stacker/jobs",
                            json={
                                "kind": "verify",
                                "cell": {
                                    "aisle": 1,
                                    "side": side,
                                    "bay": bay,
                                    "level": level,
                                    "depth": 1,
                                },
                            },
                        )
                        if r.status_code == 202:
                            counts["jobs"] += 1
                        else:
                            counts["job_refusals"] += 1
                            refusals.append(r.json().get("detail", r.text))
                        await asyncio.sleep(8.0)

                tasks = [asyncio.create_task(f()) for f in (listen, crossings, stacker_jobs)]
                try:
                    await asyncio.sleep(args.warmup)
                    before = await asyncio.to_thread(_metrics, api_port)
                    rss = [rss_mb(daemon.pid)]
                    started = time.monotonic()
                    while time.monotonic() - started < args.duration:
                        await asyncio.sleep(5.0)
                        rss.append(rss_mb(daemon.pid))
                    tasks[1].cancel()
                    tasks[2].cancel()
                    await asyncio.sleep(15.0)  # the last crossing and job finish
                    after = await asyncio.to_thread(_metrics, api_port)
                finally:
                    await cancel_all(*tasks)
        finally:
            await asyncio.to_thread(stop, daemon)
    elapsed = float(args.duration)
    reads_all = sum(v for k, v in after.items() if k.startswith("archroom_rfid_reads_total")) - sum(
        v for k, v in before.items() if k.startswith("archroom_rfid_reads_total")
    )
    p99, samples = _lag_p99(before, after)
    tail = rss[len(rss) * 3 // 4 :]
    return {
        "reads_per_s": reads_all / elapsed,
        "crossings": counts["crossings"],
        "passages": counts["passages"],
        "jobs": counts["jobs"],
        "jobs_done": counts["jobs_done"],
        "job_refusals": counts["job_refusals"],
        "rss_start_mb": rss[0],
        "rss_end_mb": sum(tail) / len(tail),
        "rss_max_mb": max(rss),
        "lag_p99_s": p99,
        "lag_samples": samples,
        "outbox_pending": after.get("archroom_outbox_pending", float("nan")),
        "bus_dropped": after.get("archroom_bus_dropped_events", float("nan")),
    }, sorted(set(refusals))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench soak")
    parser.add_argument("--duration", type=float, default=600.0)
    parser.add_argument("--warmup", type=float, default=60.0)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--tags", type=int, default=15)
    args, _ = parser.parse_known_args(argv)
    with tempfile.TemporaryDirectory(prefix="archroom-soak-") as name:
        tmp = Path(name)
        broker, broker_port = start_broker(tmp)
        try:
            with shelf_readers(args.readers, args.tags) as shelf_ports:
                r, refusals = asyncio.run(_soak(args, tmp, broker_port, shelf_ports))
        finally:
            stop(broker)
    growth = (r["rss_end_mb"] - r["rss_start_mb"]) / r["rss_start_mb"] * 100
    print(f"soak_duration: {args.duration:.0f} s after {args.warmup:.0f} s warm-up")
    print(f"soak_background_reads_per_s: {r['reads_per_s']:,.0f} reads/s")
    print(f"soak_gate_crossings: {r['crossings']:.0f} made, {r['passages']:.0f} passages received")
    print(
        f"soak_stacker_jobs: {r['jobs']:.0f} submitted, {r['jobs_done']:.0f} done,"
        f" {r['job_refusals']:.0f} refused {refusals}"
    )
    print(f"soak_outbox_pending_at_end: {r['outbox_pending']:.0f} events")
    print(f"soak_bus_dropped_events: {r['bus_dropped']:.0f}")
    print(
        f"soak_rss: {r['rss_start_mb']:.0f} MB after warm-up, {r['rss_end_mb']:.0f} MB at the end"
        f" (max {r['rss_max_mb']:.0f} MB)"
    )
    print(f"soak_rss_growth: {growth:+.1f} %")
    print(f"soak_loop_lag_p99: <= {r['lag_p99_s'] * 1000:.0f} ms ({r['lag_samples']:.0f} samples)")
    return 0
