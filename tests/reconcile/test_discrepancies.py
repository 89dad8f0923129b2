"""Each discrepancy class, built through the real daemon: records through the API, tags read by
simulated shelf readers, loans through the API, the run requested through the API."""

from __future__ import annotations

import csv
import io
import json

from daemon.tokens import Role
from tests.support.catalogue import (
    VALID_CREDIT_CODE,
    VALID_RESIDENT_ID,
    catalogue_item,
    tagged,
)
from tests.support.poll import eventually
from tests.support.reconcile import read_on_shelf, reconcile, rows
from tests.support.room import SHELF_1, SHELF_2, Room

EPC_1 = "E28011606000020000000001"
EPC_2 = "E28011606000020000000002"
STRANGER = "E2801160600002000000BEEF"
OTHER_RESIDENT_ID = "110105198001010016"


async def test_box_where_it_belongs_is_no_discrepancy(rig: Room) -> None:
    async with rig.client() as staff:
        await tagged(staff, "BOX-OK", EPC_1, home_location=SHELF_1)
        await read_on_shelf(rig, staff, "BOX-OK", EPC_1, 1)
        run = await reconcile(staff)
        assert run["items_checked"] == 1
        assert run["tags_checked"] == 1
        assert run["discrepancies"] == 0
        assert await rows(staff, run["id"]) == []


async def test_catalogued_item_without_a_tag_is_untagged(rig: Room) -> None:
    async with rig.client() as staff:
        await catalogue_item(staff, "BOX-NEVER", home_location=SHELF_1)
        await tagged(staff, "BOX-RETIRED", EPC_1)
        assert (await staff.delete("/api/v1/items/BOX-RETIRED/tag")).status_code == 200
        run = await reconcile(staff)
        found = {r["ref"]: r for r in await rows(staff, run["id"], "untagged")}
        assert set(found) == {"BOX-NEVER", "BOX-RETIRED"}
        assert found["BOX-NEVER"]["detail"] == "never tagged"
        assert found["BOX-NEVER"]["expected"] == SHELF_1
        assert found["BOX-RETIRED"]["detail"] == "tag retired, none bound since"
        assert run["counts"] == {
            "untagged": 2,
            "missing": 0,
            "misplaced": 0,
            "on_loan_on_shelf": 0,
            "unknown_tag": 0,
            "file_outside_box": 0,
            "key_field_mismatch": 0,
            "no_electronic_record": 0,
            "no_paper_original": 0,
        }


async def test_box_no_longer_read_on_its_shelf_is_missing(rig: Room) -> None:
    async with rig.client() as staff:
        await tagged(staff, "BOX-GONE", EPC_1, home_location=SHELF_1)
        await read_on_shelf(rig, staff, "BOX-GONE", EPC_1, 1)
        assert rig.shelf.reader.remove(EPC_1)
        await rig.mqtt.wait_for("alarm.raised", kind="item.missing", subject="BOX-GONE")
        run = await reconcile(staff)
        [row] = await rows(staff, run["id"], "missing")
        assert row["ref"] == "BOX-GONE"
        assert row["epc"] == EPC_1
        assert row["expected"] == SHELF_1
        assert row["seen"] is None
        assert f"not read in the last full sweeps of {SHELF_1}" in str(row["detail"])
        assert run["discrepancies"] == 1


async def test_box_carried_out_without_a_loan_is_missing(rig: Room) -> None:
    from simulators.llrp_gate import Cross

    async with rig.client() as staff:
        await tagged(staff, "BOX-TAKEN", EPC_1)
        rig.gate.add(Cross(epc=EPC_1, direction="out", duration=2.0))
        await rig.mqtt.wait_for("gate.passage", epc=EPC_1, provisional=None)
        run = await reconcile(staff)
        [row] = await rows(staff, run["id"], "missing")
        assert row["ref"] == "BOX-TAKEN"
        assert row["detail"] == "left the room without a loan and has not been seen since"


