"""What ``pip install archroom`` brings must be enough to run it.

The tests run with the ``dev`` extra installed, so a runtime module importing a package that
only the extra provides would pass every other test and fail on a fresh machine at
``make demo``. This test reads every import in the installed packages and checks that each
third-party one comes from a runtime dependency (directly, or through one of its own).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions, requires
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_PACKAGES = ("daemon", "drivers", "rfid", "stacker", "sensors", "api", "simulators")


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", Requirement(requirement).name).lower()


def _applies(requirement: str) -> bool:
    """Not an extra's, and meant for this Python."""
    marker = Requirement(requirement).marker
    return marker is None or marker.evaluate({"extra": ""})


def _runtime_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    todo = [_name(r) for r in project["dependencies"]]
    seen: set[str] = set()
    while todo:
        dist = todo.pop()
        if dist in seen:
            continue
        seen.add(dist)
        todo += [_name(req) for req in requires(dist) or [] if _applies(req)]
    return seen


def _imported_modules() -> dict[str, str]:
    """Top-level module -> one file that imports it, for every import in the runtime packages."""
    found: dict[str, str] = {}
    for package in RUNTIME_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_is_a_runtime_dependency() -> None:
    runtime = _runtime_distributions()
    providers = packages_distributions()
    missing = []
    for module, where in sorted(_imported_modules().items()):
        if module in sys.stdlib_module_names or module in RUNTIME_PACKAGES:
            continue
        dists = {re.sub(r"[-_.]+", "-", d).lower() for d in providers.get(module, [])}
        if not dists & runtime:
            missing.append(f"{module} (imported by {where}; provided by {sorted(dists)})")
    assert missing == []
