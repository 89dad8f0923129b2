"""Spot checks: the stratified, reproducible sample, and outcomes recorded by staff."""

from __future__ import annotations

import csv
import io
import random

import httpx
from hypothesis import given
from hypothesis import strategies as st

from daemon.reconcile.spotcheck import allocate, draw
from daemon.tokens import Role
from tests.support.catalogue import item_body
from tests.support.reconcile import reconcile
from tests.support.room import Room

CATEGORIES = ["personnel"] * 6 + ["pensions"] * 3 + ["labour arbitration"]


def test_sample_is_shared_in_proportion_to_category_sizes() -> None:
    # quotas 3, 1.5, 0.5: whole parts 3, 1, 0; the one left goes to the larger remainder,
    # a tie here, which the category first in name order wins.
    sizes = {"personnel": 6, "pensions": 3, "labour arbitration": 1}
    assert allocate(sizes, 5) == {"personnel": 3, "pensions": 1, "labour arbitration": 1}
    assert allocate(sizes, 1) == {"personnel": 1, "pensions": 0, "labour arbitration": 0}
    assert allocate(sizes, 50) == sizes
    assert allocate({}, 5) == {}
    assert allocate({"a": 0}, 5) == {"a": 0}


@given(
    st.dictionaries(st.text(min_size=1, max_size=5), st.integers(0, 10_000), max_size=12),
    st.integers(0, 20_000),
)
def test_allocation_never_exceeds_a_category_and_sums_to_the_sample(
    sizes: dict[str, int], n: int
) -> None:
    shares = allocate(sizes, n)
    assert set(shares) == set(sizes)
    assert all(0 <= shares[c] <= sizes[c] for c in sizes)
    assert sum(shares.values()) == min(n, sum(sizes.values()))
    total = sum(sizes.values())
    if total:
        for c, size in sizes.items():  # each within one of its exact quota
            assert abs(shares[c] - min(n, total) * size / total) < 1


@given(st.integers(0, 2**63 - 1), st.integers(0, 500), st.data())
def test_draw_is_distinct_sorted_and_repeatable(seed: int, size: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, size))
    picked = draw(random.Random(seed), size, k)
    assert picked == sorted(set(picked))
    assert len(picked) == k
    assert all(0 <= p < size for p in picked)
    assert draw(random.Random(seed), size, k) == picked


async def _catalogue(client: httpx.AsyncClient) -> list[str]:
    refs = []
    for i, category in enumerate(CATEGORIES):
        ref = f"BOX-{i:02d}"
        r = await client.put(
            f"/api/v1/items/{ref}", json=item_body(category=category, home_location="r1-A-01-01")
        )
        assert r.status_code == 201
        refs.append(ref)
    return refs


async def test_spot_check_is_stratified_and_redrawn_from_its_seed(
    room: Room, staff: httpx.AsyncClient
) -> None:
    refs = await _catalogue(staff)
    r = await staff.post("/api/v1/spot-checks", json={"size": 5, "seed": 42})
    assert r.status_code == 201, r.text
    check = r.json()
    assert check["seed"] == 42
    assert check["size"] == 5
    per_category: dict[str, int] = {}
    for item in check["items"]:
        per_category[item["category"]] = per_category.get(item["category"], 0) + 1
        assert item["expected"] == "r1-A-01-01"
        assert item["outcome"] is None
    assert per_category == {"personnel": 3, "pensions": 1, "labour arbitration": 1}

    # Anyone can redraw it: categories in name order, each drawn from its items in id order.
    rng = random.Random(42)
    expected = []
    for category, k in (("labour arbitration", 1), ("pensions", 1), ("personnel", 3)):
        members = [ref for ref, c in zip(refs, CATEGORIES, strict=True) if c == category]
        expected += [members[p] for p in sorted(rng.sample(range(len(members)), k))]
    assert [i["ref"] for i in check["items"]] == expected
    assert [i["position"] for i in check["items"]] == [1, 2, 3, 4, 5]

    again = (await staff.post("/api/v1/spot-checks", json={"size": 5, "seed": 42})).json()
    assert [i["ref"] for i in again["items"]] == expected
    unseeded = (await staff.post("/api/v1/spot-checks", json={"size": 5})).json()
    assert unseeded["seed"] >= 0
    assert (await staff.post("/api/v1/spot-checks", json={"size": 0})).status_code == 422
    assert (
        await staff.post("/api/v1/spot-checks", json={"size": 3, "run_id": 999})
    ).status_code == 404


