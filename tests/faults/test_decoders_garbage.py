"""Garbage into the decoders of what people hand the daemon: configuration and catalogue files.

The device decoders have their own property tests beside them (tests/uhfreader18,
tests/llrp/test_convert.py, tests/sensors/test_profiles.py for Modbus climate values,
tests/stacker/test_registers.py and test_garbage.py for the PLC's registers). Here the inputs a
person writes or exports: a TOML file may hold anything from a typo to a binary, and a catalogue
transfer of 100,000 rows may hold any byte. The guarantees:

- a configuration is either loaded or refused with a ConfigError whose every line names where
  the problem is (a key path that exists in the file, or a TOML line); ``check-config`` answers
  0 or 1 and never a traceback;
- a catalogue import loads every good row and reports every bad one with its line, whatever
  surrounds it; the only exception is UnicodeDecodeError for text that is not UTF-8 (the API
  answers 422, the CLI a message), and then nothing is loaded.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import io
import json
import math
import re
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from daemon.audit import AuditChain
from daemon.bus import Bus
from daemon.cli import main
from daemon.config import ConfigError, load_config
from daemon.ledger.items import Catalogue, ImportReport, parse_rows
from daemon.ledger.uow import Ledger
from daemon.outbox import Outbox
from daemon.store.db import Store
from daemon.store.schema import items

EXAMPLE = Path(__file__).resolve().parents[2] / "systemd" / "archroom.toml"
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# -- configuration ------------------------------------------------------------------------

junk_key = st.from_regex(r"[a-z_]{1,8}", fullmatch=True)
text = st.text(max_size=20)  # any character but a lone surrogate
scalar = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    text,
    st.sampled_from(["", "0", "-1", "auto", "rtu", "gate", "uhfreader18", "llrp", "xy-md02"]),
)
value = st.recursive(
    scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(junk_key, inner, max_size=4),
    max_leaves=8,
)


def _example() -> dict[str, Any]:
    with EXAMPLE.open("rb") as f:
        return tomllib.load(f)


def _leaves(data: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every key path of a TOML document, tables and arrays included."""
    out = [path] if path else []
    if isinstance(data, dict):
        for key, item in data.items():
            out += _leaves(item, (*path, key))
    elif isinstance(data, list):
        for i, item in enumerate(data):
            out += _leaves(item, (*path, i))
    return out


@st.composite
def mutated_configs(draw: st.DrawFn) -> dict[str, Any]:
    """The shipped example with a few settings replaced, removed or added at random."""
    data = copy.deepcopy(_example())
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = _leaves(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = data
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "remove", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(value)
        elif action == "remove":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(junk_key)] = draw(value)
    return data


random_configs = st.dictionaries(
    st.sampled_from([*sorted(_example()), "stacker", "buses", "sensors", "gates", "racks"])
    | junk_key,
    value,
    max_size=6,
)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return (
            "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
        )
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(x)}" for k, x in v.items()) + "}"


def to_toml(data: dict[str, Any]) -> str:
    """A TOML document with the same content (inline tables; no writer in the standard library)."""
    return "".join(f"{json.dumps(k)} = {_toml_value(v)}\n" for k, v in data.items())


LOCATION = re.compile(r"(?P<key>[^.\[\]:]+)|\[(?P<index>\d+)\]|\.")


def _parent_exists(data: dict[str, Any], where: str) -> bool:
    """Whether everything but the last step of a location like ``readers[1].antennas`` exists."""
    steps: list[str | int] = []
    for m in LOCATION.finditer(where):
        if m["key"] is not None:
            steps.append(m["key"])
        elif m["index"] is not None:
            steps.append(int(m["index"]))
    node: Any = data
    for step in steps[:-1]:
        present = (isinstance(node, dict) and step in node) or (
            isinstance(node, list) and isinstance(step, int) and step < len(node)
        )
        if not present:
            return False
        node = node[step]
    return bool(steps)


def _assert_located(error: ConfigError, data: dict[str, Any]) -> None:
    assert error.errors
    for line in error.errors:
        where, sep, message = line.partition(": ")
        assert sep, line
        assert message.strip(), line
        assert _parent_exists(data, where), (line, data)


def _check(data: dict[str, Any]) -> None:
    try:
        load_config(None, **data)
    except ConfigError as e:
        _assert_located(e, data)


@SETTINGS
@given(mutated_configs())
def test_a_mutated_example_config_loads_or_names_where_it_is_wrong(data: dict[str, Any]) -> None:
    _check(data)


@SETTINGS
@given(random_configs)
def test_random_settings_load_or_name_where_they_are_wrong(data: dict[str, Any]) -> None:
    _check(data)


