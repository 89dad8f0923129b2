"""The gate engine: which way a tag went through the door, and when nothing went through."""

from __future__ import annotations

import pytest

from drivers.tagread import TagRead
from rfid.config import GateParams
from rfid.gate import GateEngine, Passage
from tests.rfid.scenarios import (
    INSIDE,
    OUTSIDE,
    T0,
    GateSite,
    Path,
    crossing,
    crossing_time,
    gate_reads,
    leave_after,
    out_and_back,
    out_and_stay,
    parked,
    single_read,
    turn_back,
    walk_past,
)

TICK_S = 0.1


def drive(engine: GateEngine, reads: list[TagRead], *, tail_s: float = 7.0) -> list[Passage]:
    """Feed reads as the daemon does, with a tick every 0.1 s, and keep ticking after the end."""
    out: list[Passage] = []
    next_tick = reads[0].t if reads else T0
    for read in reads:
        while next_tick <= read.t:
            out += engine.tick(next_tick)
            next_tick += TICK_S
        out += engine.observe(read)
    end = (reads[-1].t if reads else T0) + tail_s
    while next_tick <= end:
        out += engine.tick(next_tick)
        next_tick += TICK_S
    return out


def passages(
    tags: dict[str, Path],
    duration: float,
    *,
    with_rssi: bool = True,
    seed: int = 1,
    params: GateParams | None = None,
) -> list[Passage]:
    reads = gate_reads(tags, duration, seed=seed, site=GateSite(with_rssi=with_rssi))
    return drive(GateEngine("door-1", INSIDE, OUTSIDE, params), reads)


def summary(found: list[Passage]) -> list[tuple[str, str]]:
    return [(p.epc, p.direction) for p in found]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("direction", ["out", "in"])
def test_tag_carried_through_the_gate_is_one_passage_that_way(direction: str, seed: int) -> None:
    found = passages({"E1": crossing(direction)}, 8.0, seed=seed)

    assert summary(found) == [("E1", direction)]
    assert found[0].gate == "door-1"
    # The tag is in the gate plane at crossing_time(); the estimate is within a second.
    assert abs(found[0].at - (T0 + crossing_time())) <= 1.0
    assert found[0].decided_at >= found[0].at


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("direction", ["out", "in"])
def test_crossing_is_found_from_read_rates_alone_without_rssi(direction: str, seed: int) -> None:
    # Read rates alone contrast less than RSSI: a site without RSSI tunes a smaller margin
    # (docs/rfid-tuning.md).
    params = GateParams(margin_db=6.0)
    found = passages({"E1": crossing(direction)}, 9.0, seed=seed, with_rssi=False, params=params)

    assert summary(found) == [("E1", direction)]
    # Without RSSI the far antenna's back lobe keeps reading until the tag is a metre or two
    # away, so the crossing estimate is coarser.
    assert abs(found[0].at - (T0 + crossing_time())) <= 2.0


def test_hurried_crossing_is_still_a_passage() -> None:
    found = passages({"E1": crossing("out", speed=2.5)}, 4.0)

    assert summary(found) == [("E1", "out")]


@pytest.mark.parametrize("with_rssi", [True, False])
@pytest.mark.parametrize("offset", [0.7, 1.5])
@pytest.mark.parametrize("side", ["inside", "outside"])
def test_walking_past_the_gate_on_one_side_is_no_passage(
    side: str, offset: float, with_rssi: bool
) -> None:
    for seed in (1, 2, 3):
        found = passages(
            {"E1": walk_past(side, offset=offset)}, 9.0, seed=seed, with_rssi=with_rssi
        )
        assert found == []


@pytest.mark.parametrize("with_rssi", [True, False])
@pytest.mark.parametrize("side", ["inside", "outside"])
def test_turning_back_at_the_gate_is_no_passage(side: str, with_rssi: bool) -> None:
    for seed in (1, 2, 3):
        found = passages({"E1": turn_back(side)}, 8.0, seed=seed, with_rssi=with_rssi)
        assert found == []


