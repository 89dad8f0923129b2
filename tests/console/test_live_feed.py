"""The live feed over a real bus and real tokens: what a stream sends, and when it ends."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

import pytest
from fastapi.sse import ServerSentEvent

from api.console.live import FeedUnavailable, LiveFeed
from api.console.tickets import Grant
from daemon.bus import Bus
from daemon.events import AlarmRaised, LoanReturned, TagRetired
from daemon.store.db import Store
from daemon.tokens import Principal, Role, Tokens


@pytest.fixture
async def tokens(sqlite_url: str) -> AsyncIterator[Tokens]:
    store = Store.connect(sqlite_url)
    try:
        yield Tokens(store)
    finally:
        await store.close()


async def _grant(tokens: Tokens) -> Grant:
    token = await tokens.create(name="Li Wei", role=Role.staff)
    return Grant(Principal("Li Wei", Role.staff), token)


def _returned(loan_id: int) -> LoanReturned:
    return LoanReturned(at_us=1_700_000_000_000_000, loan_id=loan_id, ref=f"BOX-{loan_id}")


async def _take(stream: AsyncGenerator[ServerSentEvent, None], n: int) -> list[ServerSentEvent]:
    return [await anext(stream) for _ in range(n)]


async def test_a_stream_says_hello_then_sends_the_rooms_events_only(tokens: Tokens) -> None:
    bus = Bus()
    feed = LiveFeed(bus, tokens)
    stream = feed.stream(await _grant(tokens), feed.admit())
    hello = await anext(stream)
    assert (hello.event, hello.data, hello.retry) == ("hello", {"user": "Li Wei"}, 3000)
    bus.publish(TagRetired(ref="BOX-1", epc="E2801160"))  # internal: not for pages
    bus.publish(_returned(7))
    (returned,) = await _take(stream, 1)
    assert returned.event == "loan.returned"
    assert returned.data == {"loan_id": 7, "ref": "BOX-7", "at": "2023-11-14T22:13:20.000Z"}
    await stream.aclose()
    assert feed.open_streams == 0
    assert bus._subs == []


async def test_closing_the_feed_ends_every_stream_after_what_it_had_queued(
    tokens: Tokens,
) -> None:
    bus = Bus()
    feed = LiveFeed(bus, tokens)
    grant = await _grant(tokens)
    first, second = feed.stream(grant, feed.admit()), feed.stream(grant, feed.admit())
    await _take(first, 1)
    await _take(second, 1)
    assert feed.open_streams == 2
    bus.publish(_returned(1))
    feed.close()
    for stream in (first, second):
        returned, end = await _take(stream, 2)
        assert returned.event == "loan.returned"
        assert (end.event, end.data["reason"]) == ("end", "closed")
        with pytest.raises(StopAsyncIteration):
            await anext(stream)
    assert feed.open_streams == 0
    with pytest.raises(FeedUnavailable, match="stopping"):
        feed.admit()


async def test_a_stream_ends_when_its_token_is_revoked(tokens: Tokens) -> None:
    feed = LiveFeed(Bus(), tokens, recheck_s=0.05)
    stream = feed.stream(await _grant(tokens), feed.admit())
    await _take(stream, 1)
    assert await tokens.revoke("Li Wei")
    (end,) = await _take(stream, 1)
    assert (end.event, end.data["reason"]) == ("end", "token")
    with pytest.raises(StopAsyncIteration):
        await anext(stream)


async def test_a_page_that_fell_behind_is_told_to_reload(tokens: Tokens) -> None:
    bus = Bus()
    feed = LiveFeed(bus, tokens, queue_size=2)
    stream = feed.stream(await _grant(tokens), feed.admit())
    await _take(stream, 1)
    for loan_id in range(1, 6):
        bus.publish(_returned(loan_id))
    resync, one, two = await _take(stream, 3)
    assert (resync.event, resync.data) == ("resync", {"dropped": 3})
    assert [one.data["loan_id"], two.data["loan_id"]] == [1, 2]
    bus.publish(
        AlarmRaised(
            at_us=1,
            alarm_id=1,
            kind="gate.unauthorized",
            source="gate door-1",
            severity="critical",
            message="carried out",
            subject="BOX-1",
        )
    )
    (alarm,) = await _take(stream, 1)  # nothing lost since: no second resync
    assert alarm.event == "alarm.raised"
    await stream.aclose()


async def test_no_more_streams_than_the_limit_are_admitted(tokens: Tokens) -> None:
    feed = LiveFeed(Bus(), tokens, max_streams=1)
    stream = feed.stream(await _grant(tokens), feed.admit())
    with pytest.raises(FeedUnavailable, match="1 live pages are open"):
        feed.admit()  # counted at admission, before the stream has sent anything
    await _take(stream, 1)
    await stream.aclose()
    slot = feed.admit()
    slot.release()
    slot.release()
    assert feed.open_streams == 0
