"""TLS for the API and for MQTT, with a room's own certificate authority (docs/security.md).

The API serves HTTPS when ``[api] tls_cert_file``/``tls_key_file`` are set; a client that trusts
the room's CA connects, one that does not is refused, and plain HTTP gets nothing. The daemon
talks to an ``mqtts://`` broker only if the certificate verifies against ``[mqtt] ca_file``:
events reach a broker the CA vouches for, and a broker with any other certificate never gets
the connection (nor the events, which stay in the outbox).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from daemon.config import ArchroomConfig, load_config
from daemon.runtime import Daemon
from daemon.store.schema import outbox
from daemon.tokens import Role
from tests.harness import base_config_text, create_token, running_daemon
from tests.security.certs import Certificates, TlsMosquitto, make_certificates
from tests.support.catalogue import item_body
from tests.support.mqtt import Listener, listening
from tests.support.poll import eventually
from tests.support.room import RACKS

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def test_the_certificate_commands_of_the_security_guide_make_a_verifying_pair(
    tmp_path: Path,
) -> None:
    section = GUIDE.read_text().split("### Certificates", 1)[1]
    script = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert script is not None
    done = subprocess.run(
        ["bash", "-euc", script[1]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "server.crt: OK" in done.stdout
    assert {"ca.crt", "server.crt", "server.key"} <= {p.name for p in tmp_path.iterdir()}


@pytest.fixture(scope="module")
def room_ca(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("room-ca"), "archroom room")


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A certificate for the same address from a CA the room does not trust."""
    return make_certificates(tmp_path_factory.mktemp("stranger-ca"), "someone else")


def _config(
    state_dir: Path,
    db_url: str,
    *,
    api: Certificates | None = None,
    broker: TlsMosquitto | None = None,
    ca_file: Path | None = None,
) -> ArchroomConfig:
    state_dir.mkdir(parents=True, exist_ok=True)
    mqtt = f'[mqtt]\nurl = "{broker.url}"\nca_file = "{ca_file}"\n' if broker else ""
    text = base_config_text(state_dir, db_url=db_url, extra=RACKS + mqtt)
    if api is not None:
        tls = f'tls_cert_file = "{api.cert}"\ntls_key_file = "{api.key}"\n'
        text = text.replace("[api]\n", "[api]\n" + tls, 1)
    path = state_dir / "archroom.toml"
    path.write_text(text)
    return load_config(path)


def _trusting(certificates: Certificates) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificates.ca))


async def test_the_api_speaks_https_to_clients_that_trust_the_room_ca_only(
    tmp_path: Path, sqlite_url: str, room_ca: Certificates, stranger: Certificates
) -> None:
    token = await create_token(sqlite_url, Role.staff)
    async with running_daemon(_config(tmp_path / "r1", sqlite_url, api=room_ca)) as daemon:
        assert daemon.listening is not None
        url = daemon.listening.url
        assert url.startswith("https://127.0.0.1:")
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, verify=_trusting(room_ca)) as client:
            assert (await client.get("/healthz")).status_code == 200
            assert (await client.get("/api/v1/loans", headers=headers)).status_code == 200
        for verify in (True, _trusting(stranger)):  # the system's CAs; another CA
            async with httpx.AsyncClient(base_url=url, verify=verify) as client:
                with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                    await client.get("/healthz")
        async with httpx.AsyncClient() as client:
            with pytest.raises(httpx.HTTPError):
                await client.get(url.replace("https://", "http://", 1) + "/healthz")


async def test_over_https_the_session_cookie_is_secure(
    tmp_path: Path, sqlite_url: str, room_ca: Certificates
) -> None:
    async with running_daemon(_config(tmp_path / "r1", sqlite_url, api=room_ca)) as daemon:
        assert daemon.listening is not None
        assert daemon.services is not None
        await daemon.services.accounts.add(
            "wang.fang", Role.staff, "tea-kettle on the third shelf", actor="test"
        )
        url = daemon.listening.url
        async with httpx.AsyncClient(base_url=url, verify=_trusting(room_ca)) as client:
            r = await client.post(
                "/api/v1/session/sign-in",
                json={"user": "wang.fang", "password": "tea-kettle on the third shelf"},
            )
        assert r.status_code == 200
        cookies = r.headers.get_list("set-cookie")
        assert len(cookies) == 2
        assert all("; secure" in c.lower() for c in cookies), cookies


@pytest.fixture
def tls_broker(tmp_path: Path, room_ca: Certificates) -> Iterator[TlsMosquitto]:
    with TlsMosquitto(tmp_path / "broker", room_ca) as broker:
        yield broker


@pytest.fixture
def stranger_broker(tmp_path: Path, stranger: Certificates) -> Iterator[TlsMosquitto]:
    with TlsMosquitto(tmp_path / "stranger-broker", stranger) as broker:
        yield broker


async def _check_out(daemon: Daemon, token: str) -> None:
    assert daemon.listening is not None
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=daemon.listening.url, headers=headers) as staff:
        assert (await staff.put("/api/v1/items/BOX-1", json=item_body())).status_code == 201
        loan = {"ref": "BOX-1", "borrower": "Li Na", "purpose": "appeal"}
        assert (await staff.post("/api/v1/loans", json=loan)).status_code == 201


@contextlib.asynccontextmanager
async def _a_loan_published(
    tmp_path: Path,
    sqlite_url: str,
    room_ca: Certificates,
    broker: TlsMosquitto,
    broker_ca: Certificates,
) -> AsyncIterator[tuple[Listener, Daemon]]:
    """A daemon whose CA file is ``room_ca``'s, publishing to ``broker``; a subscriber on
    ``broker`` that trusts ``broker_ca``; and a loan checked out on the daemon."""
    token = await create_token(sqlite_url, Role.staff)
    config = _config(tmp_path / "r1", sqlite_url, broker=broker, ca_file=room_ca.ca)
    async with (
        listening(broker.port, tls=_trusting(broker_ca)) as broker_sees,
        running_daemon(config) as daemon,
    ):
        await _check_out(daemon, token)
        yield broker_sees, daemon


async def test_events_reach_an_mqtts_broker_whose_certificate_the_ca_file_verifies(
    tmp_path: Path, sqlite_url: str, room_ca: Certificates, tls_broker: TlsMosquitto
) -> None:
    published = _a_loan_published(tmp_path, sqlite_url, room_ca, tls_broker, room_ca)
    async with published as (broker_sees, _):
        await eventually(
            lambda: any(t.endswith("/events/loan.opened") for t in broker_sees.topics()),
            what="the loan.opened event at the broker",
        )
        assert ("archroom/t/r1/status", b"online") in broker_sees.received


async def test_a_broker_whose_certificate_does_not_verify_never_gets_the_connection(
    tmp_path: Path,
    sqlite_url: str,
    room_ca: Certificates,
    stranger: Certificates,
    stranger_broker: TlsMosquitto,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="daemon.mqtt")
    published = _a_loan_published(tmp_path, sqlite_url, room_ca, stranger_broker, stranger)
    async with published as (broker_sees, daemon):
        async with asyncio.timeout(20):
            while "CERTIFICATE_VERIFY_FAILED" not in caplog.text:
                await asyncio.sleep(0.05)
        assert daemon.services is not None
        async with daemon.services.store.read() as conn:
            queued = await conn.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.delivered_us.is_(None))
            )
        assert b"\narchroom_mqtt_connected 0.0\n" in daemon.metrics.exposition()
    assert (queued or 0) >= 1
    assert broker_sees.received == []
