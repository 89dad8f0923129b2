"""The desk's day over real HTTP, on each database: the indexed search with its pages and total,
the loans list's filters, pages and CSV export, a cart checked out and returned at once, and the
alarms list's pages and filters."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import httpx
from sqlalchemy import update

from daemon.store.schema import loans
from daemon.tokens import Role
from tests.support.catalogue import item_body
from tests.support.room import Room

TOTAL = "x-total-count"


async def _items(staff: httpx.AsyncClient, *refs: str, **fields: object) -> None:
    for ref in refs:
        r = await staff.put(f"/api/v1/items/{ref}", json=item_body(**fields))
        assert r.status_code in (200, 201), r.text


def _loan(ref: str, borrower: str = "Li Na, pensions office", **kw: object) -> dict[str, object]:
    return {"ref": ref, "borrower": borrower, "purpose": "appeal review", **kw}


# -- search -----------------------------------------------------------------------------------


async def test_search_pages_with_a_total_and_the_exact_reference_first(room: Room) -> None:
    refs = [f"0001-WS·2023-D30-RS-{n:04d}" for n in range(1, 13)]
    async with room.client(Role.staff) as staff:
        await _items(staff, *refs, title="Pension approval")
        await _items(staff, "X-0001-WS·2023-D30-RS-0010", title="A copy of RS-0010's approval")
        r = await staff.get("/api/v1/search", params={"q": "RS-001", "limit": 2})
        assert r.status_code == 200
        assert r.headers[TOTAL] == "4"  # RS-0010, -0011, -0012 and the copy
        first = [h["ref"] for h in r.json()]
        assert first == refs[9:11]
        r = await staff.get("/api/v1/search", params={"q": "RS-001", "limit": 2, "offset": 2})
        assert [h["ref"] for h in r.json()] == [refs[11], "X-0001-WS·2023-D30-RS-0010"]
        r = await staff.get("/api/v1/search", params={"q": "RS-0010"})
        assert [h["ref"] for h in r.json()] == [refs[9], "X-0001-WS·2023-D30-RS-0010"]
        r = await staff.get("/api/v1/search", params={"q": "x-0001-ws·2023-d30-rs-0010"})
        assert r.json()[0]["ref"] == "X-0001-WS·2023-D30-RS-0010"
        r = await staff.get("/api/v1/search", params={"q": "approval", "offset": 50})
        assert r.headers[TOTAL] == "13"
        assert r.json() == []


async def test_search_index_follows_renamed_titles_and_rebound_tags(room: Room) -> None:
    async with room.client(Role.staff) as staff:
        await _items(staff, "BOX-1", title="Wage arrears complaint")
        assert [h["ref"] for h in (await staff.get("/api/v1/search?q=arrears")).json()] == ["BOX-1"]
        await _items(staff, "BOX-1", title="Pension transfer")
        assert (await staff.get("/api/v1/search?q=arrears")).json() == []
        assert (await staff.get("/api/v1/search?q=transfer")).headers[TOTAL] == "1"
        epc = "E28011606000020000001234"
        assert (await staff.post("/api/v1/items/BOX-1/tag", json={"epc": epc})).status_code == 201
        hits = (await staff.get("/api/v1/search?q=001234")).json()
        assert [(h["ref"], h["matched"], h["epc"]) for h in hits] == [("BOX-1", "epc", epc)]
        assert (await staff.delete("/api/v1/items/BOX-1/tag")).status_code == 200
        assert (await staff.get("/api/v1/search?q=001234")).json() == []


async def test_search_refuses_nul_and_blank_text_with_422(room: Room) -> None:
    async with room.client(Role.staff) as staff:
        await _items(staff, "BOX-1")
        for q in ("BOX\x00-1", "\x00\x00", "   "):
            r = await staff.get("/api/v1/search", params={"q": q})
            assert r.status_code == 422, (q, r.text)
        assert (
            await staff.get("/api/v1/search", params={"q": "BOX-1", "offset": -1})
        ).status_code == 422


# -- loans ------------------------------------------------------------------------------------


async def test_loans_filter_by_borrower_category_and_due_date_and_page(room: Room) -> None:
    today = date.today()
    async with room.client(Role.staff) as staff:
        await _items(staff, "P-1", "P-2", category="social insurance")
        await _items(staff, "A-1", category="labour arbitration")
        for ref, who, days in (("P-1", "Li Na", 3), ("P-2", "Wang Fang", 10), ("A-1", "li na", 20)):
            due = (today + timedelta(days=days)).isoformat()
            assert (await staff.post("/api/v1/loans", json=_loan(ref, who, due=due))).is_success

        async def refs(**params: str | int) -> tuple[list[str], str]:
            r = await staff.get("/api/v1/loans", params=params)
            assert r.status_code == 200, r.text
            return [loan["ref"] for loan in r.json()], r.headers[TOTAL]

        assert await refs() == (["A-1", "P-2", "P-1"], "3")  # the default: all, newest first
        assert await refs(borrower="LI N") == (["A-1", "P-1"], "2")
        assert await refs(category="social insurance") == (["P-2", "P-1"], "2")
        due_to = (today + timedelta(days=10)).isoformat()
        assert await refs(due_to=due_to) == (["P-2", "P-1"], "2")
        assert await refs(due_from=due_to, status="open") == (["A-1", "P-2"], "2")
        assert await refs(limit=1, offset=1) == (["P-2"], "3")
        assert await refs(borrower="%") == ([], "0")
        r = await staff.get("/api/v1/loans", params={"due_from": "tomorrow"})
        assert r.status_code == 422


async def test_loans_csv_export_neutralises_formula_cells(room: Room) -> None:
    async with room.client(Role.staff) as staff:
        await _items(staff, "BOX-1", "BOX-2", "BOX-3")
        hostile = ['=HYPERLINK("http://x")', "+1+1", "@SUM(A1)"]
        for ref, borrower in zip(("BOX-1", "BOX-2", "BOX-3"), hostile, strict=True):
            assert (await staff.post("/api/v1/loans", json=_loan(ref, borrower))).is_success
        r = await staff.get("/api/v1/loans/export", params={"status": "open"})
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert sorted(row["borrower"] for row in rows) == sorted("'" + b for b in hostile)
        assert {row["status"] for row in rows} == {"open"}
        assert all(row["ref"].startswith("BOX-") for row in rows)
        r = await staff.get("/api/v1/loans/export", params={"status": "returned"})
        assert r.text.splitlines() == [r.text.splitlines()[0]]  # the header alone


async def test_overdue_loans_are_listed_as_overdue(room: Room) -> None:
    async with room.client(Role.staff) as staff:
        await _items(staff, "BOX-1", "BOX-2")
        late = (await staff.post("/api/v1/loans", json=_loan("BOX-1"))).json()
        assert (await staff.post("/api/v1/loans", json=_loan("BOX-2"))).is_success
        async with room.daemon_store() as store, store.write() as conn:
            past = (date.today() - timedelta(days=2)).isoformat()
            await conn.execute(update(loans).where(loans.c.id == late["id"]).values(due=past))
        r = await staff.get("/api/v1/loans", params={"status": "overdue"})
        assert [(x["ref"], x["status"]) for x in r.json()] == [("BOX-1", "overdue")]
        assert r.headers[TOTAL] == "1"


# -- the cart ---------------------------------------------------------------------------------


async def test_a_cart_is_checked_out_and_returned_with_one_result_per_box(room: Room) -> None:
    async with room.client(Role.staff) as staff:
        await _items(staff, "BOX-1", "BOX-2", "BOX-3")
        assert (await staff.post("/api/v1/loans", json=_loan("BOX-2"))).is_success
        body = {"refs": ["BOX-1", "BOX-2", "NOPE", "BOX-3", "BOX-1"], **_loan("")}
        del body["ref"]
        r = await staff.post("/api/v1/loans/batch", json=body)
        assert r.status_code == 200, r.text
        out = r.json()
        assert (out["done"], out["refused"]) == (2, 2)
        got = [(x["ref"], x["outcome"]) for x in out["results"]]
        assert got == [
            ("BOX-1", "done"),
            ("BOX-2", "refused"),
            ("NOPE", "refused"),
            ("BOX-3", "done"),
        ]
        reasons = {x["ref"]: x["reason"] for x in out["results"]}
        assert "already on loan" in reasons["BOX-2"]
        assert "no catalogue record" in reasons["NOPE"]
        open_now = (await staff.get("/api/v1/loans", params={"status": "open"})).json()
        assert sorted(x["ref"] for x in open_now) == ["BOX-1", "BOX-2", "BOX-3"]

        r = await staff.post("/api/v1/loans/returns", json={"refs": ["BOX-1", "BOX-3", "NOPE"]})
        assert r.status_code == 200, r.text
        got = [(x["ref"], x["outcome"]) for x in r.json()["results"]]
        assert got == [("BOX-1", "done"), ("BOX-3", "done"), ("NOPE", "refused")]
        r = await staff.post("/api/v1/loans/returns", json={"refs": ["BOX-1"]})
        assert r.json()["results"][0]["reason"] == "BOX-1 is not on loan"
        where = (await staff.get("/api/v1/items/BOX-3/location")).json()
        assert where["location"]["code"] == "r1-desk"


async def test_a_cart_request_is_refused_when_it_names_no_boxes_or_an_unknown_reader(
    room: Room,
) -> None:
    slip = {"borrower": "Li Na", "purpose": "review"}
    async with room.client(Role.staff) as staff:
        for body in (
            slip,
            {**slip, "refs": []},
            {**slip, "refs": ["BOX-1"], "reader": "desk-1"},
            {**slip, "refs": ["x" * 101]},
            {**slip, "refs": [f"B-{n}" for n in range(501)]},
        ):
            r = await staff.post("/api/v1/loans/batch", json=body)
            assert r.status_code == 422, body
        r = await staff.post("/api/v1/loans/batch", json={**slip, "reader": "desk-9"})
        assert r.status_code == 404
        assert "desk-9" in r.json()["detail"]
        assert (
            await staff.post("/api/v1/loans/returns", json={"reader": "desk-9"})
        ).status_code == 404
        assert (await staff.get("/api/v1/desk/desk-9/boxes")).status_code == 404
        r = await staff.post("/api/v1/loans/batch", json={"refs": ["BOX-1"]})
        assert r.status_code == 422  # no borrower, no purpose


# -- alarms -----------------------------------------------------------------------------------


async def test_alarms_page_and_filter_by_state_and_kind(room: Room) -> None:
    alarms = room.services.alarms
    for n in range(5):
        await alarms.raise_(f"gate-{n}", kind="gate.unauthorized", source="door-1", message="out")
    await alarms.raise_("rd", kind="reader.down", source="shelf-1", message="down")
    await alarms.raise_("cl", kind="climate.humidity-high", source="s1", message="wet")
    gate_ids = []
    async with room.client(Role.staff) as staff:
        r = await staff.get("/api/v1/alarms", params={"limit": 3})
        assert (len(r.json()), r.headers[TOTAL]) == (3, "7")
        r = await staff.get("/api/v1/alarms", params={"group": "gate", "limit": 2, "offset": 4})
        assert (len(r.json()), r.headers[TOTAL]) == (1, "5")
        r = await staff.get("/api/v1/alarms", params={"group": "gate"})
        gate_ids = [a["id"] for a in r.json()]
        assert (await staff.post(f"/api/v1/alarms/{gate_ids[0]}/ack")).is_success
        r = await staff.get("/api/v1/alarms", params={"state": "ended", "group": "gate"})
        ended = r.json()
        assert [a["id"] for a in ended] == [gate_ids[0]]
        assert ended[0]["acknowledged_by"] == "staff-r1"
        assert ended[0]["acknowledged_at"] is not None
        r = await staff.get("/api/v1/alarms", params={"state": "unacknowledged"})
        assert r.headers[TOTAL] == "6"
        r = await staff.get("/api/v1/alarms", params={"group": "climate", "state": "all"})
        assert [a["kind"] for a in r.json()] == ["climate.humidity-high"]
        r = await staff.get("/api/v1/alarms", params={"kind": "reader.down"})
        assert r.headers[TOTAL] == "1"
        assert (await staff.get("/api/v1/alarms", params={"group": "nope"})).status_code == 422


async def test_search_finds_exactly_the_items_that_contain_the_text(room: Room) -> None:
    """Whatever part of the text the index is asked for, the answer is the items whose
    reference or title contains the whole text (any case), the same on both databases."""
    catalogue = {
        "0001-WS·2023-D30-RS-0012345": "养老保险待遇审批表 张三",
        "0001-WS·2023-D30-RS-0012346": "Pension approval, Zhang San",
        "0001-WS·2024-Y-RS-0112345": "工伤认定 12345 号",
        "0002-WS·2023-D30-LD-0012345": "Labour arbitration, case 0012345",
        "0001-WS·2023-D10-RS-0000001": "File 12345 of the pensions office",
        "X-0001-WS·2023-D30-RS-0012345": "copy of 0001-WS·2023-D30-RS-0012345",
    }
    queries = [
        "0001-WS·2023-D30-RS-0012345",
        "0001-ws·2023-d30-rs-001234",
        "RS-0012345",
        "0012345",
        "12345",
        "FILE 12345 OF",
        "zhang san",
        "养老保险待遇审批表",
        "审批表 张三",
        "WS·2023-D30-",
        "-0000001",
        "of the pensions office",
    ]
    async with room.client(Role.staff) as staff:
        for ref, title in catalogue.items():
            await _items(staff, ref, title=title)
        for q in queries:
            r = await staff.get("/api/v1/search", params={"q": q, "limit": 200})
            assert r.status_code == 200, r.text
            expected = {
                ref
                for ref, title in catalogue.items()
                if q.lower() in ref.lower() or q.lower() in title.lower()
            }
            assert {hit["ref"] for hit in r.json()} == expected, q
            assert r.headers[TOTAL] == str(len(expected)), q
