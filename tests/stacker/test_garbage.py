"""Garbage never crashes the handshake or the simulated PLC (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.stacker_plc import PlcModel, PlcSettings
from stacker.cells import CellAddress
from stacker.handshake import Action, Handshake, Timing, Write
from stacker.journal import Job, JobKind
from stacker.registers import HR_COUNT, decode_inputs

u16 = st.integers(min_value=0, max_value=0xFFFF)
small = st.integers(min_value=0, max_value=3)


@st.composite
def plausible_block(draw: st.DrawFn) -> list[int]:
    """Random registers, or a live auto-mode PLC in one of the handshake's states for job 1."""
    regs = draw(st.lists(u16, min_size=29, max_size=29))
    scene = draw(st.sampled_from(["garbage", "ready", "accepted", "exception", "done", "reject"]))
    if scene == "garbage":
        return regs
    regs[1:13] = [1, 3, 0x181, 0, 0, 0, 0, 0, 0, 0, 0, 0]  # IF_VERSION 1, auto, ready, idle
    regs[28] = 0  # doors closed
    if scene == "accepted":
        regs[3], regs[5] = 0x186, draw(small)  # accepted | busy, ACTIVE_JOB_ID
    elif scene == "exception":
        regs[3], regs[5], regs[12] = 0x984, draw(small), draw(st.sampled_from([1, 2, 4]))
    elif scene == "done":
        regs[3], regs[7], regs[8] = 0x188, draw(small), draw(st.sampled_from([0, 1, 99]))
    elif scene == "reject":
        regs[3], regs[9], regs[7] = 0x180, draw(st.sampled_from([2, 6])), draw(small)
    return regs


blocks = st.lists(plausible_block(), min_size=1, max_size=40)


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        self.t += 0.25
        return self.t


@settings(max_examples=200)
@given(blocks, st.booleans())
def test_whatever_the_plc_reports_a_job_is_strobed_at_most_once(
    regs: list[list[int]], with_job: bool
) -> None:
    clock = Clock()
    hs = Handshake("s", Timing(), clock, clock)
    hs.recovered = True
    job = Job(1, JobKind.VERIFY, CellAddress(1, 1, 1, 1, 1), CellAddress(1, 1, 1, 1, 1))
    actions: list[Action] = []
    sent = False
    for beat, block in enumerate(regs):
        block[0] = beat  # a live PLC heartbeat
        actions += hs.observe(decode_inputs(block))
        if with_job and not sent and hs.can_send():
            actions += hs.send(job)
            sent = True
        actions += hs.tick()
    strobes = [a for a in actions if isinstance(a, Write) and a.address == 24 and a.values[0]]
    assert len(strobes) == (1 if sent else 0)


writes = st.lists(
    st.tuples(st.integers(min_value=0, max_value=HR_COUNT - 1), st.lists(u16, max_size=29)),
    max_size=40,
)


@settings(max_examples=200, deadline=None)  # a loaded machine must not fail a correct model
@given(writes, st.lists(st.floats(min_value=0, max_value=5), max_size=40))
def test_the_simulated_plc_survives_any_register_writes(
    ops: list[tuple[int, list[int]]], steps: list[float]
) -> None:
    model = PlcModel(PlcSettings(seconds_per_bay=0.5))
    model.contents[(1, 1, 1, 1, 1)] = "BOX"
    for i, (address, values) in enumerate(ops):
        model.write(address, values)
        model.step(model.now + (steps[i] if i < len(steps) else 0.1))
        regs = model.input_registers()
        assert len(regs) == 29
        assert all(0 <= r <= 0xFFFF for r in regs)
    assert all(count <= 1 for count in model.executions.values())
