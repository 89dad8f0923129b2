"""The streaming decoder under arbitrary input: it never raises, accounts for every byte, and
finds every valid frame however the stream is chunked and whatever garbage precedes it.

The garbage-recovery properties use a decoder bound to the reader's address, as the client's
is: a stretch of random bytes then passes as a frame only if its CRC *and* its address byte
both match (about 1 in 16.7 million per candidate). Garbage that holds a whole valid frame is
excluded by construction (``_not_a_frame``); it would rightly be decoded.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.uhfreader18 import (
    CommandDecoder,
    Response,
    ResponseDecoder,
    crc16,
    encode_command,
    encode_response,
)

ADDRESS = 0x00


def reference_crc(data: bytes) -> int:
    """The routine printed in the UHFReader18 manual, bit by bit."""
    value = 0xFFFF
    for byte in data:
        value ^= byte
        for _ in range(8):
            value = (value >> 1) ^ 0x8408 if value & 1 else value >> 1
    return value


responses = st.builds(
    Response,
    address=st.just(ADDRESS),
    command=st.integers(0, 255),
    status=st.integers(0, 255),
    data=st.binary(max_size=250),
)


def wire(response: Response) -> bytes:
    return encode_response(response.address, response.command, response.status, response.data)


def _not_a_frame(garbage: bytes) -> bool:
    """No stretch of ``garbage`` is itself a frame for ADDRESS (it would rightly be decoded)."""
    for start in range(len(garbage)):
        stop = start + garbage[start] + 1
        if stop <= len(garbage) and garbage[start] >= 5:
            candidate = garbage[start:stop]
            if candidate[1] == ADDRESS and reference_crc(candidate) == 0:
                return False
    return True


garbage_bytes = st.binary(min_size=1, max_size=80).filter(_not_a_frame)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces = []
    last = 0
    for p in [*points, len(data)]:
        pieces.append(data[last:p])
        last = p
    return pieces


@given(st.binary(max_size=300))
def test_crc_equals_the_manuals_bitwise_routine(data: bytes) -> None:
    assert crc16(data) == reference_crc(data)


@given(st.lists(st.binary(max_size=200), max_size=20))
def test_random_bytes_never_raise_and_every_byte_is_accounted_for(chunks: list[bytes]) -> None:
    decoder = ResponseDecoder()
    frames: list[Response] = []
    for chunk in chunks:
        frames += decoder.feed(chunk)
        assert decoder.pending <= 255  # never more than one unfinished candidate
    frames += decoder.flush()
    framed = sum(len(f.data) + 6 for f in frames)
    assert framed + decoder.stats.garbage_bytes == sum(len(c) for c in chunks)
    assert decoder.pending == 0


@given(st.lists(st.binary(max_size=200), max_size=20))
def test_command_decoder_never_raises_on_random_bytes(chunks: list[bytes]) -> None:
    decoder = CommandDecoder()
    for chunk in chunks:
        decoder.feed(chunk)
    decoder.flush()
    assert decoder.pending == 0


@given(st.lists(responses, min_size=1, max_size=8), st.lists(st.integers(0, 4000), max_size=12))
def test_valid_frames_split_anywhere_are_all_decoded_without_resync(
    frames: list[Response], cuts: list[int]
) -> None:
    decoder = ResponseDecoder(ADDRESS)
    out: list[Response] = []
    for piece in split(b"".join(map(wire, frames)), cuts):
        out += decoder.feed(piece)
    assert out == frames
    assert decoder.stats.resyncs == 0
    assert decoder.pending == 0


@settings(max_examples=300)
@given(
    st.lists(st.tuples(st.one_of(st.just(b""), garbage_bytes), responses), min_size=1, max_size=6),
    st.lists(st.integers(0, 4000), max_size=12),
)
def test_every_valid_frame_after_garbage_is_recovered_and_each_burst_counted_once(
    segments: list[tuple[bytes, Response]], cuts: list[int]
) -> None:
    stream = b"".join(garbage + wire(frame) for garbage, frame in segments)
    decoder = ResponseDecoder(ADDRESS)
    out: list[Response] = []
    for piece in split(stream, cuts):
        out += decoder.feed(piece)
    out += decoder.flush()  # the line went quiet
    assert out == [frame for _, frame in segments]
    assert decoder.stats.garbage_bytes == sum(len(g) for g, _ in segments)
    assert decoder.stats.resyncs == sum(1 for g, _ in segments if g)


@given(garbage_bytes, st.lists(responses, min_size=1, max_size=4))
def test_a_bogus_length_does_not_stall_a_stream_that_keeps_coming(
    garbage: bytes, frames: list[Response]
) -> None:
    # Without any quiet gap: once 256 more bytes have arrived, every candidate the garbage
    # started is complete and refuted, so the frames behind it come out.
    filler = Response(ADDRESS, 0x21, 0x00, bytes(250))
    decoder = ResponseDecoder(ADDRESS)
    out = decoder.feed(garbage + b"".join(map(wire, frames)))
    out += decoder.feed(wire(filler))
    assert out[: len(frames)] == frames


@given(responses, st.integers(0, 10_000))
def test_a_frame_with_one_corrupted_byte_is_never_accepted(frame: Response, where: int) -> None:
    raw = bytearray(wire(frame))
    raw[where % len(raw)] ^= 0x5A
    decoder = ResponseDecoder(ADDRESS)
    out = decoder.feed(bytes(raw)) + decoder.flush()
    assert frame not in out


@given(st.lists(st.binary(max_size=120), min_size=1, max_size=5))
def test_commands_round_trip_through_the_command_decoder(payloads: list[bytes]) -> None:
    stream = b"".join(encode_command(7, 0x01, p) for p in payloads)
    decoder = CommandDecoder()
    assert [c.data for c in decoder.feed(stream)] == payloads
