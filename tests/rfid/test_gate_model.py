"""The physical gate model, and the gate engine's scorecard on its labelled scenarios.

The scenarios are the regression suite of the gate: every class a door must tell apart,
played with fixed seeds, scored against their labels. The thresholds below are what the
engine with its default parameters reaches in the model (``python -m bench gate_scorecard``
plays a larger suite); a change that makes the gate worse at any class fails here.
"""

from __future__ import annotations

import itertools
import math
import random
import statistics

import pytest

from drivers.tagread import TagRead
from rfid.config import GateParams
from rfid.replay import replay_gate
from rfid.rssi import LINEAR_OFFSET_DB
from rfid.scorecard import Scorecard, score
from simulators.gate_model import (
    INSIDE_ANTENNA,
    OUTSIDE_ANTENNA,
    SCENARIO_CLASSES,
    GateModel,
    Mover,
    Scenario,
    Tag,
    crossing,
    suite,
)

PARKED_S = 300.0
"""The parked box stays five minutes here (an hour in the benchmark)."""

# Reached by the default parameters on this suite (8 scenarios a class, 2 carts each way):
# fast crossings and cart boxes all right, one walking crossing in eight missed, two people
# standing in the doorway for up to 30 s and one walk-past in eight given a passage. The larger
# held-out suite of the benchmark gives the figures quoted in docs/rfid-tuning.md.
FAST = 0.98
CART = 0.98
WALK = 0.85
NON_CROSSING = 0.75
FALSE = 0.10


@pytest.fixture(scope="module")
def scorecard() -> Scorecard:
    card = Scorecard()
    plain = [c for c in SCENARIO_CLASSES if not c.startswith("cart")]
    recordings = [
        *suite(8, seed=5, classes=plain, parked_s=PARKED_S),
        *suite(2, seed=6, classes=("cart_in", "cart_out")),
    ]
    for recording in recordings:
        passages = replay_gate(recording.reads, INSIDE_ANTENNA, OUTSIDE_ANTENNA)
        card.extend(score(recording.labels, passages, recording.classes))
    print()
    print(card.format())
    return card


def still(epc: str, x: float, y: float = 0.0, seconds: float = 20.0) -> Scenario:
    """A tag held still at (x, y), 1 m high."""
    mover = Mover(((0.0, x, y), (seconds, x, y)), (Tag(epc, "static", dx=0.0),), body=False)
    return Scenario("still", (mover,), seconds, motion_hz=0.0)


def mean_rssi(reads: list[TagRead], antenna: int) -> float:
    return statistics.mean(r.rssi for r in reads if r.antenna == antenna and r.rssi is not None)


def test_the_antenna_a_tag_faces_hears_it_stronger_and_more_often() -> None:
    reads = GateModel().reads(still("E1", -2.0), seed=1)
    inside = [r for r in reads if r.antenna == INSIDE_ANTENNA]
    outside = [r for r in reads if r.antenna == OUTSIDE_ANTENNA]

    assert len(inside) > len(outside) > 0  # the back lobe and multipath still reach it
    assert mean_rssi(reads, INSIDE_ANTENNA) > mean_rssi(reads, OUTSIDE_ANTENNA) + 6.0


def test_signal_falls_with_distance_until_the_tag_is_out_of_range() -> None:
    model = GateModel()
    near = model.reads(still("E1", -1.0), seed=2)
    far = model.reads(still("E1", -4.0), seed=2)
    gone = model.reads(still("E1", -40.0), seed=2)

    assert mean_rssi(near, INSIDE_ANTENNA) > mean_rssi(far, INSIDE_ANTENNA) + 6.0
    assert len(near) > len(far)
    assert gone == []


def test_the_reader_switches_antennas_and_reads_in_time_order() -> None:
    reads = GateModel().reads(still("E1", 0.0), seed=3)

    assert [r.t for r in reads] == sorted(r.t for r in reads)
    runs = sum(1 for a, b in itertools.pairwise(reads) if a.antenna != b.antenna)
    assert runs > 20 / 0.2 / 2  # a switch every dwell (0.2 s), most of them seen
    assert {r.antenna for r in reads} == {INSIDE_ANTENNA, OUTSIDE_ANTENNA}


