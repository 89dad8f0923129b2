"""Commissioning one climate sensor on its bus: read and set its Modbus address and baud.

New RS485 transmitters leave the factory at address 1 (XY-MD02 at 9600 baud, the Renke
RS-WS-N01 at 4800), so each must be given its own address, and the line's common speed,
before it joins a bus with others. Both vendors keep these settings in holding registers that
are read with FC03 and written with FC06 (or FC16):

    profile     address register      baud register   baud codes
    xy-md02     0x0101 (1-247)        0x0102          0 = 9600, 1 = 14400, 2 = 19200
    rs-ws-n01   0x07D0 (1-247 here)   0x07D1          0 = 2400, 1 = 4800, 2 = 9600

(the XY-MD02 also keeps temperature and humidity corrections at 0x0103/0x0104; archroom
corrects in its configuration instead). A sensor answers a write at its old address and
speed and uses the new ones afterwards. Modbus addresses stop at 247 (Modbus over serial line
V1.02 §2.2), although Renke's register takes up to 254.

A line has one master: ``archroom sensor`` takes the line's lock (:mod:`sensors.buslock`) in
the daemon's state directory and refuses to run while the daemon polls that line (exit 3).
Stop the daemon, or commission the sensor on a bench line, first.

    archroom sensor show        -c FILE --sensor ID
    archroom sensor set-address -c FILE --bus ID --profile xy-md02 [--address 1] NEW
    archroom sensor set-baud    --state-dir DIR --link serial:///dev/ttyUSB0 --profile rs-ws-n01 \\
                                --baud 4800 9600

Exit status: 0 done, 1 the sensor did not answer or refused, or a configuration problem,
2 bad usage, 3 the line is in use by another process.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pymodbus.exceptions import ModbusException
from pymodbus.pdu import ModbusPDU

from drivers.links import modbus_link
from sensors.bus import ModbusClient, make_client, serial_parameters
from sensors.buslock import BusBusyError, BusLock
from sensors.config import BusConfig, SensorConfig

log = logging.getLogger(__name__)

CommissionProfile = Literal["xy-md02", "rs-ws-n01"]
MAX_ADDRESS = 247
EXIT_FAILED = 1
EXIT_BUSY = 3


@dataclass(frozen=True, slots=True)
class SettingsMap:
    """Where a profile keeps its address and baud, and what its baud codes mean."""

    address_register: int
    baud_register: int
    bauds: Mapping[int, int]
    """Vendor code -> baud."""

    def code_for(self, baud: int) -> int:
        for code, rate in self.bauds.items():
            if rate == baud:
                return code
        raise CommissionError(f"this sensor cannot run at {baud} baud ({self.speeds()})")

    def speeds(self) -> str:
        return ", ".join(str(rate) for rate in sorted(self.bauds.values()))


SETTINGS: dict[CommissionProfile, SettingsMap] = {
    "xy-md02": SettingsMap(0x0101, 0x0102, {0: 9600, 1: 14400, 2: 19200}),
    "rs-ws-n01": SettingsMap(0x07D0, 0x07D1, {0: 2400, 1: 4800, 2: 9600}),
}


class CommissionError(Exception):
    """The sensor did not answer, refused, or was asked for something it cannot do."""


@dataclass(frozen=True, slots=True)
class SensorSettings:
    address: int
    baud_code: int
    baud: int | None
    """None when the code is not one the vendor documents."""


def _check(response: ModbusPDU, what: str) -> ModbusPDU:
    if response.isError():
        code = getattr(response, "exception_code", None)
        raise CommissionError(f"{what}: the sensor refused (Modbus exception {code})")
    return response


async def _call(what: str, request: Awaitable[ModbusPDU]) -> ModbusPDU:
    try:
        response = await request
    except ModbusException as e:
        raise CommissionError(f"{what}: no valid answer ({e})") from None
    return _check(response, what)


async def read_settings(
    client: ModbusClient, profile: CommissionProfile, address: int
) -> SensorSettings:
    """The address and baud ``address`` says it has (FC03 on the vendor's registers)."""
    regs = SETTINGS[profile]
    what = f"reading the settings of address {address}"
    first = min(regs.address_register, regs.baud_register)
    response = await _call(what, client.read_holding_registers(first, count=2, device_id=address))
    values = dict(zip((first, first + 1), response.registers, strict=True))
    code = values[regs.baud_register]
    return SensorSettings(values[regs.address_register], code, regs.bauds.get(code))


async def answers(client: ModbusClient, profile: CommissionProfile, address: int) -> bool:
    """Whether any device answers a settings read at ``address``."""
    try:
        await read_settings(client, profile, address)
    except CommissionError as e:
        return "refused" in str(e)
    return True


async def set_address(
    client: ModbusClient, profile: CommissionProfile, address: int, new: int
) -> SensorSettings:
    """Give the sensor at ``address`` the address ``new`` (FC06) and read it back there."""
    if not 1 <= new <= MAX_ADDRESS:
        raise CommissionError(f"a Modbus address is 1..{MAX_ADDRESS}, not {new}")
    if new != address and await answers(client, profile, new):
        raise CommissionError(f"address {new} is already taken on this line")
    await read_settings(client, profile, address)  # is the sensor there at all?
    regs = SETTINGS[profile]
    await _call(
        f"writing address {new}",
        client.write_register(regs.address_register, new, device_id=address),
    )
    return await read_settings(client, profile, new)


async def set_baud(
    client: ModbusClient, profile: CommissionProfile, address: int, baud: int
) -> None:
    """Tell the sensor at ``address`` to listen at ``baud`` from now on (FC06). It answers at
    the old speed; reaching it afterwards needs the line at the new one."""
    regs = SETTINGS[profile]
    code = regs.code_for(baud)
    await read_settings(client, profile, address)
    await _call(
        f"writing baud code {code} ({baud})",
        client.write_register(regs.baud_register, code, device_id=address),
    )


# --- the command line (wired in as ``archroom sensor`` by daemon.cli) -----------------------


@dataclass(frozen=True, slots=True)
class Site:
    """What ``archroom sensor`` needs from the daemon's configuration."""

    state_dir: Path
    buses: Sequence[BusConfig]
    sensors: Sequence[SensorConfig]


@dataclass(frozen=True, slots=True)
class Target:
    bus: BusConfig
    profile: CommissionProfile
    address: int


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="archroom sensor",
        description="Read or set a climate sensor's Modbus address and baud (commissioning).",
        epilog="Refused (exit 3) while the daemon polls the line: stop it first.",
    )
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = sub.add_parser("show", help="print the sensor's address and baud")
    addr = sub.add_parser("set-address", help="give the sensor a new address")
    addr.add_argument("new", type=int, help="new address, 1..247")
    baud = sub.add_parser("set-baud", help="make the sensor listen at another baud")
    baud.add_argument("new", type=int, help="new baud, e.g. 9600")
    for p in (show, addr, baud):
        where = p.add_mutually_exclusive_group()
        where.add_argument("-c", "--config", help="the daemon's configuration file")
        where.add_argument("--state-dir", help="the daemon's state directory (for the line lock)")
        which = p.add_mutually_exclusive_group(required=True)
        which.add_argument("--sensor", help="a configured sensor (its bus, profile and address)")
        which.add_argument("--bus", help="a configured bus, for a sensor not configured yet")
        which.add_argument(
            "--link", help="a line not in the configuration, e.g. serial:///dev/ttyUSB0"
        )
        p.add_argument("--profile", choices=sorted(SETTINGS), help="with --bus or --link")
        p.add_argument("--address", type=int, help="the sensor's address now (default: 1)")
        p.add_argument("--baud", type=int, help="the line's speed now (default: the bus's)")
    return parser


