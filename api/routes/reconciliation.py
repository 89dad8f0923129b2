"""Reconciliation runs and their reports, inventory campaigns, spot checks, the catalogue
service's key-field copies and the disposal-eligibility report (docs/reconciliation.md)."""

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import StreamingResponse

from api.auth import Auth
from api.exports import attachment, audit_export
from api.params import RefPath, RowId
from api.schemas.reconciliation import (
    CampaignIn,
    CampaignOut,
    KeyFieldCopiesIn,
    KeyFieldCopiesOut,
    KeyFieldCopyOut,
    OutcomeIn,
    ReportPageOut,
    ReportRowOut,
    RunOut,
    SpotCheckIn,
    SpotCheckItemOut,
    SpotCheckOut,
)
from daemon.ledger.errors import Conflict
from daemon.ledger.items import KEY_FIELDS
from daemon.reconcile.classify import Discrepancy
from daemon.reconcile.copies import KeyFieldCopy
from daemon.reconcile.report import report_csv, report_json, retention_csv, retention_json
from daemon.reconcile.service import Inventory
from daemon.services import Services
from daemon.tokens import Principal, Role

Format = Literal["json", "csv"]


def router(svc: Services, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["reconciliation"])
    staff = auth.require(Role.staff)
    reader = auth.require(Role.staff, Role.catalogue)
    catalogue = auth.require(Role.catalogue)

    def inventory() -> Inventory:
        if svc.inventory is None:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, "the inventory service is not running"
            )
        return svc.inventory

    Inv = Annotated[Inventory, Depends(inventory)]  # noqa: N806 (a type)

    # -- runs ---------------------------------------------------------------------------------

    @r.post("/reconciliations", status_code=status.HTTP_202_ACCEPTED)
    async def request_run(inv: Inv, who: Annotated[Principal, Depends(staff)]) -> RunOut:
        """Queue a reconciliation run of the whole room (202; poll it until ``done``)."""
        return RunOut.of(await inv.request_run(actor=who.name))

    @r.get("/reconciliations")
    async def list_runs(
        inv: Inv,
        _who: Annotated[Principal, Depends(reader)],
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    ) -> list[RunOut]:
        """The room's runs, newest first."""
        return [RunOut.of(run) for run in await inv.reconciler.recent(limit=limit)]

    @r.get("/reconciliations/{run_id}")
    async def get_run(
        run_id: RowId, inv: Inv, _who: Annotated[Principal, Depends(reader)]
    ) -> RunOut:
        """A run: state, counts per class, and the spot checks that joined it."""
        run = await inv.reconciler.get(run_id)
        return RunOut.of(run, await inv.spot_checks.of_run(run_id))

    @r.get("/reconciliations/{run_id}/rows")
    async def run_rows(
        run_id: RowId,
        inv: Inv,
        _who: Annotated[Principal, Depends(reader)],
        discrepancy: Annotated[Discrepancy | None, Query()] = None,
        after: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    ) -> ReportPageOut:
        """One page of the run's discrepancies, in order; ``next_after`` fetches the next."""
        await inv.reconciler.get(run_id)
        rows = await inv.reconciler.rows(run_id, discrepancy=discrepancy, after=after, limit=limit)
        return ReportPageOut(
            run_id=run_id,
            rows=[ReportRowOut.of(row) for row in rows],
            next_after=rows[-1].id if len(rows) == limit else None,
        )

    @r.get(
        "/reconciliations/{run_id}/report",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/csv": {}, "application/json": {}}}},
    )
    async def run_report(
        run_id: RowId,
        inv: Inv,
        who: Annotated[Principal, Depends(reader)],
        format: Annotated[Format, Query()] = "csv",
    ) -> StreamingResponse:
        """The whole report, every row and every spot-check outcome, as CSV or JSON."""
        run = await inv.reconciler.get(run_id)
        if run.state in ("queued", "running"):
            raise Conflict(f"run {run_id} is {run.state}; its report is ready when it is done")
        checks = await inv.spot_checks.of_run(run_id)
        name = f"reconciliation-{run.room}-{run_id}"
        await audit_export(
            svc.ledger, who, "reconciliation-report", f"reconciliation:{run_id}", format=format
        )
        if format == "csv":
            return StreamingResponse(
                report_csv(inv.reconciler, run, checks),
                media_type="text/csv; charset=utf-8",
                headers=attachment(f"{name}.csv"),
            )
        return StreamingResponse(
            report_json(inv.reconciler, run, checks),
            media_type="application/json",
            headers=attachment(f"{name}.json"),
        )

    # -- the catalogue service's key fields ---------------------------------------------------

    @r.put("/catalogue-copies/{ref}")
    async def put_copy(
        ref: RefPath,
        body: KeyFieldCopy,
        inv: Inv,
        who: Annotated[Principal, Depends(catalogue)],
    ) -> KeyFieldCopyOut:
        """The catalogue service's values of the record's key fields (null: none), compared by
        the next reconciliation run with the paper record's."""
        await inv.copies.put(ref, body, actor=who.name)
        return KeyFieldCopyOut(
            ref=ref, fields_set=[f for f in KEY_FIELDS if getattr(body, f) is not None]
        )

    @r.post("/catalogue-copies")
    async def put_copies(
        body: KeyFieldCopiesIn, inv: Inv, who: Annotated[Principal, Depends(catalogue)]
    ) -> KeyFieldCopiesOut:
        """Up to 10,000 copies at once; refs not catalogued are listed and skipped."""
        stored, missing = await inv.copies.put_many(body.copies, actor=who.name)
        return KeyFieldCopiesOut(stored=stored, not_found=missing)

    # -- campaigns ------------------------------------------------------------------------------

    @r.post("/inventory/campaigns", status_code=status.HTTP_201_CREATED)
    async def start_campaign(
        body: CampaignIn, inv: Inv, who: Annotated[Principal, Depends(staff)]
    ) -> CampaignOut:
        """Start a full inventory of the room (409 if one is running)."""
        campaign = await inv.campaigns.start(actor=who.name, stacker=body.stacker, note=body.note)
        return CampaignOut.of(campaign)

    @r.get("/inventory/campaigns")
    async def list_campaigns(
        inv: Inv,
        _who: Annotated[Principal, Depends(staff)],
        limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    ) -> list[CampaignOut]:
        return [CampaignOut.of(c) for c in await inv.campaigns.recent(limit=limit)]

    @r.get("/inventory/campaigns/{campaign_id}")
    async def get_campaign(
        campaign_id: RowId, inv: Inv, _who: Annotated[Principal, Depends(staff)]
    ) -> CampaignOut:
        """A campaign with its coverage, location by location."""
        campaign = await inv.campaigns.get(campaign_id)
        return CampaignOut.of(campaign, await inv.campaigns.locations_of(campaign_id))

    @r.post("/inventory/campaigns/{campaign_id}/finish")
    async def finish_campaign(
        campaign_id: RowId, inv: Inv, who: Annotated[Principal, Depends(staff)]
    ) -> CampaignOut:
        """Reconcile now with the coverage reached (e.g. a reader is out of order)."""
        return CampaignOut.of(await inv.campaigns.request_finish(campaign_id, actor=who.name))

    @r.post("/inventory/campaigns/{campaign_id}/cancel")
    async def cancel_campaign(
        campaign_id: RowId, inv: Inv, who: Annotated[Principal, Depends(staff)]
    ) -> CampaignOut:
        return CampaignOut.of(await inv.campaigns.cancel(campaign_id, actor=who.name))

    # -- spot checks ------------------------------------------------------------------------------

    @r.post("/spot-checks", status_code=status.HTTP_201_CREATED)
    async def create_spot_check(
        body: SpotCheckIn, inv: Inv, who: Annotated[Principal, Depends(staff)]
    ) -> SpotCheckOut:
        """Draw a checklist of ``size`` items, stratified by category, from a recorded seed."""
        check = await inv.spot_checks.create(
            size=body.size, seed=body.seed, run_id=body.run_id, note=body.note, actor=who.name
        )
        return SpotCheckOut.of(check)

    @r.get("/spot-checks/{check_id}")
    async def get_spot_check(
        check_id: RowId, inv: Inv, _who: Annotated[Principal, Depends(staff)]
    ) -> SpotCheckOut:
        return SpotCheckOut.of(await inv.spot_checks.get(check_id))

    @r.put("/spot-checks/{check_id}/items/{ref}")
    async def record_outcome(
        check_id: RowId,
        ref: RefPath,
        body: OutcomeIn,
        inv: Inv,
        who: Annotated[Principal, Depends(staff)],
    ) -> SpotCheckItemOut:
        """What a person found for one sampled item (audited; a later call corrects it)."""
        item = await inv.spot_checks.record(
            check_id,
            ref,
            outcome=body.outcome,
            found_at=body.location,
            note=body.note,
            actor=who.name,
        )
        return SpotCheckItemOut.from_domain(item)

    # -- retention ------------------------------------------------------------------------------

    @r.get(
        "/retention/eligible",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/csv": {}, "application/json": {}}}},
    )
    async def retention_report(
        who: Annotated[Principal, Depends(reader)],
        on: Annotated[date | None, Query(description="the day to judge (default: today)")] = None,
        format: Annotated[Format, Query()] = "json",
    ) -> StreamingResponse:
        """Records whose retention period has passed (never class Y), where they are now and
        whether they are on loan."""
        day = on or datetime.now(tz=UTC).date()
        await audit_export(
            svc.ledger, who, "retention", f"retention:{day.isoformat()}", format=format
        )
        if format == "csv":
            return StreamingResponse(
                retention_csv(svc.store, svc.config.room, day),
                media_type="text/csv; charset=utf-8",
                headers=attachment(f"retention-{day.isoformat()}.csv"),
            )
        return StreamingResponse(
            retention_json(svc.store, svc.config.room, day), media_type="application/json"
        )

    return r
