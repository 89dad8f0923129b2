"""The gate simulator's script engine, driven by explicit script times (no event loop)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from pydantic import ValidationError

from simulators.llrp_gate import (
    FLOOR_DBM,
    INSIDE_ANTENNA,
    OUTSIDE_ANTENNA,
    Cross,
    GateScript,
    Linger,
    LlrpGateSimulator,
    Modelled,
    ScriptFile,
    Sighting,
    Static,
    TurnBack,
    WalkPast,
    demo_script,
    main,
    model_script,
)

EPC = "E28011700000020A000000AA"


def seen(script: GateScript, t: float) -> dict[int, float]:
    """Antenna -> mean RSSI of the one tag in the script at time ``t``."""
    return {s.antenna: s.rssi_dbm for s in script.sightings(t)}


def times(start: float, end: float, steps: int = 200) -> list[float]:
    return [start + (end - start) * i / steps for i in range(steps)]


def test_tag_carried_out_rises_inside_is_seen_by_both_at_the_door_and_fades_outside() -> None:
    script = GateScript([Cross(epc=EPC, direction="out", start=10.0, duration=2.0)])
    assert set(seen(script, 10.2)) == {INSIDE_ANTENNA}
    assert seen(script, 10.2)[INSIDE_ANTENNA] < seen(script, 10.6)[INSIDE_ANTENNA]
    assert set(seen(script, 11.0)) == {INSIDE_ANTENNA, OUTSIDE_ANTENNA}
    assert set(seen(script, 11.8)) == {OUTSIDE_ANTENNA}
    assert seen(script, 11.8)[OUTSIDE_ANTENNA] < seen(script, 11.4)[OUTSIDE_ANTENNA]


def test_tag_carried_in_is_seen_outside_first_and_inside_last() -> None:
    script = GateScript([Cross(epc=EPC, direction="in", start=0.0, duration=2.0)])
    assert set(seen(script, 0.2)) == {OUTSIDE_ANTENNA}
    assert set(seen(script, 1.8)) == {INSIDE_ANTENNA}


def test_nothing_is_seen_before_a_step_starts_or_after_it_ends() -> None:
    script = GateScript([Cross(epc=EPC, direction="out", start=5.0, duration=2.0)])
    assert script.sightings(4.99) == []
    assert script.sightings(7.0) == []
    assert not script.finished(6.0)
    assert script.finished(7.0)


def test_walk_past_outside_is_never_seen_inside() -> None:
    script = GateScript([WalkPast(epc=EPC, side="outside", start=0.0, duration=3.0)])
    antennas = {s.antenna for t in times(0.0, 3.0) for s in script.sightings(t)}
    assert antennas == {OUTSIDE_ANTENNA}


def test_turning_back_shows_the_far_side_only_briefly_and_weaker_than_the_near_side() -> None:
    script = GateScript([TurnBack(epc=EPC, side="inside", start=0.0, duration=3.0)])
    far_times = [t for t in times(0.0, 3.0) if OUTSIDE_ANTENNA in seen(script, t)]
    assert far_times
    assert max(far_times) - min(far_times) < 1.0
    for t in far_times:
        levels = seen(script, t)
        assert levels[OUTSIDE_ANTENNA] < levels[INSIDE_ANTENNA]
    assert set(seen(script, 0.3)) == {INSIDE_ANTENNA}
    assert set(seen(script, 2.7)) == {INSIDE_ANTENNA}


def test_lingering_and_static_tags_hold_a_constant_signal_for_their_duration() -> None:
    script = GateScript(
        [
            Linger(epc=EPC, near="outside", rssi=-58.0, duration=4.0),
            Static(epc="3000", antenna=3, rssi=-50.0),
        ]
    )
    assert {(s.epc, s.antenna, s.rssi_dbm) for s in script.sightings(1.0)} == {
        (EPC, OUTSIDE_ANTENNA, -58.0),
        ("3000", 3, -50.0),
    }
    assert {s.epc for s in script.sightings(100.0)} == {"3000"}
    assert not script.finished(1000.0)


def test_read_probability_falls_off_near_the_edge_of_the_field() -> None:
    script = GateScript([Linger(epc=EPC, rssi=FLOOR_DBM + 3.0, read_probability=0.8)])
    (sighting,) = script.sightings(0.0)
    assert sighting.probability == pytest.approx(0.4)
    assert GateScript([Linger(epc=EPC, rssi=FLOOR_DBM)]).sightings(0.0) == []


def test_sampling_reads_each_sighting_with_its_probability() -> None:
    script = GateScript(
        [
            Static(epc="1111", antenna=1, read_probability=1.0),
            Static(epc="2222", antenna=1, read_probability=0.25),
        ]
    )
    rng = random.Random(3)
    cycles = [script.sample(0.0, rng, noise_db=0.0) for _ in range(2000)]
    sure = sum(1 for c in cycles for s in c if s.epc == "1111")
    rare = sum(1 for c in cycles for s in c if s.epc == "2222")
    assert sure == 2000
    assert 400 < rare < 600
    assert all(s == Sighting("1111", 1, -55.0, 1.0) for c in cycles for s in c if s.epc == "1111")


def test_looping_script_repeats_after_its_last_step_and_a_gap() -> None:
    steps = [Cross(epc=EPC, direction="out", start=1.0, duration=2.0)]
    script = GateScript(steps, loop=True, loop_gap=1.0)
    assert script.period == 4.0
    assert script.sightings(2.0) == script.sightings(6.0) == script.sightings(10.0)
    assert script.sightings(3.5) == []
    assert not script.finished(1e6)


def test_a_step_added_while_running_starts_from_the_given_script_time() -> None:
    script = GateScript()
    script.add(Static(epc=EPC, start=1.0, duration=2.0), at=50.0)
    assert script.sightings(50.5) == []
    assert [s.epc for s in script.sightings(51.5)] == [EPC]
    assert script.sightings(53.0) == []


def test_simulator_adds_steps_at_the_time_of_its_injected_clock() -> None:
    now = [100.0]
    sim = LlrpGateSimulator(clock=lambda: now[0])
    now[0] = 130.0
    sim.add(Static(epc=EPC, start=0.5))
    assert sim.script_time() == 30.0
    assert sim.script.sightings(30.4) == []
    assert [s.epc for s in sim.script.sightings(30.6)] == [EPC]


def test_script_file_parses_every_step_kind_and_normalises_epcs() -> None:
    raw = {
        "loop": True,
        "steps": [
            {"kind": "cross", "epc": "e2801170", "direction": "out", "start": 1},
            {"kind": "walk_past", "epc": "E2801171", "side": "inside"},
            {"kind": "turn_back", "epc": "E2801172"},
            {"kind": "linger", "epc": "E2801173", "near": "outside", "duration": 5},
            {"kind": "static", "epc": "E2801174", "antenna": 2},
        ],
    }
    script = ScriptFile.model_validate_json(json.dumps(raw))
    assert [type(s) for s in script.steps] == [Cross, WalkPast, TurnBack, Linger, Static]
    assert script.steps[0].epc == "E2801170"
    assert script.loop


@pytest.mark.parametrize(
    "step",
    [
        {"kind": "teleport", "epc": "E200"},
        {"kind": "cross", "epc": "E200", "direction": "sideways"},
        {"kind": "cross", "epc": "E20", "direction": "out"},
        {"kind": "cross", "epc": "XYZW", "direction": "out"},
        {"kind": "static", "epc": "E200", "volume": 11},
        {"kind": "cross", "epc": "E200", "direction": "out", "duration": 0},
    ],
)
def test_script_file_refuses_bad_steps(step: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ScriptFile.model_validate({"steps": [step]})


def test_demo_script_carries_one_tag_out_one_in_and_walks_one_past() -> None:
    steps = demo_script().steps
    kinds = [(s.kind, getattr(s, "direction", None)) for s in steps]
    assert kinds == [("cross", "out"), ("cross", "in"), ("walk_past", None)]


def test_cli_refuses_an_unreadable_script_with_exit_code_2(tmp_path: Path) -> None:
    bad = tmp_path / "gate.json"
    bad.write_text('{"steps": [{"kind": "teleport"}]}', encoding="utf-8")
    assert main(["--port", "0", "--script", str(bad)]) == 2
    assert main(["--port", "0", "--script", str(tmp_path / "missing.json")]) == 2


def test_cli_serves_a_script_file_for_the_given_duration_and_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "gate.json"
    path.write_text(demo_script().model_dump_json(), encoding="utf-8")
    assert main(["--port", "0", "--script", str(path), "--loop", "--duration", "0.2"]) == 0


def _cycles(script: GateScript, until: float, cycle: float = 0.05) -> list[Sighting]:
    rng = random.Random(1)
    out: list[Sighting] = []
    for i in range(1, round(until / cycle) + 1):
        out.extend(script.sample(i * cycle, rng, noise_db=1.5))
    return out


def test_a_modelled_step_gives_the_physical_models_reads_cycle_by_cycle() -> None:
    step = Modelled(epc=EPC, scenario="fast_out", seed=4, start=2.0)
    reads = step.played.reads
    assert reads
    assert reads[0].t >= 2.0
    assert {r.epc for r in reads} == {EPC}
    got = _cycles(GateScript([step]), step.end + 1.0)
    # Every read of the model, once, with its antenna and its RSSI (no noise added).
    assert sorted((s.antenna, s.rssi_dbm) for s in got) == sorted(
        (r.antenna, r.rssi) for r in reads
    )
    assert {s.antenna for s in got} == {INSIDE_ANTENNA, OUTSIDE_ANTENNA}


def test_a_looped_modelled_step_repeats_its_reads() -> None:
    step = Modelled(epc=EPC, scenario="fast_in", seed=5)
    script = GateScript([step], loop=True, loop_gap=1.0)
    assert script.period is not None
    once = len(step.played.reads)
    assert len(_cycles(script, 3 * script.period)) == 3 * once


def test_a_cart_numbers_its_boxes_from_the_steps_epc() -> None:
    step = Modelled(epc="E2801170000000000000FF00", scenario="cart_out", seed=1)
    labels = step.labels
    assert len(labels) == 20
    assert set(labels.values()) == {"out"}
    assert "E2801170000000000000FF13" in labels
    assert {r.epc for r in step.played.reads} <= set(labels)


def test_the_model_script_plays_its_scenarios_one_after_another() -> None:
    script = model_script(("walk_out", "turn_back", "parked"), seed=2, parked_s=5.0)
    steps = [s for s in script.steps if isinstance(s, Modelled)]
    assert [s.scenario for s in steps] == ["walk_out", "turn_back", "parked"]
    assert steps[1].start == pytest.approx(steps[0].end + 1.0)
    assert len({s.epc for s in steps}) == 3
    with pytest.raises(ValueError, match="unknown scenario 'teleport'"):
        model_script(("teleport",))


def test_cli_plays_model_scenarios_and_refuses_unknown_ones() -> None:
    assert main(["--port", "0", "--model", "fast_out,turn_back", "--duration", "0.2"]) == 0
    assert main(["--port", "0", "--model", "teleport"]) == 2