def _target(args: argparse.Namespace, site: Site) -> Target:
    buses = {b.id: b for b in site.buses}
    if args.sensor:
        sensor = next((s for s in site.sensors if s.id == args.sensor), None)
        if sensor is None:
            raise CommissionError(f"no sensor {args.sensor!r} in the configuration")
        if sensor.type not in SETTINGS:
            raise CommissionError(f"sensor {sensor.id} is {sensor.type}: no settings registers")
        profile: CommissionProfile = sensor.type
        bus = serial_parameters(buses[sensor.bus], [s for s in site.sensors if s.bus == sensor.bus])
        address = args.address or sensor.device_id
    else:
        if args.profile is None:
            raise CommissionError("--profile is needed with --bus or --link")
        profile = args.profile
        if args.bus:
            if args.bus not in buses:
                raise CommissionError(f"no bus {args.bus!r} in the configuration")
            bus = serial_parameters(buses[args.bus], [s for s in site.sensors if s.bus == args.bus])
        else:
            modbus_link(args.link)
            bus = BusConfig(id="commission", url=args.link, baudrate=args.baud or 9600)
        address = args.address or 1
    if args.baud:
        bus = bus.model_copy(update={"baudrate": args.baud})
    return Target(bus, profile, address)


def _serial(bus: BusConfig) -> bool:
    return modbus_link(bus.url).scheme == "serial"


