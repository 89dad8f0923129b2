"""One room rig: a daemon started from one TOML file composed of device fragments.

A :class:`RoomBuilder` collects fragments (shelf and desk readers, the LLRP door gate, the
stacker PLC, the climate buses, the broker, racks and free TOML), starts each fragment's
simulator when the room opens, writes the one configuration file and starts the daemon on it,
over a real store (SQLite or PostgreSQL: the URL the test gives) and a real broker. It returns a
:class:`Room` once every configured device is up::

    async with RoomBuilder(tmp_path / "room", sqlite_url).desk_reader().gate().running() as room:
        async with room.client(Role.staff) as staff:
            ...

Every device and the daemon are stopped when the ``running`` block (or the ``AsyncExitStack``
given to ``open``) ends.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self, TypeVar, overload

import httpx

from daemon.config import ArchroomConfig
from daemon.runtime import Daemon
from daemon.services import Services
from daemon.store.db import Store
from daemon.tokens import Role
from drivers.uhfreader18 import Variant
from sensors.service.climate import ClimateService
from sensors.service.control import ClimateControl
from simulators.climate import ClimateSimulator
from simulators.climate_room import RelayModule
from simulators.llrp_gate import LlrpGateSimulator
from simulators.stacker_plc import PlcSettings, StackerPlcSimulator
from simulators.uhfreader18 import SimulatedReader, Uhfreader18Simulator
from stacker.service.room import StackerService
from tests.harness import create_token, make_config, running_daemon
from tests.services import Mosquitto
from tests.support.mqtt import Retained, Subscriber
from tests.support.poll import eventually
from tests.support.store import open_store

RACKS = '[[racks]]\nid = "A"\nbays = "1-3"\nlevels = "1-2"\n'
"""Rack A, bays 1 to 3, levels 1 and 2: the racks of a room without devices."""

SHELF_1, SHELF_2 = "r1-A-01-01", "r1-A-01-02"
"""What the shelf reader's antennas 1 and 2 watch (``RoomBuilder.shelf_reader``)."""

SHELF_ENGINE: dict[str, object] = {
    "min_reads": 2,
    "half_life_sweeps": 2.0,
    "silence_s": 2.0,
    "missing_sweeps": 5,
    "misplaced_after_s": 1.0,
}
"""A shelf engine that decides within a few sweeps of the simulated reader."""

GATE_TIMING: dict[str, object] = {
    "smoothing_s": 0.5,
    "confirm_s": 0.5,
    "exit_silence_s": 0.8,
    "cooldown_s": 1.0,
}
"""A door gate that decides within seconds."""

STACKER_TIMING: dict[str, object] = {
    "poll_interval_s": 0.02,
    "heartbeat_interval_s": 0.2,
    "heartbeat_stale_s": 1.0,
    "reconnect_min_s": 0.05,
    "reconnect_max_s": 0.2,
}
"""A stacker link that notices a lost PLC within a second."""


# -- TOML ----------------------------------------------------------------------------------


