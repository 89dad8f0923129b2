"""The automated stacker: jobs, decisions on exceptions, the crane's state.

A job is accepted into the queue (202) once it is in the journal; what became of it is read
back from ``GET /stacker/jobs/{id}`` or followed on MQTT (``stacker.job``). A job the stacker
cannot take now is refused with 409 and the reason in words ("stacker is in manual mode",
"emergency stop is pressed", "door 2 is open"...). A room without a stacker answers 404.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from api.auth import Auth
from api.schemas.stacker import StackerDecisionIn, StackerJobIn, StackerJobOut, StackerOut, cell_arg
from daemon.ledger.errors import NotFound
from daemon.services import Services
from daemon.tokens import Principal, Role
from stacker.service.room import StackerService

JobId = Annotated[int, Path(ge=1, le=0xFFFF_FFFF, description="stacker job id (uint32)")]


def router(svc: Services, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["stacker"])
    operator = auth.require(Role.staff)
    watcher = auth.require(Role.staff, Role.facilities, Role.sysadmin)
    fixer = auth.require(Role.staff, Role.sysadmin)

    def stacker() -> StackerService:
        if svc.stacker is None:
            raise NotFound(f"room {svc.config.room} has no stacker ([stacker] is not configured)")
        return svc.stacker

    @r.get("/stacker")
    async def stacker_state(_who: Annotated[Principal, Depends(watcher)]) -> StackerOut:
        """Mode, status bits in words, faults, position, the active job and the queue."""
        return StackerOut.of(stacker())

    @r.post("/stacker/jobs", status_code=status.HTTP_202_ACCEPTED)
    async def submit_job(
        body: StackerJobIn, who: Annotated[Principal, Depends(operator)]
    ) -> StackerJobOut:
        """Queue a job (202). 404 unknown item, 409 refused (reason in words), 422 invalid."""
        service = stacker()
        job = await service.submit(
            body.kind,
            actor=who.name,
            ref=body.ref,
            cell=cell_arg(body.cell),
            destination=cell_arg(body.destination),
            station=body.station,
            urgent=body.urgent,
        )
        return StackerJobOut.of(job, service)

    @r.get("/stacker/jobs/{job_id}")
    async def get_job(job_id: JobId, _who: Annotated[Principal, Depends(watcher)]) -> StackerJobOut:
        """A job as the journal has it, with the decisions it accepts now."""
        service = stacker()
        return StackerJobOut.of(await service.job(job_id), service)

    @r.post("/stacker/jobs/{job_id}/decision")
    async def decide(
        job_id: JobId, body: StackerDecisionIn, who: Annotated[Principal, Depends(operator)]
    ) -> StackerJobOut:
        """Answer an exception: ``retry``, ``cancel`` or ``redirect`` (to ``destination``, or a
        free cell); ``cancel`` also withdraws a queued job or aborts a running one. 409 when
        the decision does not apply to the job now."""
        service = stacker()
        job = await service.decide(
            job_id, body.decision, actor=who.name, destination=cell_arg(body.destination)
        )
        return StackerJobOut.of(job, service)

    @r.post("/stacker/reset")
    async def reset_faults(who: Annotated[Principal, Depends(fixer)]) -> StackerOut:
        """Ask the PLC to clear a latched fault (it does so only once the crane is safe)."""
        service = stacker()
        await service.reset_faults(actor=who.name)
        return StackerOut.of(service)

    return r
