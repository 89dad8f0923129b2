from pathlib import Path

import pytest

from daemon.cli import main
from daemon.config import ConfigError, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "systemd" / "archroom.toml"


def test_shipped_example_config_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(EXAMPLE)]) == 0
    assert "ok" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "reported"),
    [
        pytest.param(
            '[[rooms]]\nid = "a"\nclass = "papr"\n',
            ["rooms[0].class: unknown room class 'papr'"],
            id="unknown_room_class_with_its_location",
        ),
        pytest.param('[api]\nport = "eighty"\n', ["api.port:"], id="wrong_type"),
        pytest.param(
            '[api]\nbind = "127.0.0.1"\nprot = 8080\n',
            ["api.prot: unknown setting"],
            id="unknown_key_not_ignored",
        ),
        pytest.param(
            '[[readers]]\ntype = "uhfreader18"\nid = "shelf-a"\nurl = "http://reader"\n',
            ["readers[0].url: unsupported link scheme 'http'"],
            id="bad_link_url",
        ),
        pytest.param(
            '[[readers]]\ntype = "rfidmagic"\nid = "x"\nurl = "/dev/x"\n',
            ["readers[0]: unknown type 'rfidmagic'"],
            id="unknown_device_type",
        ),
        pytest.param(
            '[api]\nport = -1\n[mqtt]\nurl = "http://broker"\n[[rooms]]\nid = "a"\nclass = "x"\n',
            ["api.port", "mqtt.url", "rooms[0].class", "3 error(s)"],
            id="every_error_not_just_the_first",
        ),
        pytest.param("[api]\nport = \n", ["line 2"], id="toml_syntax_error_names_the_line"),
        pytest.param(
            '[[gates]]\nid = "door"\nreader = "nope"\ninside_antenna = 1\noutside_antenna = 2\n',
            ["gates[0].reader: unknown reader 'nope'"],
            id="references_between_tables",
        ),
    ],
)
def test_check_config_refuses_a_bad_file_and_reports_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, reported: list[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["check-config", str(path)]) == 1
    err = capsys.readouterr().err
    assert [words for words in reported if words not in err] == [], err


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
