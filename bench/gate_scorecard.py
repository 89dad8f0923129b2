"""The gate engine's scorecard in the physical gate model (``simulators.gate_model``).

Every scenario class of the model (fast and ordinary crossings each way, carts of 20 boxes,
two people crossing opposite ways, turn-backs, walk-pasts on either side, a box parked by the
door, a person standing in the doorway) is played ``--per-class`` times with its own seed, and
the reads are replayed through the engine with the default parameters (or ``--param NAME=V``),
ticking as the daemon does.

Figures (``name: value unit``): ``crossings_right`` and ``non_crossings_with_passage`` (%),
``fast_crossings_right`` (2 m/s, half a second through the metre around the door plane) and
``cart_boxes_right`` (%), then the scorecard per class.

    python -m bench gate_scorecard -- [--per-class 20] [--parked-s 3600] [--seed 1]
"""

from __future__ import annotations

import argparse
import time

from rfid.config import GateParams
from rfid.replay import replay_gate
from rfid.scorecard import Scorecard, score
from simulators.gate_model import SCENARIO_CLASSES, suite


def _percent(part: Scorecard, classes: tuple[str, ...]) -> str:
    tags = [t for t in part.tags if t.cls in classes]
    good = sum(1 for t in tags if t.outcome in ("right", "clean"))
    return f"{100.0 * good / len(tags):.1f} % of {len(tags)}" if tags else "n/a"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench.gate_scorecard", description=__doc__)
    parser.add_argument("--per-class", type=int, default=20, help="scenarios per class")
    parser.add_argument("--parked-s", type=float, default=3600.0, help="parked box: seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--classes", default=",".join(SCENARIO_CLASSES))
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.param:
        name, _, value = item.partition("=")
        overrides[name.strip()] = float(value)
    params = GateParams(**overrides)
    classes = tuple(c for c in args.classes.split(",") if c)
    card = Scorecard()
    reads = 0
    started = time.perf_counter()
    for recording in suite(args.per_class, args.seed, classes=classes, parked_s=args.parked_s):
        reads += len(recording.reads)
        passages = replay_gate(recording.reads, 1, 2, params)
        card.extend(score(recording.labels, passages, recording.classes))
    elapsed = time.perf_counter() - started
    print(f"model_reads: {reads} reads ({elapsed:.1f} s to simulate and replay)")
    print(f"crossings_right: {100.0 * card.right_rate:.1f} %")
    print(f"non_crossings_with_passage: {100.0 * card.false_rate:.1f} %")
    print(f"fast_crossings_right: {_percent(card, ('fast_in', 'fast_out'))}")
    print(f"cart_boxes_right: {_percent(card, ('cart_in', 'cart_out'))}")
    print(card.format(), end="")
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
