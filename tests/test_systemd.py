"""The shipped unit passes systemd's own checks (where systemd-analyze is installed)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[1] / "systemd" / "archroom.service"
analyze = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(analyze is None, reason="systemd-analyze is not installed")


def _local_copy(tmp_path: Path) -> Path:
    """The unit with its ExecStart paths pointed at this checkout's interpreter."""
    text = UNIT.read_text().replace(
        "/opt/archroom/.venv/bin/archroom", str(Path(sys.executable).parent / "archroom")
    )
    path = tmp_path / "archroom.service"
    path.write_text(text)
    return path


def test_unit_declares_what_the_daemon_relies_on() -> None:
    text = UNIT.read_text()
    for line in (
        "Type=notify",
        "WatchdogSec=",
        "DynamicUser=yes",
        "StateDirectory=archroom",
        "LoadCredential=",
        "SupplementaryGroups=dialout",
        "TimeoutStopSec=10s",
    ):
        assert line in text


@needs_analyze
def test_unit_verifies_clean(tmp_path: Path) -> None:
    assert analyze is not None
    result = subprocess.run(
        [analyze, "verify", str(_local_copy(tmp_path))], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


@needs_analyze
def test_unit_exposure_is_at_most_2(tmp_path: Path) -> None:
    assert analyze is not None
    result = subprocess.run(
        [analyze, "security", "--offline=yes", str(_local_copy(tmp_path))],
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= 2.0
