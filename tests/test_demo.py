"""``archroom demo --duration 60``: the whole room comes up and every scenario step happens.

The demo runs as its own process with a private broker; this test follows it as a newcomer
would, from what it prints (the API address, a token and the accounts to sign in with), through
the API while it runs and through MQTT, and checks each step of the scenario left its trace in both.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest

from daemon.accounts import totp
from tests.services import Mosquitto, free_port
from tests.support.mqtt import Subscriber

pytestmark = pytest.mark.slow

STEPS = ("checkout", "misplaced", "unauthorized", "stacker", "humidity")


async def test_demo_runs_every_scenario_step_and_stops_cleanly(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    events = Subscriber(mosquitto, "archroom/#")
    listening = asyncio.create_task(events.run())
    await asyncio.wait_for(events.ready.wait(), 10)
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "daemon",
        "demo",
        "--duration",
        "60",
        "--items",
        "600",
        "--port",
        str(port),
        "--mqtt",
        mosquitto.url,
        "--state-dir",
        str(tmp_path / "demo"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    printed: dict[str, str] = {}
    done: set[str] = set()
    lines: list[str] = []
    api_checked = False
    try:
        async with asyncio.timeout(120):
            while line := (await proc.stdout.readline()).decode():
                lines.append(line.rstrip())
                key, _, value = line.partition(": ")
                if key in ("api", "token", "metrics", "mqtt", "staff", "admin", "sign in"):
                    printed[key] = value.strip()
                if key == "scenario" and "did not complete" not in value:
                    done.update(step for step in STEPS if _is_step(step, value))
                if done == set(STEPS) and not api_checked:
                    await _check_api(printed["api"], printed["token"])
                    await _check_sign_in(printed["api"], printed["staff"], printed["admin"])
                    api_checked = True
        assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening

    assert printed["api"] == f"http://127.0.0.1:{port}"
    assert printed["token"].startswith("arc_")
    assert printed["sign in"] == f"http://127.0.0.1:{port}/console/login"
    assert printed["mqtt"].startswith(mosquitto.url)
    assert done == set(STEPS), "\n".join(lines)
    assert api_checked
    assert lines[-1].startswith("demo stopped:")

    alarm_kinds = {e["kind"] for e in events.events("alarm.raised")}
    assert {"gate.unauthorized", "item.misplaced", "climate.humidity-high"} <= alarm_kinds
    assert {"item.misplaced", "climate.humidity-high"} <= {
        e["kind"] for e in events.events("alarm.cleared")
    }
    passages = events.events("gate.passage")
    assert {(p["direction"], p["authorized"]) for p in passages} >= {
        ("out", True),
        ("out", False),
        ("in", True),
    }
    assert events.events("loan.opened")
    assert events.events("loan.returned")
    assert {e["state"] for e in events.events("stacker.job")} >= {"accepted", "done"}
    assert {e["source"] for e in events.events("location.changed")} >= {
        "gate",
        "shelf-read",
        "stacker",
        "desk",
    }
    switched = events.events("climate.actuator")
    assert {(e["actuator"], e["on"]) for e in switched} >= {("dh-1", True), ("dh-1", False)}
    assert any("% RH, dh-1 " in line for line in lines if line.startswith("status:")), lines
    climate_topics = {t for t in events.topics() if "/climate/" in t}
    assert len(climate_topics) == 4


def _is_step(step: str, message: str) -> bool:
    return {
        "checkout": "checked out",
        "misplaced": "misplaced alarm",
        "unauthorized": "without a loan",
        "stacker": "retrieved by the stacker",
        "humidity": "dehumidifier dh-1 ran until",
    }[step] in message


async def _check_sign_in(api: str, staff: str, admin: str) -> None:
    """The printed accounts sign in: the staff one with its password, the admin one with its
    password and a code from the printed TOTP secret."""
    staff_name, _, staff_password = staff.split(" ")
    admin_name, _, admin_password, _, secret = admin.split(" ")[:5]
    async with httpx.AsyncClient(base_url=api) as client:
        r = await client.post(
            "/api/v1/session/sign-in", json={"user": staff_name, "password": staff_password}
        )
        assert (r.status_code, r.json()["role"]) == (200, "staff")
        code = totp.code_at(secret, time.time())
        body = {"user": admin_name, "password": admin_password, "code": code}
        r = await client.post("/api/v1/session/sign-in", json=body)
        assert (r.status_code, r.json()["role"]) == (200, "admin")


async def _check_api(api: str, token: str) -> None:
    async with httpx.AsyncClient(
        base_url=api, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        health = (await client.get("/healthz")).json()
        assert health["components"]["database"]["status"] == "ok"
        alarms = (await client.get("/api/v1/alarms?state=all")).json()
        assert {"gate.unauthorized", "item.misplaced", "climate.humidity-high"} <= {
            a["kind"] for a in alarms
        }
        assert any(a["acknowledged_by"] for a in alarms if a["kind"] == "gate.unauthorized")
        returned = (await client.get("/api/v1/loans?status=returned")).json()
        assert returned
        stacker = (await client.get("/api/v1/stacker")).json()
        assert stacker
        climate = (await client.get("/api/v1/climate")).json()
        assert climate
        metrics = (await client.get("/metrics")).text
        assert "archroom_gate_alarms_total" in metrics
        assert 'archroom_rfid_reader_up{reader="door-1"} 1.0' in metrics
        assert "archroom_stacker_up 1.0" in metrics
        assert 'archroom_climate_actuator_on{actuator="dh-1",room="stack-1"}' in metrics
        control = (await client.get("/api/v1/climate/control")).json()
        assert [a["id"] for a in control["rooms"][0]["actuators"]] == ["dh-1"]