async def test_box_read_on_another_shelf_is_misplaced_with_where(rig: Room) -> None:
    async with rig.client() as staff:
        await tagged(staff, "BOX-AWAY", EPC_1, home_location=SHELF_1)
        await read_on_shelf(rig, staff, "BOX-AWAY", EPC_1, 2)
        run = await reconcile(staff)
        [row] = await rows(staff, run["id"], "misplaced")
        assert row["ref"] == "BOX-AWAY"
        assert row["expected"] == SHELF_1
        assert row["seen"] == SHELF_2
        assert row["seen_at"] is not None
        assert row["detail"] == f"located at {SHELF_2} (shelf-read)"
        assert (row["message_key"], row["params"]) == (
            "finding.misplaced.located",
            {"location": SHELF_2, "source": "shelf-read"},
        )
        assert run["discrepancies"] == 1


async def test_box_on_loan_but_read_on_a_shelf(rig: Room) -> None:
    async with rig.client() as staff:
        await tagged(staff, "BOX-LENT", EPC_1, home_location=SHELF_1)
        loan = await staff.post(
            "/api/v1/loans", json={"ref": "BOX-LENT", "borrower": "Li Na", "purpose": "audit"}
        )
        assert loan.status_code == 201
        await read_on_shelf(rig, staff, "BOX-LENT", EPC_1, 1)
        run = await reconcile(staff)
        [row] = await rows(staff, run["id"], "on_loan_on_shelf")
        assert row["ref"] == "BOX-LENT"
        assert row["expected"] == "on-loan"
        assert row["seen"] == SHELF_1
        assert row["detail"] == f"loan {loan.json()['id']} is open"
        assert run["discrepancies"] == 1


async def test_tag_that_no_record_claims_is_an_unknown_tag_until_bound(rig: Room) -> None:
    async with rig.client() as staff:
        rig.shelf.reader.place(2, STRANGER)

        async def sighted() -> bool:
            return STRANGER in rig.services.readers.unknown_tags

        await eventually(sighted)
        run = await reconcile(staff)
        [row] = await rows(staff, run["id"], "unknown_tag")
        assert row["epc"] == STRANGER
        assert row["ref"] is None
        assert row["seen"] == SHELF_2
        assert run["items_checked"] == 0

        await tagged(staff, "BOX-FOUND", STRANGER, home_location=SHELF_2)
        again = await reconcile(staff)
        assert await rows(staff, again["id"], "unknown_tag") == []


async def test_file_read_away_from_its_box(rig: Room) -> None:
    async with rig.client() as staff:
        await tagged(staff, "BOX-P", EPC_1, home_location=SHELF_1)
        await tagged(staff, "BOX-P-F1", EPC_2, kind="file", parent_ref="BOX-P")
        await read_on_shelf(rig, staff, "BOX-P", EPC_1, 1)
        await read_on_shelf(rig, staff, "BOX-P-F1", EPC_2, 2)
        run = await reconcile(staff)
        [row] = await rows(staff, run["id"], "file_outside_box")
        assert row["ref"] == "BOX-P-F1"
        assert row["expected"] == SHELF_1
        assert row["seen"] == SHELF_2
        assert row["detail"] == f"its box BOX-P is at {SHELF_1}"
        assert run["discrepancies"] == 1


async def test_key_fields_that_differ_from_the_catalogue_copy_are_named_not_shown(
    rig: Room,
) -> None:
    async with rig.client(Role.catalogue) as cat, rig.client() as staff:
        await catalogue_item(
            cat,
            "BOX-K",
            resident_id=VALID_RESIDENT_ID,
            approval_no="SP-1",
            social_security_no=VALID_CREDIT_CODE,
        )
        await catalogue_item(cat, "BOX-SAME", resident_id=VALID_RESIDENT_ID, approval_no="SP-2")
        r = await cat.put(
            "/api/v1/catalogue-copies/BOX-K",
            json={"resident_id": OTHER_RESIDENT_ID, "approval_no": "SP-1"},
        )
        assert r.status_code == 200, r.text
        assert r.json() == {"ref": "BOX-K", "fields_set": ["resident_id", "approval_no"]}
        r = await cat.post(
            "/api/v1/catalogue-copies",
            json={
                "copies": [
                    {"ref": "BOX-SAME", "resident_id": VALID_RESIDENT_ID, "approval_no": "SP-2"},
                    {"ref": "NO-SUCH"},
                ]
            },
        )
        assert r.json() == {"stored": 1, "not_found": ["NO-SUCH"]}
        run = await reconcile(staff)
        [row] = await rows(staff, run["id"], "key_field_mismatch")
        assert row["ref"] == "BOX-K"
        assert row["detail"] == "resident_id,social_security_no"
        event = await rig.mqtt.wait_for("inventory.reconciled", run_id=run["id"])
        admin_audit = None
        async with rig.client(Role.auditor) as auditor:
            admin_audit = (await auditor.get("/api/v1/audit")).text
        for secret in (OTHER_RESIDENT_ID, VALID_RESIDENT_ID, VALID_CREDIT_CODE):
            assert secret not in json.dumps(event)
            assert secret not in str(row)
            assert secret not in admin_audit
        report = (await staff.get(f"/api/v1/reconciliations/{run['id']}/report")).text
        for secret in (OTHER_RESIDENT_ID, VALID_RESIDENT_ID, VALID_CREDIT_CODE):
            assert secret not in report