def toml_value(value: object) -> str:
    """``value`` as a TOML value: booleans, numbers, strings, lists and inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def toml_table(header: str, values: Mapping[str, object], *, array: bool = False) -> str:
    """``[header]`` (``[[header]]`` with ``array``) and one ``key = value`` line per value."""
    head = f"[[{header}]]" if array else f"[{header}]"
    return head + "\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in values.items())


# -- the room ------------------------------------------------------------------------------


_D = TypeVar("_D")


def _present(device: _D | None, what: str) -> _D:
    if device is None:
        raise AssertionError(f"this room has no {what}: add it with RoomBuilder")
    return device


@dataclass
class Devices:
    """The simulators and broker clients of a room (None: not part of this room)."""

    shelf: Uhfreader18Simulator | None = None
    desk: Uhfreader18Simulator | None = None
    gate: LlrpGateSimulator | None = None
    plc: StackerPlcSimulator | None = None
    climate: ClimateSimulator | None = None
    mqtt: Subscriber | None = None
    retained: Retained | None = None
    readers: list[str] = field(default_factory=list)
    """The ids of the configured readers: the room is ready when each is up."""


@dataclass
class Room:
    """A running daemon, a token per role and the simulated devices it talks to."""

    daemon: Daemon
    db_url: str
    tokens: dict[Role, str]
    devices: Devices = field(default_factory=Devices)

    @property
    def services(self) -> Services:
        assert self.daemon.services is not None
        return self.daemon.services

    @property
    def url(self) -> str:
        assert self.daemon.listening is not None
        return self.daemon.listening.url

    def client(self, role: Role | None = Role.staff) -> httpx.AsyncClient:
        """An HTTP client with ``role``'s token (None: no token); use it with ``async with``."""
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=60)

    async def metrics(self) -> str:
        """The daemon's Prometheus page."""
        async with self.client(None) as client:
            return (await client.get("/metrics")).text

    async def audit(self, subject: str) -> list[dict[str, Any]]:
        """The audit entries about ``subject``, oldest first, as the auditor reads them."""
        async with self.client(Role.auditor) as auditor:
            r = await auditor.get("/api/v1/audit", params={"subject": subject})
        assert r.status_code == 200, r.text
        entries: list[dict[str, Any]] = r.json()
        return entries

    def daemon_store(self) -> AbstractAsyncContextManager[Store]:
        """A store of its own on the room's database (``async with``)."""
        return open_store(self.db_url)

    # The devices, each present only if the builder added it.
    @property
    def shelf(self) -> Uhfreader18Simulator:
        return _present(self.devices.shelf, "shelf reader")

    @property
    def desk(self) -> Uhfreader18Simulator:
        return _present(self.devices.desk, "desk reader")

    @property
    def gate(self) -> LlrpGateSimulator:
        return _present(self.devices.gate, "door gate")

    @property
    def plc(self) -> StackerPlcSimulator:
        return _present(self.devices.plc, "stacker PLC")

    @property
    def climate_sim(self) -> ClimateSimulator:
        return _present(self.devices.climate, "climate simulator")

    @property
    def relays(self) -> RelayModule:
        return _present(self.climate_sim.relays, "relay module")

    @property
    def mqtt(self) -> Subscriber:
        return _present(self.devices.mqtt, "broker")

    @property
    def retained(self) -> Retained:
        return _present(self.devices.retained, "broker")

    # The daemon's services for those devices.
    @property
    def stacker(self) -> StackerService:
        return _present(self.services.stacker, "stacker service")

    @property
    def climate(self) -> ClimateService:
        return _present(self.services.climate, "climate service")

    @property
    def control(self) -> ClimateControl:
        return _present(self.services.control, "climate control")


R = TypeVar("R", bound=Room)
Fragment = Callable[[AsyncExitStack, Devices], Awaitable[str]]
"""Starts a fragment's device (closed by the stack) and answers the fragment's TOML."""