def _check_config(path: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check-config", str(path)])
    return code, out.getvalue(), err.getvalue()


@SETTINGS
@given(mutated_configs())
def test_check_config_answers_0_or_1_for_any_toml_file(
    tmp_path: Path, data: dict[str, Any]
) -> None:
    path = tmp_path / "archroom.toml"
    path.write_text(to_toml(data), encoding="utf-8")
    code, out, err = _check_config(path)
    errors = _errors_of(path)
    if errors is None:
        assert code == 0
        assert ": ok (" in out
    else:
        assert code == 1
        assert f"{len(errors)} error(s)" in err
        assert "Traceback" not in err


def _errors_of(path: Path) -> list[str] | None:
    try:
        load_config(path)
    except ConfigError as e:
        return e.errors
    return None


@SETTINGS
@given(st.binary(max_size=300) | text.map(str.encode))
def test_check_config_refuses_any_bytes_with_a_message_not_a_traceback(
    tmp_path: Path, raw: bytes
) -> None:
    path = tmp_path / "archroom.toml"
    path.write_bytes(raw)
    code, _out, err = _check_config(path)
    assert code in (0, 1)
    if code == 1:
        assert "error(s)" in err


def test_a_config_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[site]\nname = "Archiv Köln"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(path)


# -- catalogue imports --------------------------------------------------------------------


@pytest.fixture
async def catalogue(sqlite_url: str) -> AsyncIterator[Catalogue]:
    store = Store.connect(sqlite_url)
    try:
        yield Catalogue(Ledger(store, AuditChain("r1"), Outbox(store, site="t", room="r1"), Bus()))
    finally:
        await store.close()


async def _count(catalogue: Catalogue) -> int:
    async with catalogue.store.read() as conn:
        return int(await conn.scalar(select(func.count()).select_from(items)) or 0)


_batch = iter(range(1, 10**9))


def _ref() -> str:
    return f"G{next(_batch)}"


HUGE = "x" * 200_000  # over the csv module's 131,072-character field limit
cell = st.one_of(
    text,
    st.sampled_from(["", "\x00", "Y", "D30", "D99", "box", "file", "11010519491231002X", HUGE]),
)


@st.composite
def csv_imports(draw: st.DrawFn) -> tuple[str, dict[int, dict[str, str]], set[int]]:
    """Well-formed CSV: good records and records with random values, by line number."""
    header = [
        "ref",
        "title",
        "retention",
        *draw(
            st.lists(
                st.sampled_from(["kind", "year", "category", "resident_id", "record_id", "colour"]),
                unique=True,
            )
        ),
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    good: dict[int, dict[str, str]] = {}
    bad: set[int] = set()
    for line in range(2, 2 + draw(st.integers(min_value=0, max_value=8))):
        if draw(st.booleans()):
            row = {
                "ref": _ref(),
                "title": draw(st.from_regex(r"\w[\w ·]{0,29}", fullmatch=True)),
                "retention": draw(st.sampled_from(["Y", "D30", "D10"])),
            }
            row = {k: row.get(k, "") for k in header}
            good[line] = row
        else:
            row = {k: draw(cell).replace("\r", "").replace("\n", "") for k in header}
            bad.add(line)
        writer.writerow([row[k] for k in header])
    return out.getvalue(), good, bad


async def _imported(
    catalogue: Catalogue, data: bytes, fmt: Literal["csv", "jsonl"] | None = None
) -> tuple[list[tuple[int, dict[str, Any] | str]], ImportReport]:
    """Import ``data``: each of its rows is either loaded or reported with its line."""
    rows = list(parse_rows(data, fmt=fmt))
    report = await catalogue.import_rows(rows, actor="test")
    assert report.loaded + report.error_count == len(rows)
    assert all(e.line >= 1 and e.error for e in report.errors)
    return rows, report


async def _stored_titles(catalogue: Catalogue, refs: list[str]) -> dict[str, str]:
    async with catalogue.store.read() as conn:
        rows = await conn.execute(select(items.c.ref, items.c.title).where(items.c.ref.in_(refs)))
        return {r.ref: r.title for r in rows}


@SETTINGS
@given(csv_imports())
async def test_every_good_csv_row_loads_whatever_the_rows_around_it_hold(
    catalogue: Catalogue, case: tuple[str, dict[int, dict[str, str]], set[int]]
) -> None:
    data, good, bad = case
    rows, report = await _imported(catalogue, data.encode(), fmt="csv")
    assert {line for line, _ in rows} == set(good) | bad
    stored = await _stored_titles(catalogue, [r["ref"] for r in good.values()])
    assert stored == {r["ref"]: r["title"].strip() for r in good.values()}
    assert {e.line for e in report.errors} <= bad


@st.composite
def jsonl_imports(draw: st.DrawFn) -> tuple[str, dict[int, dict[str, Any]], set[int]]:
    """Good records as JSON lines among garbage lines (never containing a line break)."""
    lines: list[str] = []
    good: dict[int, dict[str, Any]] = {}
    garbage: set[int] = set()
    for number in range(1, 1 + draw(st.integers(min_value=1, max_value=8))):
        if draw(st.booleans()):
            record = {
                "ref": _ref(),
                "title": draw(text.filter(lambda t: t and t == t.strip() and "\x00" not in t)),
                "retention": draw(st.sampled_from(["Y", "D30", "D10"])),
            }
            good[number] = record
            lines.append(json.dumps(record, ensure_ascii=draw(st.booleans())))
        else:
            junk = draw(
                st.one_of(
                    text,
                    st.just("{" * 100_000),
                    st.just('{"ref": ' + "9" * 5000 + "}"),
                    st.just('{"ref": "A", "title": "NUL \\u0000", "retention": "Y"}'),
                    st.just('{"ref": "A", "title": "lone \\ud800", "retention": "Y"}'),
                    st.just('["not", "an", "object"]'),
                )
            )
            lines.append(junk.replace("\n", " "))
            if junk.strip():
                garbage.add(number)
    return "\n".join(lines), good, garbage


@SETTINGS
@given(jsonl_imports())
async def test_every_good_json_line_loads_and_every_garbage_line_is_reported(
    catalogue: Catalogue, case: tuple[str, dict[int, dict[str, Any]], set[int]]
) -> None:
    data, good, garbage = case
    _, report = await _imported(catalogue, data.encode(), fmt="jsonl")
    stored = await _stored_titles(catalogue, [r["ref"] for r in good.values()])
    assert stored == {r["ref"]: r["title"] for r in good.values()}
    assert {e.line for e in report.errors} == garbage


@SETTINGS
@given(
    st.binary(max_size=400) | st.sampled_from([b"\xef\xbb\xbfref,title\n\xff\n", b"ref\n\x00\n"])
)
async def test_any_bytes_import_as_a_report_or_refuse_as_not_utf8_loading_nothing(
    catalogue: Catalogue, raw: bytes
) -> None:
    before = await _count(catalogue)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        with pytest.raises(UnicodeDecodeError):
            await catalogue.import_rows(parse_rows(raw), actor="test")
        assert await _count(catalogue) == before
        return
    _, report = await _imported(catalogue, raw)
    assert before <= await _count(catalogue) <= before + report.loaded


def test_a_field_over_the_csv_size_limit_is_reported_on_its_line_and_reading_goes_on() -> None:
    data = f"ref,title,retention\nA-1,{HUGE},Y\nA-2,ok,Y\n"
    assert list(parse_rows(data)) == [
        (2, "not readable as CSV: field larger than field limit (131072)"),
        (3, {"ref": "A-2", "title": "ok", "retention": "Y"}),
    ]


def test_a_json_line_may_hold_unicode_line_separators_inside_its_strings() -> None:
    line = json.dumps(
        {"ref": "A-1", "title": "a\u2028b\x85c", "retention": "Y"}, ensure_ascii=False
    )
    assert list(parse_rows(line, fmt="jsonl")) == [
        (1, {"ref": "A-1", "title": "a\u2028b\x85c", "retention": "Y"})
    ]


async def test_a_row_the_database_could_not_store_costs_no_other_row(db_url: str) -> None:
    """PostgreSQL text cannot hold NUL: such a row is reported, its batch still loads."""
    store = Store.connect(db_url)
    try:
        ledger = Ledger(store, AuditChain("r1"), Outbox(store, site="t", room="r1"), Bus())
        data = (
            "ref,title,retention,approval_no\n"
            "N-1,Pensions,Y,\n"
            "N-2,Pen\x00sions,Y,\n"
            "N-3,Pensions,Y,RSJ\x00-1\n"
            "N-4,Pensions,Y,RSJ-2\n"
        )
        report = await Catalogue(ledger).import_rows(parse_rows(data), actor="test")
        assert report.loaded == 2
        assert [(e.line, e.ref) for e in report.errors] == [(3, "N-2"), (4, "N-3")]
        assert all("NUL" in e.error for e in report.errors)
        async with store.read() as conn:
            refs = (await conn.execute(select(items.c.ref).order_by(items.c.ref))).scalars()
            assert list(refs) == ["N-1", "N-4"]
    finally:
        await store.close()
