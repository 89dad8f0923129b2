"""The command line against a real state directory."""

import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.harness import run_cli


def test_db_upgrade_token_import_and_audit_verify_on_a_state_dir(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    upgrade = run_cli("db", "upgrade", "--state-dir", state)
    assert upgrade.returncode == 0, upgrade.stderr
    assert "empty -> " in upgrade.stdout

    token = run_cli("token", "create", "--role", "staff", "--name", "desk-1", "--state-dir", state)
    assert token.returncode == 0
    assert token.stdout.startswith("arc_")
    duplicate = run_cli(
        "token", "create", "--role", "staff", "--name", "desk-1", "--state-dir", state
    )
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr

    data = tmp_path / "items.csv"
    data.write_text(
        "ref,title,retention,resident_id\nA-1,One,Y,\nA-2,Two,D10,123\nA-3,Three,D30,\n"
    )
    result = run_cli("catalogue", "import", str(data), "--state-dir", state)
    assert result.returncode == 2
    assert "loaded 2 record(s), 1 row(s) rejected" in result.stdout
    assert f"{data}:3 (A-2): resident_id" in result.stderr

    verify = run_cli("audit", "verify", "--state-dir", state)
    assert verify.returncode == 0
    assert "audit chain OK" in verify.stdout


def test_database_commands_refuse_an_unmigrated_database(tmp_path: Path) -> None:
    result = run_cli("audit", "verify", "--state-dir", str(tmp_path))
    assert result.returncode == 1
    assert "archroom db upgrade --state-dir" in result.stderr


def test_version_is_printed() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("archroom ")


def test_catalogue_import_draws_a_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    state = str(tmp_path)
    assert run_cli("db", "upgrade", "--state-dir", state).returncode == 0
    data = tmp_path / "items.csv"
    rows = "".join(f"B-{i},Box {i},D10\n" for i in range(5000))
    data.write_text(f"ref,title,retention\n{rows}")
    plain = run_cli("catalogue", "import", str(data), "--state-dir", state)
    assert plain.returncode == 0
    assert "\r" not in plain.stderr

    main_fd, terminal = pty.openpty()
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "daemon",
                "catalogue",
                "import",
                str(data),
                "--state-dir",
                state,
            ],
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
            timeout=120,
            check=False,
        )
        os.close(terminal)
        terminal = -1
        drawn = b""
        while True:
            try:
                block = os.read(main_fd, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not block:
                break
            drawn += block
    finally:
        if terminal != -1:
            os.close(terminal)
        os.close(main_fd)
    assert proc.returncode == 0
    assert "loaded 5000 record(s)" in proc.stdout
    frames = [f for f in drawn.decode().split("\r") if f.strip()]  # the terminal adds \r\n
    assert len(frames) >= 3  # one redraw per chunk of rows
    assert "[##############################] 100%  5,001 lines, 5,000 loaded" in frames[-1]


def test_an_sm3_chain_is_chosen_at_creation_and_verified_with_sm3(tmp_path: Path) -> None:
    config = tmp_path / "archroom.toml"
    config.write_text(f'state_dir = "{tmp_path}"\n[audit]\nhash = "sm3"\n')
    upgrade = run_cli("db", "upgrade", "-c", str(config))
    assert upgrade.returncode == 0, upgrade.stderr
    assert "audit hash sm3" in upgrade.stdout
    token = run_cli("token", "create", "--role", "staff", "--name", "desk-1", "-c", str(config))
    assert token.returncode == 0, token.stderr
    assert run_cli("token", "revoke", "--name", "desk-1", "-c", str(config)).returncode == 0
    verify = run_cli("audit", "verify", "-c", str(config))
    assert verify.returncode == 0
    assert verify.stdout.strip() == "audit chain OK: 2 entries (sm3)"
    config.write_text(f'state_dir = "{tmp_path}"\n')  # a later change of setting is ignored
    verify = run_cli("audit", "verify", "-c", str(config))
    assert verify.stdout.strip() == "audit chain OK: 2 entries (sm3)"
