"""The audit trail records sign-ins, token changes, unmasked reads, exports and the
configuration the daemon started with (docs/security.md, MLPS level 3 security audit).

Sign-ins are counted per client, token and outcome per window (``daemon.signins``) so that a
flood of attempts writes a handful of entries; every other event is one entry, chained.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import cast

import httpx
from sqlalchemy import select

from daemon.audit import AuditChain, verify_chain
from daemon.signins import SignIns
from daemon.store.db import Store
from daemon.store.schema import audit
from daemon.tokens import Role, TokenError, Tokens
from tests.support.catalogue import VALID_RESIDENT_ID, item_body
from tests.support.room import Room, start_room


async def _entries(db_url: str, action: str) -> list[dict[str, object]]:
    store = Store.connect(db_url)
    try:
        async with store.read() as conn:
            rows = (
                await conn.execute(
                    select(audit).where(audit.c.action == action).order_by(audit.c.seq)
                )
            ).all()
            assert (await verify_chain(conn)).ok
    finally:
        await store.close()
    return [{**r._asdict(), "details": json.loads(r.details)} for r in rows]


def test_sign_ins_are_counted_per_client_token_and_outcome_in_each_window() -> None:
    counts = SignIns(60)
    for t in (0.5, 1.0, 59.0):
        counts.observe(t, "10.0.0.9", "", "failed")
    counts.observe(2.0, "10.0.0.5", "catalogue-service", "ok")
    counts.observe(3.0, "10.0.0.5", "catalogue-service", "ok")
    assert counts.due(59.9) == []
    closed = sorted(counts.due(60.0), key=lambda c: c.client)
    assert [(c.client, c.token, c.outcome, c.count) for c in closed] == [
        ("10.0.0.5", "catalogue-service", "ok", 2),
        ("10.0.0.9", "", "failed", 3),
    ]
    assert (closed[1].first_s, closed[1].last_s) == (0.5, 59.0)
    assert counts.due(200.0) == []


def test_spraying_addresses_folds_the_excess_into_one_count() -> None:
    counts = SignIns(60, max_keys=3)
    for i in range(1000):
        counts.observe(1.0, f"10.0.{i // 256}.{i % 256}", "", "failed")
    closed = counts.flush()
    assert len(closed) == 4
    folded = [c for c in closed if c.client == "*"]
    assert [c.count for c in folded] == [997]
    assert sum(c.count for c in closed) == 1000


def test_a_new_window_closes_the_previous_one() -> None:
    counts = SignIns(60)
    counts.observe(10.0, "a", "", "failed")
    counts.observe(70.0, "a", "", "failed")
    assert [(c.window_start_s, c.count) for c in counts.due(70.0)] == [(0.0, 1)]
    assert [(c.window_start_s, c.count) for c in counts.flush()] == [(60.0, 1)]


async def test_good_and_failed_sign_ins_reach_the_chain_counted(
    tmp_path: Path, db_url: str
) -> None:
    rooms_gen = cast(AsyncGenerator[Room, None], start_room(tmp_path, db_url))
    async with contextlib.aclosing(rooms_gen) as rooms:
        room = await anext(rooms)
        async with httpx.AsyncClient(base_url=room.url, timeout=30) as anonymous:
            for _ in range(5):
                r = await anonymous.get(
                    "/api/v1/alarms", headers={"Authorization": "Bearer arc_000000000000_nope"}
                )
                assert r.status_code == 401
            assert (await anonymous.get("/api/v1/alarms")).status_code == 401
        async with room.client(Role.staff) as staff:
            for _ in range(3):
                assert (await staff.get("/api/v1/alarms")).status_code == 200
    # the daemon writes the open window when it stops
    entries = await _entries(db_url, "auth.sign_in")
    by_outcome = {(e["outcome"], e["details"]["token"]): e for e in entries}  # type: ignore[index]
    assert by_outcome["failed", ""]["details"]["count"] == 6  # type: ignore[index]
    assert by_outcome["ok", "staff-r1"]["details"]["count"] == 3  # type: ignore[index]
    assert by_outcome["failed", ""]["subject"] == "client:127.0.0.1"
    assert len(entries) == 2


async def test_the_configuration_at_start_is_audited_with_its_hash(
    tmp_path: Path, db_url: str
) -> None:
    from tests.harness import make_config, running_daemon

    config = make_config(tmp_path / "r1", db_url=db_url)
    path = tmp_path / "r1" / "archroom.toml"
    async with running_daemon(config, config_file=path):
        pass
    [entry] = await _entries(db_url, "config.loaded")
    assert entry["subject"] == "config:archroom.toml"
    details = entry["details"]
    assert details["file"] == str(path)  # type: ignore[index]
    assert details["file_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()  # type: ignore[index]
    assert details["audit_hash"] == "sha256"  # type: ignore[index]


async def test_token_issue_and_revocation_are_audited_without_the_secret(store: Store) -> None:
    tokens = Tokens(store, AuditChain("r1"))
    secret = await tokens.create(
        name="catalogue-service", role=Role.catalogue, expires_in_s=86400, actor="cli:alice"
    )
    try:
        await tokens.create(name="catalogue-service", role=Role.staff, actor="cli:alice")
    except TokenError:
        pass
    else:
        raise AssertionError("a second token of the same name was accepted")
    assert await tokens.revoke("catalogue-service", actor="cli:bob")
    assert not await tokens.revoke("catalogue-service", actor="cli:bob")
    async with store.read() as conn:
        rows = (await conn.execute(select(audit).order_by(audit.c.seq))).all()
        assert (await verify_chain(conn)).ok
    seen = [(r.actor, r.action, r.subject, r.outcome) for r in rows]
    assert seen == [
        ("cli:alice", "token.create", "token:catalogue-service", "ok"),
        ("cli:alice", "token.create", "token:catalogue-service", "refused"),
        ("cli:bob", "token.revoke", "token:catalogue-service", "ok"),
        ("cli:bob", "token.revoke", "token:catalogue-service", "refused"),
    ]
    assert json.loads(rows[0].details)["role"] == "catalogue"
    assert json.loads(rows[0].details)["expires_us"] is not None
    _, _, token_secret = secret.split("_", 2)
    assert all(token_secret not in r.details for r in rows)


async def test_an_unmasked_read_is_audited_with_who_which_item_and_why(
    room: Room, catalogue: httpx.AsyncClient, staff: httpx.AsyncClient
) -> None:
    ref = "0001-WS·2023-D30-RS-0001"
    assert (
        await catalogue.put(f"/api/v1/items/{ref}", json=item_body(resident_id=VALID_RESIDENT_ID))
    ).is_success
    assert (await catalogue.get(f"/api/v1/items/{ref}")).json()["key_fields_masked"]
    assert (await staff.get(f"/api/v1/items/{ref}", params={"reason": "x" * 10})).json()[
        "key_fields_masked"
    ]
    assert await _entries(room.db_url, "item.key_fields_read") == []
    r = await catalogue.get(f"/api/v1/items/{ref}", params={"reason": "pension appeal 2026-17"})
    assert r.json()["resident_id"] == VALID_RESIDENT_ID
    [entry] = await _entries(room.db_url, "item.key_fields_read")
    assert (entry["actor"], entry["subject"]) == ("catalogue-r1", ref)
    assert entry["details"] == {"reason": "pension appeal 2026-17"}
    assert VALID_RESIDENT_ID not in json.dumps(entry)


async def test_a_blank_or_too_short_reason_is_refused(catalogue: httpx.AsyncClient) -> None:
    r = await catalogue.get("/api/v1/items/BOX-1", params={"reason": "x"})
    assert r.status_code == 422


async def test_exports_are_audited(room: Room, staff: httpx.AsyncClient) -> None:
    assert (await staff.get("/api/v1/retention/eligible", params={"format": "csv"})).is_success
    assert (await staff.get("/api/v1/epcis/events")).is_success
    assert (await staff.get("/api/v1/statistics/annual", params={"year": 2026})).is_success
    entries = await _entries(room.db_url, "export")
    kinds = [(e["actor"], e["details"]["kind"]) for e in entries]  # type: ignore[index]
    assert kinds == [
        ("staff-r1", "retention"),
        ("staff-r1", "epcis"),
        ("staff-r1", "statistics.annual"),
    ]
    assert entries[0]["details"]["format"] == "csv"  # type: ignore[index]
