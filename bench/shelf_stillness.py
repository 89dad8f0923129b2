"""Shelf moves per hour in a still room, under the physical model's fading.

A bay of four shelves (``simulators/shelf_model.py``: one antenna above each shelf, neighbours
heard through the boards and by reflections), five boxes per shelf, one pushed to the front edge
between two shelves, one taken off for five minutes and put back, for a simulated hour per seed.
Nothing moves in the room, so every ``LocationChanged`` the shelf engine reports is a false
move. Printed per reader kind (with RSSI, without) and shelf board loss.

Then a real move, per reader kind and board loss: a box is taken off shelf 1 at 1200 s and put
on shelf 3 (two boards away) 5 s later, another off shelf 2 and onto shelf 3 (the next one,
whose antenna heard it as a neighbour all along): the seconds from the box being taken off to
the engine's ``LocationChanged`` (``never`` if it is not followed within ten minutes). A sweep
of the bay takes a second.

    python -m bench shelf_stillness -- [--seeds 3] [--margin 2.0]
        [--absent-sweeps-without-rssi 10] [--only rssi|no_rssi] [--no-moves]
"""

from __future__ import annotations

import argparse

from rfid.config import ShelfEngineConfig
from rfid.shelf import LocationChanged, ShelfEngine
from simulators.shelf_model import RoundDone, ShelfModel, ShelfSite, ShelfTag, still_bay

HOUR = 3600.0


TAKEN_OFF = 1200.0
PUT_DOWN = 1205.0
FAR_MOVE = "E28011606000070000000102"
NEXT_MOVE = "E28011606000070000000103"


def _moved_bay() -> list[ShelfTag]:
    return [
        *still_bay(),
        ShelfTag(FAR_MOVE, 1, x=0.1, away=((TAKEN_OFF, HOUR),)),
        ShelfTag(FAR_MOVE, 3, x=-0.1, away=((0.0, PUT_DOWN),)),
        ShelfTag(NEXT_MOVE, 2, x=-0.3, away=((TAKEN_OFF, HOUR),)),
        ShelfTag(NEXT_MOVE, 3, x=0.35, away=((0.0, PUT_DOWN),)),
    ]


def _delays(site: ShelfSite, config: ShelfEngineConfig, seed: int) -> dict[str, float | None]:
    """Seconds from taking the box off to the move, per moved box (None: not followed)."""
    tags = _moved_bay()
    engine = ShelfEngine({(site.reader, a): f"L{a}" for a in range(1, site.shelves + 1)}, config)
    homes: dict[str, str] = {}
    for t in tags:
        homes.setdefault(t.epc, f"L{t.shelf}")
    engine.expect_many(homes.items(), assume=True)
    found: dict[str, float | None] = {FAR_MOVE: None, NEXT_MOVE: None}
    for event in ShelfModel(site).stream(tags, PUT_DOWN + 600.0, seed):
        if isinstance(event, RoundDone):
            decisions = engine.round_done(event.reader, event.antenna, event.t)
        else:
            decisions = engine.observe(event)
        for d in decisions:
            if (
                isinstance(d, LocationChanged)
                and d.location == "L3"
                and d.epc in found
                and found[d.epc] is None
            ):
                found[d.epc] = d.at - TAKEN_OFF
    return found


def _moves(site: ShelfSite, config: ShelfEngineConfig, seed: int) -> int:
    tags = still_bay()
    engine = ShelfEngine({(site.reader, a): f"L{a}" for a in range(1, site.shelves + 1)}, config)
    engine.expect_many(((t.epc, f"L{t.shelf}") for t in tags), assume=True)
    moves = 0
    for event in ShelfModel(site).stream(tags, HOUR, seed):
        if isinstance(event, RoundDone):
            decisions = engine.round_done(event.reader, event.antenna, event.t)
        else:
            decisions = engine.observe(event)
        moves += sum(1 for d in decisions if isinstance(d, LocationChanged))
    return moves


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench shelf_stillness", description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--margin", type=float, default=ShelfEngineConfig().margin)
    parser.add_argument(
        "--absent-sweeps-without-rssi",
        type=int,
        default=ShelfEngineConfig().absent_sweeps_without_rssi,
    )
    parser.add_argument("--no-moves", action="store_true", help="skip the real moves")
    parser.add_argument("--only", choices=("rssi", "no_rssi"), help="one kind of reader")
    args, _ = parser.parse_known_args(argv)
    config = ShelfEngineConfig(
        margin=args.margin,
        absent_sweeps_without_rssi=args.absent_sweeps_without_rssi,
    )
    margins = f"margin {args.margin}, absent_sweeps_without_rssi {args.absent_sweeps_without_rssi}"
    seeds = range(1, args.seeds + 1)
    kinds = {"rssi": (True,), "no_rssi": (False,), None: (True, False)}[args.only]
    for rssi in kinds:
        for board_db in (12.0, 20.0):
            site = ShelfSite(board_db=board_db, rssi=rssi)
            kind = f"{'rssi' if rssi else 'no_rssi'}_board_{board_db:.0f}db"
            per_seed = [_moves(site, config, seed) for seed in seeds]
            print(
                f"shelf_moves_per_hour_{kind}: "
                f"{sum(per_seed) / len(per_seed):.1f} (per seed {per_seed}, {margins})"
            )
            if args.no_moves:
                continue
            for box, name in ((FAR_MOVE, "two_shelves"), (NEXT_MOVE, "next_shelf")):
                delays = [_delays(site, config, seed)[box] for seed in seeds]
                shown = ", ".join("never" if d is None else f"{d:.1f}" for d in delays)
                followed = [d for d in delays if d is not None]
                worst = f"{max(followed):.1f} s" if len(followed) == len(delays) else "never"
                print(f"shelf_real_move_{name}_{kind}: {worst} worst (per seed {shown})")
    return 0
