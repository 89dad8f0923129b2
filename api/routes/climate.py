"""Climate of the rooms for facilities and staff: how each room and sensor stands, and history.

Humidity is in percent here (and on MQTT); only Prometheus uses the 0-1 ratio. History is the
per-minute min/avg/max of each sensor; a request returns a bounded page of minutes and says
where to go on, so a year of 500 sensors never comes back as one answer.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth import Auth
from api.schemas.climate import ClimateHistoryOut, ClimateOut
from daemon.clock import datetime_to_us, now_us, us_to_iso
from daemon.ledger.errors import Invalid, NotFound
from daemon.services import Services
from daemon.tokens import Principal, Role
from sensors.service.history_store import ClimateHistory

DAY_US = 86_400_000_000
MAX_POINTS = 20_000


def router(svc: Services, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["climate"])
    who_may = auth.require(Role.staff, Role.facilities, Role.sysadmin)
    history = svc.climate.history if svc.climate is not None else ClimateHistory(svc.store)
    rooms = sorted({room.id for room in svc.config.rooms} | {s.room for s in svc.config.sensors})
    sensors = {s.id for s in svc.config.sensors}

    @r.get("/climate")
    async def current(_who: Annotated[Principal, Depends(who_may)]) -> ClimateOut:
        """Each room (limits, current and smoothed values, dew point, PI, TWPI 24 h and 30 d,
        mould-risk hours, active alarms) and each sensor (latest reading, up or down, last
        error). Temperatures in °C, humidity in %."""
        climate = svc.climate
        if climate is None:
            return ClimateOut(at=us_to_iso(now_us()), rooms=[], sensors=[], buses=[])
        active = await svc.alarms.list(active_only=True, limit=10_000)
        return ClimateOut.of(climate.view(), active)

    @r.get("/climate/history")
    async def minutes(
        _who: Annotated[Principal, Depends(who_may)],
        room: Annotated[str | None, Query(max_length=64)] = None,
        sensor: Annotated[str | None, Query(max_length=64)] = None,
        from_: Annotated[
            datetime | None,
            Query(alias="from", description="ISO 8601; default: 24 h before `to`"),
        ] = None,
        to: Annotated[datetime | None, Query(description="ISO 8601; default: now")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_POINTS)] = 10_000,
    ) -> ClimateHistoryOut:
        """Per-minute min/avg/max of the sensors (of one room, or one sensor) for the minutes
        starting in [from, to), in time order. Times without a zone are UTC. When ``truncated``
        is true, ask again with ``from`` = ``next_from``."""
        to_us = datetime_to_us(to) if to is not None else now_us()
        from_us = datetime_to_us(from_) if from_ is not None else to_us - DAY_US
        if from_us >= to_us:
            raise Invalid(f"'from' ({us_to_iso(from_us)}) must be before 'to' ({us_to_iso(to_us)})")
        if room is not None and room not in rooms:
            raise NotFound(f"no climate room {room!r} here (rooms: {', '.join(rooms) or 'none'})")
        if (
            sensor is not None
            and sensor not in sensors
            and not await history.knows_sensor(sensor, rooms)
        ):
            raise NotFound(f"no climate sensor {sensor!r} here, nor history of one")
        page = await history.query(
            rooms=rooms, room=room, sensor=sensor, from_us=from_us, to_us=to_us, limit=limit
        )
        return ClimateHistoryOut.of(page)

    return r