async def test_key_field_copy_is_checked_like_the_record(rig: Room) -> None:
    async with rig.client(Role.catalogue) as cat, rig.client() as staff:
        await catalogue_item(cat, "BOX-V")
        bad = await cat.put("/api/v1/catalogue-copies/BOX-V", json={"resident_id": "123"})
        assert bad.status_code == 422
        assert "resident_id" in bad.text
        assert (await cat.put("/api/v1/catalogue-copies/NO-SUCH", json={})).status_code == 404
        assert (await staff.put("/api/v1/catalogue-copies/BOX-V", json={})).status_code == 403


async def test_finished_run_is_announced_exported_and_measured(rig: Room) -> None:
    async with rig.client() as staff:
        await catalogue_item(staff, "BOX-A")
        await catalogue_item(staff, "BOX-B")
        run = await reconcile(staff)
        event = await rig.mqtt.wait_for("inventory.reconciled", run_id=run["id"])
        assert event["counts"] == run["counts"]
        assert event["discrepancies"] == 2
        assert event["items_checked"] == 2
        assert event["campaign_id"] is None

        report = await staff.get(f"/api/v1/reconciliations/{run['id']}/report")
        assert report.status_code == 200
        assert report.headers["content-type"].startswith("text/csv")
        lines = list(csv.DictReader(io.StringIO(report.text)))
        assert [(r["discrepancy"], r["ref"]) for r in lines] == [
            ("untagged", "BOX-A"),
            ("untagged", "BOX-B"),
        ]
        assert {r["run_id"] for r in lines} == {str(run["id"])}

        as_json = (
            await staff.get(f"/api/v1/reconciliations/{run['id']}/report?format=json")
        ).json()
        assert as_json["run"] == run
        assert [r["ref"] for r in as_json["rows"]] == ["BOX-A", "BOX-B"]
        assert as_json["spot_checks"] == []

        page = (
            await staff.get(f"/api/v1/reconciliations/{run['id']}/rows", params={"limit": 1})
        ).json()
        assert [r["ref"] for r in page["rows"]] == ["BOX-A"]
        rest = (
            await staff.get(
                f"/api/v1/reconciliations/{run['id']}/rows", params={"after": page["next_after"]}
            )
        ).json()
        assert [r["ref"] for r in rest["rows"]] == ["BOX-B"]
        assert rest["next_after"] is None
        assert [r["id"] for r in (await staff.get("/api/v1/reconciliations")).json()] == [run["id"]]

    metrics = rig.services.metrics
    assert metrics.reconciliation_discrepancies.labels(discrepancy="untagged")._value.get() == 2
    assert metrics.reconciliation_discrepancies.labels(discrepancy="missing")._value.get() == 0
    assert metrics.reconciliation_last.labels(room="r1")._value.get() > 0
    actions = [e["action"] for e in await rig.audit(f"reconciliation:{run['id']}")]
    assert actions == [
        "reconciliation.requested",
        "reconciliation.started",
        "reconciliation.finished",
        "export",  # the CSV report, then the JSON one: every export is audited
        "export",
    ]


async def test_unknown_run_is_404(rig: Room) -> None:
    async with rig.client() as staff:
        r = await staff.get("/api/v1/reconciliations/999")
        assert r.status_code == 404
        assert r.json()["detail"] == "no reconciliation run 999 in room r1"
        assert (await staff.get("/api/v1/reconciliations/999/report")).status_code == 404
        assert (
            await staff.get("/api/v1/reconciliations/1/rows", params={"discrepancy": "nope"})
        ).status_code == 422