async def test_outcomes_are_recorded_audited_and_join_the_run_report(
    room: Room, staff: httpx.AsyncClient
) -> None:
    await _catalogue(staff)
    run = await reconcile(staff)
    check = (await staff.post("/api/v1/spot-checks", json={"size": 4, "seed": 7})).json()
    assert check["run_id"] == run["id"]  # the room's latest run by default
    a, b, c, d = (i["ref"] for i in check["items"])
    url = f"/api/v1/spot-checks/{check['id']}/items"

    ok = await staff.put(f"{url}/{a}", json={"outcome": "found_as_recorded"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["recorded_by"] == "staff-r1"
    no_place = await staff.put(f"{url}/{b}", json={"outcome": "found_elsewhere"})
    assert no_place.status_code == 422
    assert "location" in no_place.json()["detail"]
    unknown_place = await staff.put(
        f"{url}/{b}", json={"outcome": "found_elsewhere", "location": "nowhere"}
    )
    assert unknown_place.status_code == 404
    elsewhere = await staff.put(
        f"{url}/{b}", json={"outcome": "found_elsewhere", "location": "r1-A-02-01"}
    )
    assert elsewhere.json()["found_at"] == "r1-A-02-01"
    await staff.put(f"{url}/{c}", json={"outcome": "not_found", "note": "shelf checked twice"})
    await staff.put(f"{url}/{d}", json={"outcome": "record_error", "note": "wrong year"})
    await staff.put(f"{url}/{d}", json={"outcome": "found_as_recorded"})  # corrected
    assert (await staff.put(f"{url}/NOT-SAMPLED", json={"outcome": "not_found"})).status_code == 404
    assert (await staff.put(f"{url}/{a}", json={"outcome": "lost"})).status_code == 422

    outcomes = (await staff.get(f"/api/v1/spot-checks/{check['id']}")).json()["outcomes"]
    assert outcomes == {
        "found_as_recorded": 2,
        "found_elsewhere": 1,
        "not_found": 1,
        "record_error": 0,
        "pending": 0,
    }
    audit = await room.audit(d)
    assert [(e["action"], e["actor"]) for e in audit if e["action"] == "spot_check.outcome"] == [
        ("spot_check.outcome", "staff-r1")
    ] * 2
    assert '"outcome":"record_error"' in audit[-2]["details"]

    summary = (await staff.get(f"/api/v1/reconciliations/{run['id']}")).json()["spot_checks"]
    assert summary == [{"id": check["id"], "seed": 7, "size": 4, "outcomes": outcomes}]
    report = (await staff.get(f"/api/v1/reconciliations/{run['id']}/report")).text
    lines = [r for r in csv.DictReader(io.StringIO(report)) if r["discrepancy"].startswith("spot")]
    assert [(r["ref"], r["discrepancy"]) for r in lines] == [
        (a, "spot_check:found_as_recorded"),
        (b, "spot_check:found_elsewhere"),
        (c, "spot_check:not_found"),
        (d, "spot_check:found_as_recorded"),
    ]
    assert lines[1]["seen"] == "r1-A-02-01"
    assert lines[2]["detail"] == f"spot check {check['id']}: shelf checked twice"


async def test_spot_checks_are_for_staff(room: Room) -> None:
    async with room.client(Role.catalogue) as catalogue:
        assert (await catalogue.post("/api/v1/spot-checks", json={"size": 1})).status_code == 403