class RoomBuilder:
    """Composes one room's configuration from fragments; ``open``/``running`` start it."""

    def __init__(
        self,
        state_dir: Path,
        db_url: str,
        *,
        room: str = "r1",
        racks: str = RACKS,
        token_suffix: str | None = None,
        daemon_db_url: str | None = None,
    ) -> None:
        """``daemon_db_url`` lets the daemon reach the database another way (a proxy); tokens
        are written over ``db_url``. Tokens are named ``<role>-<token_suffix or room>``."""
        self.state_dir = state_dir
        self.db_url = db_url
        self.room = room
        self.daemon_db_url = daemon_db_url
        self.token_suffix = token_suffix or room
        self._room_tables: list[str] = []
        self._fragments: list[Fragment] = []
        self._people: dict[Role, str] = {}
        self._api = ""
        self._mqtt_url: str | None = None
        self._stacker = False
        self._patient_stop = False
        self._tokens: dict[Role, str] | None = None
        if racks:
            self.toml(racks)

    # -- plain TOML ----------------------------------------------------------------------

    def toml(self, text: str) -> Self:
        """Free TOML (whole tables) added to the configuration as it is."""

        async def fragment(stack: AsyncExitStack, devices: Devices) -> str:
            return text

        self._fragments.append(fragment)
        return self

    def room_table(self, text: str) -> Self:
        """Sub-tables of the room itself (``[rooms.limits]``, ``[rooms.control]``)."""
        self._room_tables.append(text)
        return self

    def api(self, lines: str) -> Self:
        """Extra lines of the ``[api]`` table."""
        self._api += lines
        return self

    def inventory(self, lines: str) -> Self:
        """An ``[inventory]`` table (reconciliation campaigns)."""
        return self.toml(f"[inventory]\n{lines}\n")

    def person(self, role: Role, name: str) -> Self:
        """``role``'s token carries a person's name (what the console shows)."""
        self._people[role] = name
        return self

    def patient_stop(self) -> Self:
        """Stop the daemon with ``running_daemon(patient=True)`` (see there)."""
        self._patient_stop = True
        return self

    # -- devices -------------------------------------------------------------------------

    def shelf_reader(
        self,
        *,
        antennas: Mapping[int, str] | None = None,
        engine: Mapping[str, object] = SHELF_ENGINE,
        pty: Path | None = None,
    ) -> Self:
        """``shelf-a``: a UHFReader288 polled every 50 ms, its antennas watching
        ``SHELF_1`` and ``SHELF_2``; over TCP, or over a pty linked at ``pty``."""
        watched = dict(antennas or {1: SHELF_1, 2: SHELF_2})

        async def fragment(stack: AsyncExitStack, devices: Devices) -> str:
            sim = Uhfreader18Simulator(SimulatedReader(Variant.UHFREADER288, antennas=2))
            if pty is None:
                await sim.start_tcp()
            else:
                await sim.start_pty(pty)
            stack.push_async_callback(sim.close)
            devices.shelf = sim
            devices.readers.append("shelf-a")
            reader: dict[str, object] = {"type": "uhfreader18", "id": "shelf-a", "url": sim.url}
            reader |= {
                "role": "shelf",
                "poll_interval_s": 0.05,
                "antennas": {str(a): c for a, c in watched.items()},
            }
            return toml_table("readers", reader, array=True) + toml_table("shelf", engine)

        self._fragments.append(fragment)
        return self

    def desk_reader(self) -> Self:
        """``desk-1``: a UHFReader18 on the issue desk, over TCP."""

        async def fragment(stack: AsyncExitStack, devices: Devices) -> str:
            sim = Uhfreader18Simulator(SimulatedReader(Variant.UHFREADER18))
            await sim.start_tcp()
            stack.push_async_callback(sim.close)
            devices.desk = sim
            devices.readers.append("desk-1")
            reader = {"type": "uhfreader18", "id": "desk-1", "url": sim.url, "role": "desk"}
            return toml_table("readers", reader, array=True)

        self._fragments.append(fragment)
        return self

    def gate(self, *, seed: int = 3, extra: str = "", fast: bool = True) -> Self:
        """``door-1``: an LLRP reader and the gate it feeds (antenna 1 inside, 2 outside);
        ``extra`` is added to the ``[[gates]]`` table. ``fast``: the short timings of
        ``GATE_TIMING`` for scripted passes; otherwise the gate's defaults."""

        async def fragment(stack: AsyncExitStack, devices: Devices) -> str:
            sim = LlrpGateSimulator(cycle_s=0.05, seed=seed)
            await sim.start()
            stack.push_async_callback(sim.stop)
            devices.gate = sim
            devices.readers.append("door-1")
            url = f"tcp://127.0.0.1:{sim.port}"
            reader = {"type": "llrp", "id": "door-1", "url": url, "role": "gate"}
            gate = {"id": "door-1", "reader": "door-1", "inside_antenna": 1, "outside_antenna": 2}
            return (
                toml_table("readers", reader | {"keepalive_s": 1.0}, array=True)
                + toml_table("gates", gate | (GATE_TIMING if fast else {}), array=True)
                + extra
                + "\n"
            )

        self._fragments.append(fragment)
        return self

    def stacker(self, plc: StackerPlcSimulator | PlcSettings, **table: object) -> Self:
        """The ``[stacker]`` table (``url`` and ``table``) for a PLC simulator: a running one,
        or one started here from its settings."""

        async def fragment(stack: AsyncExitStack, devices: Devices) -> str:
            sim = plc
            if isinstance(sim, PlcSettings):
                sim = StackerPlcSimulator(sim)
                await sim.start()
                stack.push_async_callback(sim.stop)
            devices.plc = sim
            return toml_table("stacker", {"url": sim.url} | table)

        self._stacker = True
        self._fragments.append(fragment)
        return self

    def climate(self, sim: ClimateSimulator, toml: Callable[[ClimateSimulator], str]) -> Self:
        """The climate buses, sensors and actuators ``toml(sim)`` writes for a running
        climate simulator."""

        async def fragment(stack: AsyncExitStack, devices: Devices) -> str:
            devices.climate = sim
            return toml(sim)

        self._fragments.append(fragment)
        return self

    def broker(self, mosquitto: Mosquitto, *, subscribe: bool = True) -> Self:
        """Publish to ``mosquitto``; with ``subscribe``, ``room.mqtt`` collects everything the
        room publishes (subscribed before the daemon starts)."""
        self._mqtt_url = mosquitto.url
        prefix = f"archroom/t/{self.room}/#"

        async def fragment(stack: AsyncExitStack, devices: Devices) -> str:
            devices.retained = Retained(mosquitto)
            if subscribe:
                devices.mqtt = await Subscriber(mosquitto, prefix).start(stack)
            return ""

        self._fragments.append(fragment)
        return self

    # -- running -------------------------------------------------------------------------

    @overload
    async def open(self, stack: AsyncExitStack) -> Room: ...

    @overload
    async def open(self, stack: AsyncExitStack, kind: type[R]) -> R: ...

    async def open(self, stack: AsyncExitStack, kind: type[Room] = Room) -> Room:
        """Start the devices, write the configuration, start the daemon; all closed by
        ``stack``. Returns once every reader is up and the stacker takes commands."""
        config, devices = await self.configure(stack)
        tokens = self._tokens = self._tokens or await self._create_tokens()
        daemon = await stack.enter_async_context(running_daemon(config, patient=self._patient_stop))
        room = kind(daemon, self.db_url, tokens, devices)
        readers = room.services.readers.up

        def ready() -> bool:
            return all(readers.get(r) for r in devices.readers) and (
                not self._stacker or room.stacker.status().refusal is None
            )

        await eventually(ready, timeout=20, what=f"readers {devices.readers} up, stacker ready")
        if self._stacker:
            stack.push_async_callback(settled, room)
        return room

    async def configure(self, stack: AsyncExitStack) -> tuple[ArchroomConfig, Devices]:
        """Start the devices (closed by ``stack``) and write the one configuration file; no
        daemon: for tests that run a service of the room themselves."""
        devices = Devices()
        texts = [await fragment(stack, devices) for fragment in self._fragments]
        config = make_config(
            self.state_dir,
            db_url=self.daemon_db_url or self.db_url,
            mqtt_url=self._mqtt_url,
            room=self.room,
            extra="".join(self._room_tables) + "".join(texts),
            api=self._api,
        )
        return config, devices

    async def _create_tokens(self) -> dict[Role, str]:
        """A token per role, once per builder: a room opened again (a restart) keeps them."""
        tokens = {
            role: await create_token(self.db_url, role, f"{role.value}-{self.token_suffix}")
            for role in Role
        }
        for role, name in self._people.items():
            tokens[role] = await create_token(self.db_url, role, name)
        return tokens

    @overload
    def running(self) -> AbstractAsyncContextManager[Room]: ...

    @overload
    def running(self, kind: type[R]) -> AbstractAsyncContextManager[R]: ...

    def running(self, kind: type[Room] = Room) -> AbstractAsyncContextManager[Room]:
        """``open`` for the length of an ``async with`` block."""
        return self._running(kind)

    @asynccontextmanager
    async def _running(self, kind: type[Room]) -> AsyncIterator[Room]:
        async with AsyncExitStack() as stack:
            yield await self.open(stack, kind)


