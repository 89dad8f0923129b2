"""The search's LIKE patterns match the typed text literally, whatever it contains."""

from __future__ import annotations

import re
import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from api.console.search import (
    TRIGRAM,
    WINDOW,
    _contains,
    _starts_with,
    window,
    word_query,
)
from tests.support.ref_words import REF, matches, ref_words

TEXT = st.text(alphabet="ab%_\\-·中", max_size=12)


def _like(value: str, pattern: str) -> bool:
    with sqlite3.connect(":memory:") as db:
        (matched,) = db.execute("SELECT ? LIKE ? ESCAPE '\\'", (value, pattern)).fetchone()
    return bool(matched)


@given(haystack=TEXT, needle=TEXT)
def test_contains_matches_exactly_the_values_that_contain_the_text(
    haystack: str, needle: str
) -> None:
    assert _like(haystack, _contains(needle)) == (needle in haystack)


@given(haystack=TEXT, needle=TEXT)
def test_starts_with_matches_exactly_the_values_that_start_with_the_text(
    haystack: str, needle: str
) -> None:
    assert _like(haystack, _starts_with(needle)) == haystack.startswith(needle)


@given(text=st.text(alphabet="0123456789ABCDEF-·WS 中", min_size=1, max_size=40))
def test_the_window_asked_of_the_index_is_part_of_the_text(text: str) -> None:
    part = window(text)
    assert part in text
    assert len(part) == min(len(text), WINDOW)


@given(text=st.text(alphabet="0123456789ABCDEF-·WS 中", min_size=1, max_size=40))
def test_the_window_for_pg_trgm_is_part_of_one_word_when_the_text_has_one(text: str) -> None:
    part = window(text, words=True)
    assert part in text
    assert len(part) <= WINDOW
    longest = max((len(run) for run in re.findall(r"[^\W_]+", text)), default=0)
    if longest >= TRIGRAM:
        assert part.isalnum()
        assert len(part) == min(longest, WINDOW)
    else:
        assert part == window(text)


def test_the_window_for_pg_trgm_leaves_out_the_separators_and_word_edges() -> None:
    assert window("RS-0123", words=True) == "0123"
    assert window("0001-WS·2023-D30-RS-0012345", words=True) == "012345"
    assert window("wage arrears complaint", words=True) == "plaint"
    assert window("李四 仲裁", words=True) == "李四 仲裁"


@given(ref=REF, start=st.integers(0, 30), length=st.integers(2, 30), upper=st.booleans())
def test_the_index_of_words_is_asked_for_every_reference_that_holds_the_text(
    ref: str, start: int, length: int, upper: bool
) -> None:
    text = ref[start : start + length]
    text = text.upper() if upper else text
    query = word_query(text)
    if query is not None:
        assert matches(ref_words(ref), query)


@given(ref=REF, text=REF)
def test_the_index_of_words_is_asked_for_one_word_of_the_text(ref: str, text: str) -> None:
    query = word_query(text)
    if query is not None and text.lower() in ref.lower():
        assert matches(ref_words(ref), query)


def test_the_index_of_words_is_asked_where_a_word_starts() -> None:
    assert word_query("RS-0012") == "'s-0012':*"
    assert word_query("rs-0012-") == "'s-0012'"
    assert word_query("0001-WS·2023-D30-RS-0012345") == "'s-0012345':*"
    assert word_query("-0012").startswith("'-0012':* | '0-0012':* | '1-0012':*")  # type: ignore[union-attr]
    # no separator before a word, or a longer word elsewhere, or letters with case beyond ASCII
    assert word_query("0012345") is None
    assert word_query("2023-D30") is None
    assert word_query("RS-12") is None
    assert word_query("Ärger-1234") is None
    assert word_query("\u212a000") is None  # the Kelvin sign: PostgreSQL lower-cases it to k
    assert ref_words("0001-WS·2023-D30-RS-0012345") == {
        "1-ws",
        "s-2023",
        "3-d30",
        "0-rs",
        "s-0012345",
    }
