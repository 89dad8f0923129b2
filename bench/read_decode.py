"""Throughput of the serial-reader read path: wire bytes -> frames -> inventory -> ``TagRead``.

The read pipeline budget (docs/design.md §10) is 200,000 reads/s on one core for decoding *and* the
engines together, so decoding should take a small part of it. The stream is what a shelf of
UHFReader288-dialect readers sends: inventory rounds over four antennas, ``--tags`` tags per
round (96-bit EPCs and RSSI; rounds larger than a frame split into several frames), cut into
chunks of 16..1024 bytes as serial and TCP reads deliver them. ``--noise`` splices a few bytes
of garbage before that fraction of frames (the decoder then resynchronises).

Rates are reads (or frames) per CPU-second of this process, median of ``--repeat`` runs.
Figures (``name: value unit``):

- ``uhf_decode``: ``ResponseDecoder.feed`` alone (framing and CRC), reads per second;
- ``uhf_read_decode``: feed + ``parse_inventory`` + one ``TagRead`` per tag (the figure);
- ``uhf_read_decode_noisy``: the same with garbage spliced in;
- ``uhf_frame_parse``: microseconds per frame for framing, CRC and the tag list (no TagRead);
- ``uhf_frame_decode``: microseconds per frame for the full path.

Run: ``.venv/bin/python -m bench.read_decode``.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time

from bench._rig import cpu_seconds
from drivers.tagread import TagRead
from drivers.uhfreader18 import (
    ResponseDecoder,
    Variant,
    encode_inventory_frames,
    parse_inventory,
)

VARIANT = Variant.UHFREADER288


def build_stream(rounds: int, tags: int, noise: float, seed: int) -> tuple[list[bytes], int, int]:
    """(chunks, reads, frames) of ``rounds`` inventory rounds of ``tags`` tags each."""
    rng = random.Random(seed)
    population = [bytes.fromhex("E28011700000020A") + i.to_bytes(4, "big") for i in range(4000)]
    parts: list[bytes] = []
    frames = 0
    for n in range(rounds):
        seen = [(epc, rng.randrange(60, 130)) for epc in rng.sample(population, tags)]
        for frame in encode_inventory_frames(0, VARIANT, 1 + n % 4, seen):
            if noise and rng.random() < noise:
                parts.append(rng.randbytes(rng.randrange(1, 8)))
            parts.append(frame)
            frames += 1
    stream = b"".join(parts)
    chunks: list[bytes] = []
    pos = 0
    while pos < len(stream):
        size = rng.randrange(16, 1025)
        chunks.append(stream[pos : pos + size])
        pos += size
    return chunks, rounds * tags, frames


def decode_only(chunks: list[bytes]) -> int:
    decoder = ResponseDecoder(0)
    frames = 0
    for chunk in chunks:
        frames += len(decoder.feed(chunk))
    return frames


def frame_parse(chunks: list[bytes]) -> int:
    decoder = ResponseDecoder(0)
    frames = 0
    for chunk in chunks:
        for response in decoder.feed(chunk):
            parse_inventory(response, VARIANT)
            frames += 1
    return frames


def read_decode(chunks: list[bytes]) -> int:
    decoder = ResponseDecoder(0)
    reads = 0
    t = time.time()
    for chunk in chunks:
        for response in decoder.feed(chunk):
            frame = parse_inventory(response, VARIANT)
            antenna = frame.antenna or 1
            rssi = frame.rssi or ()
            batch = [
                TagRead("shelf-1", antenna, epc, float(r), t)
                for epc, r in zip(frame.epcs, rssi, strict=True)
            ]
            reads += len(batch)
    decoder.flush()
    return reads


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench.read_decode", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10_000, help="inventory rounds")
    parser.add_argument("--tags", type=int, default=20, help="tags per round")
    parser.add_argument("--noise", type=float, default=0.05, help="garbage before this share")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    logging.getLogger("drivers.uhfreader18").setLevel(logging.ERROR)  # resync notices
    chunks, reads, frames = build_stream(args.rounds, args.tags, 0.0, args.seed)
    noisy, noisy_reads, _ = build_stream(args.rounds, args.tags, args.noise, args.seed)
    if read_decode(chunks) != reads or read_decode(noisy) != noisy_reads:
        print("error: decoded reads do not match the stream", file=sys.stderr)
        return 1
    decode_s = cpu_seconds(decode_only, chunks, args.repeat)
    parse_s = cpu_seconds(frame_parse, chunks, args.repeat)
    full_s = cpu_seconds(read_decode, chunks, args.repeat)
    noisy_s = cpu_seconds(read_decode, noisy, args.repeat)
    print(f"uhf_reads: {reads} reads")
    print(f"uhf_tags_per_round: {args.tags} reads")
    print(f"uhf_frames: {frames} frames")
    print(f"uhf_stream_size: {sum(map(len, chunks))} bytes")
    print(f"uhf_decode: {reads / decode_s:.0f} reads/s")
    print(f"uhf_read_decode: {reads / full_s:.0f} reads/s")
    print(f"uhf_read_decode_noisy: {noisy_reads / noisy_s:.0f} reads/s")
    print(f"uhf_frame_parse: {parse_s / frames * 1e6:.2f} us")
    print(f"uhf_frame_decode: {full_s / frames * 1e6:.2f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
