"""Finding an item from what a person has at hand: part of its reference, of its title, or of
the EPC printed on its tag.

Staff at the desk rarely have a whole archival reference (``0001-WS·2023-D30-RS-0001``): they
have a box label, a title from a request slip, or the last digits of the EPC on a tag; or they
scan the label's barcode or the tag itself, and the scanner types the whole reference or EPC.
The search matches the text anywhere in the reference or the title (case-insensitive), and,
when the text is hexadecimal, anywhere in an active tag's EPC. An exact reference or EPC comes
first, then references that start with the text, then the rest by reference; the answer is one
page of hits and the total.

"Contains" cannot use a B-tree, so a trigram index serves it (migration 0007): an FTS5 table
with the trigram tokenizer on SQLite, GIN indexes with pg_trgm on PostgreSQL. Both answer the
same question, a case-insensitive substring; only text shorter than a trigram (two characters)
falls back to scanning the catalogue. (One difference remains: for text longer than the window
the index is asked for, SQLite's ``lower()`` folds the case of ASCII letters only, so ``Ä`` and
``ä`` match each other there only on PostgreSQL; references, EPCs and Chinese titles have no
such letters.) pg_trgm does not know where a trigram sits, so on PostgreSQL the references
holding a text with a word that starts after a separator (``RS-0012``) are looked up by that
word instead, in an index of where the words of references start (migration 0015,
``word_query``); titles keep pg_trgm. The catalogue service has
``POST /api/v1/locations/lookup`` for machines.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    cast,
    column,
    func,
    literal,
    or_,
    select,
    table,
    text,
    union,
)
from sqlalchemy.dialects.postgresql import TSQUERY

from daemon.ledger.errors import Invalid
from daemon.ledger.whereabouts import item_in_room
from daemon.store.db import Store
from daemon.store.schema import items, tags

MIN_LENGTH = 2
MAX_LENGTH = 100
TRIGRAM = 3
WINDOW = 6
WINDOW_VARIETY = 3
_HEX = re.compile(r"^[0-9A-Fa-f]{4,64}$")
_ASCII_WORD = re.compile(r"[0-9A-Za-z]+")
WORD_KEPT = 64
"""How many characters of ``<last character of the word before>-<word>`` migration 0015
indexes."""
_WORD_ENDS = "0123456789abcdefghijklmnopqrstuvwxyz"

Match = Literal["ref", "title", "epc"]

_PLANNING = text(
    "SELECT set_config('plan_cache_mode', 'force_custom_plan', true),"
    " set_config('jit', 'off', true)"
)
"""Both settings for this transaction only (``SET LOCAL``), in one round trip."""
_items_fts = table("items_fts", column("rowid"))
_tags_fts = table("tags_fts", column("rowid"))


@dataclass(frozen=True, slots=True)
class Hit:
    ref: str
    title: str
    kind: str
    year: int | None
    epc: str | None
    matched: Match


@dataclass(frozen=True, slots=True)
class Hits:
    """One page of hits, best first, and how many there are in all."""

    total: int
    hits: list[Hit]


def _escaped(text: str) -> str:
    """``text`` as a LIKE pattern that matches it literally (escape character ``\\``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(text: str) -> str:
    return f"%{_escaped(text)}%"


def _starts_with(text: str) -> str:
    return f"{_escaped(text)}%"


def _phrase(text: str) -> str:
    """``text`` as an FTS5 phrase: with the trigram tokenizer, a substring of the column."""
    return '"' + text.replace('"', '""') + '"'


def _matched(hit_ref: str, hit_epc: str | None, text: str, hex_text: str | None) -> Match:
    if hex_text is not None and hit_epc is not None and hex_text in hit_epc:
        return "epc"
    return "ref" if text.lower() in hit_ref.lower() else "title"


def _words(text: str) -> list[str]:
    """The runs of letters and digits in ``text``, in order."""
    words: list[str] = []
    current = ""
    for c in text:
        if c.isalnum():
            current += c
        elif current:
            words.append(current)
            current = ""
    if current:
        words.append(current)
    return words


def window(text: str, *, words: bool = False) -> str:
    """The part of ``text`` (at most ``WINDOW`` characters) most likely to be rare in the
    catalogue; with ``words``, a part of one run of letters and digits when there is one at
    least a trigram long.

    A trigram index answers fast when the trigrams it looks up are rare; the whole of a scanned
    reference (``0001-WS·2023-D30-RS-0012345``) or EPC holds trigrams that every item shares:
    the fonds, the year, the company prefix. What sets one apart is its running number, at the
    end. So the index is asked for the last window with a few different characters in it (a
    run of zeros is not rare), and the whole text is then checked on the few rows it finds.

    pg_trgm (``words``) keeps letters and digits only: it cuts the text into words and turns
    each word's edges into trigrams of their own. Those edges are the commonest trigrams of a
    catalogue (every reference holds a word that starts with ``0``), and for ``RS-0123`` the
    index would read them for every item, to learn what ``0123`` alone tells it. So on
    PostgreSQL the window is taken from the longest word of the text (the last of equals).
    FTS5's trigrams span the separators and are checked in place, so SQLite keeps them.
    """
    if words:
        runs = [run for run in _words(text) if len(run) >= TRIGRAM]
        if runs:
            text = max(reversed(runs), key=len)
    if len(text) <= WINDOW:
        return text
    starts = range(len(text) - WINDOW, -1, -1)
    for start in starts:
        if len(set(text[start : start + WINDOW].lower())) >= WINDOW_VARIETY:
            return text[start : start + WINDOW]
    best = max(starts, key=lambda start: (len(set(text[start : start + WINDOW])), start))
    return text[best : best + WINDOW]


def word_query(text: str) -> str | None:
    """The tsquery that asks migration 0015's index of where reference words start
    (``ref_words``) for the references that can contain ``text``, or None when pg_trgm's
    window serves it as well.

    pg_trgm does not know where a trigram sits: ``RS-0012`` asks it for ``0012``, whose
    trigrams ``001`` and ``012`` every reference of 2012 in fonds ``0001`` holds, and tens of
    thousands of references are read to find the thousand that hold ``RS-0012``. The index of
    words knows that ``0012`` starts a word right after a word that ends in ``s``: it is asked
    for ``s-0012`` as a prefix, which only the references that hold ``S-0012`` have.

    The word is a run of ASCII letters and digits that a separator precedes in ``text`` (so it
    starts a word in every reference that contains ``text``), the longest (the last of equals),
    and it is used when it is at least a trigram long and no shorter than every run of letters
    and digits of ``text`` (pg_trgm's window is one of those: asked for a longer one, pg_trgm
    may find fewer items). It is a prefix unless ``text`` goes on after it with a separator.
    When ``text`` starts with the separator, the word may follow any character (or none).

    The index splits the lower-cased reference at every character other than ``0-9a-z``: for
    ``text`` to split the same way under PostgreSQL's ``lower()`` and ``ILIKE``, every
    character of it is ASCII or has no case (Chinese, ``·``); otherwise None.
    """
    if not all(c.isascii() or c.lower() == c == c.upper() for c in text):
        return None
    runs = list(_ASCII_WORD.finditer(text))
    starting = [i for i, run in enumerate(runs) if run.start() > 0]
    if not starting:
        return None
    at = max(reversed(starting), key=lambda i: len(runs[i].group()))
    word = runs[at].group().lower()
    if len(word) < TRIGRAM or len(word) < max(map(len, _words(text))):
        return None
    whole = runs[at].end() < len(text)
    if len(word) > WORD_KEPT - 2:
        word, whole = word[: WORD_KEPT - 2], False
    suffix = "" if whole else ":*"
    before = [runs[at - 1].group()[-1].lower()] if at > 0 else ["", *_WORD_ENDS]
    return " | ".join(f"'{end}-{word}'{suffix}" for end in before)


def _caseless(text: str) -> bool:
    """``text`` has no letter with a case (digits, dashes, Chinese): plain LIKE matches it
    as ILIKE would, and costs less on every row the index hands over."""
    return text.lower() == text.upper()


def _contains_exactly(dialect: str, column: Any, text: str) -> ColumnElement[bool]:
    """``column`` contains ``text``, any case (a check on rows already found, not indexed)."""
    position = func.instr if dialect == "sqlite" else func.strpos
    if _caseless(text):
        return position(column, text) > 0
    return position(func.lower(column), text.lower()) > 0


def _like(column: Any, text: str, *, start: bool = False) -> ColumnElement[bool]:
    """``column`` contains ``text`` (starts with it, with ``start``), any case, as a pattern
    the trigram index serves."""
    pattern = _starts_with(text) if start else _contains(text)
    if _caseless(text):
        return column.like(pattern, escape="\\")  # type: ignore[no-any-return]
    return column.ilike(pattern, escape="\\")  # type: ignore[no-any-return]


def _item_match(dialect: str, text: str) -> ColumnElement[bool]:
    """The items whose reference or title contains ``text``."""
    part = window(text, words=dialect == "postgresql")
    words = word_query(text) if dialect == "postgresql" else None
    if words is not None:
        # the title first: the rows pg_trgm hands over are rechecked against the whole
        # condition, and the title alone decides most of them without computing ref_words
        found: ColumnElement[bool] = or_(
            _like(items.c.title, part),
            func.ref_words(items.c.ref).op("@@")(cast(literal(words), TSQUERY)),
        )
        part = ""  # what the index of words finds is a word of the text, not all of it
    elif dialect == "sqlite" and len(part) >= TRIGRAM:
        fts_ids = select(_items_fts.c.rowid).where(text_match("items_fts", _phrase(part)))
        found = items.c.id.in_(fts_ids)
    else:
        found = or_(_like(items.c.ref, part), _like(items.c.title, part))
    if part == text:
        return found
    return and_(
        found,
        or_(
            _contains_exactly(dialect, items.c.ref, text),
            _contains_exactly(dialect, items.c.title, text),
        ),
    )


def _tagged_ids(dialect: str, hex_text: str) -> Select[Any]:
    """Ids of the items whose active tag's EPC contains ``hex_text`` (upper-case hex)."""
    part = window(hex_text)
    query = select(tags.c.item_id.label("id")).where(tags.c.retired_us.is_(None))
    if dialect == "sqlite":
        epc_ids = select(_tags_fts.c.rowid).where(text_match("tags_fts", _phrase(part)))
        query = query.where(tags.c.id.in_(epc_ids))
    else:
        query = query.where(tags.c.epc.like(_contains(part), escape="\\"))
    if part != hex_text:
        query = query.where(_contains_exactly(dialect, tags.c.epc, hex_text))
    return query


def text_match(fts_table: str, phrase: str) -> Any:
    return text(f"{fts_table} MATCH :{fts_table}_phrase").bindparams(
        **{f"{fts_table}_phrase": phrase}
    )


def _parsed(text: str) -> tuple[str, str | None]:
    """The stripped text, and the same as upper-case hex when it can be part of an EPC."""
    text = text.strip()
    compact = text.replace(" ", "").replace("-", "")
    return text, compact.upper() if _HEX.fullmatch(compact) else None


def queries(
    dialect: str, text: str, *, limit: int, offset: int, room: str | None = None
) -> tuple[Select[Any], Select[Any]]:
    """The two statements of a search: how many items match, and one page of them (each row
    also carries how many match, so the count is asked only for a page past the end). With
    ``room``, only items of that room (or of none yet) match.

    The page is ranked and cut from the matching items alone; only its rows are then joined
    to their active tags. A broad text matches thousands of items: each would otherwise cost
    a lookup of its tag (and, for a search by reference or title alone, a second lookup of
    the item it already was)."""
    text, hex_text = _parsed(text)
    exact: list[ColumnElement[bool]] = [items.c.ref == text]
    base: Any = items
    by_text = _item_match(dialect, text)
    matching: ColumnElement[bool] | None = by_text
    count = select(func.count()).select_from(items).where(by_text)
    if hex_text is not None:
        # two sources: the matching items, and the items of the matching tags
        found = union(select(items.c.id).where(by_text), _tagged_ids(dialect, hex_text)).subquery(
            "found"
        )
        base = found.join(items, items.c.id == found.c.id)
        matching = None  # the join keeps the matching items alone
        count = select(func.count()).select_from(found)
        exact.append(
            items.c.id.in_(
                select(tags.c.item_id).where(tags.c.epc == hex_text, tags.c.retired_us.is_(None))
            )
        )
    if room is not None:
        here = item_in_room(room)
        matching = here if matching is None else and_(matching, here)
        count = select(func.count()).select_from(base).where(here)
        if base is items:
            count = count.where(by_text)
    rank = case(
        (or_(*exact), 0),
        (_like(items.c.ref, text, start=True), 1),
        else_=2,
    ).label("rank")
    chosen = (
        select(
            items.c.id,
            items.c.ref,
            items.c.title,
            items.c.kind,
            items.c.year,
            rank,
            func.count().over().label("total"),
        )
        .select_from(base)
        .order_by(rank, items.c.ref)
        .limit(limit)
        .offset(offset)
    )
    ranked = (chosen if matching is None else chosen.where(matching)).subquery("ranked")
    active_tag = and_(tags.c.item_id == ranked.c.id, tags.c.retired_us.is_(None))
    page = (
        select(
            ranked.c.ref,
            ranked.c.title,
            ranked.c.kind,
            ranked.c.year,
            tags.c.epc,
            ranked.c.total,
        )
        .select_from(ranked.outerjoin(tags, active_tag))
        .order_by(ranked.c.rank, ranked.c.ref)
    )
    return count, page


def search_text(q: str) -> str:
    """``q`` as the text to look for (stripped), or Invalid (422) when it cannot mean one.

    A control character (NUL above all) is refused rather than passed on: SQLite ends a
    pattern at a NUL, so ``%00%00`` became ``%%`` and matched the whole catalogue; blanks
    alone would do the same once stripped."""
    if any(unicodedata.category(c) == "Cc" for c in q):
        raise Invalid("the search text holds a control character (such as NUL); type words")
    text = q.strip()
    if len(text) < MIN_LENGTH:
        raise Invalid(f"type at least {MIN_LENGTH} characters besides spaces to search")
    return text


async def search_items(
    store: Store, text: str, *, limit: int = 50, offset: int = 0, room: str | None = None
) -> Hits:
    """Items whose reference, title or active EPC contains ``text`` (stripped), best first;
    with ``room``, only those of that room (or of none yet)."""
    count, page = queries(store.dialect, text, limit=limit, offset=offset, room=room)
    async with store.read() as conn:
        if store.dialect == "postgresql":
            # A prepared statement's generic plan cannot know that the pattern is selective
            # and scans the catalogue; plan each search for its own text. The planner cannot
            # tell how many references hold a word (it guesses 2%), and with a room's
            # condition on each of them the guess costs enough to compile the query to
            # machine code first (JIT): 0.7 s, for a search that reads a few pages.
            await conn.execute(_PLANNING)
        rows = (await conn.execute(page)).all()
        # every row carries the total; a page past the end has no row to carry it
        total = int(rows[0].total) if rows else int(await conn.scalar(count) or 0)
    text, hex_text = _parsed(text)
    return Hits(
        total,
        [
            Hit(r.ref, r.title, r.kind, r.year, r.epc, _matched(r.ref, r.epc, text, hex_text))
            for r in rows
        ],
    )
