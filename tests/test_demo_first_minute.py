"""``archroom demo``'s first minute: a busy port, the tokens and the sentence a newcomer reads,
and ``--no-scenario``. The demo runs as its own process, as a newcomer would start it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import Iterator

import httpx
import pytest

from daemon.demo import PortTaken, choose_port
from tests.services import free_port


@contextlib.contextmanager
def port_in_use() -> Iterator[int]:
    """A port some other program is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_a_busy_default_port_gives_way_to_a_free_one_and_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with port_in_use() as busy:
        assert choose_port(None, default=busy) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"port {busy} is already in use; the demo takes a free port instead"]


def test_a_free_port_is_used_as_asked_and_zero_means_any() -> None:
    port = free_port()
    assert choose_port(port) == port
    assert choose_port(None, default=port) == port
    assert choose_port(0) == 0


def test_a_busy_port_asked_for_is_refused_with_the_port_hint() -> None:
    with port_in_use() as busy, pytest.raises(PortTaken, match="--port"):
        choose_port(busy)


async def _demo(*args: str, within_s: float = 90.0) -> tuple[int, list[str], str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "daemon", "demo", "--mqtt", "mqtt://127.0.0.1:1", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with asyncio.timeout(within_s):
            out, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, out.decode().splitlines(), err.decode()


@pytest.mark.slow
async def test_demo_on_a_busy_port_asked_for_exits_1_in_one_line_without_a_traceback() -> None:
    with port_in_use() as busy:
        code, out, err = await _demo("--port", str(busy), "--duration", "1", "--items", "10")
    assert code == 1
    assert out == []
    assert err.strip().splitlines() == [
        f"archroom demo: port {busy} is already in use; "
        "choose another with --port N (or --port 0 for any free port)"
    ]
    assert "Traceback" not in err


@pytest.mark.slow
async def test_demo_without_the_scenario_prints_both_tokens_and_where_to_start() -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "daemon", "demo", "--no-scenario", "--port", str(port),
        "--items", "40", "--duration", "30", "--mqtt", "mqtt://127.0.0.1:1",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdout is not None
    printed: dict[str, str] = {}
    lines: list[str] = []
    try:
        async with asyncio.timeout(60):
            while "scenario" not in printed:
                line = (await proc.stdout.readline()).decode()
                assert line, "\n".join(lines)
                lines.append(line.rstrip())
                key, _, value = line.partition(": ")
                printed[key] = value.strip()
            async with httpx.AsyncClient(base_url=printed["api"]) as client:
                staff = {"Authorization": f"Bearer {printed['staff token']}"}
                admin = {"Authorization": f"Bearer {printed['token']}"}
                assert (await client.get("/api/v1/alarms", headers=staff)).status_code == 200
                assert (await client.get("/api/v1/audit", headers=staff)).status_code == 403
                assert (await client.get("/api/v1/alarms", headers=admin)).status_code == 200
                # the audit is the auditor's alone, not the room admin's (separation of duties)
                assert (await client.get("/api/v1/audit", headers=admin)).status_code == 403
            proc.terminate()
            rest = (await proc.stdout.read()).decode().splitlines()
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert printed["staff token"].startswith("arc_")
    assert printed["staff token"] != printed["token"]
    assert printed["start here"] == (
        f"open http://127.0.0.1:{port}/console in a browser and paste the staff token above to"
        " sign in (the admin token also opens the audit trail)"
    )
    assert printed["scenario"] == "off (--no-scenario); the room is yours to drive"
    assert not [line for line in rest if line.startswith("scenario:")]
    assert rest[-1] == "demo stopped: no scenario (--no-scenario)"
