"""Every path of the ``archroom`` command tree answers ``--help`` with its usage.

The paths are found by walking the parser that ``archroom`` itself builds, so a command added
by any area is covered without touching this file; each is run as ``python -m daemon PATH
--help`` in its own process, as a user would type it.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

import pytest

from daemon.cli import AREAS, build_parser
from tests.harness import run_cli


def command_paths(parser: argparse.ArgumentParser) -> list[tuple[str, ...]]:
    """The root, then every command and action below it, depth first."""
    paths: list[tuple[str, ...]] = [()]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths += [(name, *rest) for rest in command_paths(sub)]
    return paths


def leaves(parser: argparse.ArgumentParser) -> list[tuple[str, ...]]:
    paths = command_paths(parser)
    return [p for p in paths if not any(q[: len(p)] == p and q != p for q in paths)]


PATHS = command_paths(build_parser())


def test_the_walk_reaches_every_kind_of_command() -> None:
    for path in [
        ("run",),
        ("db", "upgrade"),
        ("token", "create"),
        ("reconcile",),
        ("reconcile", "export"),
        ("replay-gate",),
        ("simulate", "climate"),
        ("capture",),
        ("audit", "verify"),
    ]:
        assert path in PATHS


def test_every_command_has_a_handler() -> None:
    parser = build_parser()
    for path in leaves(parser):
        node = parser
        for name in path:
            node = next(
                a.choices[name]
                for a in node._actions
                if isinstance(a, argparse._SubParsersAction) and name in a.choices
            )
        assert callable(node.get_default("handler")), path


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "archroom")
def test_help_of(path: tuple[str, ...]) -> None:
    result = run_cli(*path, "--help")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(" ".join(("usage: archroom", *path)) + " ")
    assert result.stderr == ""


def test_no_area_module_imports_the_root_command_back() -> None:
    """daemon/cli.py imports the areas; an area importing it (even inside a function) would
    be the cycle the shared helpers in daemon/cli_common.py exist to avoid."""
    modules = {sys.modules[register.__module__] for register in AREAS} - {sys.modules["daemon.cli"]}
    assert modules  # daemon/reconcile/cli.py at least

    for module in modules:
        assert module.__file__ is not None
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        imported = {
            name
            for node in ast.walk(tree)
            for name in (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
        }
        assert "daemon.cli" not in imported, module.__name__
