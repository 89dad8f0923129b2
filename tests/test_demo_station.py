"""A person's retrieval from the console or the API racing the demo scenario's own retrieval.

Both go to the one station: the later one waits while the scenario's box stands there, says so
in the API, and is sent once the scenario's clerk has taken the box. Both are served in order,
no job raises an exception, no decision is needed, and the scenario carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import Any

import httpx
import pytest

from daemon.demo.scenario import demo_ref
from tests.services import free_port

pytestmark = pytest.mark.slow

TERMINAL = ("done", "rejected", "cancelled", "not_executed", "unresolved")


async def _lines(stream: asyncio.StreamReader, into: list[str]) -> None:
    while line := (await stream.readline()).decode():
        into.append(line.rstrip())


async def test_a_retrieval_racing_the_scenarios_waits_for_the_station_and_both_are_served() -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "daemon", "demo", "--port", str(port), "--items", "200",
        "--duration", "120", "--mqtt", "mqtt://127.0.0.1:1",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdout is not None
    lines: list[str] = []
    reading = asyncio.create_task(_lines(proc.stdout, lines))
    try:
        async with asyncio.timeout(110):
            while not any(line.startswith("token: ") for line in lines):
                assert not reading.done(), "\n".join(lines)
                await asyncio.sleep(0.1)
            token = next(line for line in lines if line.startswith("token: ")).split(": ")[1]
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            ) as client:
                ours, theirs = await _race(client)
                seen = await _follow(client, ours["job_id"])
                query = {"kind": "stacker.exception", "state": "all"}
                exceptions = (await client.get("/api/v1/alarms", params=query)).json()
            while not any("retrieved by the stacker" in line for line in lines):
                assert not reading.done(), "\n".join(lines)
                await asyncio.sleep(0.2)
        proc.terminate()
        assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(reading, 5)

    states = [state for state, _ in seen]
    assert states[0] == "queued"
    assert states[-1] == "done"
    assert "exception" not in states
    waits = [why for _, why in seen if why]
    assert waits, seen  # it waited for the scenario's box, and said so
    assert f"still holds {theirs['ref']}" in waits[0]
    assert exceptions == []
    assert not [line for line in lines if "did not complete" in line], "\n".join(lines)
    scenario_done = next(line for line in lines if "retrieved by the stacker" in line)
    assert f"(job {theirs['job_id']})" in scenario_done


async def _race(client: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """Wait for the scenario's retrieval to run, then ask for another box to the same station."""
    while True:
        state = (await client.get("/api/v1/stacker")).json()
        active = state["active_job"]
        if active is not None and active["kind"] == "retrieve":
            break
        await asyncio.sleep(0.1)
    for i in range(0, 200, 50):
        ref = demo_ref(i)
        if ref == active["ref"]:
            continue
        r = await client.post("/api/v1/stacker/jobs", json={"kind": "retrieve", "ref": ref})
        if r.status_code == 202:
            ours: dict[str, Any] = r.json()
            return ours, active
    raise AssertionError("no box in the stacker to race the scenario with")


async def _follow(client: httpx.AsyncClient, job_id: int) -> list[tuple[str, str | None]]:
    """(state, waiting_for) each time either changes, until the job ends."""
    seen: list[tuple[str, str | None]] = []
    while True:
        job = (await client.get(f"/api/v1/stacker/jobs/{job_id}")).json()
        now = (job["state"], job["waiting_for"])
        if not seen or seen[-1] != now:
            seen.append(now)
        if job["state"] in TERMINAL:
            return seen
        await asyncio.sleep(0.1)
