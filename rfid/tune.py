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
import zlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drivers.tagread import TagRead
from rfid.config import GateParams
from rfid.replay import replay_gate
from rfid.scorecard import Labelled, Scorecard, score

SPACE: dict[str, tuple[float, ...]] = {
    "edge_share": (0.2, 0.25, 0.33, 0.4, 0.5),
    "margin_db": (3.0, 4.0, 6.0, 8.0, 10.0, 12.0, 15.0),
    "late_margin_db": (0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0),
    "min_side_reads": (1, 2, 3, 5),
    "confirm_s": (1.0, 1.5, 2.0, 3.0, 4.0),
    "conclusive_db": (10.0, 15.0, 20.0, 25.0, 30.0, 40.0),
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
