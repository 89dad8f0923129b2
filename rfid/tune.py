"""Site tuning of the gate engine: its parameters searched on a site's own labelled walks.

Every door is different, so the defaults are a starting point. At commissioning, staff walk
tagged boxes through the door and past it (``docs/rfid-tuning.md``: 20 crossings each way, 10
turn-backs, 10 walk-pasts), record them with ``archroom capture`` and label each tag. This
module replays the captures with many parameter sets and keeps the one with the fewest
errors (crossings not exactly one passage the right way, plus non-crossings with a passage),
each class of walk weighing the same.

A parameter set that fits the walks it was chosen on may not fit the next ones, so the
scorecard reported is **cross-validated**: the tags are split into folds, each fold is scored
with the parameters chosen on the others, and the folds' outcomes are added up. That is the
figure to expect at the door; the parameters printed are those chosen on all the walks.

The search is seeded (the same captures give the same result): the defaults first, then random
draws from ``SPACE``, then a round of single-parameter moves around the best.
"""

from __future__ import annotations

import random
import sys
import zlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from drivers.tagread import TagRead
from rfid.config import GateParams
from rfid.replay import ReplayError, _Parser, read_capture, replay_gate
from rfid.rssi import RSSI_UNITS
from rfid.scorecard import LabelError, Labelled, Scorecard, read_labels, score

SPACE: dict[str, tuple[float, ...]] = {
    "edge_share": (0.2, 0.25, 0.33, 0.4, 0.5),
    "margin_db": (3.0, 4.0, 6.0, 8.0, 10.0, 12.0, 15.0),
    "late_margin_db": (0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0),
    "min_side_reads": (1, 2, 3, 5),
    "dwell_s": (0.0, 0.25, 0.5, 1.0, 2.0),
    "late_share": (0.0, 0.05, 0.1, 0.15, 0.2),
    "confirm_s": (1.0, 1.5, 2.0, 3.0, 4.0),
    "conclusive_db": (10.0, 15.0, 20.0, 25.0, 30.0, 40.0),
    "linger_s": (3.0, 5.0, 8.0, 0.0),
    "linger_margin_db": (0.0, 5.0, 10.0, 15.0),
    "standing_s": (10.0, 15.0, 20.0, 0.0),
    "sparse_share": (0.0, 0.1, 0.25, 0.4),
    "smoothing_s": (0.5, 0.75, 1.0, 1.5, 2.0),
    "exit_silence_s": (1.0, 1.5, 2.0, 3.0, 4.0, 5.0),
    "rssi_doubling": (2.0, 3.0, 4.0, 6.0, 10.0),
}
"""Values tried per parameter; the cool-down is a policy, not tuned."""


@dataclass(frozen=True)
class Capture:
    """A labelled recording of one gate."""

    name: str
    reads: Sequence[TagRead]
    labels: Mapping[str, str]
    classes: Mapping[str, str] | None = None


@dataclass(frozen=True)
class TuneResult:
    params: GateParams
    """Chosen on all the tags."""
    scorecard: Scorecard
    """Of ``params`` on all the tags (optimistic: they were chosen on them)."""
    cross_validated: Scorecard
    """Each fold scored with the parameters chosen on the other folds."""
    candidates: int


def evaluate(
    captures: Sequence[Capture],
    params: GateParams,
    inside: int,
    outside: int,
    rssi_unit: str = "dbm",
) -> Scorecard:
    """The scorecard of one parameter set over all the captures."""
    card = Scorecard()
    for capture in captures:
        passages = replay_gate(capture.reads, inside, outside, params, rssi_unit=rssi_unit)
        card.extend(score(capture.labels, passages, capture.classes))
    return card


def _good(tag: Labelled) -> bool:
    return tag.outcome in ("right", "clean")


def _candidates(base: GateParams, rng: random.Random, draws: int) -> list[dict[str, Any]]:
    first = base.model_dump()
    out = [first]
    names = sorted(SPACE)
    for _ in range(draws):
        out.append({**first, **{name: rng.choice(SPACE[name]) for name in names}})
    return out


def _fold(capture: int, epc: str, folds: int) -> int:
    return zlib.crc32(f"{capture}:{epc}".encode()) % folds