async def settled(room: Room, quiet_s: float = 0.3, at_most_s: float = 3.0) -> None:
    """Let the stacker's state stop changing before the daemon is stopped.

    Each change rings the outbox; ``daemon.outbox.Outbox.wait`` uses ``asyncio.wait_for``,
    which on Python 3.11 loses a cancellation that arrives with a ring, and the daemon then
    never stops. Not settling within ``at_most_s`` (a crane left mid-job) is not an error.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + at_most_s
    last = room.services.retained.values.get("stacker/state")
    since = loop.time()
    while loop.time() < deadline and loop.time() - since < quiet_s:
        await asyncio.sleep(0.05)
        now = room.services.retained.values.get("stacker/state")
        if now != last:
            last, since = now, loop.time()


# -- the rooms most tests use --------------------------------------------------------------


async def start_room(
    tmp_path: Path, db_url: str, *, room: str = "r1", extra: str = RACKS, api: str = ""
) -> AsyncIterator[Room]:
    """A room without devices (racks ``extra``) and a token per role; ``api`` holds extra
    lines of its ``[api]`` table. An async generator: ``async for room in start_room(...)``."""
    builder = RoomBuilder(tmp_path / room, db_url, room=room, racks=extra).api(api)
    async with builder.running() as r:
        yield r


READER_RACKS = '[[racks]]\nid = "A"\nbays = 1\nlevels = 2\n'


def reader_room(
    state_dir: Path,
    mosquitto: Mosquitto,
    db_url: str,
    *,
    token_suffix: str = "rig",
    daemon_db_url: str | None = None,
    gate_extra: str = "",
    fast_gate: bool = True,
) -> RoomBuilder:
    """The room of the reader tests: a shelf reader (antennas 1 and 2 watch ``SHELF_1`` and
    ``SHELF_2``), a desk reader, the LLRP door gate (``gate_extra`` added to its table) and a
    broker, one rack of two shelves."""
    return (
        RoomBuilder(
            state_dir,
            db_url,
            racks=READER_RACKS,
            token_suffix=token_suffix,
            daemon_db_url=daemon_db_url,
        )
        .shelf_reader()
        .desk_reader()
        .gate(extra=gate_extra, fast=fast_gate)
        .broker(mosquitto)
    )
