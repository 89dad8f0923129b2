"""Climate control for facilities: the rooms' actuators, and a person's override with expiry.

An override forces one actuator on or off until it expires (then automatic control resumes);
``auto`` ends it at once. It is audited with the person's name, and so is every switch it
causes. The interlock still holds: forcing the humidifier on stops the dehumidifier.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from api.auth import Auth
from api.schemas.climate_control import ControlOut, OverrideIn
from daemon.clock import now_us, us_to_iso
from daemon.ledger.errors import NotFound
from daemon.services import Services
from daemon.tokens import Principal, Role

Name = Annotated[str, Path(max_length=64)]


def router(svc: Services, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/api/v1/climate/control", tags=["climate"])
    who_may_see = auth.require(Role.staff, Role.facilities)
    who_may_switch = auth.require(Role.facilities)

    @r.get("")
    async def control(_who: Annotated[Principal, Depends(who_may_see)]) -> ControlOut:
        """Each room's actuators: on or off as read back, what the controller wants and why,
        overrides and their expiry, faults, "control not effective", runtime."""
        if svc.control is None:
            return ControlOut(at=us_to_iso(now_us()), rooms=[])
        return ControlOut.of(svc.control.view())

    @r.post("/{room}/{actuator}/override")
    async def override(
        room: Name,
        actuator: Name,
        body: OverrideIn,
        who: Annotated[Principal, Depends(who_may_switch)],
    ) -> ControlOut:
        """Force ``actuator`` on or off for ``duration_s`` seconds (at most the room's
        ``max_override_s``), or ``auto`` to hand it back to the controller now. Answers the
        state after the request (the switch itself follows within moments)."""
        if svc.control is None:
            raise NotFound("no climate control here: no [[actuators]] in the configuration")
        await svc.control.override(
            room, actuator, body.mode, duration_s=body.duration_s, by=who.name
        )
        return ControlOut.of(svc.control.view())

    return r
