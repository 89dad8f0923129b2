"""Language choice, and the message catalogues every page and script draws from."""

from __future__ import annotations

import re
import string
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from api.console import i18n

CONSOLE = Path(i18n.__file__).resolve().parent
MESSAGES = i18n.Messages.load(CONSOLE / "messages")
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z][\w.-]*)["']\s*[,)]""")


def test_accept_language_picks_the_preferred_language_the_console_speaks() -> None:
    assert i18n.from_accept_language("zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert i18n.from_accept_language("en-GB,en;q=0.9,zh-CN;q=0.8") == "en"
    assert i18n.from_accept_language("fr-FR, zh-TW;q=0.5, en;q=0.4") == "zh"
    assert i18n.from_accept_language("ZH-hans") == "zh"
    assert i18n.from_accept_language("en;q=0.3, zh;q=0.7") == "zh"
    assert i18n.from_accept_language("zh;q=0, en;q=0.1") == "en"  # q=0 refuses
    assert i18n.from_accept_language("en;q=0.5, zh;q=0.5") == "en"  # a tie: the earlier one
    assert i18n.from_accept_language("de, fr;q=0.9, *;q=0.1") is None
    assert i18n.from_accept_language("zh;q=abc, en;q=0.2") == "en"
    assert i18n.from_accept_language("zh;q=nan, en;q=2, en-US") == "en"


def test_the_switch_beats_the_cookie_which_beats_the_browser_then_english() -> None:
    assert i18n.choose(switch="zh", cookie="en", accept_language="en") == "zh"
    assert i18n.choose(switch=None, cookie="zh", accept_language="en") == "zh"
    assert i18n.choose(switch="klingon", cookie=None, accept_language="zh-CN") == "zh"
    assert i18n.choose(switch=None, cookie=None, accept_language="ja") == "en"
    assert i18n.choose(switch=None, cookie=None, accept_language=None) == "en"


@given(st.text(alphabet=string.printable + "中文;=,-*", max_size=300))
def test_any_accept_language_header_yields_a_language_or_none(header: str) -> None:
    assert i18n.from_accept_language(header) in (*i18n.LANGS, None)
    assert i18n.choose(switch=None, cookie=None, accept_language=header) in i18n.LANGS


@given(
    st.lists(
        st.tuples(st.sampled_from(["zh", "zh-CN", "en", "en-US", "fr", "de"]), st.integers(1, 9)),
        min_size=1,
        max_size=6,
    )
)
def test_the_language_with_the_highest_quality_wins(entries: list[tuple[str, int]]) -> None:
    header = ", ".join(f"{tag};q=0.{q}" for tag, q in entries)
    spoken = [(q, -n, tag[:2]) for n, (tag, q) in enumerate(entries) if tag[:2] in i18n.LANGS]
    expected = max(spoken)[2] if spoken else None
    assert i18n.from_accept_language(header) == expected


def test_both_catalogues_have_the_same_keys_and_placeholders() -> None:
    zh, en = MESSAGES.catalogue("zh"), MESSAGES.catalogue("en")
    assert set(zh) == set(en)
    for key in en:
        assert zh[key].strip(), key
        assert en[key].strip(), key
        assert set(re.findall(r"\{(\w+)\}", zh[key])) == set(re.findall(r"\{(\w+)\}", en[key])), key


def test_every_message_the_pages_and_scripts_name_exists() -> None:
    used = set()
    for path in [*CONSOLE.glob("templates/*.html"), *CONSOLE.glob("static/*.js")]:
        used |= set(LITERAL_KEY.findall(path.read_text(encoding="utf-8")))
    assert len(used) > 100
    assert used - set(MESSAGES.catalogue("en")) == set()


def test_translate_fills_values_and_falls_back_to_english_then_to_the_key() -> None:
    messages = i18n.Messages({"zh": {"a": "甲 {n}"}, "en": {"a": "A {n}", "b": "B"}})
    assert messages.translate("zh", "a", n=3) == "甲 3"
    assert messages.translate("zh", "b") == "B"
    assert messages.translate("en", "nope") == "nope"
