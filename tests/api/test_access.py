"""Every route refuses a request without a token (401) and a token of the wrong role (403).

ROLE_MATRIX is the role matrix of docs/api.md; a route missing from it fails the test, so the
matrix (and the documentation) cannot fall behind the API. It also holds the separation of
duties (docs/security.md): only the auditor reads the audit, only security manages accounts,
and admin, the room's operational superuser, does neither.
"""

import pytest

from daemon.tokens import Role
from tests.support.room import Room

S, C, F, A, AP = Role.staff, Role.catalogue, Role.facilities, Role.admin, Role.approver
SA, SE, AU = Role.sysadmin, Role.security, Role.auditor
ROLE_MATRIX: dict[tuple[str, str], set[Role]] = {
    ("PUT", "/api/v1/items/{ref}"): {S, C, A},
    ("GET", "/api/v1/items/{ref}"): {S, C, A},
    ("POST", "/api/v1/items/import"): {S, C, A},
    ("GET", "/api/v1/imports/{import_id}"): {S, C, A},
    ("GET", "/api/v1/items/{ref}/location"): {S, C, A},
    ("GET", "/api/v1/items/{ref}/history"): {S, C, A},
    ("POST", "/api/v1/items/{ref}/move"): {S, A},
    ("POST", "/api/v1/items/{ref}/tag"): {S, A},
    ("DELETE", "/api/v1/items/{ref}/tag"): {S, A},
    ("GET", "/api/v1/tags/{epc}"): {S, C, A},
    ("GET", "/api/v1/items/{ref}/label"): {S, C, A},
    ("POST", "/api/v1/labels"): {S, A},
    ("GET", "/api/v1/map.svg"): {S, C, A},
    ("POST", "/api/v1/locations/lookup"): {S, C, A},
    ("GET", "/api/v1/locations/{code}"): {S, C, A},
    ("GET", "/api/v1/locations/{code}/items"): {S, C, A},
    ("POST", "/api/v1/locations/racks"): {SA, A},
    ("POST", "/api/v1/loans"): {S, A},
    ("POST", "/api/v1/loans/{loan_id}/return"): {S, A},
    ("POST", "/api/v1/loans/{loan_id}/renew"): {S, A},
    ("GET", "/api/v1/loans"): {S, C, A},
    ("GET", "/api/v1/loans/{loan_id}"): {S, C, A},
    ("GET", "/api/v1/loans/export"): {S, C, A},
    ("POST", "/api/v1/loans/batch"): {S, A},
    ("POST", "/api/v1/loans/returns"): {S, A},
    ("GET", "/api/v1/desk/{reader_id}/boxes"): {S, A},
    ("GET", "/api/v1/climate"): {S, F, SA, A},
    ("GET", "/api/v1/climate/history"): {S, F, SA, A},
    ("GET", "/api/v1/climate/control"): {S, F, A},
    ("POST", "/api/v1/climate/control/{room}/{actuator}/override"): {F, A},
    ("GET", "/api/v1/alarms"): {S, F, SA, A},
    ("POST", "/api/v1/alarms/{alarm_id}/ack"): {S, F, SA, A},
    ("GET", "/api/v1/audit"): {AU},
    ("GET", "/api/v1/audit/verify"): {AU},
    ("POST", "/api/v1/reconciliations"): {S, A},
    ("GET", "/api/v1/reconciliations"): {S, C, A},
    ("GET", "/api/v1/reconciliations/{run_id}"): {S, C, A},
    ("GET", "/api/v1/reconciliations/{run_id}/rows"): {S, C, A},
    ("GET", "/api/v1/reconciliations/{run_id}/report"): {S, C, A},
    ("PUT", "/api/v1/catalogue-copies/{ref}"): {C, A},
    ("POST", "/api/v1/catalogue-copies"): {C, A},
    ("PUT", "/api/v1/catalogue-records/{record_id}"): {C, A},
    ("POST", "/api/v1/catalogue-records"): {C, A},
    ("GET", "/api/v1/catalogue-records/{record_id}"): {S, C, A},
    ("GET", "/api/v1/changes"): {C, A},
    ("GET", "/api/v1/statistics/loans"): {S, C, A},
    ("GET", "/api/v1/statistics/annual"): {S, C, A},
    ("GET", "/api/v1/changes/head"): {C, A},
    ("POST", "/api/v1/loan-requests"): {S, A},
    ("GET", "/api/v1/loan-requests"): {S, AP, A},
    ("GET", "/api/v1/loan-requests/{request_id}"): {S, AP, A},
    ("POST", "/api/v1/loan-requests/{request_id}/approve"): {AP, A},
    ("POST", "/api/v1/loan-requests/{request_id}/reject"): {AP, A},
    ("POST", "/api/v1/loan-requests/{request_id}/cancel"): {S, A},
    ("POST", "/api/v1/dispositions"): {S, A},
    ("GET", "/api/v1/dispositions"): {S, C, AP, A},
    ("GET", "/api/v1/dispositions/{disposition_id}"): {S, C, AP, A},
    ("POST", "/api/v1/dispositions/{disposition_id}/approve"): {AP, A},
    ("POST", "/api/v1/dispositions/{disposition_id}/reject"): {AP, A},
    ("POST", "/api/v1/dispositions/{disposition_id}/carry-out"): {S, A},
    ("GET", "/api/v1/dispositions/{disposition_id}/register"): {S, C, AP, A},
    ("POST", "/api/v1/inventory/campaigns"): {S, A},
    ("GET", "/api/v1/inventory/campaigns"): {S, A},
    ("GET", "/api/v1/inventory/campaigns/{campaign_id}"): {S, A},
    ("POST", "/api/v1/inventory/campaigns/{campaign_id}/finish"): {S, A},
    ("POST", "/api/v1/inventory/campaigns/{campaign_id}/cancel"): {S, A},
    ("POST", "/api/v1/spot-checks"): {S, A},
    ("GET", "/api/v1/spot-checks/{check_id}"): {S, A},
    ("PUT", "/api/v1/spot-checks/{check_id}/items/{ref}"): {S, A},
    ("GET", "/api/v1/retention/eligible"): {S, C, A},
    ("GET", "/api/v1/epcis/events"): {S, C, A},
    ("GET", "/api/v1/stacker"): {S, F, SA, A},
    ("POST", "/api/v1/stacker/jobs"): {S, A},
    ("GET", "/api/v1/stacker/jobs/{job_id}"): {S, F, SA, A},
    ("POST", "/api/v1/stacker/jobs/{job_id}/decision"): {S, A},
    ("POST", "/api/v1/stacker/reset"): {S, SA, A},
    ("GET", "/api/v1/session"): set(Role),
    ("POST", "/api/v1/session/sign-out"): set(Role),
    ("POST", "/api/v1/session/password"): set(Role),
    ("GET", "/api/v1/accounts"): {SE},
    ("POST", "/api/v1/accounts"): {SE},
    ("POST", "/api/v1/accounts/{name}/disable"): {SE},
    ("PUT", "/api/v1/accounts/{name}/role"): {SE},
    ("GET", "/api/v1/search"): {S, C, A},
    ("POST", "/api/v1/events/ticket"): {S, A},
    ("GET", "/api/v1/events/stream"): {S, A},
}
PUBLIC = {("GET", "/healthz"), ("GET", "/metrics")}
SIGN_IN = {("POST", "/api/v1/session/sign-in")}
"""Authenticated by its body (a password or a token): tests/api/test_sessions.py."""
PARAMS = {
    "ref": "BOX-1",
    "import_id": "0123456789abcdef",
    "epc": "E2801160600002084E3B7D5A",
    "code": "r1-desk",
    "loan_id": "1",
    "alarm_id": "1",
    "job_id": "1",
    "run_id": "1",
    "campaign_id": "1",
    "check_id": "1",
    "record_id": "EA-1",
    "request_id": "1",
    "disposition_id": "1",
    "room": "r1",
    "actuator": "dh-1",
    "reader_id": "desk-1",
    "name": "nobody",
}


