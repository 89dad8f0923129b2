"""Language choice, and the message catalogues every page and script draws from."""

from __future__ import annotations

import re
import string
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from api.console import i18n
from daemon import messages

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


def test_every_message_the_daemon_can_say_is_in_both_catalogues_with_its_parameters() -> None:
    zh, en = MESSAGES.catalogue("zh"), MESSAGES.catalogue("en")
    assert len(messages.ENGLISH) > 50
    for key, english in messages.ENGLISH.items():
        wanted = messages.placeholders(english)
        for catalogue in (zh, en):
            assert f"msg.{key}" in catalogue, key
            assert messages.placeholders(catalogue[f"msg.{key}"]) == wanted, key
        assert en[f"msg.{key}"] == english, key  # the console's English is the daemon's


def test_every_message_key_the_daemon_names_in_its_code_has_english() -> None:
    said = re.compile(r"""\bsay\(\s*["']([a-z][\w.-]*)["']""")
    root = CONSOLE.parent.parent
    used: set[str] = set()
    for folder in ("daemon", "api", "rfid", "stacker", "sensors"):
        for path in (root / folder).rglob("*.py"):
            used |= set(said.findall(path.read_text(encoding="utf-8")))
    assert len(used) > 30
    assert used - set(messages.ENGLISH) == set()


def test_a_message_renders_its_english_and_survives_json_with_a_nested_reason() -> None:
    rule = messages.say("loan_rule.category", category="RS")
    words = messages.say("loan_rule.max_days", rule=rule, days=30, latest="2026-01-31")
    assert words.english() == (
        "loan rule of category 'RS': a loan lasts at most 30 days (due by 2026-01-31)"
    )
    assert messages.Message.from_json(words.as_json()) == words
    assert messages.Message.from_json({"params": {}}) is None
    assert messages.Message.from_json("text") is None
    try:
        messages.say("no.such.key")
    except KeyError:
        pass
    else:
        raise AssertionError("an unknown key must not pass")


def test_stacker_refusals_and_job_notes_in_english_are_read_back_into_their_keys() -> None:
    busy = messages.stacker_words("stacker is not ready (busy with job 42)")
    assert busy == messages.Message("stacker.not_ready_busy", {"job_id": "42"})
    assert messages.stacker_words("stacker is in manual mode") == messages.Message(
        "stacker.mode.manual", {}
    )
    assert messages.stacker_words("something new") == "something new"
    assert messages.note("redirected to r1-S11-02-03-1") == messages.Message(
        "note.redirected", {"cell": "r1-S11-02-03-1"}
    )
    assert messages.note("no accept within the accept timeout") == messages.Message(
        "note.no_accept", {}
    )
    assert messages.note("") is None
    assert messages.note("empty retrieval: no box in the source cell") is None


def test_no_chinese_text_calls_the_service_a_daemon_or_repeats_itself() -> None:
    zh = MESSAGES.catalogue("zh")
    assert [k for k, v in zh.items() if "守护进程" in v] == []
    for key, text in zh.items():
        for word in re.findall(r"[\u4e00-\u9fff]{2,}", text):
            assert f"{word}\uff1a{word}" not in text, key  # a word, a colon, the same word
