"""Every operation of the OpenAPI document, fed generated requests: no 500, no response that breaks
its declared schema (docs/design.md §6.2: errors are JSON with the right 4xx code, never a 500).

schemathesis reads ``/openapi.json`` from a running daemon and sends requests over real HTTP
with an admin token, and the separated duties' routes with their own roles' tokens (the audit
with the auditor's, the accounts with the security administrator's: docs/security.md). The room
is seeded first (items, a tag, a loan, a move, an alarm, a reconciliation run) so that lists and
records come back non-empty and their schemas are checked on real content. Generation is
derandomised and bounded per operation so the sweep is repeatable and quick; it runs on SQLite
and on PostgreSQL, whose text types differ (PostgreSQL refuses NUL characters).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import response_schema_conformance

from daemon.tokens import Role
from tests.support.catalogue import item_body
from tests.support.room import Room, start_room

EXAMPLES = 15
STREAMING = {"/api/v1/events/stream"}  # server-sent events: the response never ends


@pytest.fixture
async def seeded(tmp_path: Path, db_url: str) -> AsyncIterator[Room]:
    async for room in start_room(tmp_path, db_url):
        async with room.client(Role.admin) as admin:
            await _seed(room, admin)
        yield room


async def _seed(room: Room, admin: httpx.AsyncClient) -> None:
    for ref in ("BOX-1", "BOX-2"):
        r = await admin.put(f"/api/v1/items/{ref}", json=item_body())
        assert r.status_code == 201, r.text
    r = await admin.post("/api/v1/items/BOX-1/tag", json={"epc": "E2801160600002084E3B7D5A"})
    assert r.status_code in (200, 201), r.text
    r = await admin.post("/api/v1/items/BOX-2/move", json={"to": "r1-A-01-01"})
    assert r.status_code in (200, 201), r.text
    loan = {"ref": "BOX-1", "borrower": "Li Na", "purpose": "appeal", "approval_no": "SP-1"}
    assert (await admin.post("/api/v1/loans", json=loan)).status_code == 201
    assert (await admin.post("/api/v1/reconciliations")).status_code == 202
    await room.services.alarms.raise_(
        "test.seed", kind="sensor.fault", source="s1", message="seeded for the sweep"
    )


SEPARATED = {"/api/v1/audit": Role.auditor, "/api/v1/accounts": Role.security}
"""Routes that admin may not use, and the role that may."""


def _token_for(path: str, tokens: dict[Role, str]) -> str:
    role = next((r for prefix, r in SEPARATED.items() if path.startswith(prefix)), Role.admin)
    return tokens[role]


def _sweep(
    spec: dict[str, Any], base_url: str, tokens: dict[Role, str]
) -> tuple[set[str], dict[str, str]]:
    """Run every operation; returns the paths swept and each failing operation's first failure."""
    schema = schemathesis.openapi.from_dict(spec)
    swept: set[str] = set()
    failures: dict[str, str] = {}
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the document itself is broken
        operations.append(result.ok())
    runs = [(op, mode) for op in operations for mode in GenerationMode]
    for operation, mode in runs:
        if operation.path in STREAMING:
            continue
        swept.add(operation.path)
        headers = {"Authorization": f"Bearer {_token_for(operation.path, tokens)}"}

        @settings(
            max_examples=EXAMPLES if mode is GenerationMode.POSITIVE else EXAMPLES // 2,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(mode))
        def exercise(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(
                base_url=base_url,
                headers=headers,  # noqa: B023 (called at once, in this iteration)
                checks=[not_a_server_error, response_schema_conformance],
                timeout=30,
            )

        try:
            exercise()
        except Unsatisfiable:
            pass  # nothing invalid can be sent (e.g. no parameters at all)
        except BaseException as e:  # schemathesis reports a FailureGroup
            if isinstance(e, KeyboardInterrupt | SystemExit):
                raise
            failures.setdefault(f"{operation.label} ({mode.value})", str(e))
    return swept, failures


async def test_no_operation_answers_500_or_breaks_its_schema(seeded: Room) -> None:
    async with seeded.client(None) as anonymous:
        spec = (await anonymous.get("/openapi.json")).json()
    swept, failures = await asyncio.to_thread(_sweep, spec, seeded.url, seeded.tokens)
    assert swept == set(spec["paths"]) - STREAMING
    assert not failures, "\n\n".join(f"{op}:\n{text}" for op, text in failures.items())
