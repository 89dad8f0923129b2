"""Sensor and bus configuration, as written in the TOML file."""

from __future__ import annotations

import tomllib

import pytest
from pydantic import BaseModel, ValidationError

from sensors.config import BusConfig, GenericConfig, SensorConfig


class _File(BaseModel):
    buses: list[BusConfig]
    sensors: list[SensorConfig]


EXAMPLE = """
[[buses]]
id = "rs485-1"
url = "serial:///dev/ttyUSB0"
baudrate = 9600

[[buses]]
id = "gateway"
url = "tcp://192.0.2.10:502"

[[sensors]]
type = "xy-md02"
id = "stack-1-a"
bus = "rs485-1"
room = "stack-1"
device_id = 1

[[sensors]]
type = "generic"
id = "vault-b"
bus = "gateway"
room = "film-vault"
device_id = 1
interval_s = 30
lazy_error_count = 5

[sensors.temperature]
function_code = 3
address = 0
data_type = "float32"
byte_order = "ABCD"

[sensors.humidity]
function_code = 3
address = 2
data_type = "float32"
"""


def test_the_documented_example_parses() -> None:
    cfg = _File.model_validate(tomllib.loads(EXAMPLE))
    serial, gateway = cfg.buses
    assert serial.framer == "rtu"
    assert serial.effective_gap_s() == pytest.approx(0.03)
    assert gateway.framer == "tcp"
    assert gateway.effective_gap_s() == 0.0
    generic = cfg.sensors[1]
    assert isinstance(generic, GenericConfig)
    assert generic.temperature.data_type == "float32"
    assert generic.lazy_error_count == 5


def test_modbus_tcp_framing_needs_a_tcp_link() -> None:
    with pytest.raises(ValidationError, match="framer 'tcp' needs a tcp:// URL"):
        BusConfig(id="b", url="socket://127.0.0.1:4001", framer="tcp")


def test_rtu_over_a_tcp_link_can_be_asked_for() -> None:
    assert BusConfig(id="b", url="tcp://127.0.0.1:4001", framer="rtu").framer == "rtu"


def test_generic_channel_settings_are_checked() -> None:
    base = {"type": "generic", "id": "g", "bus": "b", "room": "r"}
    with pytest.raises(ValidationError, match="scale must not be 0"):
        GenericConfig.model_validate(
            {**base, "temperature": {"address": 0, "scale": 0}, "humidity": {"address": 1}}
        )
    with pytest.raises(ValidationError, match="runs past register 65535"):
        GenericConfig.model_validate(
            {**base, "temperature": {"address": 65535, "data_type": "float32"},
             "humidity": {"address": 1}}
        )  # fmt: skip
    with pytest.raises(ValidationError):
        GenericConfig.model_validate(
            {**base, "temperature": {"address": 0, "fc": 3}, "humidity": {"address": 1}}
        )
