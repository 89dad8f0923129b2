"""Signing in to the console in a real browser: a person's password, an administrator's
one-time code, refusals in words, the session in an HttpOnly cookie and nothing in the page's
storage, signing out."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from api.auth import CSRF_COOKIE, SESSION_COOKIE
from daemon.accounts import totp
from daemon.tokens import Role
from tests.console.conftest import open_console
from tests.support.room import Room

PASSWORD = "tea-kettle on the third shelf"
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


async def test_staff_sign_in_with_a_password_into_an_httponly_cookie_session(
    api_room: Room, browser: Browser, screenshots: Path
) -> None:
    await api_room.services.accounts.add("wang.fang", Role.staff, PASSWORD, actor="test")
    console = await open_console(browser, api_room.url, screenshots, locale="en-GB")
    page = console.page

    await console.open("/console/items")  # not signed in: sent to sign in, then back
    await page.wait_for_url("**/console/login?next=*")
    await page.fill("#user", "wang.fang")
    await page.fill("#password", "not the password at all")
    await page.click("#signin button[type=submit]")
    await expect(page.locator("#status")).to_have_text(
        "Not signed in: the user name or the password is not right"
    )
    await expect(page.locator("#password")).to_have_value("")  # not left in the form

    await page.fill("#user", "wang.fang")
    await page.fill("#password", PASSWORD)
    await console.shot("sign-in")
    await page.click("#signin button[type=submit]")
    await page.wait_for_url("**/console/items")
    await expect(page.locator("#user")).to_have_text("wang.fang")
    await page.locator("#live[data-state=on]").wait_for()  # the ticket POST passed the CSRF check

    cookies = {c["name"]: c for c in await page.context.cookies()}
    assert cookies[SESSION_COOKIE]["httpOnly"]
    assert cookies[SESSION_COOKIE]["sameSite"] == "Strict"
    assert not cookies[CSRF_COOKIE]["httpOnly"]
    assert await page.evaluate("document.cookie.includes('archroom_session')") is False
    stored = await page.evaluate("JSON.stringify([{...sessionStorage}, {...localStorage}])")
    assert "ses_" not in stored
    assert "arc_" not in stored

    await page.click("#logout")
    await page.wait_for_url("**/console/login")
    await console.open("/console/items")
    await page.wait_for_url("**/console/login?next=*")


SigningIn = Callable[[str, Role, str], Awaitable[tuple[Page, str]]]


@pytest.fixture
def signing_in(api_room: Room, browser: Browser, screenshots: Path) -> SigningIn:
    """``signing_in(user, role, locale)``: a new account that needs a one-time code, and a
    console on the sign-in page with its name and password filled in; the page and the secret
    of the account's code."""

    async def sign_in_page(user: str, role: Role, locale: str) -> tuple[Page, str]:
        secret = await api_room.services.accounts.add(user, role, PASSWORD, actor="test")
        assert secret is not None
        console = await open_console(browser, api_room.url, screenshots, locale=locale)
        await console.open("/console/login")
        await console.page.fill("#user", user)
        await console.page.fill("#password", PASSWORD)
        return console.page, secret

    return sign_in_page


async def test_an_administrator_needs_the_one_time_code(signing_in: SigningIn) -> None:
    page, secret = await signing_in("zhao.min", Role.admin, "zh-CN")
    await page.click("#signin button[type=submit]")
    await expect(page.locator("#status")).to_have_text(
        "未能登录：this account needs the one-time code of its app too"  # noqa: RUF001
    )
    await page.fill("#password", PASSWORD)
    await page.fill("#code", totp.code_at(secret, time.time()))
    await page.click("#signin button[type=submit]")
    await page.wait_for_url("**/console/items")
    await expect(page.locator("#user")).to_have_text("zhao.min")


async def test_an_auditor_is_signed_in_but_told_the_pages_are_for_staff(
    signing_in: SigningIn,
) -> None:
    page, secret = await signing_in("qian.li", Role.auditor, "en-GB")
    await page.fill("#code", totp.code_at(secret, time.time()))
    await page.click("#signin button[type=submit]")
    await expect(page.locator("#status")).to_contain_text(
        "Signed in as qian.li, role “auditor”: the staff console's pages are for staff."
    )
    audit = await page.evaluate(
        "fetch('/api/v1/audit?limit=1', {credentials: 'same-origin'}).then(r => r.status)"
    )
    assert audit == 200
