"""The design notes and the README's tour stay true to the tree.

Code cites the design notes as "docs/design.md §4.3"; each cited section must exist (with its
stable anchor ``#s4-3``), nothing may cite a document outside the repository, every link of the
notes and of the README must lead to a file and heading that exist, and every path named in the
README's "Where things are" must be in the tree.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DESIGN = ROOT / "docs" / "design.md"
CODE_DIRS = (
    *("api", "bench", "daemon", "drivers", "grafana"),
    *("rfid", "sensors", "simulators", "stacker", "tests"),
)


def _code_files() -> list[Path]:
    return [p for d in CODE_DIRS for p in sorted((ROOT / d).rglob("*.py"))]


def _anchors(markdown: str) -> set[str]:
    """Explicit ``<a id>`` anchors and GitHub's heading slugs."""
    ids = set(re.findall(r'<a id="([^"]+)"></a>', markdown))
    for heading in re.findall(r"^#+ (.+)$", markdown, flags=re.MULTILINE):
        text = re.sub(r"<a id=\"[^\"]+\"></a>", "", heading).strip().lower()
        ids.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return ids


def test_every_cited_section_of_the_design_notes_exists() -> None:
    anchors = _anchors(DESIGN.read_text())
    cited = 0
    for path in _code_files():
        for match in re.finditer(r"docs/design\.md ((?:§[\d.]+(?:[-, ]+)?)+)", path.read_text()):
            for section in re.findall(r"§(\d+(?:\.\d+)?)", match.group(1)):
                cited += 1
                assert "s" + section.replace(".", "-") in anchors, (
                    f"{path.relative_to(ROOT)} cites docs/design.md §{section}, which has no "
                    f"section with the anchor s{section.replace('.', '-')}"
                )
    assert cited >= 40  # the code cites the notes about fifty times


def test_nothing_cites_a_design_document_outside_the_repository() -> None:
    texts = [*_code_files(), *sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
    outside = "DESIGN" + " §"  # spelled in two parts so that this file does not cite it
    for path in texts:
        assert outside not in path.read_text(), f"{path.relative_to(ROOT)} cites {outside!r}"


@pytest.mark.parametrize("page", ["README.md", "docs/design.md"])
def test_links_lead_to_files_and_headings_that_exist(page: str) -> None:
    source = ROOT / page
    for target in re.findall(r"\]\(([^)\s]+)\)", source.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # an outside address
        file, _, anchor = target.partition("#")
        linked = (source.parent / file).resolve() if file else source
        assert linked.exists(), f"{page} links {target}: no such file"
        if anchor:
            assert anchor in _anchors(linked.read_text()), f"{page} links {target}: no heading"


def test_the_readme_tour_names_only_paths_that_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    tour = readme.split("## Where things are", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in tour.splitlines() if line.startswith("| `")]
    assert len(rows) >= 15
    named = 0
    for row in rows:
        where, what = row.strip("|").split("|", 1)
        folders = re.findall(r"`([^`]+)`", where)
        for folder in folders:
            assert (ROOT / folder).is_dir(), f"README tour: {folder} is not a folder"
        for name in re.findall(r"`([\w/.]+(?:\.py|/))`", what):
            named += 1
            assert any((ROOT / f / name).exists() for f in ("", *folders)), (
                f"README tour: {name} is not in {', '.join(folders)}"
            )
    assert named >= 60


@pytest.mark.parametrize(
    "package",
    [
        *("drivers", "rfid", "rfid/service", "stacker", "stacker/service", "sensors"),
        *("sensors/service", "daemon", "daemon/ledger", "daemon/accounts"),
    ],
)
def test_the_tour_lists_every_module_of_the_packages(package: str) -> None:
    """A module added to one of these packages (or moved into one) is added to the tour too."""
    tour = (ROOT / "README.md").read_text().split("## Where things are", 1)[1]
    for module in sorted((ROOT / package).glob("*.py")):
        if not module.name.startswith("__"):
            assert f"`{module.name}`" in tour, f"README tour misses {package}/{module.name}"


def test_the_metrics_of_the_design_notes_are_the_daemons() -> None:
    from daemon.metrics import Metrics

    section = DESIGN.read_text().split('<a id="s6-4">', 1)[1].split("<a id=", 1)[0]
    documented = {name.removesuffix("_total") for name in re.findall(r"`(archroom_\w+)", section)}
    families = {family.name for family in Metrics().registry.collect()}
    assert documented - families == set(), "in docs/design.md §6.4 but not registered"
    assert families - documented == set(), "registered but not in docs/design.md §6.4"


def test_the_mqtt_event_types_of_the_design_notes_are_the_rooms() -> None:
    import daemon.events
    import daemon.reconcile.runs

    def announced(cls: type[daemon.events.Event]) -> set[str]:
        found = set()
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("daemon."):  # the console's own markers stay inside
                found |= {sub.type} | announced(sub)
        return found

    assert daemon.reconcile.runs.InventoryReconciled.type in announced(daemon.events.Event)
    section = DESIGN.read_text().split('<a id="s6-3">', 1)[1].split("<a id=", 1)[0]
    documented = set(re.findall(r"`([a-z]+\.[a-z.]+)`", section))
    assert documented == announced(daemon.events.Event)


def test_the_commands_of_the_design_notes_are_the_clis() -> None:
    import subprocess
    import sys

    section = DESIGN.read_text().split('<a id="s6-1">', 1)[1].split("<a id=", 1)[0]
    documented = set(re.findall(r"`archroom ([a-z][a-z-]*)", section))
    shown = subprocess.run(
        [sys.executable, "-m", "daemon", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    listed = set(re.findall(r"^    ([a-z][a-z-]+)", shown, flags=re.MULTILINE))
    assert documented == listed, shown
