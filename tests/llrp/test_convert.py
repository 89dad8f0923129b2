"""Turning llrpkit tag reports into TagReads: golden cases and garbage that must not crash."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from llrpkit.exceptions import MessageDecodeError
from llrpkit.protocol import (
    BitStr,
    UnknownCustomParameter,
    decode_message,
    impinj,
    messages,
    params,
)

from drivers.llrp import ReaderClock, Rejection, convert_report, convert_tag_report
from drivers.tagread import TagRead

RECEIVED = 1_790_000_000.25
EPC_HEX = "E28011700000020A000000AA"


def tag_report(**fields: object) -> params.TagReportData:
    base: dict[str, object] = {
        "epc_parameter": params.EPC_96(epc=bytes.fromhex(EPC_HEX)),
        "antenna_id": params.AntennaID(antenna_id=2),
        "peak_rssi": params.PeakRSSI(peak_rssi=-61),
    }
    base.update(fields)
    return params.TagReportData(**base)  # type: ignore[arg-type]


def convert(trd: params.TagReportData, received: float = RECEIVED) -> TagRead | Rejection:
    return convert_tag_report("gate-1", trd, received, ReaderClock())


def test_epc96_report_becomes_a_read_with_upper_hex_epc_antenna_and_whole_dbm() -> None:
    assert convert(tag_report()) == TagRead("gate-1", 2, EPC_HEX, -61.0, RECEIVED)


def test_impinj_peak_rssi_in_hundredths_of_a_dbm_wins_over_the_whole_dbm_one() -> None:
    read = convert(tag_report(custom=[impinj.ImpinjPeakRSSI(rssi=-6137)]))
    assert isinstance(read, TagRead)
    assert read.rssi == -61.37


def test_variable_length_epc_is_kept_whole() -> None:
    read = convert(tag_report(epc_parameter=params.EPCData(epc=BitStr.from_bytes(b"\x30\x14"))))
    assert isinstance(read, TagRead)
    assert read.epc == "3014"


def test_first_seen_timestamp_of_a_lone_read_maps_to_its_receipt_time() -> None:
    read = convert(
        tag_report(first_seen_timestamp_utc=params.FirstSeenTimestampUTC(microseconds=5))
    )
    assert isinstance(read, TagRead)
    assert read.t == RECEIVED


def test_reads_sent_together_keep_the_spacing_of_the_readers_timestamps() -> None:
    stamps = (1_000_000_000, 1_000_030_000)  # 30 ms apart on the reader's (wrong) clock
    report = messages.RO_ACCESS_REPORT(
        tag_report_datas=[
            tag_report(first_seen_timestamp_utc=params.FirstSeenTimestampUTC(microseconds=us))
            for us in stamps
        ]
    )
    reads, rejections = convert_report("gate-1", report, RECEIVED, ReaderClock())
    assert rejections == []
    assert [r.t for r in reads] == pytest.approx([RECEIVED - 0.030, RECEIVED], abs=1e-6)


def test_a_report_sorts_its_tag_reports_into_reads_and_rejections() -> None:
    report = messages.RO_ACCESS_REPORT(tag_report_datas=[tag_report(antenna_id=None), tag_report()])
    reads, rejections = convert_report("gate-1", report, RECEIVED, ReaderClock())
    assert [r.antenna for r in reads] == [2]
    assert rejections == [Rejection("no antenna id")]


def test_report_without_antenna_is_rejected() -> None:
    assert convert(tag_report(antenna_id=None)) == Rejection("no antenna id")
    assert convert(tag_report(antenna_id=params.AntennaID(antenna_id=0))) == Rejection(
        "no antenna id"
    )


def test_report_with_empty_or_ragged_epc_is_rejected() -> None:
    empty = params.EPCData(epc=BitStr())
    ragged = params.EPCData(epc=BitStr(12, b"\x30\x10"))
    assert convert(tag_report(epc_parameter=empty)) == Rejection("empty EPC")
    assert convert(tag_report(epc_parameter=ragged)) == Rejection("EPC is not whole 16-bit words")
    assert convert(tag_report(epc_parameter=None)) == Rejection("no EPC parameter")


def test_impossible_rssi_is_dropped_but_the_read_kept() -> None:
    read = convert(tag_report(peak_rssi=params.PeakRSSI(peak_rssi=20)))
    assert isinstance(read, TagRead)
    assert read.rssi is None


# -- garbage -------------------------------------------------------------------------------------


def _bitstr(bit_len: int, fill: int) -> BitStr:
    return BitStr(bit_len, bytes([fill]) * ((bit_len + 7) // 8))


# Deliberately ill-typed values stand for what a confused reader or codec could hand over.
epc_parameters = st.one_of(
    st.binary(min_size=12, max_size=12).map(lambda b: params.EPC_96(epc=b)),
    st.binary(max_size=16).map(lambda b: params.EPC_96(epc=b)),
    st.builds(_bitstr, st.integers(0, 600), st.integers(0, 255)).map(
        lambda bits: params.EPCData(epc=bits)
    ),
    st.sampled_from([None, "E200", params.AntennaID(antenna_id=1)]),
)
antennas = st.one_of(
    st.none(),
    st.integers(-(2**20), 2**20).map(lambda a: params.AntennaID(antenna_id=a)),
    st.sampled_from([params.AntennaID(antenna_id="1"), 3]),  # type: ignore[arg-type]
)
peaks = st.one_of(
    st.none(),
    st.integers(-(2**15), 2**15).map(lambda v: params.PeakRSSI(peak_rssi=v)),
    st.floats(allow_nan=True).map(lambda v: params.PeakRSSI(peak_rssi=v)),  # type: ignore[arg-type]
    st.just(params.PeakRSSI(peak_rssi="loud")),  # type: ignore[arg-type]
)
first_seens = st.one_of(
    st.none(),
    st.integers(-(2**70), 2**70).map(lambda us: params.FirstSeenTimestampUTC(microseconds=us)),
    st.floats().map(lambda us: params.FirstSeenTimestampUTC(microseconds=us)),  # type: ignore[arg-type]
)
customs = st.lists(
    st.one_of(
        st.integers(-(2**16), 2**16).map(lambda v: impinj.ImpinjPeakRSSI(rssi=v)),
        st.sampled_from(
            [
                impinj.ImpinjPeakRSSI(rssi=None),  # type: ignore[arg-type]
                impinj.ImpinjRFPhaseAngle(phase_angle=5),
                impinj.ImpinjRFDopplerFrequency(doppler_frequency=-3),
                impinj.ImpinjSerializedTID(t_id=[0xE280, 0x1105]),
                UnknownCustomParameter(vendor_id=1, subtype=2, payload=b"\x00"),
            ]
        ),
    ),
    max_size=4,
)
garbled_reports = st.builds(
    lambda epc, antenna, peak, first_seen, custom: tag_report(
        epc_parameter=epc,
        antenna_id=antenna,
        peak_rssi=peak,
        first_seen_timestamp_utc=first_seen,
        custom=custom,
    ),
    epc_parameters,
    antennas,
    peaks,
    first_seens,
    customs,
)


def _check(result: TagRead | Rejection, received: float) -> None:
    if isinstance(result, Rejection):
        assert result.reason
        return
    assert isinstance(result, TagRead)
    assert re.fullmatch(r"(?:[0-9A-F]{4})+", result.epc)
    assert result.antenna >= 1
    assert result.rssi is None or -128.0 <= result.rssi <= 0.0
    assert received - 2.0 - 1e-6 <= result.t <= received + 1e-6


@given(st.lists(garbled_reports, min_size=1, max_size=8))
def test_garbled_tag_reports_become_reads_or_rejections_never_errors(
    reports: list[params.TagReportData],
) -> None:
    clock = ReaderClock()
    for i, trd in enumerate(reports):
        received = RECEIVED + i * 0.01
        _check(convert_tag_report("gate-1", trd, received, clock), received)


def _wire_report() -> bytes:
    trds = [
        params.TagReportData(
            epc_parameter=params.EPC_96(epc=bytes.fromhex(EPC_HEX)),
            antenna_id=params.AntennaID(antenna_id=1 + i % 2),
            peak_rssi=params.PeakRSSI(peak_rssi=-50 - i),
            first_seen_timestamp_utc=params.FirstSeenTimestampUTC(
                microseconds=int(RECEIVED * 1e6) - 1000 * i
            ),
            custom=[impinj.ImpinjPeakRSSI(rssi=-5012 - 100 * i)],
        )
        for i in range(3)
    ]
    trds.append(params.TagReportData(epc_parameter=params.EPCData(epc=BitStr.from_bytes(b"\x01"))))
    return messages.RO_ACCESS_REPORT(tag_report_datas=trds).to_bytes(message_id=9)


WIRE_REPORT = _wire_report()


@given(
    st.lists(
        st.tuples(st.integers(0, len(WIRE_REPORT) - 1), st.integers(0, 255)), min_size=1, max_size=6
    ),
    st.integers(10, len(WIRE_REPORT)),
)
def test_report_bytes_with_flipped_bytes_are_refused_by_the_decoder_or_convert_cleanly(
    flips: list[tuple[int, int]], keep: int
) -> None:
    frame = bytearray(WIRE_REPORT)
    for offset, value in flips:
        frame[offset] = value
    try:
        message = decode_message(bytes(frame[:keep]))
    except MessageDecodeError:
        return  # llrpkit drops the connection; the service reconnects
    if not isinstance(message, messages.RO_ACCESS_REPORT):
        return
    reads, rejections = convert_report("gate-1", message, RECEIVED, ReaderClock())
    assert len(reads) + len(rejections) == len(message.tag_report_datas)
    for read in reads:
        _check(read, RECEIVED)
