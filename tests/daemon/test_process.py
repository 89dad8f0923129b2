"""The daemon as systemd runs it: a process that says READY, pets the watchdog and stops cleanly."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.daemon.test_outbox import _retained
from tests.harness import base_config_text, run_cli, start_daemon_process
from tests.services import Mosquitto, free_port

pytestmark = pytest.mark.slow


def _config(tmp_path: Path, *, mqtt_url: str | None = None) -> tuple[Path, int]:
    port = free_port()
    state = tmp_path / "state"
    state.mkdir()
    path = tmp_path / "archroom.toml"
    path.write_text(base_config_text(state, mqtt_url=mqtt_url, port=port))
    assert run_cli("db", "upgrade", "-c", str(path)).returncode == 0
    return path, port


def _wait_healthy(port: int, proc: subprocess.Popen[str], timeout: float = 30) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            return dict(httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json())
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TimeoutError("daemon never answered /healthz")


def test_sigterm_stops_cleanly_with_exit_0_and_a_sound_database(tmp_path: Path) -> None:
    path, port = _config(tmp_path)
    proc = start_daemon_process(path)
    try:
        _wait_healthy(port, proc)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - started < 10
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    check = run_cli("db", "check", "-c", str(path))
    assert check.returncode == 0
    assert "integrity: ok" in check.stdout


def test_refuses_to_start_on_an_unmigrated_database(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    path = tmp_path / "archroom.toml"
    path.write_text(base_config_text(state, port=free_port()))
    result = run_cli("run", "-c", str(path))
    assert result.returncode == 1
    assert f"run: archroom db upgrade -c {path}" in result.stderr


async def test_kill_9_makes_the_broker_publish_offline(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    path, port = _config(tmp_path, mqtt_url=mosquitto.url)
    proc = start_daemon_process(path, env={"ARCHROOM_MQTT__KEEPALIVE_S": "5"})
    try:
        await asyncio.to_thread(_wait_healthy, port, proc)
        assert await _retained(mosquitto, "archroom/t/r1/status") == "online"
        proc.kill()
        proc.wait()
        # The broker publishes the Will once the keepalive (x1.5) runs out.
        async with asyncio.timeout(20):
            while await _retained(mosquitto, "archroom/t/r1/status") != "offline":
                await asyncio.sleep(0.2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sd_notify_ready_watchdog_and_stopping(tmp_path: Path) -> None:
    path, port = _config(tmp_path)
    notify_path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(notify_path)
    sock.settimeout(15)
    proc = start_daemon_process(
        path, env={"NOTIFY_SOCKET": notify_path, "WATCHDOG_USEC": "1000000"}
    )
    messages: list[str] = []
    try:
        while not any("READY=1" in m for m in messages):
            messages.append(sock.recv(4096).decode())
        # READY only once the API answers.
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
        while not any("WATCHDOG=1" in m for m in messages):
            messages.append(sock.recv(4096).decode())
        proc.send_signal(signal.SIGTERM)
        while not any("STOPPING=1" in m for m in messages):
            messages.append(sock.recv(4096).decode())
        assert proc.wait(timeout=10) == 0
    finally:
        sock.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
