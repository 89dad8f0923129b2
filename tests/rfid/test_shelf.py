"""The shelf engine: where each item sits, and which items are misplaced or missing."""

from __future__ import annotations

import pytest

from drivers.tagread import TagRead
from rfid.config import ShelfEngineConfig
from rfid.shelf import (
    Found,
    LocationChanged,
    Misplaced,
    MisplacedCleared,
    Missing,
    ShelfDecision,
    ShelfEngine,
)
from tests.rfid.scenarios import T0, ShelfRoom, of_type

A, B, C, D = ShelfRoom().locations  # four levels of one bay, A at the bottom


def stocked_room(
    n: int = 20, *, seed: int = 1, with_rssi: bool = True, neighbour_p: float = 0.2
) -> tuple[ShelfRoom, ShelfEngine, dict[str, str]]:
    """A room whose items are all on their expected shelves, and the engine told so."""
    room = ShelfRoom(seed=seed, with_rssi=with_rssi, neighbour_p=neighbour_p)
    engine = ShelfEngine(room.antenna_locations)
    homes = {}
    for i in range(n):
        epc = f"E{i:03d}"
        homes[epc] = room.locations[i % len(room.locations)]
        engine.expect(epc, homes[epc])
        room.place(epc, homes[epc])
    return room, engine, homes


def sweeps_until(
    room: ShelfRoom, engine: ShelfEngine, wanted: type[ShelfDecision], limit: int
) -> tuple[int, list[ShelfDecision]]:
    """Sweep until a decision of kind ``wanted`` comes; (sweeps taken, every decision)."""
    seen: list[ShelfDecision] = []
    for n in range(1, limit + 1):
        seen += room.sweeps(engine, 1)
        if of_type(seen, wanted):
            return n, seen
    return limit + 1, seen


class OneShelf:
    """One antenna on one location, driven read by read and round by round."""

    def __init__(self, params: ShelfEngineConfig | None = None) -> None:
        self.engine = ShelfEngine({("r", 1): "S1", ("r", 2): "S2"}, params)
        self.t = T0

    def rounds(self, n: int, *, read: str | None = None, antenna: int = 1) -> list[ShelfDecision]:
        """``n`` inventory rounds of ``antenna``, each reading ``read`` (if given) once."""
        out: list[ShelfDecision] = []
        for _ in range(n):
            if read is not None:
                out += self.engine.observe(TagRead("r", antenna, read, None, self.t + 0.1))
            self.t += 1.0
            out += self.engine.round_done("r", antenna, self.t)
        return out


@pytest.mark.parametrize("with_rssi", [True, False])
def test_items_read_where_they_are_expected_produce_no_decision(with_rssi: bool) -> None:
    room, engine, homes = stocked_room(40, with_rssi=with_rssi, neighbour_p=0.1)

    assert room.sweeps(engine, 300) == []
    assert all(engine.location_of(epc) == home for epc, home in homes.items())


def test_unknown_tag_settles_at_the_shelf_that_reads_it_best() -> None:
    room = ShelfRoom()
    engine = ShelfEngine(room.antenna_locations)
    room.place("NEW", B)

    decisions = room.sweeps(engine, 10)

    assert decisions == [LocationChanged("NEW", B, None, decisions[0].at)]
    assert engine.location_of("NEW") == B


@pytest.mark.parametrize("with_rssi", [True, False])
def test_one_stray_read_from_a_neighbouring_shelf_never_moves_an_item(with_rssi: bool) -> None:
    room, engine, _ = stocked_room(with_rssi=with_rssi)
    room.sweeps(engine, 20)

    # Stronger than any read on its own shelf, and still only one read.
    decisions = engine.observe(room.read("E000", B, rssi=-20.0))
    decisions += room.sweeps(engine, 20)

    assert of_type(decisions, LocationChanged) == []
    assert engine.location_of("E000") == A


def test_one_stray_read_does_not_place_an_item_never_read_at_home() -> None:
    room = ShelfRoom()
    engine = ShelfEngine(room.antenna_locations)
    engine.expect("E1", A)

    decisions = engine.observe(room.read("E1", C, rssi=-20.0))
    decisions += engine.tick(room.t + 1000.0)

    assert decisions == []
    assert engine.location_of("E1") == A


