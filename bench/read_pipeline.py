"""The read pipeline (docs/design.md §10): wire bytes -> frames -> reads -> engines -> changes.

Shelf and gate readers of the UHFReader18 family (288 dialect: antenna byte and RSSI) send
inventory frames; this benchmark feeds those bytes, cut into serial-sized chunks, through the
same path the daemon runs: ``ResponseDecoder.feed`` -> ``parse_inventory`` -> ``TagRead`` ->
``RoomReaders.reads`` (the daemon's read sink: per-reader counter, shelf engine for shelf
readers, gate engine for gate readers; decisions are queued for the recorder, which is not
run here). The shelf population is expected where it is read, with a few tags moving and a
few strangers, so decisions do happen but reads dominate, as in a room.

In the same run, as the reference, llrpkit handles the same number of reads: RO_ACCESS_REPORT
bytes decoded into ``TagReport``s and fed to its ``PresenceTracker``.

Figures are reads per CPU-second of this process (one core), median of ``--repeat`` runs:
``read_pipeline_reads_per_s``, ``llrpkit_reference_reads_per_s`` and their ratio.

    python -m bench read_pipeline -- [--rounds 20000]
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench import llrp_reference
from bench._rig import cpu_seconds
from daemon.audit import AuditChain
from daemon.bus import Bus
from daemon.config import load_config
from daemon.health import Health
from daemon.ledger.alarms import Alarms
from daemon.ledger.locations import Locations
from daemon.ledger.passages import Passages
from daemon.ledger.uow import Ledger
from daemon.metrics import Metrics
from daemon.mqtt import FastLane, RetainedState
from daemon.outbox import Outbox
from daemon.spool import DatabaseGuard, Spool
from daemon.store.db import Store
from daemon.supervisor import Supervisor
from drivers.tagread import TagRead
from drivers.uhfreader18 import ResponseDecoder, Variant, encode_inventory_frames, parse_inventory
from rfid.service.readers import RoomReaders

VARIANT = Variant.UHFREADER288
READERS = 20
ANTENNAS = 4
PER_ANTENNA = 50  # tags in each antenna's field: 20 x 4 x 50 = 4,000 tagged boxes
POPULATION = READERS * ANTENNAS * PER_ANTENNA


def _epc(i: int) -> bytes:
    return bytes.fromhex("E28011700000020A") + i.to_bytes(4, "big")


def _code(reader: int, antenna: int) -> str:
    return f"bench-R{reader:02d}-{antenna}"


def _home(i: int) -> tuple[int, int]:
    """(reader, antenna) whose field holds tag ``i``."""
    slot = i // PER_ANTENNA
    return slot // ANTENNAS, 1 + slot % ANTENNAS


def build_streams(rounds: int, seed: int) -> tuple[dict[str, list[bytes]], int]:
    """Per reader: the chunks of ``rounds`` inventory rounds in total; and the read count.

    Each round reads each tag in the antenna's field with probability 0.95; in the second
    half, every 500th tag has been put on the next shelf (a move, then a misplacement); one
    round in 200 hears a stranger, and every 50th round the gate hears a few tags walk past.
    """
    rng = random.Random(seed)
    streams: dict[str, list[bytes]] = {f"shelf-{r:02d}": [] for r in range(READERS)}
    streams["gate-1"] = []
    reads = 0
    for n in range(rounds):
        reader, antenna = (n // ANTENNAS) % READERS, 1 + n % ANTENNAS
        first = (reader * ANTENNAS + antenna - 1) * PER_ANTENNA
        here = list(range(first, first + PER_ANTENNA))
        if n >= rounds // 2:
            previous = first - PER_ANTENNA if antenna > 1 else first + (ANTENNAS - 1) * PER_ANTENNA
            here = [i for i in here if i % 500] + [
                i for i in range(previous, previous + PER_ANTENNA) if i % 500 == 0
            ]
        seen = [(_epc(i), rng.randrange(90, 130)) for i in here if rng.random() < 0.95]
        if rng.random() < 0.005:
            seen.append((_epc(POPULATION + rng.randrange(100)), 70))
        streams[f"shelf-{reader:02d}"] += encode_inventory_frames(0, VARIANT, antenna, seen)
        reads += len(seen)
        if n % 50 == 0:
            walkers = [(_epc(rng.randrange(POPULATION)), rng.randrange(60, 130)) for _ in range(3)]
            streams["gate-1"] += encode_inventory_frames(0, VARIANT, 1 + (n // 50) % 2, walkers)
            reads += len(walkers)
    return {r: _chunk(b"".join(frames), rng) for r, frames in streams.items()}, reads


def _chunk(stream: bytes, rng: random.Random) -> list[bytes]:
    chunks, pos = [], 0
    while pos < len(stream):
        size = rng.randrange(16, 1025)
        chunks.append(stream[pos : pos + size])
        pos += size
    return chunks


def _config_text(tmp: str) -> str:
    lines = ['room = "bench"', f'state_dir = "{tmp}"']
    for r in range(READERS):
        antennas = ", ".join(f'{a} = "{_code(r, a)}"' for a in range(1, ANTENNAS + 1))
        lines += [
            "[[readers]]",
            'type = "uhfreader18"',
            f'id = "shelf-{r:02d}"',
            'url = "/dev/null"',
            f"antennas = {{ {antennas} }}",
        ]
    lines += [
        "[[readers]]",
        'type = "uhfreader18"',
        'id = "gate-1"',
        'url = "/dev/null"',
        'role = "gate"',
    ]
    lines += [
        "[[gates]]",
        'id = "door"',
        'reader = "gate-1"',
        "inside_antenna = 1",
        "outside_antenna = 2",
    ]
    return "\n".join(lines) + "\n"


def make_sink(tmp: str) -> RoomReaders:
    path = Path(tmp) / "archroom.toml"
    path.write_text(_config_text(tmp))
    config = load_config(path)
    # The store is never opened: decisions are queued for the recorder, which does not run here.
    store = Store.connect(f"sqlite+aiosqlite:///{tmp}/unused.db")
    metrics = Metrics()
    outbox = Outbox(store, site="b", room="bench")
    ledger = Ledger(store, AuditChain("bench"), outbox, Bus())
    locations = Locations(store)
    alarms = Alarms(ledger, metrics)
    sink = RoomReaders(
        config,
        ledger=ledger,
        locations=locations,
        alarms=alarms,
        passages=Passages(ledger, locations, alarms, metrics),
        metrics=metrics,
        retained=RetainedState(outbox),
        supervisor=Supervisor(metrics),
        guard=DatabaseGuard(store, Spool(Path(tmp) / "spool.jsonl"), Health()),
        fastlane=FastLane(site="b", room="bench"),
    )
    sink.shelf.expect_many((_epc(i).hex().upper(), _code(*_home(i))) for i in range(POPULATION))
    return sink


def pipeline(sink: RoomReaders, streams: dict[str, list[bytes]]) -> int:
    """Each reader's bytes through its own decoder, as each poller does."""
    reads = 0
    for reader, chunks in streams.items():
        decoder = ResponseDecoder(0)
        shelf = reader != "gate-1"
        for chunk in chunks:
            for response in decoder.feed(chunk):
                frame = parse_inventory(response, VARIANT)
                t = time.time()
                antenna = frame.antenna or 1
                batch = [
                    TagRead(reader, antenna, epc, float(rssi), t)
                    for epc, rssi in zip(frame.epcs, frame.rssi or (), strict=True)
                ]
                sink.reads(batch)
                if shelf and frame.round_complete:
                    sink.round_done(reader, antenna, t)
                reads += len(batch)
    return reads


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench read_pipeline")
    parser.add_argument("--rounds", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args, _ = parser.parse_known_args(argv)
    logging.getLogger("drivers.uhfreader18").setLevel(logging.ERROR)
    streams, total = build_streams(args.rounds, seed=1)
    rates = []
    decisions = 0
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            sink = make_sink(tmp)
            began = time.process_time()
            reads = pipeline(sink, streams)
            rates.append(reads / (time.process_time() - began))
            decisions = sink._queue.qsize()
    ours = statistics.median(rates)
    frames = llrp_reference.build_frames(total, 50, POPULATION, seed=1)
    reference = total / cpu_seconds(llrp_reference.reference, frames, args.repeat)
    print(f"read_pipeline_reads: {total} reads ({decisions} decisions queued per run)")
    print(f"read_pipeline_reads_per_s: {ours:,.0f} reads/s")
    print(f"llrpkit_reference_reads_per_s: {reference:,.0f} reads/s")
    print(f"read_pipeline_vs_llrpkit_ratio: {ours / reference:.1f} x")
    return 0
