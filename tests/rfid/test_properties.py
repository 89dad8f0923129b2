"""Whatever the readers send, the engines keep their promises and the replay parser its temper."""

from __future__ import annotations

import io
import itertools
from collections import defaultdict
from dataclasses import dataclass

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from drivers.tagread import TagRead
from rfid import shelf
from rfid.config import GateParams, ShelfEngineConfig
from rfid.gate import GateEngine, Passage
from rfid.replay import ReplayError, parse_capture
from tests.rfid.scenarios import T0


@dataclass(frozen=True)
class Read:
    reader: str
    antenna: int
    epc: str
    rssi: float | None
    step: float
    """Seconds since the previous event (slightly negative: a late report)."""


@dataclass(frozen=True)
class Burst:
    """A tag held in front of one antenna for a while: what makes passages happen."""

    epc: str
    antenna: int
    rssi: float | None
    reads: int
    spacing: float


@dataclass(frozen=True)
class Round:
    reader: str
    antenna: int
    step: float


@dataclass(frozen=True)
class Expect:
    epc: str
    location: str | None


@dataclass(frozen=True)
class Forget:
    epc: str


@dataclass(frozen=True)
class Tick:
    step: float


EPCS = st.sampled_from(["E1", "E2", "E3"])
RSSI = st.one_of(
    st.none(),
    st.floats(min_value=-100.0, max_value=0.0),
    st.floats(allow_nan=True, allow_infinity=True),
)
STEP = st.one_of(
    st.floats(min_value=0.0, max_value=0.3),
    st.floats(min_value=0.0, max_value=5.0),
    st.floats(min_value=-0.2, max_value=0.0),
)

bursts = st.builds(
    Burst,
    EPCS,
    st.sampled_from([1, 2]),
    st.one_of(st.none(), st.floats(min_value=-80.0, max_value=-30.0)),
    st.integers(1, 40),
    st.floats(min_value=0.01, max_value=0.3),
)
gate_events = st.lists(
    st.one_of(
        bursts,
        st.builds(Read, st.just("gate-1"), st.sampled_from([1, 2, 3]), EPCS, RSSI, STEP),
        bursts,
        st.builds(Tick, STEP),
        bursts,
    ),
    max_size=60,
)


def gate_stream(events: list[Read | Tick | Burst]) -> list[TagRead | float]:
    """What a gate engine sees: reads, and ticks (their times)."""
    t = T0
    stream: list[TagRead | float] = []
    for e in events:
        if isinstance(e, Read):
            t += e.step
            stream.append(TagRead(e.reader, e.antenna, e.epc, e.rssi, t))
        elif isinstance(e, Burst):
            for _ in range(e.reads):
                t += e.spacing
                stream += [TagRead("gate-1", e.antenna, e.epc, e.rssi, t), t]
        else:
            t += e.step
            stream.append(t)
    return stream


@settings(max_examples=400, deadline=None)
@given(
    events=gate_events,
    cooldown=st.sampled_from([0.0, 0.5, 3.0, 30.0]),
    confirm=st.sampled_from([0.25, 0.5, 1.0]),
    linger=st.sampled_from([0.0, 1.0, 10.0]),
    min_reads=st.sampled_from([1, 2, 3]),
)
def test_random_reads_never_give_two_passages_of_a_tag_within_the_cooldown(
    events: list[Read | Tick | Burst],
    cooldown: float,
    confirm: float,
    linger: float,
    min_reads: int,
) -> None:
    params = GateParams(
        cooldown_s=cooldown, confirm_s=confirm, linger_s=linger, min_side_reads=min_reads
    )
    engine = GateEngine("door-1", 1, 2, params)
    sides: dict[str, set[int]] = defaultdict(set)
    found: list[Passage] = []
    t = T0
    for item in gate_stream(events):
        if isinstance(item, TagRead):
            if item.antenna in (1, 2):
                sides[item.epc].add(item.antenna)
            found += engine.observe(item)
            t = max(t, item.t)
        else:
            found += engine.tick(item)
            t = max(t, item)
    found += engine.tick(t + 100.0)
    event(f"passages: {min(len(found), 2)}")

    by_tag: dict[str, list[float]] = defaultdict(list)
    for passage in found:
        assert passage.direction in ("in", "out")
        assert sides[passage.epc] == {1, 2}  # a passage needs reads on both sides
        by_tag[passage.epc].append(passage.at)
    for times in by_tag.values():
        times.sort()
        assert all(b - a >= cooldown for a, b in itertools.pairwise(times))
    assert engine.active_tracks == 0


