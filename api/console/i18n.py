"""Chinese or English: chosen by the browser, with a switch on every page.

Staff of a bureau's archive read Chinese; the vendor's engineers and the project's documents
read English. A page's language comes from, in order: the switch (``?lang=zh`` or ``?lang=en``
on any page, then remembered in a cookie), the cookie, the browser's ``Accept-Language`` (the
language with the highest q-value that the console speaks, RFC 9110 §12.5.4), and English
when the browser asks for neither. The messages live in ``messages/<lang>.json``, one flat
key -> text map per language with the same keys; ``{name}`` marks a value filled in at the
point of use (by the template, or by the page's script for API answers).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
DEFAULT: Lang = "en"
COOKIE = "archroom_lang"
HTML_LANG: Mapping[Lang, str] = {"zh": "zh-CN", "en": "en"}
_MAX_HEADER = 2000


def as_lang(value: str | None) -> Lang | None:
    if value is None:
        return None
    value = value.strip().lower()
    return value if value in LANGS else None


def from_accept_language(header: str) -> Lang | None:
    """The console language the browser prefers most, or None when it asks for neither.

    ``zh-CN;q=0.9, en;q=0.8`` -> ``zh``. Entries with q=0 are refusals; a malformed q counts as
    0; ties go to the earlier entry; ``*`` adds nothing (the fallback handles it).
    """
    best: tuple[float, int, Lang] | None = None
    for position, entry in enumerate(header[:_MAX_HEADER].split(",")):
        tag, _, params = entry.partition(";")
        lang = as_lang(tag.strip().split("-", 1)[0])
        if lang is None:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        if not 0.0 < quality <= 1.0:  # also refuses NaN
            continue
        if best is None or quality > best[0]:
            best = (quality, position, lang)
    return best[2] if best else None


def choose(*, switch: str | None, cookie: str | None, accept_language: str | None) -> Lang:
    return (
        as_lang(switch)
        or as_lang(cookie)
        or (from_accept_language(accept_language) if accept_language else None)
        or DEFAULT
    )


class Messages:
    """The console's texts in every language it speaks."""

    def __init__(self, catalogues: Mapping[Lang, Mapping[str, str]]) -> None:
        self.catalogues = catalogues

    @classmethod
    def load(cls, directory: Path) -> Messages:
        catalogues: dict[Lang, dict[str, str]] = {}
        for lang in LANGS:
            raw = json.loads((directory / f"{lang}.json").read_text(encoding="utf-8"))
            if not isinstance(raw, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
            ):
                raise ValueError(f"{directory / lang}.json must map message keys to texts")
            catalogues[lang] = raw
        return cls(catalogues)

    def catalogue(self, lang: Lang) -> Mapping[str, str]:
        return self.catalogues[lang]

    def translate(self, lang: Lang, key: str, **values: object) -> str:
        text = self.catalogues[lang].get(key)
        if text is None:
            log.warning("no %s text for console message %r", lang, key)
            text = self.catalogues[DEFAULT].get(key, key)
        return text.format(**values) if values else text