async def _routes(room: Room) -> set[tuple[str, str]]:
    async with room.client(None) as client:
        spec = (await client.get("/openapi.json")).json()
    return {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}


async def test_every_route_is_in_the_role_matrix(room: Room) -> None:
    routes = await _routes(room)
    assert routes - PUBLIC - SIGN_IN == set(ROLE_MATRIX), "update ROLE_MATRIX and docs/api.md"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_every_route_needs_a_token_of_an_allowed_role(room: Room) -> None:
    for (method, path), allowed in ROLE_MATRIX.items():
        url = path.format(**PARAMS)
        async with room.client(None) as anonymous:
            r = await anonymous.request(method, url, json={})
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.headers["www-authenticate"] == "Bearer"
        for role in Role:
            async with room.client(role) as client:
                r = await client.request(method, url, json={})
            if role in allowed:
                assert r.status_code not in (401, 403), (method, path, role, r.text)
            else:
                assert r.status_code == 403, (method, path, role, r.status_code)
                assert role.value in r.json()["detail"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_unknown_revoked_and_expired_tokens_are_401(room: Room) -> None:
    from daemon.tokens import Tokens

    async with room.client(None) as client:
        for token in ("arc_000000000000_nope", "garbage", room.tokens[S] + "x"):
            r = await client.get("/api/v1/loans", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401
    async with room.daemon_store() as store:
        tokens = Tokens(store)
        short = await tokens.create(name="short-lived", role=S, expires_in_s=0.001)
        assert await tokens.revoke("staff-r1")
    async with room.client(None) as client:
        r = await client.get("/api/v1/loans", headers={"Authorization": f"Bearer {short}"})
        assert r.status_code == 401
    room.services.tokens._cache.clear()  # the daemon caches good answers for a few seconds
    async with room.client(S) as revoked:
        assert (await revoked.get("/api/v1/loans")).status_code == 401


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_repeated_failed_authentication_is_rate_limited(room: Room) -> None:
    async with room.client(None) as client:
        codes = [
            (
                await client.get(
                    "/api/v1/loans", headers={"Authorization": "Bearer arc_000000000000_x"}
                )
            ).status_code
            for _ in range(35)
        ]
        assert codes[:30] == [401] * 30
        assert codes[30:] == [429] * 5
        good = await client.get(
            "/api/v1/loans", headers={"Authorization": f"Bearer {room.tokens[S]}"}
        )
        assert good.status_code == 429
