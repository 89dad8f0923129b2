"""The door sounder's coil when a switch is cut short or an alarm comes while it switches off."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from pymodbus.constants import ExcCodes

from drivers.sounder import Sounder
from simulators.climate_room import RelayModule
from simulators.modbus import Request
from tests.support.poll import eventually


@dataclass(frozen=True, slots=True)
class Coil:
    url: str
    coil: int
    device_id: int = 1
    seconds: float = 60.0


class SlowToReadBack(RelayModule):
    """A relay module that applies every write at once but holds one read-back until
    ``release`` is set: the write has reached the coil, the answer has not come back. It holds
    the first switch-on's, or with ``switch_off`` the first switch-off's after a switch-on."""

    def __init__(self, *, switch_off: bool = False) -> None:
        super().__init__([])
        self.switch_off = switch_off
        self.was_on = False
        self.read_back = asyncio.Event()
        self.release = asyncio.Event()

    async def _answer(self, request: Request) -> ExcCodes | None:
        answer = await super()._answer(request)
        on = any(self.coils)
        held = (self.was_on and not on) if self.switch_off else on
        self.was_on = self.was_on or on
        if request.function_code == 1 and held and not self.read_back.is_set():
            self.read_back.set()
            await self.release.wait()
        return answer


async def test_a_sounder_closed_while_its_switch_on_is_unanswered_ends_switched_off() -> None:
    module = SlowToReadBack()
    async with module:
        sounder = Sounder("door-1", Coil(f"tcp://127.0.0.1:{module.port}", 3))
        sounder.sound()
        await module.read_back.wait()
        assert module.coils[3]
        closing = asyncio.create_task(sounder.close())
        await asyncio.sleep(0)  # close() has cancelled the switch-on, still unanswered
        module.release.set()
        await closing
        assert not module.coils[3]


async def test_an_alarm_while_the_sounder_switches_off_sounds_it_again() -> None:
    module = SlowToReadBack(switch_off=True)
    async with module:
        sounder = Sounder("door-1", Coil(f"tcp://127.0.0.1:{module.port}", 3, seconds=0.05))
        sounder.sound()
        await module.read_back.wait()  # switched off, the answer held back
        assert not module.coils[3]
        sounder.sound()
        module.release.set()

        async def sounding_again() -> bool:
            return module.coils[3]

        await eventually(sounding_again, what="the coil switched on again")
        await sounder.close()
        assert not module.coils[3]
