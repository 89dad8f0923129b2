"""The rack: cell addresses, stations, and which box the host believes is in which cell.

A stacker cell is addressed by aisle, side, bay, level and depth; pick/drop stations sit in the
reserved aisle 0. In a double-deep rack the fork reaches the inner cell (depth 2) only through
the outer one (depth 1): an inner box is blocked while its outer cell holds a box, so taking it
out needs a *shuffle* move of the outer box first, and a store must never fill an outer cell in
front of an inner cell that a queued job still has to reach.

This model is the host's belief, seeded by the daemon from the items' locations and kept up to
date from job results; the PLC's sensors and RFID reads are the truth, and a disagreement shows
up as an exception (empty retrieval, double storage, outer cell occupied) that the operator
resolves. Cells that queued jobs will fill or empty are *reserved* so two jobs never pick the
same free cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from stacker.registers import Coordinates

STATION_AISLE = 0
OUTER = 1
INNER = 2

_CODE = re.compile(r"^a(\d+)-s(\d+)-b(\d+)-l(\d+)-d(\d+)$")


@dataclass(frozen=True, slots=True, order=True)
class CellAddress:
    aisle: int
    side: int
    bay: int
    level: int
    depth: int = OUTER

    @property
    def is_station(self) -> bool:
        return self.aisle == STATION_AISLE

    @property
    def code(self) -> str:
        """A stable text form, e.g. ``a1-s2-b14-l3-d1``."""
        return f"a{self.aisle}-s{self.side}-b{self.bay}-l{self.level}-d{self.depth}"

    def coordinates(self) -> Coordinates:
        return (self.aisle, self.side, self.bay, self.level, self.depth)

    def outer(self) -> CellAddress:
        return CellAddress(self.aisle, self.side, self.bay, self.level, OUTER)

    def inner(self) -> CellAddress:
        return CellAddress(self.aisle, self.side, self.bay, self.level, INNER)

    @classmethod
    def parse(cls, code: str) -> CellAddress:
        m = _CODE.match(code.strip().lower())
        if m is None:
            raise ValueError(f"not a cell address (like a1-s2-b14-l3-d1): {code!r}")
        a, s, b, lv, d = (int(g) for g in m.groups())
        return cls(a, s, b, lv, d)

    @classmethod
    def from_coordinates(cls, coords: Coordinates) -> CellAddress:
        return cls(*coords)

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True, slots=True)
class Occupant:
    """What the host believes a cell holds; ``ref`` is None for a box it cannot name."""

    box_id: str = ""
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class RackGeometry:
    aisles: int = 1
    sides: int = 2
    bays: int = 20
    levels: int = 8
    depths: int = 1

    def contains(self, cell: CellAddress) -> bool:
        return (
            1 <= cell.aisle <= self.aisles
            and 1 <= cell.side <= self.sides
            and 1 <= cell.bay <= self.bays
            and 1 <= cell.level <= self.levels
            and 1 <= cell.depth <= self.depths
        )

    def cells(self) -> Iterator[CellAddress]:
        for a in range(1, self.aisles + 1):
            for s in range(1, self.sides + 1):
                for b in range(1, self.bays + 1):
                    for lv in range(1, self.levels + 1):
                        for d in range(1, self.depths + 1):
                            yield CellAddress(a, s, b, lv, d)


class CellModel:
    """Occupancy and reservations of one stacker's rack (pure, no I/O)."""

    def __init__(self, geometry: RackGeometry, stations: Mapping[str, CellAddress]) -> None:
        for name, cell in stations.items():
            if not cell.is_station:
                raise ValueError(f"station {name!r} must be in aisle 0, not {cell}")
        self.geometry = geometry
        self.stations = dict(stations)
        self._occupants: dict[CellAddress, Occupant] = {}
        self._reserved: dict[CellAddress, int] = {}

    # -- questions -----------------------------------------------------------------------------

    def is_valid(self, cell: CellAddress) -> bool:
        return cell in self.stations.values() or self.geometry.contains(cell)

    def station_name(self, cell: CellAddress) -> str | None:
        for name, addr in self.stations.items():
            if addr == cell:
                return name
        return None

    def occupant(self, cell: CellAddress) -> Occupant | None:
        return self._occupants.get(cell)

    def contents(self) -> dict[CellAddress, Occupant]:
        return dict(self._occupants)

    def locate(self, *, ref: str | None = None, box_id: str | None = None) -> CellAddress | None:
        """The rack cell holding the item named by ``ref`` (or the box ``box_id``)."""
        for cell, occ in self._occupants.items():
            if (ref is not None and occ.ref == ref) or (box_id and occ.box_id == box_id):
                return cell
        return None

    def reserved_by(self, cell: CellAddress) -> int | None:
        return self._reserved.get(cell)

    def blocker(self, cell: CellAddress) -> CellAddress | None:
        """The occupied outer cell standing in front of ``cell``, if any."""
        if cell.is_station or cell.depth == OUTER:
            return None
        outer = cell.outer()
        return outer if outer in self._occupants else None

    def destination_problem(self, cell: CellAddress, job_id: int | None = None) -> str | None:
        """Why ``cell`` cannot receive a box now, in words; None if it can."""
        if not self.is_valid(cell):
            return f"{cell} is not a cell of this stacker"
        if cell.is_station:
            return None
        if cell in self._occupants:
            return f"cell {cell} is occupied"
        holder = self._reserved.get(cell)
        if holder is not None and holder != job_id:
            return f"cell {cell} is reserved by job {holder}"
        if self.blocker(cell) is not None:
            return f"cell {cell} is blocked by the box in its outer cell"
        if cell.depth == INNER:
            holder = self._reserved.get(cell.outer())
            if holder is not None and holder != job_id:
                return f"cell {cell} will be blocked by job {holder}"
        elif self.geometry.depths > 1:
            holder = self._reserved.get(cell.inner())
            if holder is not None and holder != job_id:
                return f"cell {cell} would block job {holder} behind it"
        return None

    def choose_free(
        self, near: CellAddress, *, exclude: Iterable[CellAddress] = ()
    ) -> CellAddress | None:
        """The free, reachable cell closest to ``near`` (inner cells first at equal distance).

        Distance is crane travel: the bay and level axes move together, so the slower axis
        counts; the side matters only as a tie-breaker.
        """
        excluded = set(exclude)
        best: tuple[tuple[int, int, int, int], CellAddress] | None = None
        for cell in self.geometry.cells():
            if cell in excluded or self.destination_problem(cell) is not None:
                continue
            key = (
                max(abs(cell.bay - near.bay), abs(cell.level - near.level)),
                abs(cell.bay - near.bay) + abs(cell.level - near.level),
                -cell.depth,
                cell.side,
            )
            if best is None or key < best[0]:
                best = (key, cell)
        return None if best is None else best[1]

    # -- changes -------------------------------------------------------------------------------

    def place(self, cell: CellAddress, occupant: Occupant) -> None:
        if not cell.is_station:
            self._occupants[cell] = occupant

    def clear(self, cell: CellAddress) -> Occupant | None:
        return self._occupants.pop(cell, None)

    def move(self, source: CellAddress, destination: CellAddress) -> None:
        occupant = self.clear(source)
        if occupant is not None:
            self.place(destination, occupant)

    def reserve(self, cell: CellAddress, job_id: int) -> None:
        if not cell.is_station:
            self._reserved[cell] = job_id

    def release(self, job_id: int) -> None:
        for cell in [c for c, j in self._reserved.items() if j == job_id]:
            del self._reserved[cell]