def test_steady_weak_reads_from_the_next_shelf_never_move_items() -> None:
    room, engine, _ = stocked_room(40, neighbour_p=0.3)

    assert of_type(room.sweeps(engine, 300), LocationChanged) == []


@pytest.mark.parametrize("with_rssi", [True, False])
@pytest.mark.parametrize("to", [B, D])
def test_item_moved_to_another_shelf_settles_there_within_a_few_sweeps(
    to: str, with_rssi: bool
) -> None:
    room, engine, _ = stocked_room(with_rssi=with_rssi)
    room.sweeps(engine, 20)

    room.place("E000", to)
    taken, decisions = sweeps_until(room, engine, LocationChanged, limit=30)

    # Without RSSI the old shelf must miss the item absent_sweeps_without_rssi sweeps running
    # first (a still room's fades last long): a few sweeps more (docs/rfid-tuning.md).
    config = ShelfEngineConfig()
    assert taken <= (8 if with_rssi else config.absent_sweeps_without_rssi + 3)
    if not with_rssi:
        assert taken >= config.absent_sweeps_without_rssi
    moves = of_type(decisions, LocationChanged)
    assert moves == [LocationChanged("E000", to, A, moves[0].at)]
    assert engine.location_of("E000") == to


def test_item_left_on_the_wrong_shelf_is_misplaced_once() -> None:
    room, engine, _ = stocked_room()
    room.sweeps(engine, 20)
    room.place("E000", C)

    decisions = room.sweeps(engine, 200)  # 200 s

    moved = of_type(decisions, LocationChanged)
    misplaced = of_type(decisions, Misplaced)
    assert [(m.epc, m.location, m.previous) for m in moved] == [("E000", C, A)]
    assert [(m.epc, m.seen_at, m.home) for m in misplaced] == [("E000", C, A)]
    assert misplaced[0].at - moved[0].at >= ShelfEngineConfig().misplaced_after_s
    assert engine.is_misplaced("E000")


def test_misplaced_item_put_back_is_cleared() -> None:
    room, engine, _ = stocked_room()
    room.place("E000", C)
    room.sweeps(engine, 100)
    assert engine.is_misplaced("E000")

    room.place("E000", A)
    decisions = room.sweeps(engine, 20)

    assert [type(d) for d in decisions] == [LocationChanged, MisplacedCleared]
    assert decisions[0] == LocationChanged("E000", A, C, decisions[0].at)
    assert decisions[1] == MisplacedCleared("E000", A, decisions[0].at)
    assert not engine.is_misplaced("E000")


def test_rehoming_a_misplaced_item_where_it_is_clears_it() -> None:
    room, engine, _ = stocked_room()
    room.place("E000", C)
    room.sweeps(engine, 100)

    decisions = engine.expect("E000", C)

    assert decisions == [MisplacedCleared("E000", C, decisions[0].at)]
    assert room.sweeps(engine, 100) == []


def test_item_briefly_on_another_shelf_is_not_misplaced() -> None:
    room, engine, _ = stocked_room()
    room.sweeps(engine, 20)

    room.place("E000", C)  # taken down, looked at, put back within half a minute
    decisions = room.sweeps(engine, 30)
    room.place("E000", A)
    decisions += room.sweeps(engine, 100)

    assert [d.location for d in of_type(decisions, LocationChanged)] == [C, A]
    assert of_type(decisions, Misplaced) == []


def test_lent_item_is_neither_missing_nor_misplaced() -> None:
    room, engine, _ = stocked_room()
    room.sweeps(engine, 5)

    engine.expect("E000", None)
    room.place("E000", None)

    assert room.sweeps(engine, 100) == []


