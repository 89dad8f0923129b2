"""Engine parameters in the configuration: defaults that work, mistakes that are refused."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from rfid.config import (
    GateConfig,
    GateParams,
    ReaderConfig,
    ShelfEngineConfig,
    shelf_antenna_locations,
)


def test_gate_table_takes_engine_parameters_next_to_its_antennas() -> None:
    gate = GateConfig.model_validate(
        {
            "id": "door-1",
            "reader": "gate-1",
            "inside_antenna": 1,
            "outside_antenna": 2,
            "exit_silence_s": 2.5,
        }
    )

    assert gate.exit_silence_s == 2.5
    assert gate.cooldown_s == GateParams().cooldown_s
    assert isinstance(gate, GateParams)  # a gate's table is what its engine takes


def test_gate_with_one_antenna_for_both_sides_is_refused() -> None:
    with pytest.raises(ValidationError, match="must differ"):
        GateConfig(id="door-1", reader="gate-1", inside_antenna=1, outside_antenna=1)


def test_misspelt_gate_parameter_is_refused() -> None:
    with pytest.raises(ValidationError, match="exit_silense_s"):
        GateConfig.model_validate(
            {
                "id": "door-1",
                "reader": "gate-1",
                "inside_antenna": 1,
                "outside_antenna": 2,
                "exit_silense_s": 2.5,
            }
        )


def test_shelf_engine_cannot_be_set_to_move_items_on_a_single_read() -> None:
    with pytest.raises(ValidationError, match="min_reads"):
        ShelfEngineConfig(min_reads=1)
    with pytest.raises(ValidationError, match="margin"):
        ShelfEngineConfig(margin=1.0)


def test_antenna_locations_come_from_shelf_readers_only() -> None:
    readers = TypeAdapter(list[ReaderConfig]).validate_python(
        [
            {
                "type": "uhfreader18",
                "id": "shelf-1",
                "url": "/dev/ttyUSB0",
                "antennas": {1: "R1/A/01/1", 2: "R1/A/01/2"},
            },
            {"type": "llrp", "id": "gate-1", "url": "tcp://10.0.0.5", "antennas": {1: "gate"}},
            {
                "type": "llrp",
                "id": "ceiling",
                "url": "tcp://10.0.0.6",
                "role": "shelf",
                "antennas": {3: "R2/B/01/1"},
            },
        ]
    )

    assert shelf_antenna_locations(readers) == {
        ("shelf-1", 1): "R1/A/01/1",
        ("shelf-1", 2): "R1/A/01/2",
        ("ceiling", 3): "R2/B/01/1",
    }
