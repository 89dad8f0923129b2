"""The daemon killed with SIGKILL in the middle of a retrieval, and started again.

The daemon runs as its own process (as under systemd); the simulated PLC runs in the test and
keeps its memory across the kill, as a real PLC would. Whatever happened to the crane while the
host was away, the restarted daemon compares its journal with ACTIVE_JOB_ID and
LAST_DONE_JOB_ID, and the PLC never executes the job a second time.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymodbus.client import AsyncModbusTcpClient

from daemon.tokens import Role
from simulators.stacker_plc import PlcSettings, StackerPlcSimulator
from stacker.registers import HR, CmdOpts, CommandCode, Mode, encode_command, split_u32
from tests.harness import base_config_text, create_token, start_daemon_process
from tests.services import free_port
from tests.support.fixtures import PLC_SETTINGS
from tests.support.poll import eventually
from tests.support.stacker import (
    BOX_A,
    EPC_A,
    STATION,
    STATION_CODE,
    TERMINAL,
    job_of,
    location_of,
    stacker_toml,
    wait_job,
)

pytestmark = pytest.mark.slow

FAR_CODE = "r1-S11-09-01-1"
FAR = (1, 1, 9, 1, 1)


@pytest.fixture
def plc_settings() -> PlcSettings:
    """A crane that takes 1.8 s to cross the rack, so a retrieval can be caught running."""
    return replace(PLC_SETTINGS, seconds_per_bay=0.2)


@dataclass
class DaemonProcess:
    config: Path
    port: int
    token: str
    proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.proc = start_daemon_process(self.config, env={"ARCHROOM_LOG_LEVEL": "WARNING"})
        proc = self.proc
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:

            async def answers() -> bool:
                assert proc.poll() is None, self.output()
                with contextlib.suppress(httpx.HTTPError):
                    return (await client.get("/healthz")).status_code == 200
                return False

            await eventually(answers, timeout=30)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)

    async def wait(self) -> int:
        assert self.proc is not None
        proc = self.proc

        async def ended() -> bool:
            return proc.poll() is not None

        await eventually(ended, timeout=15)
        return proc.returncode

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL if it is still there after 15 s (stopping is not under test
        here; see ``tests.support.room.settled`` for why a stop can hang)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(AssertionError):
                await self.wait()
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()

    def output(self) -> str:
        if self.proc is None or self.proc.stdout is None or self.proc.poll() is None:
            return ""
        return self.proc.stdout.read()

    @contextlib.asynccontextmanager
    async def client(self) -> AsyncIterator[httpx.AsyncClient]:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30) as client:
            yield client


@pytest.fixture
async def daemon(
    tmp_path: Path, db_url: str, sim: StackerPlcSimulator
) -> AsyncIterator[DaemonProcess]:
    token = await create_token(db_url, Role.staff, "staff-r1")
    state = tmp_path / "state"
    state.mkdir()
    port = free_port()
    path = tmp_path / "archroom.toml"
    path.write_text(base_config_text(state, db_url=db_url, port=port, extra=stacker_toml(sim.url)))
    process = DaemonProcess(path, port, token)
    try:
        yield process
    finally:
        await process.stop()


async def a_retrieval_running_when_the_daemon_is_killed(
    daemon: DaemonProcess, sim: StackerPlcSimulator
) -> int:
    """Store R-K far from the station, start its retrieval, hold the crane, kill the daemon."""
    await daemon.start()
    async with daemon.client() as client:

        async def ready() -> bool:
            return bool((await client.get("/api/v1/stacker")).json()["refusal"] is None)

        await eventually(ready, timeout=20)
        r = await client.put(
            "/api/v1/items/R-K", json={"title": "Box K", "retention": "D30", "kind": "box"}
        )
        assert r.status_code == 201, r.text
        r = await client.post("/api/v1/items/R-K/tag", json={"epc": EPC_A})
        assert r.status_code == 201, r.text
        sim.put(STATION, BOX_A)
        r = await client.post(
            "/api/v1/stacker/jobs", json={"kind": "store", "ref": "R-K", "destination": FAR_CODE}
        )
        assert r.status_code == 202, r.text
        store_id = r.json()["job_id"]
        assert (await wait_job(client, store_id, *TERMINAL))["result"] == "ok"

        r = await client.post("/api/v1/stacker/jobs", json={"kind": "retrieve", "ref": "R-K"})
        assert r.status_code == 202, r.text
        job_id: int = r.json()["job_id"]

    async def taken() -> bool:
        return sim.executions(job_id) == 1

    await eventually(taken, timeout=20)
    sim.set_mode(Mode.MANUAL)  # the crane holds the box on its fork while the host is away
    daemon.kill()
    assert await daemon.wait() == -signal.SIGKILL
    assert sim.model.contents.get(STATION) is None
    return job_id


async def another_host_runs_a_job(sim: StackerPlcSimulator, acknowledge: int) -> None:
    """A commissioning laptop acknowledges the pending result and runs its own verify."""
    client = AsyncModbusTcpClient("127.0.0.1", port=sim.port, retries=0, reconnect_delay=0)
    assert await client.connect()
    try:
        await client.write_registers(HR.EVENT_ACK_JOB, list(split_u32(acknowledge)))
        foreign = 900_001
        block = encode_command(
            foreign, CommandCode.VERIFY, source=(1, 2, 5, 5, 1), destination=(1, 2, 5, 5, 1),
            opts=CmdOpts(0), box_id="",
        )  # fmt: skip
        await client.write_registers(HR.CMD_JOB_ID, block)
        await client.write_register(HR.CMD_STROBE, foreign & 0xFFFF)

        async def finished() -> bool:
            return foreign in sim.model.records

        await eventually(finished, timeout=20)
        await client.write_register(HR.CMD_STROBE, 0)
        await client.write_registers(HR.EVENT_ACK_JOB, list(split_u32(foreign)))
    finally:
        client.close()


async def retrieved_once(
    client: httpx.AsyncClient, sim: StackerPlcSimulator, job_id: int
) -> dict[str, Any]:
    """The retrieval ``job_id`` once it has ended: well, with R-K at the station, and run only
    once by the crane."""
    job = await wait_job(client, job_id, *TERMINAL)
    where = await location_of(client, "R-K")
    assert (job["state"], job["result"]) == ("done", "ok")
    assert where["location"]["code"] == STATION_CODE
    assert sim.executions(job_id) == 1
    assert sim.model.strobes[job_id] == 1
    return job


async def test_restarted_daemon_follows_the_job_the_crane_is_still_running(
    daemon: DaemonProcess, sim: StackerPlcSimulator
) -> None:
    job_id = await a_retrieval_running_when_the_daemon_is_killed(daemon, sim)

    await daemon.start()
    async with daemon.client() as client:

        async def followed() -> bool:
            state = (await client.get("/api/v1/stacker")).json()
            return bool((state["active_job"] or {}).get("job_id") == job_id)

        await eventually(followed, timeout=20)
        sim.set_mode(Mode.AUTO)
        await retrieved_once(client, sim, job_id)
    assert sim.model.contents.get(STATION) == BOX_A


async def a_retrieval_finished_while_the_daemon_was_away(
    daemon: DaemonProcess, sim: StackerPlcSimulator
) -> int:
    """``a_retrieval_running_when_the_daemon_is_killed``, then finished by the crane."""
    job_id = await a_retrieval_running_when_the_daemon_is_killed(daemon, sim)
    sim.set_mode(Mode.AUTO)

    async def finished_on_the_plc() -> bool:
        return job_id in sim.model.records

    await eventually(finished_on_the_plc, timeout=20)
    return job_id


async def test_restarted_daemon_records_the_result_the_crane_finished_while_it_was_away(
    daemon: DaemonProcess, sim: StackerPlcSimulator
) -> None:
    job_id = await a_retrieval_finished_while_the_daemon_was_away(daemon, sim)
    await daemon.start()
    async with daemon.client() as client:
        await retrieved_once(client, sim, job_id)
        history = (await client.get("/api/v1/items/R-K/history")).json()["entries"]
    moves = [e["details"]["to"] for e in history if e["kind"] == "movement"]
    assert moves == [FAR_CODE, STATION_CODE]


async def test_restarted_daemon_verifies_a_job_of_unknown_outcome_instead_of_resending_it(
    daemon: DaemonProcess, sim: StackerPlcSimulator
) -> None:
    job_id = await a_retrieval_finished_while_the_daemon_was_away(daemon, sim)
    await another_host_runs_a_job(sim, acknowledge=job_id)  # the PLC no longer shows our job

    await daemon.start()
    async with daemon.client() as client:
        job = await retrieved_once(client, sim, job_id)
        scan = await job_of(client, job_id + 1)
    assert job["note"] == f"verify job {job_id + 1} found the box at the destination"
    assert (scan["kind"], scan["purpose"], scan["parent_id"]) == ("verify", "recovery", job_id)
    assert scan["source"]["code"] == STATION_CODE
