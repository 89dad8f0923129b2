from pathlib import Path

import pytest

from daemon.cli import main
from daemon.config import ConfigError, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "systemd" / "archroom.toml"


def test_shipped_example_config_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(EXAMPLE)]) == 0
    assert "ok" in capsys.readouterr().out


def _check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    code = main(["check-config", str(path)])
    return code, capsys.readouterr().err


def test_unknown_room_class_is_reported_with_its_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _check(tmp_path, '[[rooms]]\nid = "a"\nclass = "papr"\n', capsys)
    assert code == 1
    assert "rooms[0].class: unknown room class 'papr'" in err


def test_wrong_type_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _check(tmp_path, '[api]\nport = "eighty"\n', capsys)
    assert code == 1
    assert "api.port:" in err


def test_unknown_key_is_reported_not_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _check(tmp_path, '[api]\nbind = "127.0.0.1"\nprot = 8080\n', capsys)
    assert code == 1
    assert "api.prot: unknown setting" in err


def test_bad_link_url_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = '[[readers]]\ntype = "uhfreader18"\nid = "shelf-a"\nurl = "http://reader"\n'
    code, err = _check(tmp_path, text, capsys)
    assert code == 1
    assert "readers[0].url: unsupported link scheme 'http'" in err


def test_unknown_device_type_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _check(
        tmp_path, '[[readers]]\ntype = "rfidmagic"\nid = "x"\nurl = "/dev/x"\n', capsys
    )
    assert code == 1
    assert "readers[0]: unknown type 'rfidmagic'" in err


def test_every_error_is_reported_not_just_the_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = '[api]\nport = -1\n[mqtt]\nurl = "http://broker"\n[[rooms]]\nid = "a"\nclass = "x"\n'
    code, err = _check(tmp_path, text, capsys)
    assert code == 1
    assert "api.port" in err
    assert "mqtt.url" in err
    assert "rooms[0].class" in err
    assert "3 error(s)" in err


def test_toml_syntax_error_names_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _check(tmp_path, "[api]\nport = \n", capsys)
    assert code == 1
    assert "line 2" in err


def test_references_between_tables_are_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = '[[gates]]\nid = "door"\nreader = "nope"\ninside_antenna = 1\noutside_antenna = 2\n'
    code, err = _check(tmp_path, text, capsys)
    assert code == 1
    assert "gates[0].reader: unknown reader 'nope'" in err


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.toml"
    path.write_text('[api]\nport = 8080\nbind = "127.0.0.1"\n')
    monkeypatch.setenv("ARCHROOM_API__PORT", "9123")
    config = load_config(path)
    assert config.api.port == 9123
    assert config.api.bind == "127.0.0.1"


def test_database_password_comes_from_a_credential_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "db-password").write_text("s3cret\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    path = tmp_path / "a.toml"
    path.write_text(
        '[database]\nurl = "postgresql+asyncpg://archroom@db/archroom"\n'
        'password_credential = "db-password"\n'
    )
    assert load_config(path).database_url() == "postgresql+asyncpg://archroom:s3cret@db/archroom"


def test_missing_credential_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    path = tmp_path / "a.toml"
    path.write_text(
        '[database]\nurl = "postgresql://a@db/x"\npassword_credential = "db-password"\n'
    )
    with pytest.raises(ConfigError, match="credential 'db-password' unreadable"):
        load_config(path).database_url()


def test_configuration_reference_is_current() -> None:
    from daemon.config_reference import render

    reference = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
    assert reference.read_text(encoding="utf-8") == render(), (
        "run: python -m daemon.config_reference > docs/configuration.md"
    )


def test_configuration_reference_describes_every_setting() -> None:
    from daemon.config_reference import render

    text = render()
    for section in (
        "[api]",
        "[mqtt]",
        "[[readers]]",
        "[[sensors]]",
        "[stacker]",
        "[climate]",
        "[inventory]",
    ):
        assert f"## {section}" in text
    undocumented = [
        line for line in text.splitlines() if line.startswith("| `") and line.endswith("|  |")
    ]
    assert undocumented == []


def test_a_read_replica_must_be_a_postgresql_standby() -> None:
    from pydantic import ValidationError

    from daemon.config import DatabaseConfig

    with pytest.raises(ValidationError, match="a replica is a PostgreSQL standby"):
        DatabaseConfig(replica_url="sqlite:///var/lib/archroom/archroom.db")
    ok = DatabaseConfig(replica_url="postgresql+asyncpg://archroom@db2:5432/archroom")
    assert ok.replica_max_lag_s == 5.0
