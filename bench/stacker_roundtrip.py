"""Stacker command round trip against the PLC simulator over real Modbus TCP (loopback).

Two figures, each over ``--jobs`` verify jobs with no motion time, so that what is measured is
the handshake and not the crane:

- ``raw``: a plain pymodbus client writes the strobe and polls the input registers until the
  PLC shows the job accepted (strobe write -> accepted seen);
- ``controller``: :class:`~stacker.service.controller.StackerController` from ``submit()`` to the
  ``JobAccepted`` event (journal write, data block, strobe, poll) and to ``JobFinished`` (result
  recorded, acknowledged), with the JSON-lines journal;
- ``api``: the whole daemon (SQLite journal in a temporary directory, ``synchronous=FULL``)
  from the start of ``POST /api/v1/stacker/jobs`` to its 202 answer, to the ``stacker.job``
  event with state ``accepted`` on the daemon's bus (committed to the journal), and to the
  ``done`` event (result, movement and audit committed).

Usage: ``python -m bench stacker_roundtrip -- --jobs 200``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from pymodbus.client import AsyncModbusTcpClient

from bench._rig import cancel_all, percentile
from simulators.stacker_plc import PlcSettings, StackerPlcSimulator
from stacker.cells import CellAddress, Occupant, RackGeometry
from stacker.config import StackerConfig, StationConfig
from stacker.events import JobAccepted, JobFinished, StackerEvent
from stacker.journal import JsonlJournal
from stacker.registers import (
    HR,
    IR,
    CmdOpts,
    CommandCode,
    Status,
    encode_command,
    join_u32,
    split_u32,
)
from stacker.service.controller import StackerController

CELL = CellAddress(1, 1, 1, 1, 1)


def _quantiles(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), percentile(samples, 99)


async def _raw(sim: StackerPlcSimulator, jobs: int) -> list[float]:
    client = AsyncModbusTcpClient("127.0.0.1", port=sim.port, retries=0, reconnect_delay=0)
    await client.connect()
    samples: list[float] = []
    try:
        for n in range(jobs):
            job_id = 1_000_000 + n + 1
            block = encode_command(
                job_id,
                CommandCode.VERIFY,
                source=CELL.coordinates(),
                destination=CELL.coordinates(),
                opts=CmdOpts(0),
                box_id="",
            )
            await client.write_registers(HR.HOST_HEARTBEAT, [n & 0xFFFF, 1])
            await client.write_registers(HR.CMD_JOB_ID, block)
            started = time.perf_counter()
            await client.write_register(HR.CMD_STROBE, job_id & 0xFFFF)
            while True:
                regs = (await client.read_input_registers(0, count=29)).registers
                active = join_u32(regs[IR.ACTIVE_JOB_ID], regs[IR.ACTIVE_JOB_ID + 1])
                done = join_u32(regs[IR.LAST_DONE_JOB_ID], regs[IR.LAST_DONE_JOB_ID + 1])
                if job_id in (active, done):
                    break
            samples.append(time.perf_counter() - started)
            await client.write_register(HR.CMD_STROBE, 0)
            while not Status.DONE & regs[IR.STATUS]:
                regs = (await client.read_input_registers(0, count=29)).registers
            await client.write_registers(HR.EVENT_ACK_JOB, list(split_u32(job_id)))
    finally:
        client.close()
    return samples


async def _until_ready(controller: StackerController) -> None:
    """Poll the status until the stacker takes commands (the PLC clears ``done`` on its own)."""
    while controller.status().refusal is not None:  # noqa: ASYNC110 (a status, not an event)
        await asyncio.sleep(0.001)


async def _controller(sim: StackerPlcSimulator, jobs: int) -> tuple[list[float], list[float]]:
    accepted: dict[int, float] = {}
    finished: dict[int, asyncio.Future[float]] = {}

    def on_event(event: StackerEvent) -> None:
        if isinstance(event, JobAccepted):
            accepted[event.job.job_id] = time.perf_counter()
        elif isinstance(event, JobFinished):
            future = finished.get(event.job.job_id)
            if future is not None and not future.done():
                future.set_result(time.perf_counter())

    config = StackerConfig(
        url=sim.url,
        bays=10,
        levels=5,
        stations=(StationConfig(name="io-1", side=1, bay=0, level=1),),
    )
    to_accept: list[float] = []
    to_finish: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        controller = StackerController(
            config,
            JsonlJournal(Path(tmp) / "journal.jsonl"),
            on_event=on_event,
            occupancy=[(CELL, Occupant("BOX-1", "REF-1"))],
        )
        task = asyncio.create_task(controller.run())
        try:
            await _until_ready(controller)
            loop = asyncio.get_running_loop()
            for _ in range(jobs):
                started = time.perf_counter()
                job = await controller.submit("verify", source=CELL)
                finished[job.job_id] = loop.create_future()
                done_at = await finished[job.job_id]
                to_accept.append(accepted[job.job_id] - started)
                to_finish.append(done_at - started)
                await _until_ready(controller)
        finally:
            await cancel_all(task)
    return to_accept, to_finish


async def _api(sim: StackerPlcSimulator, jobs: int) -> dict[str, list[float]]:
    from daemon.config import load_config
    from daemon.events import StackerJobChanged
    from daemon.runtime import Daemon
    from daemon.store.db import Store
    from daemon.tokens import Role, Tokens

    samples: dict[str, list[float]] = {"response": [], "accepted": [], "finished": []}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/archroom.db"
        store = Store.connect(url)
        try:
            await store.upgrade()
            token = await Tokens(store).create(name="bench", role=Role.staff)
        finally:
            await store.close()
        config_path = Path(tmp) / "archroom.toml"
        config_path.write_text(
            f'room = "b1"\nstate_dir = "{tmp}"\nlog_level = "WARNING"\n'
            f'[api]\nport = 0\n[database]\nurl = "{url}"\n'
            f'[stacker]\nurl = "{sim.url}"\nbays = 10\nlevels = 5\n'
        )
        daemon = Daemon(load_config(config_path))
        stop = asyncio.Event()
        task = asyncio.create_task(daemon.run(stop))
        try:
            await asyncio.wait_for(daemon.ready.wait(), 30)
            services = daemon.services
            assert services is not None
            assert services.stacker is not None
            controller = services.stacker.controller
            seen: dict[tuple[int, str], float] = {}
            changed = asyncio.Event()
            subscription = services.bus.subscribe(StackerJobChanged)

            async def watch() -> None:
                while True:
                    event = await subscription.get()
                    seen[(event.job_id, event.state)] = time.perf_counter()
                    changed.set()

            watcher = asyncio.create_task(watch())
            assert daemon.listening is not None
            headers = {"Authorization": f"Bearer {token}"}
            body = {"kind": "verify", "cell": CELL.code}
            async with httpx.AsyncClient(base_url=daemon.listening.url, headers=headers) as http:
                await _until_ready(controller)
                for _ in range(jobs):
                    started = time.perf_counter()
                    r = await http.post("/api/v1/stacker/jobs", json=body)
                    answered = time.perf_counter()
                    r.raise_for_status()
                    job_id = r.json()["job_id"]
                    while (job_id, "done") not in seen:
                        changed.clear()
                        await changed.wait()
                    samples["response"].append(answered - started)
                    samples["accepted"].append(seen[(job_id, "accepted")] - started)
                    samples["finished"].append(seen[(job_id, "done")] - started)
                    await _until_ready(controller)
            await cancel_all(watcher)
            subscription.close()
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
    return samples


async def _run(jobs: int) -> None:
    settings = PlcSettings(geometry=RackGeometry(bays=10, levels=5, depths=2), host_watchdog_s=60.0)
    async with StackerPlcSimulator(settings) as sim:
        sim.put(CELL.coordinates(), "BOX-1")
        raw = await _raw(sim, jobs)
    async with StackerPlcSimulator(settings) as sim:
        sim.put(CELL.coordinates(), "BOX-1")
        to_accept, to_finish = await _controller(sim, jobs)
    async with StackerPlcSimulator(settings) as sim:
        sim.put(CELL.coordinates(), "BOX-1")
        api = await _api(sim, jobs)
    for name, samples in (
        ("raw_strobe_to_accepted", raw),
        ("controller_submit_to_accepted", to_accept),
        ("controller_submit_to_finished", to_finish),
        ("api_post_to_response", api["response"]),
        ("api_post_to_accepted", api["accepted"]),
        ("api_post_to_finished", api["finished"]),
    ):
        median, p99 = _quantiles(samples)
        print(f"{name}_median: {median * 1000:.2f} ms")
        print(f"{name}_p99: {p99 * 1000:.2f} ms")
    print(f"jobs: {jobs} count")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench stacker_roundtrip")
    parser.add_argument("--jobs", type=int, default=200)
    args, _ = parser.parse_known_args(argv)
    asyncio.run(_run(args.jobs))
    return 0
