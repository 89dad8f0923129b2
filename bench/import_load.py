"""A large catalogue import while the room works: memory, loop lag and a gate reader's link.

Issue: a 200 MB import once took the daemon to 1.6 GB and stalled its loop for seconds, so the
gate reader's LLRP keepalive went unanswered and its link was reset. Budget (docs/security.md):
a 500 MB import grows the daemon's RSS by at most 150 MB and keeps the event loop's lag at
p99 <= 100 ms, every keepalive answered.

The daemon runs as its own process (SQLite in a scratch directory) with one LLRP gate reader,
the llrpkit-based simulator, asking for a keepalive every second (declared dead after 1.5 s
without one). A CSV of ``--mb`` megabytes is posted (streamed from disk, 202) and followed
through ``GET /api/v1/imports/{id}``. Meanwhile the bench samples the daemon's RSS from
``/proc`` every 0.1 s and asks ``/healthz`` every 50 ms: its answer time bounds the loop's lag
from above (it includes the HTTP round trip). At the end it reads the daemon's own loop-lag
histogram (``archroom_event_loop_lag_seconds``, a 1 s probe) and counts the gate simulator's
connections: one means the link never broke.

To tell the loop's own share from the machine's load, it first times, in-process, the CPU
the loop's thread spends on one batch of 500 rows (``time.thread_time``: the database
driver's thread and the parser are not counted), the most any import holds the loop.

    python -m bench import_load -- --mb 500
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench._rig import free_port, percentile, rss_mb, start_daemon, stop
from daemon.audit import AuditChain
from daemon.bus import Bus
from daemon.ledger.imports import LOAD_ROWS
from daemon.ledger.items import Catalogue, ImportReport, ItemRecord
from daemon.ledger.uow import Ledger
from daemon.outbox import Outbox
from daemon.store.db import Store
from simulators.llrp_gate import LlrpGateSimulator

ROW = (
    "0001-WS·2024-D30-RS-{n:08d},Employment contract register {n} of the labour office,"
    "employment services,2024,D30,box\n"
)


def _write_csv(path: Path, megabytes: float) -> int:
    target = int(megabytes * 1_000_000)
    rows = 0
    with path.open("w", encoding="utf-8") as f:
        f.write("ref,title,category,year,retention,kind\n")
        written = 0
        block: list[str] = []
        while written < target:
            line = ROW.format(n=rows)
            block.append(line)
            written += len(line.encode())
            rows += 1
            if len(block) == 10_000:
                f.write("".join(block))
                block = []
        f.write("".join(block))
    return rows


def _config(tmp: Path, api_port: int, gate_port: int, size: int) -> Path:
    path = tmp / "archroom.toml"
    path.write_text(
        "\n".join(
            [
                'room = "bench"',
                f'state_dir = "{tmp}"',
                "[api]",
                f"port = {api_port}",
                f"max_import_bytes = {size + 1_000_000}",
                "import_timeout_s = 3600",
                "[[readers]]",
                'type = "llrp"',
                'id = "door"',
                f'url = "tcp://127.0.0.1:{gate_port}"',
                'role = "gate"',
                "keepalive_s = 1.0",
                "[[gates]]",
                'id = "door"',
                'reader = "door"',
                "inside_antenna = 1",
                "outside_antenna = 2",
            ]
        )
        + "\n"
    )
    return path


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            yield block


def _loop_lag_buckets(base: str) -> list[tuple[float, float]]:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    buckets = []
    for line in text.splitlines():
        if line.startswith("archroom_event_loop_lag_seconds_bucket"):
            le = line.split('le="')[1].split('"')[0]
            buckets.append((float(le), float(line.rsplit(" ", 1)[1])))
    return buckets


async def _loop_share(tmp: Path, batches: int = 30) -> list[float]:
    """Loop-thread CPU seconds of ``Catalogue.load`` for each of ``batches`` batches."""
    store = Store.connect(f"sqlite+aiosqlite:///{tmp / 'share.db'}")
    try:
        await store.upgrade()
        outbox = Outbox(store, site="b", room="bench")
        catalogue = Catalogue(Ledger(store, AuditChain("bench"), outbox, Bus()))
        spent = []
        for b in range(batches):
            records = [
                (
                    n,
                    ItemRecord.model_validate(
                        {"ref": f"S-{b}-{n}", "title": "t", "retention": "Y"}
                    ),
                )
                for n in range(LOAD_ROWS)
            ]
            before = time.thread_time()
            await catalogue.load(records, ImportReport(), "bench")
            spent.append(time.thread_time() - before)
    finally:
        await store.close()
    return spent


async def _run(args: argparse.Namespace, tmp: Path) -> int:
    share = await _loop_share(tmp)
    print(
        f"import_loop_cpu_per_batch_ms: median {statistics.median(share) * 1000:.1f} ms,"
        f" p90 {percentile(share, 90) * 1000:.1f} ms ({LOAD_ROWS} rows a batch)"
    )
    data = tmp / "catalogue.csv"
    started = time.monotonic()
    rows = await asyncio.to_thread(_write_csv, data, args.mb)
    size = data.stat().st_size
    took = time.monotonic() - started
    print(f"import_file: {size / 1e6:.0f} MB, {rows:,} rows (written in {took:.0f} s)")
    async with LlrpGateSimulator(cycle_s=0.5, seed=3) as gate:
        api_port = free_port()
        base = f"http://127.0.0.1:{api_port}"
        config = _config(tmp, api_port, gate.port, size)
        daemon = await asyncio.to_thread(start_daemon, config, api_port)
        try:
            token = await _token(config)
            headers = {"Authorization": f"Bearer {token}"}
            await asyncio.sleep(3.0)  # the gate link up, the heap settled
            connections_before = gate.connections
            baseline = rss_mb(daemon.pid)
            peak = baseline
            answers: list[float] = []
            done = asyncio.Event()

            async def sample() -> None:
                nonlocal peak
                async with httpx.AsyncClient(base_url=base, timeout=30) as probe:
                    while not done.is_set():
                        peak = max(peak, rss_mb(daemon.pid))
                        t = time.monotonic()
                        await probe.get("/healthz")
                        answers.append(time.monotonic() - t)
                        await asyncio.sleep(0.05)

            sampler = asyncio.create_task(sample())
            t0 = time.monotonic()

            def post() -> str:
                r = httpx.post(
                    f"{base}/api/v1/items/import",
                    content=_chunks(data),
                    headers={**headers, "Content-Type": "text/csv"},
                    timeout=3600,
                )
                r.raise_for_status()
                return str(r.json()["id"])

            job_id = await asyncio.to_thread(post)
            uploaded = time.monotonic() - t0
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
                while True:
                    job = (await client.get(f"/api/v1/imports/{job_id}")).json()
                    if job["state"] in ("done", "failed"):
                        break
                    await asyncio.sleep(0.5)
            elapsed = time.monotonic() - t0
            done.set()
            await sampler
            buckets = _loop_lag_buckets(base)
            keepalives = gate.keepalives_sent
            reconnects = gate.connections - connections_before
        finally:
            await asyncio.to_thread(stop, daemon)
    print(f"import_state: {job['state']} {job['detail']}".rstrip())
    print(f"import_rows_loaded: {job['loaded']:,} of {rows:,} ({job['error_count']} rejected)")
    print(f"import_upload_s: {uploaded:.1f} s")
    print(f"import_total_s: {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s)")
    print(f"import_rss_baseline_mb: {baseline:.0f} MB")
    print(f"import_rss_growth_mb: {peak - baseline:.0f} MB (budget 150)")
    print(f"import_healthz_samples: {len(answers)}")
    print(f"import_healthz_p50_ms: {statistics.median(answers) * 1000:.1f} ms")
    print(f"import_healthz_p99_ms: {percentile(answers, 99) * 1000:.1f} ms (budget 100)")
    print(f"import_healthz_max_ms: {max(answers) * 1000:.1f} ms")
    total = buckets[-1][1] if buckets else 0.0
    over = total - next((n for le, n in buckets if le >= 0.1), total)
    print(f"import_loop_lag_probes_over_100ms: {over:.0f} of {total:.0f}")
    print(f"import_gate_keepalives_sent: {keepalives}")
    print(f"import_gate_reconnects: {reconnects} (0: every keepalive was answered in time)")
    return 0 if job["state"] == "done" else 1


async def _token(config: Path) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "daemon",
        "token",
        "create",
        "--role",
        "catalogue",
        "--name",
        "bench-import",
        "-c",
        str(config),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    return out.decode().strip()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench import_load")
    parser.add_argument("--mb", type=float, default=500.0, help="size of the CSV to import")
    args, _ = parser.parse_known_args(argv)
    with tempfile.TemporaryDirectory(prefix="archroom-import-") as tmp:
        return asyncio.run(_run(args, Path(tmp)))
