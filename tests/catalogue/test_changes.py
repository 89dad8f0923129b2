"""The change feed the catalogue service follows: every change once, in commit order."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from daemon.ledger.changes import Cursor
from daemon.tokens import Role
from tests.support.catalogue import item_body
from tests.support.room import Room

EPC = "E28011606000020000000201"


async def follow(client: httpx.AsyncClient, since: str | None, limit: int = 1000) -> dict:  # type: ignore[type-arg]
    params: dict[str, str | int] = {"limit": limit}
    if since is not None:
        params["since"] = since
    r = await client.get("/api/v1/changes", params=params)
    assert r.status_code == 200, r.text
    page: dict = r.json()  # type: ignore[type-arg]
    return page


async def everything(
    client: httpx.AsyncClient, since: str | None, limit: int
) -> tuple[list[dict], str]:  # type: ignore[type-arg]
    changes: list[dict] = []  # type: ignore[type-arg]
    while True:
        page = await follow(client, since, limit)
        changes.extend(page["changes"])
        since = page["next"]
        if not page["more"]:
            return changes, since


async def test_feed_lists_item_tag_location_and_loan_changes_in_order(
    staff: httpx.AsyncClient, catalogue: httpx.AsyncClient
) -> None:
    assert (await staff.put("/api/v1/items/BOX-1", json=item_body())).status_code == 201
    assert (await staff.post("/api/v1/items/BOX-1/tag", json={"epc": EPC})).status_code == 201
    moved = await staff.post("/api/v1/items/BOX-1/move", json={"to": "r1-A-01-01"})
    assert moved.status_code == 200
    loan = await staff.post(
        "/api/v1/loans", json={"ref": "BOX-1", "borrower": "Li Na", "purpose": "audit"}
    )
    assert loan.status_code == 201
    back = await staff.post(f"/api/v1/loans/{loan.json()['id']}/return")
    assert back.status_code == 200
    assert (await staff.delete("/api/v1/items/BOX-1/tag")).status_code == 200

    page = await follow(catalogue, None)
    mine = [(c["kind"], c["action"]) for c in page["changes"] if c["ref"] == "BOX-1"]
    assert mine == [
        ("item", "item.created"),
        ("tag", "tag.bound"),
        ("location", "item.moved"),
        ("loan", "loan.opened"),
        ("location", "item.moved"),  # to the desk, in the check-out's transaction
        ("loan", "loan.returned"),
        ("tag", "tag.retired"),
    ]
    moves = [c["details"]["to"] for c in page["changes"] if c["kind"] == "location"]
    assert moves == ["r1-A-01-01", "r1-desk"]  # checked out at the desk
    tags = [c for c in page["changes"] if c["kind"] == "tag"]
    assert [c["epc"] for c in tags] == [EPC, EPC]
    seqs = [c["seq"] for c in page["changes"]]
    assert seqs == sorted(seqs)
    assert page["more"] is False
    again = await follow(catalogue, page["next"])
    assert again["changes"] == []
    assert again["next"] == page["next"]


async def test_pages_resume_inside_a_bulk_import_without_gap_or_repeat(
    staff: httpx.AsyncClient, catalogue: httpx.AsyncClient
) -> None:
    head = (await catalogue.get("/api/v1/changes/head")).json()["cursor"]
    lines = ["ref,title,retention"] + [f"IMP-{n:03},Box {n},D10" for n in range(25)]
    r = await staff.post(
        "/api/v1/items/import?wait=true",
        content="\n".join(lines),
        headers={"Content-Type": "text/csv"},
    )
    assert r.json()["loaded"] == 25
    assert (await staff.put("/api/v1/items/AFTER", json=item_body())).status_code == 201
    changes, _ = await everything(catalogue, head, limit=7)
    assert [c["ref"] for c in changes] == [f"IMP-{n:03}" for n in range(25)] + ["AFTER"]
    assert len({c["cursor"] for c in changes}) == len(changes)
    resumed = await follow(catalogue, changes[9]["cursor"], limit=3)
    assert [c["ref"] for c in resumed["changes"]] == ["IMP-010", "IMP-011", "IMP-012"]


async def test_concurrent_writers_are_delivered_once_each(
    room: Room, catalogue: httpx.AsyncClient
) -> None:
    """Writers racing while the follower reads: the union of its pages is every change, once."""
    head = (await catalogue.get("/api/v1/changes/head")).json()["cursor"]
    refs = [f"RACE-{n:03}" for n in range(40)]
    seen: list[dict] = []  # type: ignore[type-arg]
    done = asyncio.Event()

    async def writer(client: httpx.AsyncClient, mine: list[str]) -> None:
        for ref in mine:
            r = await client.put(f"/api/v1/items/{ref}", json=item_body())
            assert r.status_code == 201

    async def follower() -> None:
        since = head
        while True:
            finished = done.is_set()
            page = await follow(catalogue, since, limit=5)
            seen.extend(page["changes"])
            since = page["next"]
            if finished and not page["more"]:
                return
            await asyncio.sleep(0.01)

    async with (
        room.client(Role.staff) as a,
        room.client(Role.catalogue) as b,
    ):
        reader = asyncio.create_task(follower())
        await asyncio.gather(writer(a, refs[::2]), writer(b, refs[1::2]))
        done.set()
        await asyncio.wait_for(reader, 60)
    assert sorted(c["ref"] for c in seen) == refs
    assert [c["seq"] for c in seen] == sorted(c["seq"] for c in seen)


@pytest.mark.parametrize("cursor", ["nonsense", "c1", "c1!!!", "c1" + "A" * 70, "c1LTEuMA"])
async def test_a_cursor_the_feed_did_not_give_is_refused(
    catalogue: httpx.AsyncClient, cursor: str
) -> None:
    r = await catalogue.get("/api/v1/changes", params={"since": cursor})
    assert r.status_code == 422
    assert "since" in r.text


def test_cursor_round_trips() -> None:
    for c in (Cursor(1), Cursor(42, 7), Cursor(2**40, 0)):
        assert Cursor.decode(c.encode()) == c


async def test_feed_is_for_the_catalogue_service_and_the_admin(
    staff: httpx.AsyncClient, room: Room
) -> None:
    assert (await staff.get("/api/v1/changes")).status_code == 403
    async with room.client(Role.admin) as admin:
        assert (await admin.get("/api/v1/changes")).status_code == 200


async def test_item_history_names_each_tag_bound_and_retired(staff: httpx.AsyncClient) -> None:
    other = "E28011606000020000000202"
    assert (await staff.put("/api/v1/items/BOX-H", json=item_body())).status_code == 201
    assert (await staff.post("/api/v1/items/BOX-H/tag", json={"epc": EPC})).status_code == 201
    assert (await staff.delete("/api/v1/items/BOX-H/tag")).status_code == 200
    assert (await staff.post("/api/v1/items/BOX-H/tag", json={"epc": other})).status_code == 201
    history = (await staff.get("/api/v1/items/BOX-H/history")).json()
    entries = history["entries"] if isinstance(history, dict) else history
    tagging = [(e["kind"], e["details"]["epc"]) for e in entries if e["kind"].startswith("tag.")]
    assert tagging == [("tag.bound", EPC), ("tag.retired", EPC), ("tag.bound", other)]
