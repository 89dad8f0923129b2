"""Reader RSSI units: every reader's strength reaches the gate engine in dBm."""

from __future__ import annotations

import math

import pytest
from pydantic import TypeAdapter, ValidationError

from drivers.tagread import TagRead
from rfid.config import ReaderConfig
from rfid.gate import GateEngine
from rfid.rssi import converter, to_dbm


def test_a_linear_magnitude_twice_as_large_is_six_db_stronger() -> None:
    louder, quieter = to_dbm(1000.0, "linear"), to_dbm(500.0, "linear")

    assert louder is not None
    assert quieter is not None
    assert math.isclose(louder - quieter, 20.0 * math.log10(2.0))
    assert -71.0 < quieter < -69.0  # in a familiar range, though only differences matter


def test_a_raw_byte_step_is_one_db_and_dbm_passes_through() -> None:
    assert to_dbm(200.0, "raw") == (to_dbm(199.0, "raw") or 0.0) + 1.0
    assert to_dbm(-52.5, "dbm") == -52.5


@pytest.mark.parametrize(("value", "unit"), [(0.0, "linear"), (-3.0, "linear"), (math.nan, "raw")])
def test_readings_without_a_strength_become_none(value: float, unit: str) -> None:
    assert to_dbm(value, unit) is None


def test_an_unknown_unit_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="dbm, linear, raw"):
        converter("mW")


def test_each_driver_has_its_default_unit_and_takes_another() -> None:
    readers = TypeAdapter(ReaderConfig)
    serial = readers.validate_python({"type": "uhfreader18", "id": "s", "url": "/dev/ttyUSB0"})
    llrp = readers.validate_python({"type": "llrp", "id": "g", "url": "tcp://h:5084"})
    alien = readers.validate_python(
        {"type": "llrp", "id": "a", "url": "tcp://h:5084", "rssi_unit": "linear"}
    )

    assert (serial.rssi_unit, llrp.rssi_unit, alien.rssi_unit) == ("raw", "dbm", "linear")
    with pytest.raises(ValidationError, match="rssi_unit"):
        readers.validate_python({"type": "llrp", "id": "b", "url": "tcp://h", "rssi_unit": "mw"})


def test_the_engine_counts_readings_it_cannot_convert_and_still_uses_the_read() -> None:
    engine = GateEngine("door", 1, 2, rssi_unit="linear")
    engine.observe(TagRead("gate", 1, "E1", 0.0, 100.0))

    assert engine.unusable_rssi == 1
    assert engine.active_tracks == 1
