"""The search's LIKE patterns match the typed text literally, whatever it contains."""

from __future__ import annotations

import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from api.console.search import WINDOW, _contains, _starts_with, window

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
