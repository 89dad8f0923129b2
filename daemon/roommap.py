"""The room map: an SVG plan of the room's racks, their shelves and the stacker's cells.

Staff find a box faster on a picture than from a code such as ``r101-A-03-02``. The plan is
drawn from the configuration (``[[racks]]``: bays x levels per rack side, and ``[stacker]``:
aisles, sides, bays, levels, depths and stations), one grid per rack side and per stacker
aisle side, bays left to right and level 1 at the bottom, as one faces the shelving. Each
cell carries its location code (``data-code``) and the number of items the ledger places
there now (``data-count``); the map of one item marks the cell where it is (``here``) and
the cells where it belongs, its home location (``home``; a home that is a whole bay or rack
marks all its cells). Racks added later through the API are not in the configuration and
are not drawn. The SVG holds no words, only codes and numbers, so the console can put it in
either language; its colours are presentation attributes, which a page's stylesheet may
override through the classes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape

from sqlalchemy import func, select

from daemon.config import ArchroomConfig, RackConfig
from daemon.ledger.locations import parse_range, shelf_code
from daemon.room import stacker_cell_code, station_code
from daemon.store.db import Store
from daemon.store.schema import item_locations, locations, movements
from stacker.cells import STATION_AISLE, CellAddress
from stacker.config import StackerConfig

CELL_W = 36
CELL_H = 24
STATION_W = 108
GAP = 14
AXIS = 24
HEADER = 20
MARGIN = 10
EMPTY, FILLED, HERE, HOME = "#f1f3f5", "#a5c8ec", "#ff922b", "#2b8a3e"


@dataclass(frozen=True, slots=True)
class MapCell:
    code: str
    kind: str
    column: int
    row: int
    part: int = 0
    parts: int = 1
    """A double-deep stacker cell is drawn as two halves: part 0 outer, part 1 inner."""


@dataclass(frozen=True, slots=True)
class Section:
    """One grid: a rack side or a stacker aisle side, or the row of stations."""

    key: str
    kind: str
    """``rack`` (a rack side) or ``stacker`` (a stacker aisle side or its stations)."""
    heading: str
    columns: list[int]
    rows: list[int]
    cells: list[MapCell] = field(default_factory=list)


def rack_sections(room: str, racks: Sequence[RackConfig]) -> list[Section]:
    out = []
    for rack in racks:
        bays, levels = parse_range(rack.bays), parse_range(rack.levels)
        sides: list[str | None] = list(rack.sides) or [None]
        for side in sides:
            key = f"rack-{rack.id}" + (f"-{side}" if side else "")
            cells = [
                MapCell(shelf_code(room, rack.id, bay, level, side), "level", column, row)
                for column, bay in enumerate(bays)
                for row, level in enumerate(reversed(levels))
            ]
            heading = f"{room}-{rack.id}" + (f"-{side}" if side else "")
            out.append(Section(key, "rack", heading, bays, list(reversed(levels)), cells))
    return out


def stacker_sections(room: str, stacker: StackerConfig) -> list[Section]:
    out = []
    bays = list(range(1, stacker.bays + 1))
    levels = list(range(stacker.levels, 0, -1))
    for aisle in range(1, stacker.aisles + 1):
        for side in range(1, stacker.sides + 1):
            cells = [
                MapCell(
                    stacker_cell_code(room, CellAddress(aisle, side, bay, level, depth)),
                    "stacker-cell",
                    bay - 1,
                    row,
                    depth - 1,
                    stacker.depths,
                )
                for bay in bays
                for row, level in enumerate(levels)
                for depth in range(1, stacker.depths + 1)
            ]
            key = f"{stacker.id}-a{aisle}-s{side}"
            out.append(
                Section(
                    key, "stacker", f"{room}-S{aisle}{side} ({stacker.id})", bays, levels, cells
                )
            )
    stations = [
        MapCell(station_code(room, s.name), "station", n, 0) for n, s in enumerate(stacker.stations)
    ]
    names = list(range(1, len(stations) + 1))
    out.append(
        Section(
            f"{stacker.id}-stations",
            "stacker",
            f"{room}-station ({stacker.id})",
            names,
            [STATION_AISLE],
            stations,
        )
    )
    return out


def sections_of(config: ArchroomConfig) -> list[Section]:
    """The map's grids, in drawing order: racks first, then the stacker."""
    out = rack_sections(config.room, config.racks)
    if config.stacker is not None:
        out += stacker_sections(config.room, config.stacker)
    return out


def _is_stations(section: Section) -> bool:
    return bool(section.cells) and section.cells[0].kind == "station"


def _width(section: Section) -> int:
    return len(section.columns) * (STATION_W if _is_stations(section) else CELL_W)


def _marks(code: str, target: str | None) -> bool:
    return target is not None and (code == target or code.startswith(target + "-"))