def tune(
    captures: Sequence[Capture],
    inside: int,
    outside: int,
    *,
    base: GateParams | None = None,
    draws: int = 60,
    folds: int = 5,
    seed: int = 1,
    rssi_unit: str = "dbm",
    progress: Callable[[int, int], None] | None = None,
) -> TuneResult:
    """Search the parameters on labelled captures; see the module docstring."""
    if not captures:
        raise ValueError("no captures to tune on")
    rng = random.Random(seed)
    base = base or GateParams()
    tried: list[dict[str, Any]] = []
    outcomes: list[list[bool]] = []
    cards: list[Scorecard] = []

    weights: list[float] = []

    def cost(good: list[bool], among: Sequence[int]) -> float:
        return sum(weights[i] for i in among if not good[i])

    def run(candidate: dict[str, Any]) -> None:
        card = evaluate(captures, GateParams(**candidate), inside, outside, rssi_unit)
        tried.append(candidate)
        cards.append(card)
        outcomes.append([_good(t) for t in card.tags])
        if progress:
            progress(len(tried), draws + 1)

    candidates = _candidates(base, rng, draws)
    run(candidates[0])
    # Every class weighs the same: twenty boxes on a cart do not outvote a turn-back.
    sizes = Counter(t.cls for t in cards[0].tags)
    weights.extend(1.0 / sizes[t.cls] for t in cards[0].tags)
    everyone = range(len(weights))
    for candidate in candidates[1:]:
        run(candidate)
    best = min(range(len(tried)), key=lambda i: (cost(outcomes[i], everyone), i))
    # One round of single-parameter moves around the best.
    for name in sorted(SPACE):
        for value in SPACE[name]:
            if value != tried[best][name]:
                run({**tried[best], name: value})
    keys = [(ci, epc) for ci, c in enumerate(captures) for epc in c.labels]
    fold_of = [_fold(ci, epc, folds) for ci, epc in keys]
    cv = Scorecard()
    for fold in range(folds):
        train = [i for i, f in enumerate(fold_of) if f != fold]
        test = [i for i, f in enumerate(fold_of) if f == fold]
        if not test:
            continue
        chosen = min(range(len(tried)), key=lambda c: (cost(outcomes[c], train), c))
        for i in test:
            cv.add(cards[chosen].tags[i])
    final = min(range(len(tried)), key=lambda i: (cost(outcomes[i], everyone), i))
    return TuneResult(GateParams(**tried[final]), cards[final], cv, len(tried))


def params_block(params: GateParams, gate: str = "door-1") -> str:
    """The parameters as the gate's table of the configuration (TOML)."""
    lines = ["[[gates]]", f'id = "{gate}"', "# reader, inside_antenna, outside_antenna: as before"]
    for name, value in params.model_dump().items():
        lines.append(f"{name} = {value!r}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str], *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """``archroom gate tune CAPTURES... --labels FILE``; returns the exit status (0 done, 2 bad
    arguments or files)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = _Parser(
        prog="archroom gate",
        add_help=False,
        description="Search the gate engine's parameters on labelled captures of a site's own "
        "walks; print the parameter block for the configuration and its cross-validated "
        "scorecard.",
    )
    parser.add_argument("-h", "--help", action="store_true", help="show this help and exit")
    parser.add_argument("action", choices=["tune"], help="tune: search the parameters")
    parser.add_argument("captures", nargs="+", metavar="CAPTURE", help="capture CSV files")
    parser.add_argument("--labels", required=True, metavar="FILE", help="epc,label per line")
    parser.add_argument("--inside-antenna", type=int, required=True, metavar="N")
    parser.add_argument("--outside-antenna", type=int, required=True, metavar="M")
    parser.add_argument("--rssi-unit", choices=RSSI_UNITS, default="dbm")
    parser.add_argument("--gate", default="door-1", help="gate id for the printed block")
    parser.add_argument("--draws", type=int, default=60, help="random parameter sets tried")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.arguments(argv, out, err)
    if isinstance(args, int):
        return args
    if args.inside_antenna == args.outside_antenna:
        err.write("archroom gate tune: --inside-antenna and --outside-antenna must differ\n")
        return 2
    if args.draws < 0 or args.folds < 2:
        err.write("archroom gate tune: --draws must be >= 0 and --folds >= 2\n")
        return 2
    captures: list[Capture] = []
    try:
        labels = read_labels(args.labels)
        for path in args.captures:
            reads = read_capture(path)
            seen = {r.epc for r in reads}
            # Each capture is scored on the labelled tags it holds.
            mine = {epc: label for epc, label in labels.items() if epc in seen}
            captures.append(Capture(path, reads, mine))
    except (ReplayError, LabelError) as e:
        err.write(f"archroom gate tune: {e}\n")
        return 2
    if not any(c.labels for c in captures):
        err.write("archroom gate tune: no labelled tag is read in the captures\n")
        return 2
    result = tune(
        captures,
        args.inside_antenna,
        args.outside_antenna,
        draws=args.draws,
        folds=args.folds,
        seed=args.seed,
        rssi_unit=args.rssi_unit,
    )
    out.write(f"# chosen among {result.candidates} parameter sets\n")
    out.write(params_block(result.params, args.gate))
    out.write(f"\n# cross-validated scorecard ({args.folds} folds):\n")
    out.write("".join(f"# {line}\n" for line in result.cross_validated.format().splitlines()))
    return 0
