"""Reconciliation runs through the API: request one, wait for it, read its rows; and the shelf
reads that place items before a run."""

from __future__ import annotations

import httpx

from tests.support.catalogue import located_at
from tests.support.poll import eventually
from tests.support.room import SHELF_1, SHELF_2, Room

SHELVES = {1: SHELF_1, 2: SHELF_2}
"""The shelf each antenna of the reader room's shelf reader watches."""


async def read_on_shelf(
    rig: Room, client: httpx.AsyncClient, ref: str, epc: str, antenna: int
) -> None:
    """The shelf reader reads ``ref``'s tag ``epc`` on ``antenna``; returns once the records
    place ``ref`` on the shelf that antenna watches."""
    rig.shelf.reader.place(antenna, epc)
    await located_at(client, ref, SHELVES[antenna])


async def reconcile(client: httpx.AsyncClient, timeout: float = 60.0) -> dict[str, object]:
    """Request a run through the API and wait for it to finish (``done``)."""
    r = await client.post("/api/v1/reconciliations")
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]

    async def finished() -> dict[str, object] | None:
        run: dict[str, object] = (await client.get(f"/api/v1/reconciliations/{run_id}")).json()
        return run if run["state"] in ("done", "failed") else None

    run = await eventually(finished, timeout=timeout, interval=0.1, what=f"run {run_id} finished")
    assert run["state"] == "done", run
    return run


async def rows(
    client: httpx.AsyncClient, run_id: object, discrepancy: str | None = None
) -> list[dict[str, object]]:
    """The rows of run ``run_id`` (of one ``discrepancy`` kind)."""
    params = {"discrepancy": discrepancy} if discrepancy else {}
    r = await client.get(f"/api/v1/reconciliations/{run_id}/rows", params=params)
    assert r.status_code == 200, r.text
    found: list[dict[str, object]] = r.json()["rows"]
    return found
