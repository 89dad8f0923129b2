"""Migration 0015's index of where the words of a reference start, modelled in Python, and
reference-like text to try it on."""

from __future__ import annotations

import itertools
import re

from hypothesis import strategies as st

from api.console.search import WORD_KEPT

SEPARATORS = ["", "-", "·", " ", ".", "中", "--", "K"]


def ref_words(ref: str) -> set[str]:
    """What migration 0015's ``ref_words`` indexes, written again in Python: each word (a run
    of ``0-9a-z`` in the lower-cased text) that follows a separator, after the last character
    of the word before it, 64 characters at most. tests/daemon/test_search_index.py checks
    it against the database's function."""
    words = re.split(r"[^0-9a-z]+", ref.lower())
    return {
        f"{before[-1:]}-{word}"[:WORD_KEPT] for before, word in itertools.pairwise(words) if word
    }


def matches(lexemes: set[str], query: str) -> bool:
    """``query`` (alternatives of one lexeme, each exact or a prefix) matches ``lexemes``."""
    for alternative in query.split(" | "):
        lexeme = alternative.split("'")[1]
        if alternative.endswith(":*"):
            if any(each.startswith(lexeme) for each in lexemes):
                return True
        elif lexeme in lexemes:
            return True
    return False


REF = st.lists(
    st.tuples(st.text(alphabet="0a9Zx", min_size=1, max_size=5), st.sampled_from(SEPARATORS)),
    max_size=6,
).map(lambda words: "".join(word + separator for word, separator in words))
"""Reference-like text: words of letters and digits, each followed by a separator."""
