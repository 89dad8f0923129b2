"""A run over records placed through the API, on SQLite and on PostgreSQL alike, and the same
run from the command line while the daemon is running."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
from pathlib import Path

import httpx

from tests import harness
from tests.support.catalogue import VALID_RESIDENT_ID, item_body, moved
from tests.support.reconcile import reconcile, rows
from tests.support.room import Room

EPCS = {
    "BOX-M": "E28011606000020000000101",
    "BOX-L": "E28011606000020000000102",
    "BOX-P": "E28011606000020000000103",
    "FILE-P": "E28011606000020000000104",
}
OTHER_RESIDENT_ID = "110105198001010016"


async def _records(client: httpx.AsyncClient, catalogue: httpx.AsyncClient) -> None:
    """One discrepancy of each class the API alone can produce (the readers make the rest)."""
    bodies = {
        "BOX-U": item_body(home_location="r1-A-01-01"),
        "BOX-M": item_body(home_location="r1-A-01-01"),
        "BOX-L": item_body(home_location="r1-A-03-01"),
        "BOX-P": item_body(home_location="r1-A-01-02"),
        "FILE-P": item_body(kind="file", parent_ref="BOX-P"),
        "BOX-K": item_body(resident_id=VALID_RESIDENT_ID),
    }
    for ref, body in bodies.items():
        assert (await client.put(f"/api/v1/items/{ref}", json=body)).status_code == 201
    for ref, epc in EPCS.items():
        assert (await client.post(f"/api/v1/items/{ref}/tag", json={"epc": epc})).status_code == 201
    for ref, to in (
        ("BOX-M", "r1-A-02-01"),
        ("BOX-L", "r1-A-03-01"),
        ("BOX-P", "r1-A-01-02"),
        ("FILE-P", "r1-A-03-02"),
    ):
        await moved(client, ref, to)
    loan = {"ref": "BOX-L", "borrower": "Li Na", "purpose": "audit"}
    assert (await client.post("/api/v1/loans", json=loan)).status_code == 201
    copy = {"resident_id": OTHER_RESIDENT_ID}
    assert (await catalogue.put("/api/v1/catalogue-copies/BOX-K", json=copy)).status_code == 200


async def test_run_finds_each_class_on_either_database(
    room: Room, staff: httpx.AsyncClient, catalogue: httpx.AsyncClient
) -> None:
    await _records(staff, catalogue)
    run = await reconcile(staff)
    assert run["items_checked"] == 6
    assert run["tags_checked"] == 4
    found = {(r["discrepancy"], r["ref"]): r for r in await rows(staff, run["id"])}
    assert set(found) == {
        ("untagged", "BOX-U"),
        ("misplaced", "BOX-M"),
        ("on_loan_on_shelf", "BOX-L"),
        ("file_outside_box", "FILE-P"),
        ("untagged", "BOX-K"),
        ("key_field_mismatch", "BOX-K"),
    }
    assert found["misplaced", "BOX-M"]["detail"] == "located at r1-A-02-01 (manual)"
    assert found["file_outside_box", "FILE-P"]["expected"] == "r1-A-01-02"
    assert found["file_outside_box", "FILE-P"]["seen"] == "r1-A-03-02"
    assert found["key_field_mismatch", "BOX-K"]["detail"] == "resident_id"


async def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The command in a thread: the daemon under test shares this event loop."""
    return await asyncio.to_thread(harness.run_cli, *args)


async def test_command_line_runs_and_exports_while_the_daemon_runs(
    room: Room, staff: httpx.AsyncClient, catalogue: httpx.AsyncClient, tmp_path: Path
) -> None:
    await _records(staff, catalogue)
    config = str(tmp_path / "r1" / "archroom.toml")
    done = await run_cli("reconcile", "run", "-c", config)
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert first.startswith("run 1 (done) room r1: 6 items, 4 tags, 6 discrepancies"), first
    assert "  untagged: 2" in done.stdout
    assert "  key_field_mismatch: 1" in done.stdout

    listed = await run_cli("reconcile", "list", "-c", config)
    assert listed.stdout.split("\t")[:2] == ["1", "done"]
    shown = await run_cli("reconcile", "show", "1", "-c", config)
    assert "misplaced\tBOX-M\tr1-A-01-01 -> r1-A-02-01" in shown.stdout

    out = tmp_path / "report.csv"
    exported_csv = await run_cli("reconcile", "export", "1", "-o", str(out), "-c", config)
    assert exported_csv.returncode == 0
    exported = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(exported) == 6
    api_report = (await staff.get("/api/v1/reconciliations/1/report")).text
    assert out.read_bytes().decode() == api_report
    exported_json = await run_cli("reconcile", "export", "1", "--format", "json", "-c", config)
    as_json = json.loads(exported_json.stdout)
    assert as_json["run"] == (await staff.get("/api/v1/reconciliations/1")).json()

    eligible = await run_cli("reconcile", "retention", "--on", "2099-01-01", "-c", config)
    assert eligible.stdout.splitlines()[0].startswith("ref,title,category,kind,year,retention")
    assert len(eligible.stdout.splitlines()) == 7  # every D30 record of 2023, and the header

    missing = await run_cli("reconcile", "show", "99", "-c", config)
    assert missing.returncode == 1
    assert "no reconciliation run 99 in room r1" in missing.stderr
    no_config = await run_cli("reconcile", "run", "-c", str(tmp_path / "nope.toml"))
    assert no_config.returncode == 1