def test_multipath_makes_single_reads_misleading() -> None:
    """Read by read, the side a tag is on does not always sound stronger: the failure mode
    the visit-level engine exists for."""
    reads = GateModel().reads(crossing("out", 1.0, random.Random(4)), seed=4)
    # Walking at 1 m/s from 6 m inside: between 1.5 m and 0.3 m before the door plane.
    near = [r for r in reads if 4.5 <= r.t <= 5.7 and r.rssi is not None]
    inside = [r.rssi for r in near if r.antenna == INSIDE_ANTENNA and r.rssi is not None]
    outside = [r.rssi for r in near if r.antenna == OUTSIDE_ANTENNA and r.rssi is not None]

    assert statistics.mean(inside) > statistics.mean(outside)
    assert max(outside) > min(inside)


def test_a_scenario_and_a_seed_give_the_same_reads_every_time() -> None:
    first = list(suite(1, seed=9, classes=("walk_out", "turn_back")))
    again = list(suite(1, seed=9, classes=("walk_out", "turn_back")))

    assert [r.reads for r in first] == [r.reads for r in again]
    assert [r.labels for r in first] == [r.labels for r in again]
    assert first[0].reads != first[1].reads


def test_every_scenario_class_is_labelled() -> None:
    classes = {
        cls: rec.labels
        for cls, rec in zip(
            SCENARIO_CLASSES, suite(1, seed=3, classes=SCENARIO_CLASSES, parked_s=10.0), strict=True
        )
    }
    assert set(classes["cart_in"].values()) == {"in"}
    assert len(classes["cart_out"]) == 20
    assert sorted(classes["two_way"].values()) == ["in", "out"]
    for cls in ("turn_back", "walk_past", "parked", "standing"):
        assert all(label not in ("in", "out") for label in classes[cls].values())


def test_linear_magnitudes_decide_as_the_same_signal_in_dbm() -> None:
    recordings = list(suite(2, seed=12, classes=("walk_in", "walk_out", "turn_back")))
    for recording in recordings:
        linear = [
            TagRead(
                r.reader,
                r.antenna,
                r.epc,
                None if r.rssi is None else 10.0 ** ((r.rssi - LINEAR_OFFSET_DB) / 20.0),
                r.t,
            )
            for r in recording.reads
        ]
        assert min(r.rssi or 0.0 for r in linear) > 100.0
        expected = replay_gate(recording.reads, INSIDE_ANTENNA, OUTSIDE_ANTENNA)
        found = replay_gate(linear, INSIDE_ANTENNA, OUTSIDE_ANTENNA, rssi_unit="linear")
        assert [(p.epc, p.direction) for p in found] == [(p.epc, p.direction) for p in expected]
        assert all(math.isclose(a.at, b.at) for a, b in zip(found, expected, strict=True))


def test_fast_crossings_are_right(scorecard: Scorecard) -> None:
    assert scorecard.rate("fast_in") >= FAST
    assert scorecard.rate("fast_out") >= FAST


def test_boxes_on_a_cart_are_right(scorecard: Scorecard) -> None:
    boxes = [t for t in scorecard.tags if t.cls.startswith("cart")]
    assert len(boxes) == 80
    assert sum(t.outcome == "right" for t in boxes) / len(boxes) >= CART


def test_walking_crossings_are_right(scorecard: Scorecard) -> None:
    for cls in ("walk_in", "walk_out", "two_way"):
        assert scorecard.rate(cls) >= WALK, cls


def test_non_crossings_give_no_passage(scorecard: Scorecard) -> None:
    assert scorecard.false_rate <= FALSE
    for cls in ("turn_back", "walk_past", "parked", "standing"):
        assert scorecard.rate(cls) >= NON_CROSSING, cls


def test_a_person_standing_in_the_doorway_with_a_box_gives_no_passage() -> None:
    """Standing 10-30 s a little beyond the door plane, swaying: both antennas hear the box
    about equally and the lean swings, so the lingering rule must not call it a crossing. The
    same suite without the window-by-window check does give passages (the test can fail)."""
    recordings = list(suite(20, seed=31, classes=("standing",)))
    lax = GateParams(linger_margin_db=0.0)
    assert any(replay_gate(r.reads, 1, 2, lax) for r in recordings)
    assert [r for r in recordings if replay_gate(r.reads, 1, 2, GateParams())] == []
