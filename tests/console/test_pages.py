"""The console's pages over HTTP: served without a token, in the right language, with a strict
content policy, and every asset from the daemon itself."""

from __future__ import annotations

import re

import pytest

from tests.support.room import Room

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
PAGES = ("login", "items", "item", "alarms", "stacker", "climate", "statistics", "approvals")


async def test_every_page_is_served_with_a_strict_content_policy(api_room: Room) -> None:
    async with api_room.client(None) as browser:
        for name in PAGES:
            r = await browser.get(f"/console/{name}")
            assert r.status_code == 200, name
            assert r.headers["content-type"].startswith("text/html")
            policy = r.headers["content-security-policy"]
            assert "script-src 'self';" in policy
            assert "frame-ancestors 'none'" in policy
            assert r.headers["referrer-policy"] == "no-referrer"
            assert f'data-page="{name}"' in r.text
            assert "<script>" not in r.text  # no inline script: the policy would block it


async def test_the_console_address_leads_to_the_item_search(api_room: Room) -> None:
    async with api_room.client(None) as browser:
        r = await browser.get("/console")
    assert r.status_code == 303
    assert r.headers["location"] == "/console/items"


async def test_every_asset_a_page_names_is_served_by_the_daemon(api_room: Room) -> None:
    async with api_room.client(None) as browser:
        assets: set[str] = set()
        for name in PAGES:
            html = (await browser.get(f"/console/{name}")).text
            assets |= set(re.findall(r'(?:src|href)="(/[^"]*)"', html))
            assert "http://" not in html
            assert "https://" not in html
        scripts = {a for a in assets if a.endswith(".js")}
        for script in list(scripts):
            text = (await browser.get(script)).text
            scripts |= {f"/console/static/{m}" for m in re.findall(r'from "\./([\w.-]+)"', text)}
        for asset in assets | scripts:
            if asset.startswith("/console/static/"):
                r = await browser.get(asset)
                assert r.status_code == 200, asset
        assert {"/console/static/console.js", "/console/static/stacker-jobs.js"} <= scripts
        assert (await browser.get("/console/static/../../routes/console.py")).status_code == 404


async def test_the_language_follows_the_browser_and_the_switch_is_remembered(
    api_room: Room,
) -> None:
    async with api_room.client(None) as browser:
        zh = await browser.get("/console/items", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
        assert '<html lang="zh-CN">' in zh.text
        assert "查找档案" in zh.text
        en = await browser.get("/console/items", headers={"Accept-Language": "fr, en;q=0.5"})
        assert '<html lang="en">' in en.text
        assert "Find an item" in en.text

        switched = await browser.get(
            "/console/item?ref=BOX-1&lang=en", headers={"Accept-Language": "zh-CN"}
        )
        assert '<html lang="en">' in switched.text
        cookie = switched.headers["set-cookie"]
        assert cookie.startswith("archroom_lang=en;")
        assert "Path=/console" in cookie
        # the switch back keeps the page and its item
        assert 'href="/console/item?ref=BOX-1&amp;lang=zh"' in switched.text
        later = await browser.get("/console/alarms", headers={"Accept-Language": "zh-CN"})
        assert '<html lang="en">' in later.text  # the cookie beats the browser


async def test_page_texts_are_escaped(api_room: Room) -> None:
    async with api_room.client(None) as browser:
        r = await browser.get('/console/items?q="><script>alert(1)</script>&lang=zh')
    assert "<script>alert(1)" not in r.text