def render_svg(
    sections: Sequence[Section],
    counts: Mapping[str, int],
    *,
    here: str | None = None,
    home: str | None = None,
    title: str = "",
) -> str:
    """The map as a standalone SVG document (UTF-8 text)."""
    width = MARGIN * 2 + AXIS + max((_width(s) for s in sections), default=CELL_W)
    parts: list[str] = []
    y = MARGIN
    for section in sections:
        station_row = _is_stations(section)
        cell_w = STATION_W if station_row else CELL_W
        parts.append(
            f'<g class="section" data-section="{escape(section.key)}">'
            f'<text x="{MARGIN}" y="{y + 14}" font-weight="bold">{escape(section.heading)}</text>'
        )
        top = y + HEADER
        for row, level in enumerate(section.rows):
            if not station_row:
                parts.append(
                    f'<text class="axis" x="{MARGIN + AXIS - 6}" y="{top + row * CELL_H + 16}" '
                    f'text-anchor="end" fill="#666">{level}</text>'
                )
        for cell in section.cells:
            x = MARGIN + AXIS + cell.column * cell_w + cell.part * (cell_w // cell.parts)
            w = cell_w // cell.parts
            cy = top + cell.row * CELL_H
            count = counts.get(cell.code, 0)
            classes = ["cell", cell.kind]
            fill, stroke, stroke_width, dash = (FILLED if count else EMPTY), "#adb5bd", 1, ""
            if count:
                classes.append("occupied")
            if _marks(cell.code, home):
                classes.append("home")
                stroke, stroke_width, dash = HOME, 3, ' stroke-dasharray="4 2"'
            if _marks(cell.code, here):
                classes.append("here")
                fill = HERE
                if "home" not in classes:
                    stroke, stroke_width = "#d9480f", 3
            label = f"{cell.code} · {count}"
            parts.append(
                f'<rect class="{" ".join(classes)}" data-code="{escape(cell.code)}" '
                f'data-count="{count}" x="{x + 1}" y="{cy + 1}" '
                f'width="{w - 2}" height="{CELL_H - 2}" '
                f'fill="{fill}" stroke="{stroke}" stroke-width="{stroke_width}"{dash}>'
                f"<title>{escape(label)}</title></rect>"
            )
            if station_row:
                name = cell.code.rsplit("station-", 1)[-1]
                parts.append(
                    f'<text x="{x + w // 2}" y="{cy + 16}" text-anchor="middle" '
                    f'pointer-events="none">{escape(name)}{f" ({count})" if count else ""}</text>'
                )
            elif count > 1 and cell.parts == 1:
                parts.append(
                    f'<text x="{x + w // 2}" y="{cy + 16}" text-anchor="middle" font-size="10" '
                    f'pointer-events="none">{count}</text>'
                )
        bottom = top + len(section.rows) * CELL_H
        if not station_row:
            for column, bay in enumerate(section.columns):
                parts.append(
                    f'<text class="axis" x="{MARGIN + AXIS + column * CELL_W + CELL_W // 2}" '
                    f'y="{bottom + 12}" text-anchor="middle" fill="#666" font-size="9">{bay}</text>'
                )
            bottom += 14
        parts.append("</g>")
        y = bottom + GAP
    height = y + MARGIN - GAP
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="room-map" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" font-family="sans-serif" font-size="11">'
        f"<title>{escape(title)}</title>{''.join(parts)}</svg>"
    )


async def occupancy(store: Store, room: str) -> dict[str, int]:
    """Location code -> number of items the ledger places there now, for one room.

    This counts every placed item of the room (a scan of ``item_locations``); ``Occupancy``
    keeps the answer while nothing moves."""
    query = (
        select(locations.c.code, func.count())
        .select_from(item_locations.join(locations, locations.c.id == item_locations.c.location_id))
        .where(locations.c.room == room)
        .group_by(locations.c.code)
    )
    async with store.read() as conn:
        return {code: int(n) for code, n in (await conn.execute(query)).all()}


class Occupancy:
    """``occupancy`` of one room, counted again only when something may have moved.

    Every change of an item's place inserts a movement (``daemon.ledger.movements``), so the
    highest movement id (a primary-key lookup) tells whether the counts can have changed.
    Transactions can commit out of id order, so the counts are also refreshed once they are
    ``max_age_s`` old. Several console pages asking for the map at once share one count.
    """

    def __init__(self, store: Store, room: str, *, max_age_s: float = 10.0) -> None:
        self.store = store
        self.room = room
        self.max_age_s = max_age_s
        self._version: int | None = None
        self._at = 0.0
        self._counts: dict[str, int] = {}
        self._lock = asyncio.Lock()

    async def counts(self) -> dict[str, int]:
        async with self._lock:
            version = await self.store.scalar(select(func.max(movements.c.id)))
            now = time.monotonic()
            if version != self._version or now - self._at > self.max_age_s:
                self._counts = await occupancy(self.store, self.room)
                self._version, self._at = version, now
            return self._counts
