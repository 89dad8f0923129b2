"""How well gate passages match what was walked: the scorecard of a labelled recording.

A gate is commissioned by walking known tags through it and past it, then comparing what the
engine found with what was done. Each tag of a recording has one label: ``in`` or ``out`` for a
tag carried through once that way, anything else (``turn_back``, ``walk_past``, ``static``,
``standing``...) for a tag that came close and did not go through. The scorecard counts, per
label class:

- for crossings: *right* (exactly one passage, the right way), *wrong way* (one passage, the
  other way), *several* (two or more passages) and *none*;
- for the others: the tags with *any* passage (each one a false passage; an "out" among them
  is a false alarm at the door).

The two figures that matter are the share of crossings that are right and the share of
non-crossings with any passage.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rfid.gate import Passage

CROSSINGS = ("in", "out")


class LabelError(Exception):
    """A labels file cannot be read; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Labelled:
    """One tag of a recording: what was done with it and what the engine found."""

    epc: str
    label: str
    """``in``/``out`` (crossings) or the kind of non-crossing."""
    cls: str
    """Class it is reported under (the label, or a finer scenario name)."""
    directions: tuple[str, ...]
    """Directions of the passages found for it, in order."""

    @property
    def crossing(self) -> bool:
        return self.label in CROSSINGS

    @property
    def outcome(self) -> str:
        """right | wrong_way | several | none (crossings); clean | false (the others)."""
        n = len(self.directions)
        if not self.crossing:
            return "clean" if n == 0 else "false"
        if n == 0:
            return "none"
        if n > 1:
            return "several"
        return "right" if self.directions[0] == self.label else "wrong_way"


@dataclass
class Scorecard:
    """Outcomes of labelled tags, per class."""

    tags: list[Labelled] = field(default_factory=list)

    def add(self, tag: Labelled) -> None:
        self.tags.append(tag)

    def extend(self, other: Scorecard) -> None:
        self.tags.extend(other.tags)

    @property
    def crossings(self) -> int:
        return sum(1 for t in self.tags if t.crossing)

    @property
    def crossings_right(self) -> int:
        return sum(1 for t in self.tags if t.crossing and t.outcome == "right")

    @property
    def non_crossings(self) -> int:
        return sum(1 for t in self.tags if not t.crossing)

    @property
    def false_passages(self) -> int:
        """Non-crossing tags with any passage."""
        return sum(1 for t in self.tags if not t.crossing and t.directions)

    @property
    def right_rate(self) -> float:
        return self.crossings_right / self.crossings if self.crossings else math.nan

    @property
    def false_rate(self) -> float:
        return self.false_passages / self.non_crossings if self.non_crossings else math.nan

    @property
    def errors(self) -> int:
        """Crossings not right plus non-crossings with a passage: what tuning minimises."""
        return (self.crossings - self.crossings_right) + self.false_passages

    def rate(self, cls: str) -> float:
        """Share of a class's tags with the good outcome (right, or clean)."""
        mine = [t for t in self.tags if t.cls == cls]
        good = sum(1 for t in mine if t.outcome in ("right", "clean"))
        return good / len(mine) if mine else math.nan

    def format(self) -> str:
        """The scorecard as a small text table, one line per class, then the totals."""
        by_class: dict[str, Counter[str]] = defaultdict(Counter)
        for t in self.tags:
            by_class[t.cls][t.outcome] += 1
        lines = [
            f"{'class':<18} {'tags':>5}  outcome",
        ]
        for cls in sorted(by_class):
            counts = by_class[cls]
            total = sum(counts.values())
            order = ("right", "wrong_way", "several", "none", "clean", "false")
            detail = ", ".join(f"{counts[k]} {k}" for k in order if counts[k])
            lines.append(f"{cls:<18} {total:>5}  {detail}")
        lines.append(
            f"crossings right: {self.crossings_right}/{self.crossings}"
            f" ({_percent(self.right_rate)})"
        )
        lines.append(
            f"non-crossings with a passage: {self.false_passages}/{self.non_crossings}"
            f" ({_percent(self.false_rate)})"
        )
        return "\n".join(lines) + "\n"


def _percent(rate: float) -> str:
    return "n/a" if math.isnan(rate) else f"{100.0 * rate:.1f} %"


def score(
    labels: Mapping[str, str],
    passages: Iterable[Passage],
    classes: Mapping[str, str] | None = None,
) -> Scorecard:
    """The scorecard of the labelled tags (passages of unlabelled tags are ignored)."""
    found: dict[str, list[str]] = defaultdict(list)
    for p in sorted(passages, key=lambda p: p.at):
        found[p.epc].append(p.direction)
    card = Scorecard()
    for epc, label in labels.items():
        cls = (classes or {}).get(epc, label)
        card.add(Labelled(epc, label, cls, tuple(found.get(epc, ()))))
    return card


def parse_labels(lines: Iterable[str], name: str = "<labels>") -> dict[str, str]:
    """``epc,label`` per line (blank lines and ``#`` comments skipped; an optional header
    ``epc,label``); EPCs upper-cased. LabelError (``name:line: why``) on a bad line."""
    labels: dict[str, str] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise LabelError(f"{name}:{number}: expected 'epc,label', found {line!r}")
        epc, label = parts[0].upper(), parts[1].lower()
        if number == 1 and (epc, label) == ("EPC", "label"):
            continue
        try:
            bytes.fromhex(epc if len(epc) % 2 == 0 else "0" + epc)
        except ValueError:
            raise LabelError(f"{name}:{number}: EPC {parts[0]!r} is not hexadecimal") from None
        if labels.get(epc, label) != label:
            raise LabelError(f"{name}:{number}: EPC {epc} has two labels")
        labels[epc] = label
    if not labels:
        raise LabelError(f"{name}: no labels")
    return labels


def read_labels(path: str | Path) -> dict[str, str]:
    """The labels of a file; LabelError if it cannot be read or parsed."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            return parse_labels(f, str(path))
    except OSError as e:
        raise LabelError(f"{path}: cannot read: {e.strerror}") from None
    except UnicodeDecodeError:
        raise LabelError(f"{path}: not UTF-8 text") from None