@pytest.mark.parametrize("with_rssi", [True, False])
@pytest.mark.parametrize(("x", "y"), [(-0.8, 0.6), (0.8, 0.6), (-0.3, 0.3), (0.3, 0.3)])
def test_tag_parked_near_the_gate_for_a_minute_is_no_passage(
    x: float, y: float, with_rssi: bool
) -> None:
    reads = gate_reads({"E1": parked(x, y)}, 60.0, site=GateSite(with_rssi=with_rssi))
    assert len(reads) > 300  # read continuously all along

    assert drive(GateEngine("door-1", INSIDE, OUTSIDE), reads) == []


def test_two_tags_crossing_together_are_two_passages() -> None:
    found = passages({"BOX": crossing("out"), "FILE": crossing("out", y=0.3)}, 8.0)

    assert sorted(summary(found)) == [("BOX", "out"), ("FILE", "out")]


def test_tags_crossing_opposite_ways_at_once_each_get_their_direction() -> None:
    found = passages({"E1": crossing("out", y=-0.3), "E2": crossing("in", y=0.3)}, 8.0)

    assert sorted(summary(found)) == [("E1", "out"), ("E2", "in")]


@pytest.mark.parametrize("antenna", [INSIDE, OUTSIDE])
def test_a_tag_read_only_once_is_no_passage(antenna: int) -> None:
    engine = GateEngine("door-1", INSIDE, OUTSIDE)

    assert drive(engine, [single_read("E1", antenna)]) == []
    assert engine.active_tracks == 0


def test_one_read_on_each_side_is_no_passage() -> None:
    reads = [single_read("E1", INSIDE, 1.0), single_read("E1", OUTSIDE, 1.3)]

    assert drive(GateEngine("door-1", INSIDE, OUTSIDE), reads) == []


def test_passage_is_decided_while_the_tag_lingers_beyond_the_gate() -> None:
    reads = gate_reads({"E1": out_and_stay(1.0)}, 30.0)

    found = drive(GateEngine("door-1", INSIDE, OUTSIDE), reads)

    assert summary(found) == [("E1", "out")]
    # Once it has been beyond the gate for linger_s, long before it stops being read.
    assert found[0].decided_at <= T0 + crossing_time() + GateParams().linger_s + 3.0
    assert reads[-1].t > T0 + 29.0


def test_tag_that_falls_silent_after_crossing_is_decided_by_the_clock() -> None:
    silent_after = 5.0  # two metres beyond the gate, then out of range (into a lift)
    reads = gate_reads({"E1": leave_after(crossing("out"), silent_after)}, 8.0)
    params = GateParams(linger_s=0.0)  # no early decision: decided when silence ends it
    engine = GateEngine("door-1", INSIDE, OUTSIDE, params)

    found = drive(engine, reads)

    assert summary(found) == [("E1", "out")]
    assert found[0].decided_at >= reads[-1].t + params.exit_silence_s
    assert engine.active_tracks == 0


def test_going_out_and_back_within_one_visit_is_no_passage() -> None:
    """Taken a few metres out and straight back without falling silent: like a turn-back,
    the visit starts and ends inside."""
    assert passages({"E1": out_and_back(7.0)}, 16.0) == []


def test_coming_back_in_after_lingering_outside_is_a_second_passage() -> None:
    params = GateParams(linger_s=5.0)  # out for about seven seconds before turning back
    found = passages({"E1": out_and_back(7.0)}, 16.0, params=params)

    assert summary(found) == [("E1", "out"), ("E1", "in")]
    assert found[0].decided_at < found[1].at  # the first decided early, while still out
    assert found[1].at - found[0].at >= params.cooldown_s


def test_coming_back_within_the_cooldown_is_not_reported() -> None:
    reads = gate_reads({"E1": out_and_back(7.0)}, 16.0)
    engine = GateEngine("door-1", INSIDE, OUTSIDE, GateParams(cooldown_s=60.0, linger_s=5.0))

    found = drive(engine, reads)

    assert summary(found) == [("E1", "out")]
    assert engine.suppressed == 1


def test_reads_from_other_antennas_are_ignored() -> None:
    engine = GateEngine("door-1", INSIDE, OUTSIDE)
    reads = [TagRead("gate-1", 3, "E1", -40.0, T0 + i * 0.05) for i in range(100)]

    assert drive(engine, reads) == []
    assert engine.ignored_reads == 100
    assert engine.active_tracks == 0


def test_gate_needs_two_distinct_antennas() -> None:
    with pytest.raises(ValueError, match="differ"):
        GateEngine("door-1", 1, 1)
