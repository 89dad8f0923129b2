"""Per-minute history: written by the running daemon, merged when a minute is written in parts,
pruned after its retention, served page by page through the API — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daemon.store.db import Store
from daemon.store.schema import climate_minutes
from sensors.history import MinuteAggregate
from sensors.service.history_store import ClimateHistory, MinuteRow
from tests.sensors.service.conftest import ClimateRig
from tests.support.poll import eventually

M = 1_767_225_600  # 2026-01-01T00:00:00Z
US = 1_000_000


def minute(sensor: str, start: int, count: int, t: tuple[float, float, float],
           h: tuple[float, float, float], room: str = "stack-1") -> MinuteAggregate:  # fmt: skip
    return MinuteAggregate(sensor, room, start, count, *t, *h)


async def test_a_minute_written_in_two_parts_is_merged(store: Store) -> None:
    history = ClimateHistory(store)
    await history.write([minute("a", M, 2, (19.0, 19.5, 20.0), (50.0, 51.0, 52.0))])
    await history.write([minute("a", M, 6, (19.8, 19.9, 20.4), (49.0, 50.0, 51.5))])
    page = await history.query(rooms=["stack-1"], room=None, sensor="a",
                               from_us=M * US, to_us=(M + 60) * US, limit=10)  # fmt: skip
    (row,) = page.points
    assert row.samples == 8
    assert (row.temp_min, row.temp_max, row.rh_min, row.rh_max) == (19.0, 20.4, 49.0, 52.0)
    assert row.temp_avg == pytest.approx((2 * 19.5 + 6 * 19.9) / 8)
    assert row.rh_avg == pytest.approx((2 * 51.0 + 6 * 50.0) / 8)


async def test_a_sensor_of_the_same_name_in_another_room_is_not_overwritten(store: Store) -> None:
    history = ClimateHistory(store)
    await history.write([minute("a", M, 3, (19.0, 19.0, 19.0), (50.0, 50.0, 50.0))])
    await history.write([minute("a", M, 9, (30.0, 30.0, 30.0), (90.0, 90.0, 90.0), "vault")])
    page = await history.query(rooms=["stack-1", "vault"], room=None, sensor="a",
                               from_us=0, to_us=(M + 60) * US, limit=10)  # fmt: skip
    assert [(p.room, p.samples, p.temp_max) for p in page.points] == [("stack-1", 3, 19.0)]


async def test_pages_end_on_whole_minutes_and_say_where_to_go_on(store: Store) -> None:
    history = ClimateHistory(store)
    rows = [minute(s, M + 60 * i, 1, (20.0, 20.0, 20.0), (50.0, 50.0, 50.0))
            for i in range(3) for s in ("a", "b")]  # fmt: skip
    await history.write(rows)
    query = {"rooms": ["stack-1"], "room": "stack-1", "sensor": None, "to_us": (M + 600) * US}
    first = await history.query(from_us=M * US, limit=3, **query)  # type: ignore[arg-type]
    assert [(p.sensor, p.minute_us // US - M) for p in first.points] == [("a", 0), ("b", 0)]
    assert (first.truncated, first.next_from_us) == (True, (M + 60) * US)
    rest = await history.query(from_us=(M + 60) * US, limit=10, **query)  # type: ignore[arg-type]
    assert [(p.sensor, p.minute_us // US - M) for p in rest.points] == [
        ("a", 60), ("b", 60), ("a", 120), ("b", 120),
    ]  # fmt: skip
    assert (rest.truncated, rest.next_from_us) == (False, None)
    crowded = await history.query(from_us=M * US, limit=1, **query)  # type: ignore[arg-type]
    assert [p.sensor for p in crowded.points] == ["a", "b"]  # one minute is served whole
    assert crowded.next_from_us == (M + 60) * US


async def test_pruning_removes_old_minutes_of_its_rooms_only(store: Store) -> None:
    history = ClimateHistory(store)
    day = 86_400
    await history.write([
        minute("a", M - 10 * day, 1, (20.0, 20.0, 20.0), (50.0, 50.0, 50.0)),
        minute("a", M - 3 * day, 1, (20.0, 20.0, 20.0), (50.0, 50.0, 50.0)),
        minute("a", M, 1, (20.0, 20.0, 20.0), (50.0, 50.0, 50.0)),
        minute("v", M - 10 * day, 1, (20.0, 20.0, 20.0), (50.0, 50.0, 50.0), "vault"),
    ])  # fmt: skip
    assert await history.prune(["stack-1"], (M - day) * US) == 2
    page = await history.query(rooms=["stack-1", "vault"], room=None, sensor=None,
                               from_us=0, to_us=(M + 60) * US, limit=10)  # fmt: skip
    assert [(p.sensor, p.minute_us // US - M) for p in page.points] == [("v", -10 * day), ("a", 0)]


async def test_the_daemon_stores_minutes_and_serves_them(rig: ClimateRig) -> None:
    rig.sim.set_values("stack-1-a", 18.0, 47.0)

    async def pinned() -> bool:
        reading = (await rig.sensor("stack-1-a"))["reading"]
        return bool(reading) and reading["temperature_c"] == 18.0

    await eventually(pinned)
    rig.sim.set_fault("stack-1-a", "dead")  # no more readings: the count below is final

    async def down() -> bool:
        return bool((await rig.sensor("stack-1-a"))["state"] == "down")

    await eventually(down)
    readings = (await rig.sensor("stack-1-a"))["counters"]["readings"]
    await rig.climate.flush_history()

    async with rig.client() as client:
        r = await client.get("/api/v1/climate/history", params={"sensor": "stack-1-a"})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    points = body["points"]
    assert body["truncated"] is False
    assert sum(p["samples"] for p in points) == readings
    assert {p["sensor"] for p in points} == {"stack-1-a"}
    assert {p["room"] for p in points} == {"stack-1"}
    last = points[-1]
    assert last["minute"].endswith(":00.000Z")
    assert last["temperature_min_c"] <= 18.0 <= last["temperature_max_c"]
    assert last["humidity_min_pct"] <= 47.0 <= last["humidity_max_pct"]
    for p in points:
        assert p["temperature_min_c"] <= p["temperature_avg_c"] <= p["temperature_max_c"]
        assert p["humidity_min_pct"] <= p["humidity_avg_pct"] <= p["humidity_max_pct"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_history_requests_are_checked(rig: ClimateRig) -> None:
    async with rig.client() as client:
        backwards = await client.get(
            "/api/v1/climate/history",
            params={"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        )
        assert backwards.status_code == 422
        assert "'from'" in backwards.json()["detail"]
        garbage = await client.get("/api/v1/climate/history", params={"from": "yesterday"})
        assert garbage.status_code == 422
        assert (await client.get("/api/v1/climate/history", params={"limit": 0})).status_code == 422
        too_many = await client.get("/api/v1/climate/history", params={"limit": 1_000_000})
        assert too_many.status_code == 422
        unknown = await client.get("/api/v1/climate/history", params={"room": "attic"})
        assert unknown.status_code == 404
        assert "attic" in unknown.json()["detail"]
        nobody = await client.get("/api/v1/climate/history", params={"sensor": "nobody"})
        assert nobody.status_code == 404
        local = await client.get(
            "/api/v1/climate/history",
            params={
                "room": "film-vault",
                "from": "2026-01-01T08:00:00+08:00",
                "to": "2026-01-01T00:00:30",
            },
        )
        assert local.status_code == 200, local.text
        assert local.json() == {"points": [], "truncated": False, "next_from": None}


values = st.floats(min_value=-40, max_value=100, allow_nan=False, allow_infinity=False)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    readings=st.lists(st.tuples(values, values), min_size=1, max_size=40),
    cuts=st.lists(st.integers(min_value=1, max_value=39), max_size=5),
)
def test_a_minute_written_in_any_parts_is_the_minute_of_all_its_readings(
    sqlite_url: str, readings: list[tuple[float, float]], cuts: list[int]
) -> None:
    bounds = sorted({0, len(readings), *(c for c in cuts if c < len(readings))})
    parts = [readings[a:b] for a, b in itertools.pairwise(bounds)]

    def part(chunk: list[tuple[float, float]]) -> MinuteAggregate:
        ts, hs = [t for t, _ in chunk], [h for _, h in chunk]
        return minute("p", M, len(chunk), (min(ts), sum(ts) / len(ts), max(ts)),
                      (min(hs), sum(hs) / len(hs), max(hs)))  # fmt: skip

    async def written() -> MinuteRow:
        store = Store.connect(sqlite_url)
        try:
            history = ClimateHistory(store)
            async with store.write() as conn:
                await conn.execute(climate_minutes.delete())
            for chunk in parts:
                await history.write([part(chunk)])
            page = await history.query(rooms=["stack-1"], room=None, sensor="p",
                                       from_us=0, to_us=(M + 60) * US, limit=10)  # fmt: skip
        finally:
            await store.close()
        (row,) = page.points
        return row

    row = asyncio.run(written())
    ts, hs = [t for t, _ in readings], [h for _, h in readings]
    assert row.samples == len(readings)
    assert (row.temp_min, row.temp_max) == (min(ts), max(ts))
    assert (row.rh_min, row.rh_max) == (min(hs), max(hs))
    assert row.temp_avg == pytest.approx(sum(ts) / len(ts), abs=1e-9)
    assert row.rh_avg == pytest.approx(sum(hs) / len(hs), abs=1e-9)
