"""Shelf moves per hour in a still room, under the physical model's fading.

A bay of four shelves (``simulators/shelf_model.py``: one antenna above each shelf, neighbours
heard through the boards and by reflections), five boxes per shelf, one pushed to the front edge
between two shelves, one taken off for five minutes and put back, for a simulated hour per seed.
Nothing moves in the room, so every ``LocationChanged`` the shelf engine reports is a false
move. Printed per reader kind (with RSSI, without) and shelf board loss.

    python -m bench shelf_stillness -- [--seeds 3] [--margin 2.0]
"""

from __future__ import annotations

import argparse

from rfid.config import ShelfEngineConfig
from rfid.shelf import LocationChanged, ShelfEngine
from simulators.shelf_model import RoundDone, ShelfModel, ShelfSite, ShelfTag

HOUR = 3600.0


def _bay() -> list[ShelfTag]:
    tags = [
        ShelfTag(
            f"E2801160600007{shelf:02d}{i:08X}",
            shelf,
            x=-0.4 + 0.2 * i,
            depth=0.1 + 0.03 * i,
            height=0.05 + 0.04 * i,
        )
        for shelf in range(1, 5)
        for i in range(5)
    ]
    tags.append(ShelfTag("E28011606000070000000100", 2, x=0.3, depth=-0.05, height=0.35, edge=0.5))
    tags.append(ShelfTag("E28011606000070000000101", 3, x=0.0, away=((600.0, 900.0),)))
    return tags


def _moves(site: ShelfSite, config: ShelfEngineConfig, seed: int) -> int:
    tags = _bay()
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
    args, _ = parser.parse_known_args(argv)
    config = ShelfEngineConfig(margin=args.margin)
    for rssi in (True, False):
        for board_db in (12.0, 20.0):
            site = ShelfSite(board_db=board_db, rssi=rssi)
            per_seed = [_moves(site, config, seed) for seed in range(1, args.seeds + 1)]
            kind = "rssi" if rssi else "no_rssi"
            print(
                f"shelf_moves_per_hour_{kind}_board_{board_db:.0f}db: "
                f"{sum(per_seed) / len(per_seed):.1f} (per seed {per_seed}, margin {args.margin})"
            )
    return 0
