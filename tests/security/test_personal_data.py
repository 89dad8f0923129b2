"""Personal key fields and token secrets never leave the places that must hold them.

docs/design.md §3: resident ID numbers, approval numbers and social-security numbers are personal
data; they live in the catalogue tables and reach only the roles that may see them. One run drives
them through the whole path of a room over real HTTP and a real broker: records put and
imported (CSV and JSON lines, with good and bad values), a tag, moves, a loan checked out,
renewed and returned, the catalogue service's key-field copy, a reconciliation run, searches
and lookups. Then every place another person or system can read is scanned for every value:
every log record (with the daemon's own logging set-up, at DEBUG), every MQTT message on ``#``,
``/metrics`` and ``/healthz``, and the audit trail, outbox and alarms in the database. The
secret part of every token used (and of a wrong one tried) is searched for as well.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, insert, select

from daemon.cli import quiet_libraries
from daemon.store.db import Store
from daemon.store.schema import alarms, audit, items, outbox
from daemon.tokens import Role
from tests.harness import create_token, make_config, running_daemon
from tests.services import Mosquitto
from tests.support.catalogue import VALID_CREDIT_CODE, VALID_RESIDENT_ID, item_body
from tests.support.mqtt import Listener, listening
from tests.support.room import RACKS

RESIDENT_IDS = [
    VALID_RESIDENT_ID,
    "310104198203150018",
    "440305199107220021",
    "110101196805050035",
    "330106198507074444",
    "110105194912310214",
]
INVALID_RESIDENT_IDS = ["110105194912310215", "440305199107220029"]  # wrong check character
APPROVALS = ["RSJ-PZ-2023-004417", "RSJ-PZ-2021-000932", "SBJ-SP-2024-77120", "LOAN-APPR-5531"]
SOCIAL_SECURITY = [VALID_CREDIT_CODE, "91310000MA1FL5KQ3Q"]
KEY_VALUES = RESIDENT_IDS + INVALID_RESIDENT_IDS + APPROVALS + SOCIAL_SECURITY


@pytest.fixture
def daemon_logging(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record at DEBUG, with the library levels the daemon sets; levels restored after."""
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    levels = {lg.name: lg.level for lg in loggers}
    caplog.set_level(logging.DEBUG)
    quiet_libraries()
    yield caplog
    for lg in loggers:
        lg.setLevel(levels[lg.name])


def _secret(token: str) -> str:
    return token.split("_", 2)[2]


def _found(haystack: str, needles: list[str]) -> list[str]:
    lowered = haystack.lower()
    return [n for n in needles if n.lower() in lowered]


async def _ok(response: httpx.Response, *codes: int) -> httpx.Response:
    assert response.status_code in codes, (response.request.url, response.text)
    return response


async def _import(
    c: httpx.AsyncClient, content: str, content_type: str, headers: dict[str, str]
) -> int:
    """Import ``content`` and wait for it; the number of records loaded."""
    r = await c.post(
        "/api/v1/items/import?wait=true",
        content=content,
        headers={**headers, "Content-Type": content_type},
    )
    return int((await _ok(r, 200)).json()["loaded"])


async def _drive(url: str, tokens: dict[Role, str]) -> list[str]:
    """The room's day; returns the wrong token secrets tried."""
    h = {role: {"Authorization": f"Bearer {t}"} for role, t in tokens.items()}
    async with httpx.AsyncClient(base_url=url, timeout=60) as c:
        cat, staff = h[Role.catalogue], h[Role.staff]
        box = item_body(
            resident_id=RESIDENT_IDS[0],
            approval_no=APPROVALS[0],
            social_security_no=RESIDENT_IDS[1],
            home_location="r1-A-01-01",
        )
        await _ok(await c.put("/api/v1/items/BOX-1", json=box, headers=cat), 201)
        file_ = item_body(
            kind="file",
            parent_ref="BOX-1",
            approval_no=APPROVALS[1],
            social_security_no=SOCIAL_SECURITY[0],
        )
        await _ok(await c.put("/api/v1/items/FILE-1", json=file_, headers=cat), 201)
        bad = item_body(resident_id=INVALID_RESIDENT_IDS[0])
        await _ok(await c.put("/api/v1/items/BOX-9", json=bad, headers=cat), 422)

        csv = (
            "ref,title,retention,resident_id,approval_no,social_security_no\n"
            f"BOX-2,Pensions 2022,D30,{RESIDENT_IDS[2]},{APPROVALS[2]},\n"
            f"BOX-3,Injury claim,D10,{INVALID_RESIDENT_IDS[1]},,\n"
            f"BOX-4,Employer file,Y,,,{SOCIAL_SECURITY[1]}\n"
        )
        assert await _import(c, csv, "text/csv", cat) == 2
        jsonl = (
            f'{{"ref": "BOX-5", "title": "Arbitration", "retention": "Y", '
            f'"resident_id": "{RESIDENT_IDS[3]}", "social_security_no": "{RESIDENT_IDS[4]}"}}\n'
        )
        assert await _import(c, jsonl, "application/x-ndjson", cat) == 1

        await _ok(
            await c.post(
                "/api/v1/items/BOX-1/tag", json={"epc": "E2801160600002084E3B7D5A"}, headers=staff
            ),
            200,
            201,
        )
        await _ok(
            await c.post("/api/v1/items/BOX-2/move", json={"to": "r1-A-02-01"}, headers=staff),
            200,
            201,
        )
        loan = {"ref": "BOX-1", "borrower": "Li Na", "purpose": "appeal"}
        r = await c.post("/api/v1/loans", json={**loan, "approval_no": APPROVALS[3]}, headers=staff)
        loan_id = (await _ok(r, 201)).json()["id"]
        await _ok(await c.post(f"/api/v1/loans/{loan_id}/renew", headers=staff), 200)
        await _ok(await c.post(f"/api/v1/loans/{loan_id}/return", headers=staff), 200)

        copy = {"resident_id": RESIDENT_IDS[5], "approval_no": APPROVALS[0]}
        await _ok(await c.put("/api/v1/catalogue-copies/BOX-1", json=copy, headers=cat), 200, 201)
        run = (await _ok(await c.post("/api/v1/reconciliations", headers=staff), 202)).json()
        async with asyncio.timeout(30):
            while run["state"] not in ("done", "failed"):
                await asyncio.sleep(0.05)
                run = (await c.get(f"/api/v1/reconciliations/{run['id']}", headers=staff)).json()
        assert run["state"] == "done"
        assert run["counts"]["key_field_mismatch"] == 1

        for q in (RESIDENT_IDS[0], APPROVALS[0][:8]):
            await _ok(await c.get("/api/v1/search", params={"q": q}, headers=staff), 200, 422)
        lookup = {"refs": ["BOX-1", RESIDENT_IDS[2]]}
        await _ok(await c.post("/api/v1/locations/lookup", json=lookup, headers=cat), 200)
        for path in ("/api/v1/items/BOX-1/history", "/api/v1/epcis/events"):
            await _ok(await c.get(path, headers=h[Role.admin]), 200)
        await _ok(await c.get("/api/v1/audit", headers=h[Role.auditor]), 200)

        token_id = tokens[Role.staff].split("_")[1]
        wrong = "x" + _secret(tokens[Role.staff])[1:]
        r = await c.get(
            "/api/v1/loans", headers={"Authorization": f"Bearer arc_{token_id}_{wrong}"}
        )
        await _ok(r, 401)
    return [wrong]


