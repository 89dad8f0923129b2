"""The disposal-eligibility report: retention periods counted from 1 January after the year."""

from __future__ import annotations

import csv
import io
from datetime import date

import httpx

from daemon.reconcile.retention import eligible_from
from tests.support.catalogue import item_body
from tests.support.room import Room

RECORDS = {
    "D10-2013": {"retention": "D10", "year": 2013},  # kept through 2023
    "D10-2014": {"retention": "D10", "year": 2014},  # kept through 2024
    "D30-1990": {"retention": "D30", "year": 1990},  # kept through 2020
    "D30-2000": {"retention": "D30", "year": 2000},  # kept through 2030
    "Y-1950": {"retention": "Y", "year": 1950},  # permanent
}


def test_retention_period_starts_the_year_after() -> None:
    assert eligible_from(2013, "D10") == date(2024, 1, 1)
    assert eligible_from(1990, "D30") == date(2021, 1, 1)
    assert eligible_from(1950, "Y") is None


async def _records(client: httpx.AsyncClient) -> None:
    for ref, fields in RECORDS.items():
        r = await client.put(f"/api/v1/items/{ref}", json=item_body(**fields))
        assert r.status_code == 201
    r = await client.put("/api/v1/items/D10-NO-YEAR", json=item_body(retention="D10", year=None))
    assert r.status_code == 201


async def test_records_past_their_period_are_listed_with_place_and_loan(
    room: Room, staff: httpx.AsyncClient
) -> None:
    await _records(staff)
    moved = await staff.post("/api/v1/items/D30-1990/move", json={"to": "r1-A-02-01"})
    assert moved.status_code == 200
    loan = await staff.post(
        "/api/v1/loans", json={"ref": "D10-2013", "borrower": "Li Na", "purpose": "appraisal"}
    )
    assert loan.status_code == 201

    report = (await staff.get("/api/v1/retention/eligible", params={"on": "2024-06-01"})).json()
    assert report["on"] == "2024-06-01"
    by_ref = {i["ref"]: i for i in report["items"]}
    assert set(by_ref) == {"D10-2013", "D30-1990"}
    assert by_ref["D10-2013"]["eligible_from"] == "2024-01-01"
    assert by_ref["D10-2013"]["loan_id"] == loan.json()["id"]
    assert by_ref["D10-2013"]["loan_due"] == loan.json()["due"]
    assert by_ref["D30-1990"]["location"] == "r1-A-02-01"
    assert by_ref["D30-1990"]["location_kind"] == "level"
    assert by_ref["D30-1990"]["loan_id"] is None

    day_before = (await staff.get("/api/v1/retention/eligible", params={"on": "2023-12-31"})).json()
    assert [i["ref"] for i in day_before["items"]] == ["D30-1990"]
    far_future = (await staff.get("/api/v1/retention/eligible", params={"on": "2999-01-01"})).json()
    assert {i["ref"] for i in far_future["items"]} == set(RECORDS) - {"Y-1950"}


async def test_eligibility_report_as_csv(room: Room, staff: httpx.AsyncClient) -> None:
    await _records(staff)
    r = await staff.get("/api/v1/retention/eligible", params={"on": "2024-06-01", "format": "csv"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="retention-2024-06-01.csv"' in r.headers["content-disposition"]
    lines = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["ref"], x["retention"], x["year"], x["eligible_from"]) for x in lines] == [
        ("D10-2013", "D10", "2013", "2024-01-01"),
        ("D30-1990", "D30", "1990", "2021-01-01"),
    ]
    assert lines[0]["location"] == ""
