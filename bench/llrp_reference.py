"""Reference throughput of the LLRP path: RO_ACCESS_REPORT bytes -> llrpkit TagReports -> presence.

The project's own serial-reader pipeline is compared against this figure: what a typed, pure-Python
LLRP stack (``llrpkit``'s decoder, its ``TagReport`` flattening and its ``PresenceTracker``) does
per core. The reports are encoded with ``llrpkit``'s own encoder, shaped like an Impinj reader's
with the Octane extensions on (EPC-96, antenna, peak RSSI, channel, first/last seen, seen count,
sub-dBm peak RSSI), 50 tags per report by default, over a population of a few hundred tags.

Measured: complete frames in memory, one core, no TCP and no stream reassembly (those add a copy
per frame); the presence tracker's ``check()`` runs once per report. Rates are reads per CPU-second
of the benchmark process (median of ``--repeat`` runs). Figures (``name: value unit``):

- ``llrp_decode``: ``decode_message`` alone, reads per second;
- ``llrp_reference``: decode + ``TagReport.from_param`` + ``PresenceTracker.observe`` (the figure);
- ``llrp_service_convert``: decode + this project's ``drivers.llrp.convert_report`` to ``TagRead``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

from llrpkit import PresenceTracker, TagReport
from llrpkit.protocol import decode_message, impinj, messages, params

from bench._rig import cpu_seconds
from drivers.llrp import ReaderClock, convert_report


def build_frames(reads: int, per_report: int, population: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    epcs = [bytes.fromhex("E28011700000020A") + i.to_bytes(4, "big") for i in range(population)]
    now_us = int(time.time() * 1_000_000)
    frames: list[bytes] = []
    made = 0
    while made < reads:
        count = min(per_report, reads - made)
        trds = []
        for _ in range(count):
            rssi = rng.uniform(-75.0, -40.0)
            now_us += rng.randint(50, 500)
            trds.append(
                params.TagReportData(
                    epc_parameter=params.EPC_96(epc=rng.choice(epcs)),
                    antenna_id=params.AntennaID(antenna_id=rng.randint(1, 2)),
                    peak_rssi=params.PeakRSSI(peak_rssi=round(rssi)),
                    channel_index=params.ChannelIndex(channel_index=rng.randint(1, 50)),
                    first_seen_timestamp_utc=params.FirstSeenTimestampUTC(microseconds=now_us),
                    last_seen_timestamp_utc=params.LastSeenTimestampUTC(microseconds=now_us),
                    tag_seen_count=params.TagSeenCount(tag_count=1),
                    custom=[impinj.ImpinjPeakRSSI(rssi=round(rssi * 100))],
                )
            )
        frames.append(
            messages.RO_ACCESS_REPORT(tag_report_datas=trds).to_bytes(message_id=len(frames) + 1)
        )
        made += count
    return frames


def decode_only(frames: list[bytes]) -> int:
    reads = 0
    for frame in frames:
        message = decode_message(frame)
        assert isinstance(message, messages.RO_ACCESS_REPORT)
        reads += len(message.tag_report_datas)
    return reads


def reference(frames: list[bytes]) -> int:
    tracker = PresenceTracker(depart_after=2.0)
    reads = 0
    for frame in frames:
        message = decode_message(frame)
        assert isinstance(message, messages.RO_ACCESS_REPORT)
        for trd in message.tag_report_datas:
            tracker.observe(TagReport.from_param(trd))
            reads += 1
        tracker.check()
    return reads


def service_convert(frames: list[bytes]) -> int:
    clock = ReaderClock()
    reads = 0
    for frame in frames:
        message = decode_message(frame)
        assert isinstance(message, messages.RO_ACCESS_REPORT)
        converted, _ = convert_report("gate-1", message, time.time(), clock)
        reads += len(converted)
    return reads


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench.llrp_reference", description=__doc__)
    parser.add_argument("--reads", type=int, default=50_000)
    parser.add_argument("--tags-per-report", type=int, default=50)
    parser.add_argument("--population", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    frames = build_frames(args.reads, args.tags_per_report, args.population, args.seed)
    print(f"llrp_reads: {args.reads} reads")
    print(f"llrp_tags_per_report: {args.tags_per_report} reads")
    print(f"llrp_report_size: {sum(map(len, frames)) / len(frames):.0f} bytes")
    runs = (
        ("llrp_decode", decode_only),
        ("llrp_reference", reference),
        ("llrp_service_convert", service_convert),
    )
    for name, run in runs:
        print(f"{name}: {args.reads / cpu_seconds(run, frames, args.repeat):.0f} reads/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
