"""The alert rules and the dashboards, proven on a real Prometheus (Debian's ``prometheus``).

Two checks. ``promtool test rules`` runs the rules' unit tests (input series, expected alerts)
in grafana/prometheus/. Then a private Prometheus (own port, own data directory) scrapes a
running ``archroom demo`` every second, and, once it holds a few scrapes, every dashboard query
is asked of it through the HTTP API with the room variable set to each room the variable would
offer (and to all of them), and every alert rule's signal and full expression likewise: each
must return data on the demo's healthy rooms. A query that returns nothing shows "No data" in
Grafana; a rule whose signal returns nothing can never fire. The rule file itself is loaded by
that Prometheus, which must report every rule evaluated without error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from grafana.generate import DASHBOARDS, HERE, PROMETHEUS_RULES
from grafana.rules import GROUPS
from tests.services import Mosquitto, free_port

RULES = HERE / PROMETHEUS_RULES
RULE_TESTS = RULES.with_name("archroom-rules.test.yml")


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        raise RuntimeError("promtool is not installed: `make test` installs it (prometheus)")
    return found


def prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if found is None:
        raise RuntimeError("prometheus is not installed: `make test` installs it (prometheus)")
    return found


async def run(*argv: str, cwd: Path | None = None) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_alert_rules_pass_their_promtool_unit_tests() -> None:
    code, out = await run(promtool(), "check", "rules", str(RULES))
    assert code == 0, out
    rules = sum(len(g.rules) for g in GROUPS)
    assert f"SUCCESS: {rules} rules found" in out
    code, out = await run(promtool(), "test", "rules", RULE_TESTS.name, cwd=RULE_TESTS.parent)
    assert code == 0, out
    assert "SUCCESS" in out


# -- a real Prometheus scraping the demo -------------------------------------------------------

SCRAPES = 15
"""Scrapes (one a second) Prometheus must hold before the queries are asked."""


async def terminate(proc: asyncio.subprocess.Process, *, grace_s: float) -> None:
    """SIGTERM ``proc`` if it still runs; SIGKILL it if it has not ended after ``grace_s``."""
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), grace_s)
        except TimeoutError:
            proc.kill()
            await proc.wait()


class Demo:
    """``archroom demo`` as its own process; its output is drained so it never blocks."""

    def __init__(self, tmp_path: Path, broker: Mosquitto) -> None:
        self.tmp_path = tmp_path
        self.broker = broker
        self.port = free_port()
        self.lines: list[str] = []
        self.api = asyncio.Event()
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Demo:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "daemon", "demo",
            "--duration", "170", "--items", "300", "--port", str(self.port),
            "--mqtt", self.broker.url, "--state-dir", str(self.tmp_path / "demo"),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        self._reader = asyncio.create_task(self._read())
        try:
            await asyncio.wait_for(self.api.wait(), 60)
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def _read(self) -> None:
        assert self.proc is not None
        assert self.proc.stdout is not None
        while line := (await self.proc.stdout.readline()).decode():
            self.lines.append(line.rstrip())
            if line.startswith("api: "):
                self.api.set()

    async def __aexit__(self, *exc: object) -> None:
        assert self.proc is not None
        assert self._reader is not None
        await terminate(self.proc, grace_s=30)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._reader, 5)
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


class Prometheus:
    """A private Prometheus on a free port with its own data directory, scraping ``target``
    every second and evaluating the archroom rule file."""

    def __init__(self, workdir: Path, target: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        self.config = workdir / "prometheus.yml"
        self.config.write_text(
            "global:\n"
            "  scrape_interval: 1s\n"
            "  evaluation_interval: 1s\n"
            "rule_files:\n"
            f"  - {json.dumps(str(RULES))}\n"
            "scrape_configs:\n"
            "  - job_name: archroom\n"
            "    static_configs:\n"
            f"      - targets: [{json.dumps(target)}]\n"
        )
        self.proc: asyncio.subprocess.Process | None = None
        self.log = workdir / "prometheus.log"

    async def __aenter__(self) -> Prometheus:
        binary = prometheus_binary()
        with self.log.open("wb") as log:
            self.proc = await asyncio.create_subprocess_exec(
                binary,
                f"--config.file={self.config}",
                f"--storage.tsdb.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log,
            )
        try:
            async with httpx.AsyncClient(base_url=self.url) as client, asyncio.timeout(30):
                while True:
                    with contextlib.suppress(httpx.TransportError):
                        if (await client.get("/-/ready")).status_code == 200:
                            break
                    await asyncio.sleep(0.2)
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.proc is not None
        await terminate(self.proc, grace_s=20)


async def query(client: httpx.AsyncClient, expr: str) -> list[dict[str, Any]]:
    body = (await client.get("/api/v1/query", params={"query": expr})).json()
    assert body["status"] == "success", (expr, body)
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


async def rooms_offered(client: httpx.AsyncClient, variable_query: str) -> list[str]:
    """What Grafana's ``label_values(metric, room)`` lists."""
    match = re.fullmatch(r"label_values\((\w+), room\)", variable_query)
    assert match, variable_query
    body = (
        await client.get("/api/v1/label/room/values", params={"match[]": match.group(1)})
    ).json()
    assert body["status"] == "success", body
    return sorted(body["data"])


def dashboard_queries(name: str) -> tuple[str, list[tuple[str, str]]]:
    dashboard = json.loads((HERE / "dashboards" / name).read_text(encoding="utf-8"))
    (variable,) = dashboard["templating"]["list"]
    targets = [
        (f"{name}: {panel['title']} ({target['refId']})", target["expr"])
        for panel in dashboard["panels"]
        for target in panel["targets"]
    ]
    return variable["query"]["query"], targets


@pytest.mark.slow
async def test_every_dashboard_query_and_rule_returns_data_on_a_healthy_demo_room(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    async with (
        Demo(tmp_path, mosquitto) as demo,
        Prometheus(tmp_path / "prometheus", f"127.0.0.1:{demo.port}") as prometheus,
        httpx.AsyncClient(base_url=prometheus.url, timeout=10) as client,
    ):
        async with asyncio.timeout(120):
            while True:
                held = await query(client, "count_over_time(archroom_build_info[5m])")
                swings = await query(client, "archroom_climate_humidity_swing_ratio")
                if held and float(held[0]["value"][1]) >= SCRAPES and len(swings) >= 2:
                    break
                await asyncio.sleep(1)

        empty: list[str] = []
        asked = 0
        for name in sorted(DASHBOARDS):
            variable, targets = dashboard_queries(name)
            rooms = await rooms_offered(client, variable)
            assert rooms, f"{name}: the room variable offers no room"
            for selection in rooms if len(rooms) == 1 else [*rooms, "|".join(rooms)]:
                for where, expr in targets:
                    asked += 1
                    if not await query(client, expr.replace("$room", selection)):
                        empty.append(f"{where} [room={selection}]: {expr}")
        for group in GROUPS:
            for rule in group.rules:
                asked += 2
                if not await query(client, rule.signal):
                    empty.append(f"rule {rule.alert} signal: {rule.signal}")
                await query(client, rule.expr)  # must evaluate; it may or may not fire

        rules = (await client.get("/api/v1/rules")).json()["data"]["groups"]
        loaded = {r["name"]: r for g in rules for r in g["rules"]}
        assert sorted(loaded) == sorted(r.alert for g in GROUPS for r in g.rules)
        assert {name: r["health"] for name, r in loaded.items() if r["health"] != "ok"} == {}
    assert asked > 100
    assert empty == [], "\n".join(empty)