def test_item_not_read_for_n_full_sweeps_is_missing_once_and_found_when_read_again() -> None:
    room = ShelfRoom(neighbour_p=0.0)  # only B reads it: B's sweeps alone decide
    engine = ShelfEngine(room.antenna_locations, ShelfEngineConfig(missing_sweeps=3))
    engine.expect("E1", B)
    room.place("E1", B)
    assert room.sweeps(engine, 10) == []

    room.place("E1", None)
    assert room.sweeps(engine, 2) == []  # two full sweeps of B without a read
    third = room.sweeps(engine, 1)
    assert third == [Missing("E1", B, third[0].at)]
    assert engine.is_missing("E1")
    assert room.sweeps(engine, 20) == []  # raised once

    room.place("E1", B)
    back = room.sweeps(engine, 1)
    assert back == [Found("E1", B, back[0].at)]
    assert not engine.is_missing("E1")
    assert room.sweeps(engine, 20) == []


def test_item_expected_but_never_read_goes_missing_after_n_sweeps() -> None:
    room = ShelfRoom()
    engine = ShelfEngine(room.antenna_locations, ShelfEngineConfig(missing_sweeps=3))
    engine.expect("GONE", C)

    # The first round of each antenna only arms it (its start is unknown): 1 + 3 sweeps.
    assert room.sweeps(engine, 3) == []
    fourth = room.sweeps(engine, 1)
    assert fourth == [Missing("GONE", C, fourth[0].at)]


def test_missing_needs_sweeps_that_ran() -> None:
    room = ShelfRoom(silent_antennas={3})  # the reader of C is not inventorying
    engine = ShelfEngine(room.antenna_locations, ShelfEngineConfig(missing_sweeps=3))
    engine.expect("E1", C)

    assert room.sweeps(engine, 50) == []

    room.silent_antennas.clear()
    decisions = room.sweeps(engine, 4)  # one round to arm the antenna, three sweeps
    assert [(d.epc, d.location) for d in of_type(decisions, Missing)] == [("E1", C)]


def test_a_full_sweep_needs_a_round_of_every_antenna_of_the_location() -> None:
    engine = ShelfEngine(
        {("r", 1): "LONG-SHELF", ("r", 2): "LONG-SHELF"}, ShelfEngineConfig(missing_sweeps=2)
    )
    engine.expect("E1", "LONG-SHELF")

    decisions = []
    for i in range(50):  # only antenna 1 inventories
        decisions += engine.round_done("r", 1, T0 + i)
    assert decisions == []

    for i in range(50, 53):  # now both do
        decisions += engine.round_done("r", 1, T0 + i)
        decisions += engine.round_done("r", 2, T0 + i + 0.5)
    assert [type(d) for d in decisions] == [Missing]


def test_reader_that_stops_inventorying_does_not_let_its_items_drift_to_a_neighbour() -> None:
    room, engine, homes = stocked_room(40, neighbour_p=0.3)
    room.sweeps(engine, 20)

    room.silent_antennas = {1}  # A's reader is down; B still hears A's items now and then
    decisions = room.sweeps(engine, 300)

    assert of_type(decisions, LocationChanged) == []
    assert all(engine.location_of(e) == A for e, home in homes.items() if home == A)


def test_reads_further_apart_than_the_silence_timeout_do_not_add_up() -> None:
    shelf = OneShelf(ShelfEngineConfig(silence_s=10.0, min_reads=3))

    decisions = shelf.rounds(2, read="STRAY")  # two reads ...
    decisions += shelf.rounds(15)  # ... then 15 s of inventory without it ...
    decisions += shelf.rounds(2, read="STRAY")  # ... then two more: never three in a row

    assert decisions == []
    assert shelf.engine.location_of("STRAY") is None


def test_reads_within_the_silence_timeout_add_up() -> None:
    shelf = OneShelf(ShelfEngineConfig(silence_s=10.0, min_reads=3))

    decisions = shelf.rounds(2, read="E1")
    decisions += shelf.rounds(5)
    decisions += shelf.rounds(1, read="E1")

    assert [(d.epc, d.location) for d in of_type(decisions, LocationChanged)] == [("E1", "S1")]


def test_retired_tag_is_forgotten() -> None:
    room, engine, _ = stocked_room()
    room.sweeps(engine, 5)

    engine.forget("E000")
    room.place("E000", None)

    assert engine.location_of("E000") is None
    assert room.sweeps(engine, 50) == []


