"""The console speaks the browser's language (Chinese or English) with a switch, on a tablet as
on a desk PC, and says in words what went wrong when the API refuses something."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from daemon.tokens import Role
from tests.console.conftest import ConsoleRoom, open_console
from tests.support.catalogue import catalogue_item, tagged

BOX = "0001-WS·2021-Y-RS-0007"
TITLE = "养老保险待遇审批表 王芳"


async def test_a_chinese_browser_gets_chinese_pages_and_the_switch_turns_them_english(
    room: ConsoleRoom, browser: Browser, screenshots: Path
) -> None:
    async with room.client() as staff:
        await catalogue_item(staff, BOX, title=TITLE)
    console = await open_console(browser, room.url, screenshots, locale="zh-CN", tablet=True)
    page = console.page

    await console.open("/console/login")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await expect(page.locator("h1")).to_have_text("工作人员控制台")
    await console.shot("login-zh-tablet")
    await console.log_in(room.tokens[Role.staff])
    await expect(page.locator("#nav")).to_contain_text("报警")
    await expect(page.locator("#live")).to_have_text("实时")

    await page.fill("#q", "养老保险")
    await page.click("#search button")
    found = page.locator("#results tbody tr")
    await expect(found).to_have_count(1)
    await expect(found).to_contain_text(TITLE)
    await expect(found).to_contain_text("去向不明")
    await expect(page.locator("#status")).to_have_text("找到 1 件档案。")
    await console.shot("search-zh-tablet")

    await found.locator("a").click()
    await expect(page.locator("#tag-current")).to_have_text("此档案尚未绑定标签。")
    await page.click("#encode-button")
    await expect(page.locator("#tag-status")).to_have_text(
        "当前无法执行：no tag on desk reader desk-1: place one tag on the antenna"  # noqa: RUF001
    )
    await console.shot("item-zh-tablet")

    await page.click("#lang-switch")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("#tag-current")).to_have_text("No tag is bound to this item yet.")
    await expect(page.locator("#ref")).to_have_text(BOX)  # same page, same item
    await console.open("/console/alarms")  # the choice is remembered
    await expect(page.locator("h1")).to_have_text("Alarms")
    await page.click("#lang-switch")
    await expect(page.locator("h1")).to_have_text("报警")
    await expect(page.locator("#no-alarms")).to_have_text("没有报警。")


async def test_api_refusals_are_shown_in_words(
    room: ConsoleRoom, browser: Browser, screenshots: Path
) -> None:
    console = await open_console(browser, room.url, screenshots, locale="en-US")
    page = console.page

    await console.open("/console/login")
    await page.fill("#token", "arc_000000000000_not-a-token")
    await page.click("#login button[type=submit]")
    await expect(page.locator("#status")).to_have_text(
        "The token is not valid (log in again): the token is unknown, expired or revoked"
    )
    await page.fill("#token", room.tokens[Role.facilities])
    await page.click("#login button[type=submit]")
    await expect(page.locator("#status")).to_have_text(
        "This token has the role “facilities”; the staff console needs a staff token."
    )

    await console.log_in(room.tokens[Role.staff])
    await console.open("/console/item?ref=NO-SUCH-BOX")
    await expect(page.locator("#status")).to_have_text(
        "Not found: no catalogue record with ref 'NO-SUCH-BOX'"
    )

    async with room.client() as staff:
        await catalogue_item(staff, BOX)
    await console.open("/console/item?ref=0001-WS%C2%B72021-Y-RS-0007")
    await page.fill("#checkout [name=borrower]", "Wang Fang")
    await page.fill("#checkout [name=purpose]", "Audit")
    await page.fill("#checkout [name=due]", "2020-01-31")
    await page.click("#checkout button[type=submit]")
    await expect(page.locator("#loan-status")).to_have_text(
        "Some input is not valid: due date 2020-01-31 is in the past"
    )
    await console.shot("error-in-words")

    await page.locator("#tag-new details summary").click()
    await page.fill("#bind-epc [name=epc]", "E28011606000020000000009")
    async with room.client() as staff:  # another desk binds the same tag first
        other = "0001-WS·2021-Y-RS-0008"
        await tagged(staff, other, "E28011606000020000000009")
    await page.click("#bind-epc button[type=submit]")
    await expect(page.locator("#tag-status")).to_contain_text("Not possible now: ")
    await expect(page.locator("#tag-status")).to_contain_text("0001-WS·2021-Y-RS-0008")

    # A revoked token ends the session: the next action goes back to the login page.
    assert await room.services.tokens.revoke("Li Wei")
    room.services.tokens._cache.clear()  # the daemon trusts a good token for a few seconds
    await page.click("#checkout button[type=submit]")
    await page.wait_for_url("**/console/login?*")
    await expect(page.locator("#status")).to_have_text(
        "Your session has ended (signed out, idle too long, or its token was revoked). "
        "Sign in again."
    )
