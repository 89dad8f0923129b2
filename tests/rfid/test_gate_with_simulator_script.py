"""The gate engine with its default parameters against the LLRP gate simulator's tag model.

The simulator's scripts are what the demo and the end-to-end tests play; this runs the same
model without the network (seeded, so each case is fixed) and checks the defaults decide an
ordinary two-second crossing every time and invent nothing for the look-alikes.
"""

import random

import pytest

from drivers.tagread import TagRead
from rfid.gate import GateEngine, Passage
from simulators.llrp_gate import Cross, GateScript, Linger, TurnBack, WalkPast, _Step


def play(step: _Step, seed: int, cycle: float = 0.05) -> list[Passage]:
    script = GateScript([step])
    rng = random.Random(seed)
    engine = GateEngine("door", 1, 2)
    out: list[Passage] = []
    t = 0.0
    end = min(step.end, 30.0)
    while t < end + 5:
        for s in script.sample(t, rng, 1.5):
            if rng.random() < s.probability:
                out += engine.observe(TagRead("door", s.antenna, s.epc, s.rssi_dbm, 1000 + t))
        out += engine.tick(1000 + t)
        t += cycle
    return out


@pytest.mark.parametrize("direction", ["in", "out"])
def test_two_second_crossings_are_decided_every_time(direction: str) -> None:
    results = [
        play(Cross(epc="E2801160", direction=direction, duration=2.0), seed) for seed in range(50)
    ]
    assert all([p.direction for p in r] == [direction] for r in results)


@pytest.mark.parametrize(
    "step",
    [
        WalkPast(epc="E2801160", side="outside", duration=2.0),
        WalkPast(epc="E2801160", side="inside", duration=2.0),
        TurnBack(epc="E2801160", side="inside", duration=2.0),
        TurnBack(epc="E2801160", side="outside", duration=2.0),
        Linger(epc="E2801160", near="inside", duration=20.0),
    ],
)
def test_look_alikes_are_never_passages(step: _Step) -> None:
    assert all(play(step, seed) == [] for seed in range(50))
