"""The occupancy model: free-cell choice and the double-deep rules."""

from __future__ import annotations

import pytest

from stacker.cells import CellAddress, CellModel, Occupant, RackGeometry

STATION = CellAddress(0, 1, 0, 1, 1)


def model(depths: int = 2, bays: int = 4, levels: int = 3) -> CellModel:
    return CellModel(RackGeometry(1, 2, bays, levels, depths), {"io-1": STATION})


def test_cell_codes_round_trip() -> None:
    cell = CellAddress(1, 2, 14, 3, 2)
    assert cell.code == "a1-s2-b14-l3-d2"
    assert CellAddress.parse("A1-S2-B14-L3-D2") == cell
    with pytest.raises(ValueError, match="not a cell address"):
        CellAddress.parse("rack 3")


def test_free_cell_nearest_the_station_is_chosen_inner_first() -> None:
    cells = model()
    assert cells.choose_free(STATION) == CellAddress(1, 1, 1, 1, 2)


def test_single_deep_rack_offers_outer_cells() -> None:
    assert model(depths=1).choose_free(STATION) == CellAddress(1, 1, 1, 1, 1)


def test_inner_cell_behind_an_occupied_outer_cell_is_blocked() -> None:
    cells = model()
    inner, outer = CellAddress(1, 1, 1, 1, 2), CellAddress(1, 1, 1, 1, 1)
    cells.place(outer, Occupant("B1", "R1"))
    assert cells.blocker(inner) == outer
    assert (
        cells.destination_problem(inner) == f"cell {inner} is blocked by the box in its outer cell"
    )
    assert cells.choose_free(STATION) == CellAddress(1, 2, 1, 1, 2)


def test_reserved_cells_and_cells_that_would_block_a_reserved_inner_cell_are_not_offered() -> None:
    cells = model()
    inner = CellAddress(1, 1, 1, 1, 2)
    cells.reserve(inner, 7)
    assert cells.destination_problem(inner) == f"cell {inner} is reserved by job 7"
    assert cells.destination_problem(inner, job_id=7) is None
    assert cells.destination_problem(inner.outer()) == (
        f"cell {inner.outer()} would block job 7 behind it"
    )
    assert cells.choose_free(STATION) == CellAddress(1, 2, 1, 1, 2)
    cells.release(7)
    assert cells.choose_free(STATION) == inner


def test_full_rack_offers_nothing() -> None:
    cells = model(depths=1, bays=1, levels=1)
    for side in (1, 2):
        cells.place(CellAddress(1, side, 1, 1, 1), Occupant("B", None))
    assert cells.choose_free(STATION) is None


def test_items_are_located_by_ref_or_box_id_and_moved() -> None:
    cells = model()
    a, b = CellAddress(1, 1, 2, 2, 1), CellAddress(1, 2, 3, 1, 1)
    cells.place(a, Occupant("BOX-A", "REF-A"))
    assert cells.locate(ref="REF-A") == a
    assert cells.locate(box_id="BOX-A") == a
    cells.move(a, b)
    assert cells.locate(ref="REF-A") == b
    assert cells.occupant(a) is None


def test_stations_must_be_in_aisle_zero() -> None:
    with pytest.raises(ValueError, match="aisle 0"):
        CellModel(RackGeometry(), {"bad": CellAddress(1, 1, 1, 1, 1)})
