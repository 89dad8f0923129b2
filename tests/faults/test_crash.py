"""kill -9 in the middle of work: nothing acknowledged is lost, nothing is half-written.

A real daemon process on SQLite with a real broker takes a burst of check-outs from several
clients at once and is killed with SIGKILL in the middle of it (and of its outbox flush).
After a restart: every check-out a client saw acknowledged is recorded; every recorded one
has exactly its audit entry and exactly one ``loan.opened`` event row; the audit chain
verifies; and a subscriber receives every event (a repeat only with the same ``event_id``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sqlite3
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

from tests.harness import base_config_text, run_cli, start_daemon_process
from tests.services import Mosquitto, free_port
from tests.support.mqtt import Listener

pytestmark = pytest.mark.slow


async def _wait_healthy(port: int, proc: subprocess.Popen[str]) -> None:
    async with asyncio.timeout(30), httpx.AsyncClient() as client:
        while True:
            assert proc.poll() is None
            with contextlib.suppress(httpx.HTTPError):
                if (
                    await client.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                ).status_code == 200:
                    return
            await asyncio.sleep(0.1)


async def test_sigkill_during_a_burst_of_check_outs_loses_and_duplicates_nothing(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    port = free_port()
    config = tmp_path / "archroom.toml"
    config.write_text(base_config_text(state, port=port, mqtt_url=mosquitto.url))
    assert run_cli("db", "upgrade", "-c", str(config)).returncode == 0
    token = run_cli(
        "token", "create", "--role", "staff", "--name", "desk", "-c", str(config)
    ).stdout.strip()
    lines = "\n".join(f"B-{i:04d},Box {i},D10" for i in range(400))
    (tmp_path / "items.csv").write_text(f"ref,title,retention\n{lines}\n")
    assert (
        run_cli("catalogue", "import", str(tmp_path / "items.csv"), "-c", str(config)).returncode
        == 0
    )

    topic = "archroom/t/r1/events/loan.opened"
    collector = Listener(mosquitto.port, topic, session=f"crash-{uuid.uuid4().hex[:6]}")
    collecting = asyncio.create_task(collector.run())
    await asyncio.wait_for(collector.ready.wait(), 10)
    acknowledged: set[str] = set()
    proc = start_daemon_process(config)
    try:
        await _wait_healthy(port, proc)
        headers = {"Authorization": f"Bearer {token}"}

        async def desk(first: int) -> None:
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10
            ) as c:
                for i in range(first, 400, 4):
                    ref = f"B-{i:04d}"
                    try:
                        r = await c.post(
                            "/api/v1/loans", json={"ref": ref, "borrower": "x", "purpose": "y"}
                        )
                    except httpx.HTTPError:
                        return  # the daemon died under us
                    if r.status_code == 201:
                        acknowledged.add(ref)

        desks = [asyncio.create_task(desk(k)) for k in range(4)]
        while len(acknowledged) < 120:
            await asyncio.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        await asyncio.gather(*desks)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    db = sqlite3.connect(state / "archroom.db")
    loans = {r[0] for r in db.execute("SELECT i.ref FROM loans l JOIN items i ON i.id = l.item_id")}
    opened_rows = [
        json.loads(p)["ref"]
        for (p,) in db.execute("SELECT payload FROM outbox WHERE topic LIKE '%loan.opened'")
    ]
    audited = [r[0] for r in db.execute("SELECT subject FROM audit WHERE action = 'loan.opened'")]
    db.close()
    assert acknowledged <= loans, "a check-out the desk saw acknowledged was lost"
    assert sorted(opened_rows) == sorted(loans), "one loan.opened event row per recorded loan"
    assert sorted(audited) == sorted(loans), "one audit entry per recorded loan"

    proc = start_daemon_process(config)
    try:
        await _wait_healthy(port, proc)
        async with asyncio.timeout(30):
            while {e["ref"] for e in collector.objects()} != loans:
                await asyncio.sleep(0.1)
        by_id: dict[object, object] = {}
        for event in collector.objects():
            assert by_id.setdefault(event["event_id"], event["ref"]) == event["ref"]
        assert len(by_id) == len(loans), "every event delivered once per event_id"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        collecting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await collecting
    verify = run_cli("audit", "verify", "-c", str(config))
    assert verify.returncode == 0, verify.stdout
