"""The gate over LLRP with the physical model's reads: the daemon, at its default gate
parameters, reading the LLRP gate simulator whose tags walk the model's scenarios (antenna
switching, multipath fading, the carrier's body; PeakRSSI in dBm) gives exactly one passage per
crossing, the right way, and none for a turn-back, a walk-past or a box parked by the door.

The walks are played at the same time, each as if it were alone at the door. Their seeds are
walks the engine decides right offline (it is right for about 98 % of crossings in the model,
not all): what this test holds is that the LLRP path (reports per tag, reader timestamps,
whole-dBm or hundredth-dBm RSSI, the service's ticks) loses nothing of that decision.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from rfid.replay import replay_gate
from simulators.llrp_gate import Modelled
from tests.services import Mosquitto
from tests.support.room import Room, reader_room

WALKS = (
    Modelled(epc="E28011700000000000000A01", scenario="fast_out", seed=2, start=0.5),
    Modelled(epc="E28011700000000000000B01", scenario="walk_in", seed=2, start=0.5),
    Modelled(epc="E28011700000000000000C01", scenario="turn_back", seed=7, start=0.5),
    Modelled(epc="E28011700000000000000D01", scenario="walk_past", seed=11, start=0.5),
    Modelled(epc="E28011700000000000000E01", scenario="parked", seed=1, start=0.5, parked_s=10),
)


@pytest.fixture
async def default_gate_rig(
    tmp_path: Path, mosquitto: Mosquitto, sqlite_url: str
) -> AsyncIterator[Room]:
    room = reader_room(tmp_path / "room", mosquitto, sqlite_url, fast_gate=False)
    async with room.running() as r:
        yield r


def test_the_walks_are_what_they_say() -> None:
    """The scenarios cross, turn back, pass and stay as labelled, and are heard by both
    antennas with RSSI in dBm."""
    labels = {w.epc: w.labels[w.epc] for w in WALKS}
    assert labels == {
        "E28011700000000000000A01": "out",
        "E28011700000000000000B01": "in",
        "E28011700000000000000C01": "turn_back",
        "E28011700000000000000D01": "walk_past",
        "E28011700000000000000E01": "static",
    }
    for walk in WALKS:
        reads = walk.played.reads
        assert {r.antenna for r in reads} == {1, 2}, walk.scenario
        assert all(r.rssi is not None and -95.0 < r.rssi < -10.0 for r in reads)
        offline = replay_gate(reads, 1, 2)
        label = labels[walk.epc]
        assert [p.direction for p in offline] == ([label] if label in ("in", "out") else [])


async def test_one_passage_per_crossing_and_none_for_the_others(
    default_gate_rig: Room,
) -> None:
    rig = default_gate_rig
    for walk in WALKS:
        rig.gate.add(walk)  # half a second from now
    longest = max(w.end - w.start for w in WALKS)
    # Every visit ends ``exit_silence_s`` (5 s by default) after its last read.
    await asyncio.sleep(longest + 5.0 + 2.0)
    passages = [
        (str(e["epc"]), str(e["direction"]))
        for e in rig.mqtt.events("gate.passage")
        if e.get("provisional") is None
    ]
    assert sorted(passages) == [
        ("E28011700000000000000A01", "out"),
        ("E28011700000000000000B01", "in"),
    ]
    announced = [str(e["epc"]) for e in rig.mqtt.events("gate.passage") if e.get("provisional")]
    assert sorted(announced) == ["E28011700000000000000A01", "E28011700000000000000B01"]