async def _delivered(subscriber: Listener, db_url: str, room_url: str) -> None:
    """Wait until the broker has carried every outbox row."""
    store = Store.connect(db_url)
    try:
        async with asyncio.timeout(30):
            while True:
                async with store.read() as conn:
                    total = await conn.scalar(select(func.count()).select_from(outbox))
                seen = sum(1 for topic in subscriber.topics() if "/events/" in topic)
                if total and seen >= total:
                    return
                await asyncio.sleep(0.05)
    finally:
        await store.close()


async def test_key_fields_and_token_secrets_reach_no_log_message_metric_or_audit_row(
    tmp_path: Path,
    sqlite_url: str,
    mosquitto: Mosquitto,
    daemon_logging: pytest.LogCaptureFixture,
) -> None:
    tokens = {role: await create_token(sqlite_url, role) for role in Role}
    config = make_config(tmp_path / "r1", db_url=sqlite_url, mqtt_url=mosquitto.url, extra=RACKS)
    async with listening(mosquitto.port) as broker_sees, running_daemon(config) as daemon:
        assert daemon.listening is not None
        wrong_secrets = await _drive(daemon.listening.url, tokens)
        await _delivered(broker_sees, sqlite_url, daemon.listening.url)
        async with httpx.AsyncClient(base_url=daemon.listening.url) as anonymous:
            public = (await anonymous.get("/metrics")).text + (await anonymous.get("/healthz")).text
        assert daemon.services is not None
        async with daemon.services.store.read() as conn:
            stored = [
                " ".join(map(str, row))
                for table in (audit, outbox, alarms)
                for row in (await conn.execute(select(table))).all()
            ]

    secrets = [_secret(t) for t in tokens.values()] + wrong_secrets
    needles = KEY_VALUES + secrets
    logged = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in daemon_logging.records
    )
    published = "\n".join(f"{t} {p.decode(errors='replace')}" for t, p in broker_sees.received)
    assert "archroom ready" in logged
    assert "reconciliation 1:" in logged
    assert len(broker_sees.received) > 5
    assert "archroom_build_info" in public
    assert len(stored) > 10
    assert _found(logged, needles) == []
    assert _found(published, needles) == []
    assert _found(public, needles) == []
    assert _found("\n".join(stored), needles) == []


async def test_a_failed_statement_names_none_of_the_values_it_was_given(store: Store) -> None:
    """Tracebacks reach the log (a 500, a crashed service): they must not carry row values."""
    row = {
        "ref": "BOX-1",
        "title": "Pensions",
        "retention": "Y",
        "kind": "box",
        "resident_id": RESIDENT_IDS[1],
        "approval_no": APPROVALS[0],
        "created_us": 1,
        "updated_us": 1,
    }
    async with store.write() as conn:
        await conn.execute(insert(items).values(row))
    with pytest.raises(Exception) as failed:  # noqa: PT011 (whatever the driver raises)
        async with store.write() as conn:
            await conn.execute(insert(items).values(row))
    text = "".join(traceback.format_exception(failed.value))
    assert "items" in text
    assert _found(text, [RESIDENT_IDS[1], APPROVALS[0]]) == []
