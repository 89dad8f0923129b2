"""Profiles turn registers into measurements, and refuse what is not one."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from sensors.config import GenericConfig, SensorConfig, XyMd02Config
from sensors.profiles import (
    RS_WS_N01,
    XY_MD02,
    Measurement,
    Profile,
    RegisterBlock,
    Rejected,
    profile_for,
)

SENSOR = TypeAdapter(SensorConfig)


def generic(**channels: object) -> GenericConfig:
    cfg = SENSOR.validate_python(
        {"type": "generic", "id": "g", "bus": "b", "room": "r", **channels}
    )
    assert isinstance(cfg, GenericConfig)
    return cfg


def floats(value: float) -> list[int]:
    return list(struct.unpack(">HH", struct.pack(">f", value)))


def test_xy_md02_reads_both_values_in_one_fc04_request() -> None:
    assert XY_MD02.blocks == (RegisterBlock(4, 0x0001, 2),)


def test_xy_md02_decodes_the_vendor_examples() -> None:
    # Vendor manual: temperature 0x0131 = 30.5 °C, 0xFF33 = -20.5 °C; humidity 0x0222 = 54.6 %.
    warm = XY_MD02.decode([[0x0131, 0x0222]])
    cold = XY_MD02.decode([[0xFF33, 0x0222]])
    assert isinstance(warm, Measurement)
    assert isinstance(cold, Measurement)
    assert warm.temperature_c == pytest.approx(30.5)
    assert warm.humidity_pct == pytest.approx(54.6)
    assert cold.temperature_c == pytest.approx(-20.5)


def test_rs_ws_n01_reads_humidity_first_with_fc03() -> None:
    assert RS_WS_N01.blocks == (RegisterBlock(3, 0x0000, 2),)
    # Renke manual example: 0x0292 = 65.8 % RH, 0xFF9B = -10.1 °C.
    m = RS_WS_N01.decode([[0x0292, 0xFF9B]])
    assert isinstance(m, Measurement)
    assert m.humidity_pct == pytest.approx(65.8)
    assert m.temperature_c == pytest.approx(-10.1)
    assert m.raw == (0x0292, 0xFF9B)


def test_profile_serial_defaults_follow_the_vendors() -> None:
    assert XY_MD02.serial.baudrate == 9600
    assert RS_WS_N01.serial.baudrate == 4800


@pytest.mark.parametrize("raw", [0x7FFF, 0x8000])
def test_int16_extremes_are_error_codes(raw: int) -> None:
    result = XY_MD02.decode([[raw, 500]])
    assert isinstance(result, Rejected)
    assert result.kind == "error-code"


def test_humidity_above_100_percent_is_out_of_range() -> None:
    result = XY_MD02.decode([[215, 1005]])
    assert isinstance(result, Rejected)
    assert result.kind == "out-of-range"
    assert "humidity" in result.reason


def test_all_ones_humidity_word_is_an_error_code() -> None:
    result = RS_WS_N01.decode([[0xFFFF, 215]])
    assert isinstance(result, Rejected)
    assert result.kind == "error-code"


def test_temperature_beyond_the_element_range_is_rejected() -> None:
    result = RS_WS_N01.decode([[500, 900]])  # 90.0 °C, beyond the Renke's -40..80
    assert isinstance(result, Rejected)
    assert result.kind == "out-of-range"


def test_short_or_missing_answers_are_malformed_not_errors() -> None:
    assert isinstance(XY_MD02.decode([[0x0131]]), Rejected)
    assert isinstance(XY_MD02.decode([]), Rejected)
    short = XY_MD02.decode([[0x0131]])
    assert isinstance(short, Rejected)
    assert short.kind == "malformed"


def test_calibration_offsets_are_added() -> None:
    cfg = XyMd02Config(
        type="xy-md02", id="s", bus="b", room="r", temperature_offset_c=-0.4,
        humidity_offset_pct=1.5,
    )  # fmt: skip
    m = profile_for(cfg).decode([[0x0131, 0x0222]])
    assert isinstance(m, Measurement)
    assert m.temperature_c == pytest.approx(30.1)
    assert m.humidity_pct == pytest.approx(56.1)


def test_generic_float32_big_endian_is_read_in_one_request() -> None:
    profile = profile_for(
        generic(
            temperature={"address": 0, "data_type": "float32"},
            humidity={"address": 2, "data_type": "float32"},
        )
    )
    assert profile.blocks == (RegisterBlock(3, 0, 4),)
    m = profile.decode([[*floats(21.25), *floats(48.5)]])
    assert isinstance(m, Measurement)
    assert (m.temperature_c, m.humidity_pct) == (21.25, 48.5)


def test_generic_word_swapped_float_and_scaled_offset_integers() -> None:
    profile = profile_for(
        generic(
            temperature={"address": 10, "data_type": "float32", "byte_order": "CDAB"},
            humidity={
                "function_code": 4,
                "address": 0,
                "data_type": "uint16",
                "scale": 0.01,
                "offset": -1.0,
            },
        )
    )
    assert profile.blocks == (RegisterBlock(3, 10, 2), RegisterBlock(4, 0, 1))
    hi, lo = floats(-3.5)
    m = profile.decode([[lo, hi], [5123]])
    assert isinstance(m, Measurement)
    assert m.temperature_c == -3.5
    assert m.humidity_pct == pytest.approx(50.23)


def test_generic_byte_orders_of_a_32_bit_integer() -> None:
    # 0x00012345 = 74565; the same number as four devices put it on the wire.
    wires = {
        "ABCD": [0x0001, 0x2345],
        "CDAB": [0x2345, 0x0001],
        "BADC": [0x0100, 0x4523],
        "DCBA": [0x4523, 0x0100],
    }
    for order, registers in wires.items():
        profile = profile_for(
            generic(
                temperature={
                    "address": 0,
                    "data_type": "int32",
                    "byte_order": order,
                    "scale": 0.0001,
                },
                humidity={"address": 2, "data_type": "uint16", "scale": 0.1},
            )
        )
        m = profile.decode([[*registers, 500]])
        assert isinstance(m, Measurement), order
        assert m.temperature_c == pytest.approx(7.4565), order


def test_generic_nan_and_configured_error_codes_are_rejected() -> None:
    profile = profile_for(
        generic(
            temperature={"address": 0, "data_type": "float32"},
            humidity={"address": 2, "data_type": "int16", "scale": 0.1, "error_codes": [-999]},
        )
    )
    nan = profile.decode([[0x7FC0, 0x0000, 500]])
    code = profile.decode([[*floats(20.0), (-999) & 0xFFFF]])
    assert isinstance(nan, Rejected)
    assert nan.kind == "error-code"
    assert isinstance(code, Rejected)
    assert code.kind == "error-code"


def test_generic_valid_range_can_be_narrowed() -> None:
    profile = profile_for(
        generic(
            temperature={"address": 0, "scale": 0.1, "valid_min": 0, "valid_max": 50},
            humidity={"address": 1, "scale": 0.1},
        )
    )
    assert isinstance(profile.decode([[(-50) & 0xFFFF, 500]]), Rejected)
    assert isinstance(profile.decode([[150, 500]]), Measurement)


def test_generic_channels_far_apart_are_read_separately() -> None:
    profile = profile_for(generic(temperature={"address": 0}, humidity={"address": 200}))
    assert profile.blocks == (RegisterBlock(3, 0, 1), RegisterBlock(3, 200, 1))


# -- every decoder, any registers: a measurement in range, or a rejection -----------------------

_GENERIC_PROFILES = [
    profile_for(
        generic(
            temperature={"address": 0, "data_type": dt, "byte_order": order, "scale": 0.1},
            humidity={
                "function_code": 4,
                "address": 3,
                "data_type": dt,
                "byte_order": order,
                "scale": 0.01,
                "offset": 1.0,
            },
        )
    )
    for dt in ("int16", "uint16", "int32", "uint32", "float32")
    for order in ("ABCD", "CDAB", "BADC", "DCBA")
]
PROFILES = [XY_MD02, RS_WS_N01, *_GENERIC_PROFILES]
word = st.integers(min_value=0, max_value=0xFFFF)


@given(
    index=st.integers(min_value=0, max_value=len(PROFILES) - 1),
    data=st.data(),
)
def test_any_register_values_give_a_checked_measurement_or_a_rejection(
    index: int, data: st.DataObject
) -> None:
    profile: Profile = PROFILES[index]
    answers = [
        data.draw(st.lists(word, min_size=b.count, max_size=b.count)) for b in profile.blocks
    ]
    result = profile.decode(answers)
    if isinstance(result, Measurement):
        assert (
            profile.temperature.valid_min <= result.temperature_c <= profile.temperature.valid_max
        )
        assert profile.humidity.valid_min <= result.humidity_pct <= profile.humidity.valid_max
    else:
        assert isinstance(result, Rejected)
        assert result.reason


@given(
    index=st.integers(min_value=0, max_value=len(PROFILES) - 1),
    answers=st.lists(st.lists(st.integers(min_value=-(2**20), max_value=2**20), max_size=6),
                     max_size=3),
)  # fmt: skip
def test_garbage_answers_of_any_shape_never_raise(index: int, answers: list[list[int]]) -> None:
    result = PROFILES[index].decode(answers)
    assert isinstance(result, Measurement | Rejected)
