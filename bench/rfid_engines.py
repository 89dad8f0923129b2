"""Throughput of the shelf and gate engines, and the shelf engine's memory per tag.

The read pipeline's budget (docs/design.md §10) is 200,000 reads/s on one core from wire bytes
to state changes, so the engines alone must do well above that. The shelf engine also holds every
catalogued item from start-up (up to 1,000,000), so its memory per tag matters as much.

Shelf: a room of ``--tags`` items, 100 to a location, 16 antennas to a reader, every item
expected at its location; each antenna's round reads its own items (95 %) and now and then
(10 %) one of the next location's, then the round ends (``round_done``, which also runs the
missing scan). Reads carry no RSSI (serial shelf readers) unless ``--rssi``. Timed: the engine
calls only (``observe_many`` per round and ``round_done``), not building the reads.

Gate: ``--gate-tags`` tags each carried through one gate, staggered so that about sixty are at
the gate at any time, 60 reads each over 3 s (inside rising, both, outside falling), ``tick`` every
0.1 s of stream time as the daemon does.

Memory: ``tracemalloc`` around ``expect`` of ``--tags`` items (their EPC strings already exist,
as the daemon holds them anyway; the figure with the strings is given too), then after one sweep
has read every tag where it is.

Figures (``name: value unit``): ``shelf_engine``, ``gate_engine`` (reads/s),
``shelf_expect_load`` (s for all tags), ``shelf_memory_expected``, ``shelf_memory_tracked``,
``shelf_memory_with_epc`` (bytes per tag).
"""

from __future__ import annotations

import argparse
import gc
import random
import time
import tracemalloc
from collections.abc import Iterator

from drivers.tagread import TagRead
from rfid.gate import GateEngine
from rfid.shelf import ShelfEngine

PER_LOCATION = 100
ANTENNAS_PER_READER = 16
T0 = 1_732_600_000.0


def epc_of(i: int) -> str:
    return f"E28011700000020A{i:08X}"


def room(tags: int) -> tuple[dict[tuple[str, int], str], list[str], list[str]]:
    """(antenna -> location, location codes, EPCs): item i sits at location i // 100."""
    locations = [f"R{i // 40:03d}/A/{i % 40 // 8:02d}/{i % 8}" for i in range(tags // PER_LOCATION)]
    antennas = {
        (f"shelf-{i // ANTENNAS_PER_READER}", i % ANTENNAS_PER_READER + 1): code
        for i, code in enumerate(locations)
    }
    return antennas, locations, [epc_of(i) for i in range(len(locations) * PER_LOCATION)]


def rounds(
    antennas: dict[tuple[str, int], str], epcs: list[str], sweeps: int, rssi: bool, seed: int
) -> Iterator[tuple[str, int, list[TagRead], float]]:
    """Per antenna round: (reader, antenna, its reads, end time)."""
    rnd = random.Random(seed)
    keys = list(antennas)
    t = T0
    for _ in range(sweeps):
        for index, (reader, antenna) in enumerate(keys):
            own = epcs[index * PER_LOCATION : (index + 1) * PER_LOCATION]
            nxt = (index + 1) % len(keys)
            neighbours = epcs[nxt * PER_LOCATION : (nxt + 1) * PER_LOCATION]
            reads = [
                TagRead(reader, antenna, e, -45.0 if rssi else None, t + 0.001 * k)
                for k, e in enumerate(own)
                if rnd.random() < 0.95
            ]
            reads += [
                TagRead(reader, antenna, e, -63.0 if rssi else None, t + 0.15)
                for e in neighbours
                if rnd.random() < 0.1
            ]
            t += 0.2
            yield reader, antenna, reads, t


def bench_shelf(tags: int, sweeps: int, rssi: bool) -> float:
    antennas, locations, epcs = room(tags)
    homes = [c for c in locations for _ in range(PER_LOCATION)]
    started = time.perf_counter()
    engine = ShelfEngine(antennas)
    engine.expect_many(zip(epcs, homes, strict=True))
    print(f"shelf_expect_load: {time.perf_counter() - started:.2f} s for {len(epcs)} tags")
    total = 0
    elapsed = 0.0
    decisions = 0
    # One extra sweep first: the first round of each antenna only arms it.
    for reader, antenna, reads, t in rounds(antennas, epcs, sweeps + 1, rssi, seed=1):
        started = time.perf_counter()
        decisions += len(engine.observe_many(reads))
        decisions += len(engine.round_done(reader, antenna, t))
        elapsed += time.perf_counter() - started
        total += len(reads)
    print(f"shelf_decisions: {decisions} decisions")
    return total / elapsed


def gate_stream(tags: int, seed: int) -> list[TagRead]:
    rnd = random.Random(seed)
    reads: list[TagRead] = []
    for k in range(tags):
        start = T0 + k * 0.05  # a new tag every 0.05 s: 60 at the gate at once
        epc = epc_of(k)
        for i in range(60):
            t = start + i * 0.05
            if i < 25:
                antenna, rssi = 1, -70.0 + i
            elif i < 35:
                antenna, rssi = (1, -50.0 - (i - 25)) if i % 2 else (2, -60.0 + (i - 25))
            else:
                antenna, rssi = 2, -45.0 - (i - 35)
            reads.append(TagRead("gate-1", antenna, epc, rssi + rnd.gauss(0.0, 2.0), t))
    reads.sort(key=lambda r: r.t)
    return reads


def bench_gate(tags: int) -> float:
    reads = gate_stream(tags, seed=2)
    engine = GateEngine("door-1", 1, 2)
    passages = 0
    next_tick = reads[0].t
    started = time.perf_counter()
    for read in reads:
        if read.t >= next_tick:
            passages += len(engine.tick(read.t))
            next_tick = read.t + 0.1
        passages += len(engine.observe(read))
    passages += len(engine.tick(reads[-1].t + 10.0))
    elapsed = time.perf_counter() - started
    print(f"gate_passages: {passages} passages of {tags} crossings")
    return len(reads) / elapsed


def bench_memory(tags: int) -> None:
    antennas, locations, epcs = room(tags)
    homes = [c for c in locations for _ in range(PER_LOCATION)]
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    engine = ShelfEngine(antennas)
    engine.expect_many(zip(epcs, homes, strict=True))
    expected = tracemalloc.get_traced_memory()[0] - base
    for reader, antenna, reads, t in rounds(antennas, epcs, 1, False, seed=3):
        engine.observe_many(reads)
        engine.round_done(reader, antenna, t)
        del reads
    gc.collect()
    tracked = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    epc_bytes = sum(e.__sizeof__() for e in epcs[:1000]) / 1000
    n = len(epcs)
    print(f"shelf_memory_expected: {expected / n:.0f} bytes/tag")
    print(f"shelf_memory_tracked: {tracked / n:.0f} bytes/tag")
    print(f"shelf_memory_with_epc: {tracked / n + epc_bytes:.0f} bytes/tag")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench.rfid_engines", description=__doc__)
    parser.add_argument("--tags", type=int, default=1_000_000, help="items in the room")
    parser.add_argument("--sweeps", type=int, default=2, help="timed sweeps of the room")
    parser.add_argument("--gate-tags", type=int, default=20_000, help="tags crossing the gate")
    parser.add_argument("--rssi", action="store_true", help="shelf reads carry RSSI")
    args = parser.parse_args(argv)

    shelf = bench_shelf(args.tags, args.sweeps, args.rssi)
    print(f"shelf_engine: {shelf:.0f} reads/s")
    gate = bench_gate(args.gate_tags)
    print(f"gate_engine: {gate:.0f} reads/s")
    bench_memory(args.tags)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
