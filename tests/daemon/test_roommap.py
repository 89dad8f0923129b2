"""The room map's plan: one grid per rack side and stacker aisle side, every cell named by the
location code the rest of the daemon uses, and the item's place and home marked."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from daemon.config import RackConfig
from daemon.roommap import rack_sections, render_svg, stacker_sections
from stacker.config import StackerConfig

SVG = "{http://www.w3.org/2000/svg}"


def _rects(svg: str) -> dict[str, dict[str, str]]:
    return {r.attrib["data-code"]: r.attrib for r in ET.fromstring(svg).iter(f"{SVG}rect")}


def test_double_sided_rack_gives_one_grid_per_side_with_shelf_codes() -> None:
    sections = rack_sections("r9", [RackConfig(id="B", bays="2-4", levels=3, sides=["L", "R"])])
    assert [s.key for s in sections] == ["rack-B-L", "rack-B-R"]
    codes = {c.code for s in sections for c in s.cells}
    assert len(codes) == 2 * 3 * 3
    assert "r9-B-L-02-01" in codes
    assert "r9-B-R-04-03" in codes
    top_left = next(c for c in sections[0].cells if c.column == 0 and c.row == 0)
    assert top_left.code == "r9-B-L-02-03"  # level 3 is drawn at the top


def test_double_deep_stacker_cells_are_split_in_outer_and_inner_halves() -> None:
    config = StackerConfig(url="tcp://plc:502", aisles=1, sides=2, bays=3, levels=2, depths=2)
    sections = stacker_sections("r9", config)
    cells = [c for s in sections for c in s.cells if c.kind == "stacker-cell"]
    assert len(cells) == 2 * 3 * 2 * 2
    svg = render_svg(sections, {})
    rects = _rects(svg)
    outer, inner = rects["r9-S12-03-02-1"], rects["r9-S12-03-02-2"]
    assert outer["y"] == inner["y"]
    assert float(inner["x"]) > float(outer["x"])
    assert float(outer["width"]) < 36
    assert rects["r9-station-io-1"]["class"] == "cell station"


def test_here_and_home_marks_and_counts() -> None:
    sections = rack_sections("r9", [RackConfig(id="A", bays=3, levels=2)])
    svg = render_svg(sections, {"r9-A-01-01": 3}, here="r9-A-01-01", home="r9-A-02")
    rects = _rects(svg)
    assert rects["r9-A-01-01"]["class"].split() == ["cell", "level", "occupied", "here"]
    assert rects["r9-A-01-01"]["data-count"] == "3"
    assert {c for c, r in rects.items() if "home" in r["class"]} == {"r9-A-02-01", "r9-A-02-02"}
    assert "r9-A-02-01" in svg
    assert not any("here" in r["class"] for c, r in rects.items() if c != "r9-A-01-01")


def test_text_in_the_map_is_escaped() -> None:
    sections = rack_sections("r9", [RackConfig(id="A", bays=1, levels=1)])
    svg = render_svg(sections, {}, title='<script>"x"</script>')
    assert "<script>" not in svg
    ET.fromstring(svg)  # still well-formed