async def _open(bus: BusConfig) -> ModbusClient:
    client = make_client(bus)
    if not await client.connect():
        client.close()
        raise CommissionError(f"cannot open {bus.url}")
    return client


async def _act(args: argparse.Namespace, target: Target, out: Callable[[str], None]) -> None:
    bus, profile, address = target.bus, target.profile, target.address
    speed = f" at {bus.baudrate} baud" if _serial(bus) else ""
    client = await _open(bus)
    try:
        if args.action == "show":
            settings = await read_settings(client, profile, address)
            baud = settings.baud if settings.baud is not None else "unknown"
            out(f"{profile} at address {settings.address}: baud code {settings.baud_code} ({baud})")
        elif args.action == "set-address":
            settings = await set_address(client, profile, address, args.new)
            out(f"{profile} now answers at address {settings.address} (was {address}){speed}")
            out(f"set device_id = {settings.address} for this sensor in the configuration")
        else:
            await set_baud(client, profile, address, args.new)
            out(f"{profile} at address {address} now listens at {args.new} baud")
    finally:
        client.close()
    if args.action == "set-baud":
        if _serial(bus):
            client = await _open(bus.model_copy(update={"baudrate": args.new}))
            try:
                settings = await read_settings(client, profile, address)
            finally:
                client.close()
            out(f"checked at {args.new} baud: baud code {settings.baud_code}")
        else:
            out(f"{bus.url} is a serial server: set its line to {args.new} baud to reach it")
        out(f"set baudrate = {args.new} on its bus in the configuration")


def main(argv: Sequence[str], resolve: Callable[[argparse.Namespace], Site]) -> int:
    """``archroom sensor ...``; ``resolve`` reads the daemon's configuration for the options."""
    args = build_parser().parse_args(argv)
    site = resolve(args)
    try:
        target = _target(args, site)
    except CommissionError as e:
        print(f"archroom sensor: {e}", file=sys.stderr)
        return EXIT_FAILED
    lock = BusLock(site.state_dir, target.bus.url)
    try:
        lock.acquire()
    except BusBusyError as e:
        print(f"archroom sensor: refused: {e}", file=sys.stderr)
        return EXIT_BUSY
    except OSError as e:
        print(f"archroom sensor: cannot lock the line ({e})", file=sys.stderr)
        return EXIT_FAILED
    try:
        asyncio.run(_act(args, target, print))
    except CommissionError as e:
        print(f"archroom sensor: {e}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        lock.release()
    return 0
