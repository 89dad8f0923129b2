"""The climate: rooms judged against their limits, sensors, buses, minute history
(docs/climate.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.schemas.alarms import AlarmOut
from api.schemas.base import DomainOut, Out
from daemon.clock import seconds_to_us, us_to_iso
from daemon.ledger.alarms import Alarm
from sensors.derived import Preservation
from sensors.limits import ClimateLimits
from sensors.service.climate import ClimateView, RoomView, SensorView, alarm_owner
from sensors.service.history_store import HistoryPage, MinuteRow


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


class ClimateLimitsOut(DomainOut, domain=ClimateLimits):
    temp_swing_c: float = Field(description="largest allowed max - min within 24 h")


class PreservationOut(DomainOut, domain=Preservation):
    pi_years: float | None = Field(description="Preservation Index of the latest values")
    rating: Literal["good", "ok", "risk"] | None = Field(description="of the 30-day TWPI")

    @classmethod
    def of(cls, p: Preservation) -> PreservationOut:
        return cls.from_domain(
            p,
            pi_years=_r(p.pi_years, 2),
            twpi_24h_years=_r(p.twpi_24h_years, 2),
            twpi_30d_years=_r(p.twpi_30d_years, 2),
            mould_hours_24h=round(p.mould_hours_24h, 3),
            mould_hours_30d=round(p.mould_hours_30d, 3),
            mould_hours_total=round(p.mould_hours_total, 3),
        )


class ClimateRoomOut(Out):
    id: str
    name: str
    room_class: str
    limits: ClimateLimitsOut
    at: str | None = Field(description="time of the latest reading that went into the values")
    temperature_c: float | None = Field(description="mean of the room's current sensors")
    humidity_pct: float | None
    smoothed_temperature_c: float | None = Field(description="what the alarms judge")
    smoothed_humidity_pct: float | None
    dew_point_c: float | None
    temperature_spread_24h_c: float | None
    humidity_spread_24h_pct: float | None
    preservation: PreservationOut
    up: bool = Field(description="at least one sensor of the room is reporting")
    sensors_up: int
    sensors: list[str]
    conditions: list[str] = Field(description="alarm conditions the room is judged in now")
    alarms: list[AlarmOut] = Field(description="active recorded alarms of the room")

    @classmethod
    def of(cls, room: RoomView, alarms: list[AlarmOut]) -> ClimateRoomOut:
        s = room.snapshot
        return cls(
            id=room.config.id,
            name=room.config.name,
            room_class=room.config.room_class,
            limits=ClimateLimitsOut.from_domain(room.limits),
            at=None if s.t is None else us_to_iso(seconds_to_us(s.t)),
            temperature_c=_r(s.temperature_c),
            humidity_pct=_r(s.humidity_pct),
            smoothed_temperature_c=_r(s.smoothed_temperature_c),
            smoothed_humidity_pct=_r(s.smoothed_humidity_pct),
            dew_point_c=_r(s.dew_point_c, 2),
            temperature_spread_24h_c=_r(s.temperature_spread_24h_c),
            humidity_spread_24h_pct=_r(s.humidity_spread_24h_pct),
            preservation=PreservationOut.of(s.preservation),
            up=s.up,
            sensors_up=s.sensors_up,
            sensors=list(room.sensors),
            conditions=list(s.alarms),
            alarms=alarms,
        )


class ClimateReadingOut(Out):
    at: str
    temperature_c: float
    humidity_pct: float
    dew_point_c: float | None


class SensorCountersOut(Out):
    polls: int
    readings: int
    timeouts: int
    error_answers: int
    rejected: int


class ClimateSensorOut(Out):
    id: str
    room: str
    type: str
    bus: str
    device_id: int
    interval_s: float
    state: Literal["up", "down", "unknown"]
    reason: str | None = Field(description="why it went up or down last")
    reading: ClimateReadingOut | None = Field(description="the latest accepted reading")
    preservation: PreservationOut
    last_error: str | None = Field(description="why the latest failed poll failed")
    last_error_at: str | None
    counters: SensorCountersOut
    alarms: list[AlarmOut]

    @classmethod
    def of(cls, sensor: SensorView, alarms: list[AlarmOut]) -> ClimateSensorOut:
        s, c = sensor.snapshot, sensor.counters
        reading = None
        if s.t is not None and s.temperature_c is not None and s.humidity_pct is not None:
            reading = ClimateReadingOut(
                at=us_to_iso(seconds_to_us(s.t)),
                temperature_c=s.temperature_c,
                humidity_pct=s.humidity_pct,
                dew_point_c=_r(s.dew_point_c, 2),
            )
        error = sensor.last_error
        return cls(
            id=sensor.config.id,
            room=sensor.config.room,
            type=sensor.config.type,
            bus=sensor.config.bus,
            device_id=sensor.config.device_id,
            interval_s=sensor.config.interval_s,
            state=sensor.state,
            reason=sensor.reason,
            reading=reading,
            preservation=PreservationOut.of(s.preservation),
            last_error=None if error is None else error[0],
            last_error_at=None if error is None else us_to_iso(seconds_to_us(error[1])),
            counters=SensorCountersOut(
                polls=c.polls,
                readings=c.readings,
                timeouts=c.timeouts,
                error_answers=c.error_answers,
                rejected=c.rejected,
            ),
            alarms=alarms,
        )


class ClimateBusOut(Out):
    id: str
    url: str
    framer: str
    up: bool | None
    reason: str | None


class ClimateOut(Out):
    at: str
    rooms: list[ClimateRoomOut]
    sensors: list[ClimateSensorOut]
    buses: list[ClimateBusOut]

    @classmethod
    def of(cls, view: ClimateView, active: list[Alarm]) -> ClimateOut:
        owned: dict[tuple[str, str], list[AlarmOut]] = {}
        for alarm in active:
            owner = alarm_owner(alarm.key)
            if owner is not None:
                owned.setdefault(owner, []).append(AlarmOut.from_domain(alarm))
        return cls(
            at=us_to_iso(seconds_to_us(view.t)),
            rooms=[ClimateRoomOut.of(r, owned.get(("room", r.config.id), [])) for r in view.rooms],
            sensors=[
                ClimateSensorOut.of(s, owned.get(("sensor", s.config.id), [])) for s in view.sensors
            ],
            buses=[
                ClimateBusOut(
                    id=b.config.id,
                    url=b.config.url,
                    framer=b.config.framer,
                    up=b.up,
                    reason=b.reason,
                )
                for b in view.buses
            ],
        )


class ClimateMinuteOut(
    DomainOut,
    domain=MinuteRow,
    rename={
        "minute_us": "minute",
        "temp_min": "temperature_min_c",
        "temp_avg": "temperature_avg_c",
        "temp_max": "temperature_max_c",
        "rh_min": "humidity_min_pct",
        "rh_avg": "humidity_avg_pct",
        "rh_max": "humidity_max_pct",
    },
):
    minute: str = Field(description="start of the minute")

    @classmethod
    def of(cls, row: MinuteRow) -> ClimateMinuteOut:
        return cls.from_domain(
            row,
            temperature_avg_c=round(row.temp_avg, 4),
            humidity_avg_pct=round(row.rh_avg, 4),
        )


class ClimateHistoryOut(Out):
    points: list[ClimateMinuteOut]
    truncated: bool = Field(description="more minutes match: ask again from next_from")
    next_from: str | None

    @classmethod
    def of(cls, page: HistoryPage) -> ClimateHistoryOut:
        return cls(
            points=[ClimateMinuteOut.of(p) for p in page.points],
            truncated=page.truncated,
            next_from=None if page.next_from_us is None else us_to_iso(page.next_from_us),
        )
