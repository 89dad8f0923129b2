"""People sign in to the API with a password and use it with a session cookie.

Over real HTTP against a running daemon: the cookies' attributes, the CSRF token asked of every
state-changing request made with the cookie, the per-account lockout, the one-time code of
administrators, the idle timeout (with the daemon's clock moved, not waited for), sign-out and
password change, and the separated duties of the roles.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from api.auth import CSRF_COOKIE, SESSION_COOKIE
from daemon.accounts import totp
from daemon.accounts.lockout import Backoff
from daemon.clock import now_us
from daemon.store.db import Store
from daemon.store.schema import audit
from daemon.tokens import Role
from tests.support.room import Room

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

PASSWORD = "tea-kettle on the third shelf"
SIGN_IN = "/api/v1/session/sign-in"


async def _person(room: Room, name: str, role: Role) -> str | None:
    return await room.services.accounts.add(name, role, PASSWORD, actor="test")


def _browser(room: Room) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=room.url, timeout=60)


async def _signed_in(client: httpx.AsyncClient, name: str, code: str | None = None) -> str:
    body = {"user": name, "password": PASSWORD} | ({"code": code} if code else {})
    r = await client.post(SIGN_IN, json=body)
    assert r.status_code == 200, r.text
    return client.cookies[CSRF_COOKIE]


async def test_signing_in_sets_an_httponly_strict_session_cookie_and_a_csrf_cookie(
    room: Room,
) -> None:
    await _person(room, "wang.fang", Role.staff)
    async with _browser(room) as client:
        r = await client.post(SIGN_IN, json={"user": "wang.fang", "password": PASSWORD})
        assert r.status_code == 200
        assert (r.json()["name"], r.json()["role"], r.json()["console"]) == (
            "wang.fang",
            "staff",
            True,
        )
        cookies = {c.split("=", 1)[0]: c.lower() for c in r.headers.get_list("set-cookie")}
        assert "httponly" in cookies[SESSION_COOKIE]
        assert "samesite=strict" in cookies[SESSION_COOKIE]
        assert "path=/" in cookies[SESSION_COOKIE]
        assert "secure" not in cookies[SESSION_COOKIE]  # plain HTTP here; HTTPS: tests/security
        assert "httponly" not in cookies[CSRF_COOKIE]  # the console's script reads it
        assert "samesite=strict" in cookies[CSRF_COOKIE]
        session = await client.get("/api/v1/session")
        assert (session.status_code, session.json()["name"]) == (200, "wang.fang")


async def test_a_wrong_password_is_401_and_the_account_locks_with_backoff(room: Room) -> None:
    await _person(room, "wang.fang", Role.staff)
    async with _browser(room) as client:
        for _ in range(Backoff().free):
            r = await client.post(SIGN_IN, json={"user": "wang.fang", "password": "not it at all"})
            assert r.status_code == 401
            assert r.json()["detail"] == "the user name or the password is not right"
        r = await client.post(SIGN_IN, json={"user": "wang.fang", "password": PASSWORD})
        assert r.status_code == 429
        assert 1 <= int(r.headers["retry-after"]) <= Backoff().first_s  # the daemon's clock runs
        assert SESSION_COOKIE not in client.cookies
    # another account, from the same address, is not affected
    await _person(room, "li.wei", Role.staff)
    async with _browser(room) as client:
        await _signed_in(client, "li.wei")


async def test_state_changing_requests_with_the_cookie_need_the_csrf_token(room: Room) -> None:
    await _person(room, "wang.fang", Role.staff)
    async with _browser(room) as client:
        csrf = await _signed_in(client, "wang.fang")
        assert (await client.get("/api/v1/loans")).status_code == 200  # reads need none
        for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": ""}):
            r = await client.post("/api/v1/loans", json={}, headers=headers)
            assert r.status_code == 403, headers
            assert "X-CSRF-Token" in r.json()["detail"]
        r = await client.post("/api/v1/loans", json={}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 422  # past authentication: the empty body is what is wrong


async def test_a_bearer_token_needs_no_csrf_token(room: Room) -> None:
    async with room.client(Role.staff) as system:
        assert (await system.post("/api/v1/loans", json={})).status_code == 422


async def test_the_session_ends_after_the_idle_time(room: Room) -> None:
    await _person(room, "wang.fang", Role.staff)
    accounts = room.services.accounts
    async with _browser(room) as client:
        await _signed_in(client, "wang.fang")
        start = now_us()
        accounts.clock = lambda: start + accounts.idle_us - 5_000_000
        assert (await client.get("/api/v1/session")).status_code == 200  # a use, just in time
        accounts.clock = lambda: start + 2 * accounts.idle_us - 10_000_000
        assert (await client.get("/api/v1/session")).status_code == 200
        accounts.clock = lambda: start + 3 * accounts.idle_us
        r = await client.get("/api/v1/session")
        assert r.status_code == 401
        assert "idle too long" in r.json()["detail"]


async def test_administrators_sign_in_with_a_one_time_code(room: Room) -> None:
    secret = await _person(room, "zhao.min", Role.admin)
    assert secret is not None
    async with _browser(room) as client:
        r = await client.post(SIGN_IN, json={"user": "zhao.min", "password": PASSWORD})
        assert r.status_code == 401
        assert "one-time code" in r.json()["detail"]
        code = totp.code_at(secret, room.services.accounts.clock() / 1e6)
        await _signed_in(client, "zhao.min", code)
        assert (await client.get("/api/v1/session")).json()["role"] == "admin"


async def test_sign_out_ends_the_session(room: Room) -> None:
    await _person(room, "wang.fang", Role.staff)
    async with _browser(room) as client:
        csrf = await _signed_in(client, "wang.fang")
        stolen = client.cookies[SESSION_COOKIE]
        r = await client.post("/api/v1/session/sign-out", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 204
    async with _browser(room) as other:
        other.cookies.set(SESSION_COOKIE, stolen)
        assert (await other.get("/api/v1/session")).status_code == 401


async def test_people_change_their_own_password(room: Room) -> None:
    await _person(room, "wang.fang", Role.staff)
    new = "a whole new sentence here"
    async with _browser(room) as client:
        csrf = await _signed_in(client, "wang.fang")
        url, headers = "/api/v1/session/password", {"X-CSRF-Token": csrf}
        r = await client.post(url, json={"current": PASSWORD, "new": "short"}, headers=headers)
        assert (r.status_code, "at least 12" in r.json()["detail"]) == (422, True)
        r = await client.post(url, json={"current": PASSWORD, "new": new}, headers=headers)
        assert r.status_code == 204
    async with _browser(room) as client:
        r = await client.post(SIGN_IN, json={"user": "wang.fang", "password": new})
        assert r.status_code == 200
    async with room.client(Role.staff) as system:  # a token has no password to change
        r = await system.post("/api/v1/session/password", json={"current": "a", "new": "b"})
        assert r.status_code == 422


async def test_a_role_change_ends_the_sessions_and_adds_a_second_factor(room: Room) -> None:
    await _person(room, "wang.fang", Role.staff)
    async with _browser(room) as client:
        await _signed_in(client, "wang.fang")
        async with room.client(Role.security) as security:
            r = await security.put("/api/v1/accounts/wang.fang/role", json={"role": "auditor"})
        assert r.status_code == 200
        assert r.json()["totp_uri"].startswith("otpauth://totp/archroom%3Awang.fang?secret=")
        assert (await client.get("/api/v1/session")).status_code == 401
        r = await client.post(SIGN_IN, json={"user": "wang.fang", "password": PASSWORD})
        assert "one-time code" in r.json()["detail"]
    async with room.daemon_store() as store:
        entries = [a for a in await _audit_actions(store) if a[0] == "account.role"]
    assert entries == [("account.role", "wang.fang", "security-r1")]


async def _audit_actions(store: Store) -> list[tuple[str, str, str]]:
    async with store.read() as conn:
        rows = await conn.execute(
            select(audit.c.action, audit.c.subject, audit.c.actor).order_by(audit.c.seq)
        )
        return [(r.action, r.subject, r.actor) for r in rows]


async def test_a_desk_token_opens_a_session_that_ends_with_the_token(room: Room) -> None:
    async with _browser(room) as client:
        r = await client.post(SIGN_IN, json={"token": room.tokens[Role.staff]})
        assert (r.status_code, r.json()["name"]) == (200, "staff-r1")
        assert (await client.get("/api/v1/session")).status_code == 200
        r = await client.post(SIGN_IN, json={"token": "arc_000000000000_nope"})
        assert r.status_code == 401
        assert await room.services.tokens.revoke("staff-r1")
        assert (await client.get("/api/v1/session")).status_code == 401


async def test_only_security_manages_accounts_and_only_the_auditor_reads_the_audit(
    room: Room,
) -> None:
    """三员分立: the admin acts but neither reads the audit nor makes accounts; the security
    administrator makes accounts but neither acts nor reads the audit; the auditor reads the
    audit and does nothing else."""
    body = {"name": "li.wei", "role": "staff", "password": PASSWORD}
    for role in Role:
        async with room.client(role) as client:
            audit = await client.get("/api/v1/audit")
            made = await client.post("/api/v1/accounts", json=body)
            loan = await client.post("/api/v1/loans", json={})
            racks = await client.post("/api/v1/locations/racks", json={})
        assert (audit.status_code == 200) == (role is Role.auditor), role
        assert (made.status_code != 403) == (role is Role.security), role
        assert (loan.status_code != 403) == (role in (Role.staff, Role.admin)), role
        assert (racks.status_code != 403) == (role in (Role.sysadmin, Role.admin)), role
    async with room.client(Role.security) as security:
        listed = (await security.get("/api/v1/accounts")).json()
    assert [(a["name"], a["role"], a["state"]) for a in listed] == [("li.wei", "staff", "active")]
    entries = await room.audit("li.wei")
    assert [(e["actor"], e["action"]) for e in entries] == [("security-r1", "account.add")]


async def test_security_gets_the_totp_uri_of_a_new_administrator_once(room: Room) -> None:
    async with room.client(Role.security) as security:
        body = {"name": "zhao.min", "role": "auditor", "password": PASSWORD}
        r = await security.post("/api/v1/accounts", json=body)
        assert r.status_code == 201
        assert r.json()["totp_uri"].startswith("otpauth://totp/archroom%3Azhao.min?secret=")
        assert (await security.post("/api/v1/accounts", json=body)).status_code == 409
        r = await security.put("/api/v1/accounts/zhao.min/role", json={"role": "security"})
        assert (r.status_code, r.json()["totp_uri"]) == (200, None)  # it has its factor already
        r = await security.put("/api/v1/accounts/security-r1/role", json={"role": "admin"})
        assert r.status_code == 422  # never their own role
        r = await security.post("/api/v1/accounts/zhao.min/disable")
        assert r.status_code == 204
        assert (await security.post("/api/v1/accounts/zhao.min/disable")).status_code == 404
        assert (await security.get("/api/v1/accounts")).json()[0]["state"] == "disabled"