def test_reads_from_antennas_mapped_to_no_location_are_ignored() -> None:
    engine = ShelfEngine({("shelf-1", 1): A})

    decisions = engine.observe(TagRead("shelf-1", 7, "E1", None, T0))
    decisions += engine.observe(TagRead("other", 1, "E1", None, T0))
    decisions += engine.round_done("shelf-1", 7, T0 + 1)

    assert decisions == []
    assert engine.unmapped_reads == 2
    assert len(engine) == 0


def test_catalogue_loaded_in_bulk_is_expected_as_if_told_one_by_one() -> None:
    room = ShelfRoom(neighbour_p=0.0)
    engine = ShelfEngine(room.antenna_locations, ShelfEngineConfig(missing_sweeps=3))
    engine.expect("OLD", A)
    engine.forget("OLD")  # its row is free for a newcomer
    room.place("ON-B", B)

    decisions = engine.expect_many(
        [("ON-B", A), ("LENT", None), ("ON-B", B), ("AT-DESK", "desk-1"), ("GONE", C)]
    )
    decisions += room.sweeps(engine, 10)

    assert decisions == [Missing("GONE", C, decisions[0].at)]
    assert engine.location_of("ON-B") == B  # the later expectation wins
    assert engine.location_of("LENT") is None
    assert engine.location_of("AT-DESK") == "desk-1"  # no antenna there: never missing
    assert len(engine) == 4


@pytest.mark.parametrize("bulk", [False, True])
def test_item_expected_but_not_assumed_there_is_reported_when_its_reads_place_it(
    bulk: bool,
) -> None:
    room = ShelfRoom()
    engine = ShelfEngine(room.antenna_locations)
    if bulk:
        engine.expect_many([("BOX", A)], assume=False)
    else:
        engine.expect("BOX", A, assume=False)
    assert engine.location_of("BOX") is None
    room.place("BOX", A)

    decisions = room.sweeps(engine, 10)

    assert [(d.epc, d.location, d.previous) for d in of_type(decisions, LocationChanged)] == [
        ("BOX", A, None)
    ]
    assert of_type(decisions, Misplaced) == []


def test_item_not_assumed_at_home_and_found_elsewhere_is_misplaced() -> None:
    room = ShelfRoom()
    engine = ShelfEngine(room.antenna_locations)
    engine.expect("BOX", A, assume=False)
    room.place("BOX", C)

    decisions = room.sweeps(engine, 200)

    assert [(d.location, d.previous) for d in of_type(decisions, LocationChanged)] == [(C, None)]
    assert [(m.seen_at, m.home) for m in of_type(decisions, Misplaced)] == [(C, A)]


def test_item_not_assumed_at_home_and_never_read_is_not_misplaced() -> None:
    room = ShelfRoom()
    engine = ShelfEngine(room.antenna_locations)
    engine.expect("BOX", A, assume=False)
    engine.expect("BOX", B, assume=False)

    decisions = room.sweeps(engine, 200)

    assert of_type(decisions, Misplaced) == []
    assert [m.location for m in of_type(decisions, Missing)] == [B]


def test_item_recorded_elsewhere_and_put_back_home_is_reported_again() -> None:
    room, engine, _ = stocked_room()
    room.sweeps(engine, 10)
    room.place("E000", None)
    room.sweeps(engine, 3)
    engine.expect("E000", A, assume=False)  # e.g. it went out through the gate and came back in
    room.place("E000", A)

    decisions = room.sweeps(engine, 10)

    assert [(d.epc, d.location) for d in of_type(decisions, LocationChanged)] == [("E000", A)]
    assert of_type(decisions, Misplaced) == []


def test_missing_state_restored_after_a_restart_is_found_at_the_next_read() -> None:
    room, engine, _ = stocked_room()
    assert engine.mark_missing("E000")
    assert not engine.mark_missing("NEVER-SEEN")
    assert engine.is_missing("E000")

    decisions = room.sweeps(engine, 3)

    assert [(d.epc, d.location) for d in of_type(decisions, Found)] == [("E000", A)]