LOCATIONS = ["S1", "S2", "S3"]
ANTENNAS = {("r", 1): "S1", ("r", 2): "S2", ("r", 3): "S2", ("q", 1): "S3"}
shelf_events = st.lists(
    st.one_of(
        st.builds(Read, st.sampled_from(["r", "q", "x"]), st.integers(0, 4), EPCS, RSSI, STEP),
        st.builds(Round, st.sampled_from(["r", "q"]), st.integers(0, 4), STEP),
        st.builds(Expect, EPCS, st.sampled_from([*LOCATIONS, None, "DESK"])),
        st.builds(Forget, EPCS),
        st.builds(Tick, STEP),
    ),
    max_size=400,
)


@settings(max_examples=300, deadline=None)
@given(
    events=shelf_events,
    min_reads=st.sampled_from([2, 3]),
    absent=st.sampled_from([0, 1, 2]),
    misplaced_after=st.sampled_from([0.0, 2.0]),
)
def test_random_shelf_traffic_raises_and_clears_each_condition_in_turn(
    events: list[Read | Round | Expect | Forget | Tick],
    min_reads: int,
    absent: int,
    misplaced_after: float,
) -> None:
    params = ShelfEngineConfig(
        min_reads=min_reads,
        absent_sweeps=absent,
        misplaced_after_s=misplaced_after,
        missing_sweeps=2,
        silence_s=3.0,
    )
    engine = shelf.ShelfEngine(ANTENNAS, params)
    t = T0
    misplaced: dict[str, bool] = defaultdict(bool)
    missing: dict[str, bool] = defaultdict(bool)
    for e in events:
        decisions: list[shelf.ShelfDecision] = []
        if isinstance(e, Read):
            t += e.step
            decisions = engine.observe(TagRead(e.reader, e.antenna, e.epc, e.rssi, t))
        elif isinstance(e, Round):
            t += e.step
            decisions = engine.round_done(e.reader, e.antenna, t)
        elif isinstance(e, Expect):
            decisions = engine.expect(e.epc, e.location)
        elif isinstance(e, Forget):
            engine.forget(e.epc)
            misplaced[e.epc] = missing[e.epc] = False  # a forgotten tag starts afresh
        else:
            t += e.step
            decisions = engine.tick(t)
        for d in decisions:
            if isinstance(d, shelf.Misplaced):
                assert not misplaced[d.epc]
                assert d.seen_at != d.home
                misplaced[d.epc] = True
            elif isinstance(d, shelf.MisplacedCleared):
                assert misplaced[d.epc]
                misplaced[d.epc] = False
            elif isinstance(d, shelf.Missing):
                assert not missing[d.epc]
                missing[d.epc] = True
            elif isinstance(d, shelf.Found):
                assert missing[d.epc]
                missing[d.epc] = False
            else:
                assert isinstance(d, shelf.LocationChanged)
                assert d.location != d.previous
                assert d.location in LOCATIONS
                assert engine.location_of(d.epc) == d.location
        for epc in ("E1", "E2", "E3"):
            assert engine.is_missing(epc) == missing[epc]
            assert engine.is_misplaced(epc) == misplaced[epc]


CELLS = ["E1", "e2", "1732600000", "2024-11-26T05:46:40Z", "1", "-50", "", "x", '"', "\x00"]


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(max_size=400),
        st.lists(st.lists(st.sampled_from(CELLS), max_size=5), max_size=8).map(
            lambda rows: "epc,timestamp,antenna,rssi\n" + "\n".join(map(",".join, rows))
        ),
    )
)
def test_any_text_either_parses_or_is_a_replay_error_naming_the_file(text: str) -> None:
    stream = io.StringIO(text, newline="")
    try:
        reads = parse_capture(stream, "fuzz.csv")
    except ReplayError as e:
        event("rejected")
        assert str(e).startswith("fuzz.csv")  # noqa: PT017 (the message is the property)
    else:
        event("parsed")
        for read in reads:
            assert read.epc == read.epc.upper()
            assert read.antenna >= 0


def test_parser_fuzzing_reaches_both_outcomes() -> None:
    with pytest.raises(ReplayError):
        parse_capture(io.StringIO("epc,timestamp,antenna\nE1,never,1\n"), "x.csv")
    assert len(parse_capture(io.StringIO("epc,timestamp,antenna\nE1,1,1\n"), "x.csv")) == 1
