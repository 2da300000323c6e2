"""The sandbox page's HTTP side on the stand-in: only its own page may drive the bot, a bad
request says what is wrong, and every open page hears of each message as it changes."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from devtools.interactions import DEV_CHANNEL_ID

SANDBOX = {"X-Sandbox": "1"}


def root(discord) -> str:
    return discord.url.rsplit("/api/", 1)[0]


async def test_the_page_is_served_with_a_policy_that_loads_nothing_from_elsewhere(discord):
    async with aiohttp.ClientSession() as session, session.get(root(discord) + "/") as page:
        assert page.status == 200
        assert "<title>Bot sandbox</title>" in await page.text()
        policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy


async def test_another_site_cannot_drive_the_bot_and_bad_requests_say_why(discord):
    url = root(discord) + "/_sandbox/interactions"
    command = {"as": "admin", "kind": "command", "name": "ping"}
    async with aiohttp.ClientSession() as session:
        # A form post from another origin cannot carry the header: refused, nothing sent.
        async with session.post(url, data=json.dumps(command)) as refused:
            assert refused.status == 403
        for body, field in (
            ({"as": "root", "kind": "command", "name": "ping"}, "as:"),
            ({"as": "admin", "kind": "telepathy"}, "kind:"),
            ({"as": "admin", "kind": "click", "custom_id": "x", "message_id": "1"}, "message_id:"),
            ({"as": "admin", "kind": "command", "name": "ask", "options": "many"}, "options:"),
        ):
            async with session.post(url, json=body, headers=SANDBOX) as bad:
                assert bad.status == 400
                assert (await bad.json())["error"].startswith(field)
        async with session.post(url, data=b"{", headers=SANDBOX) as broken:
            assert broken.status == 400
        # no bot connected: said, not a traceback
        async with session.post(url, json=command, headers=SANDBOX) as unconnected:
            assert unconnected.status == 409
            assert "connect" in (await unconnected.json())["error"]
    assert discord.requests == []  # none of this reached Discord's routes


async def test_open_pages_hear_of_each_message_as_it_is_posted_and_cleared(discord):
    base = root(discord)
    async with (
        aiohttp.ClientSession() as session,
        session.get(base + "/_sandbox/events") as stream,
    ):
        assert (await stream.content.readline()).startswith(b": connected")
        await stream.content.readline()
        posted = {"as": "member", "content": "hello <b>there</b>"}
        async with session.post(base + "/_sandbox/messages", json=posted, headers=SANDBOX) as ok:
            assert ok.status == 200
        async with asyncio.timeout(5):
            line = await stream.content.readline()
        event = json.loads(line.removeprefix(b"data: "))
        assert event["kind"] == "user_message"
        assert event["message"]["content"] == "hello <b>there</b>"
        assert event["message"]["author"]["username"] == "sam"
        clear = {"channel_id": DEV_CHANNEL_ID}
        async with session.post(base + "/_sandbox/clear", json=clear, headers=SANDBOX) as ok:
            assert (await ok.json())["deleted"] == 1
        await stream.content.readline()
        async with asyncio.timeout(5):
            line = await stream.content.readline()
        assert json.loads(line.removeprefix(b"data: "))["kind"] == "clear"
    assert discord.messages == {}
