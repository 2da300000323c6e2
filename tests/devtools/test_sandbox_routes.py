"""The sandbox page's HTTP side on the stand-in: only its own page may drive the bot, a bad
request says what is wrong, and every open page hears of each message as it changes."""

from __future__ import annotations

import asyncio
import io
import json
from urllib.parse import urlsplit

import aiohttp

from devtools.interactions import DEV_CHANNEL_ID
from devtools.standin.guard import HEADERS as SANDBOX


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


async def test_the_stand_ins_own_routes_refuse_other_sites(discord):
    base = root(discord)
    payload = {"id": "1", "type": 1}
    async with aiohttp.ClientSession() as session:
        # what a cross-site form or no-cors fetch can send: no custom header
        async with session.post(base + "/_fake/interactions", data=json.dumps(payload)) as csrf:
            assert csrf.status == 403
        # a page whose own domain was rebound to this machine names that domain
        rebound = {"Host": f"rebind.example.com:{discord.url.split(':')[2].split('/')[0]}"}
        async with session.get(base + "/_sandbox/state", headers=rebound) as read:
            assert read.status == 403
        async with session.get(base + "/_sandbox/state") as mine:
            assert mine.status == 200


async def test_malformed_options_and_webhook_names_are_refused_not_crashed_on(discord):
    url = root(discord) + "/_sandbox/interactions"
    nested: list = []
    deep = nested
    for _ in range(5):
        deep.append({"name": "x", "type": 1, "options": []})
        deep = deep[0]["options"]
    async with aiohttp.ClientSession() as session:
        for options in (
            [{"name": "x", "type": [1]}],
            [{"name": "x", "options": ["a"]}],
            nested,
        ):
            body = {"as": "admin", "kind": "command", "name": "ping", "options": options}
            async with session.post(url, json=body, headers=SANDBOX) as bad:
                assert bad.status == 400, await bad.text()
                assert (await bad.json())["error"].startswith("options:")
        async with session.post(url, data=b"[" * 100_000, headers=SANDBOX) as recursive:
            assert recursive.status == 400
        hook = discord.create_webhook(DEV_CHANNEL_ID)
        async with session.post(hook, json={"content": "n", "username": 123}) as named:
            assert named.status == 400
    assert [v for v in discord.violations if "username" in v]
    discord.violations.clear()  # refused on purpose


async def test_an_unread_event_stream_does_not_hold_up_shutdown():
    from devtools.standin import DiscordStandIn

    fake = DiscordStandIn(application_id="1")
    await fake.__aenter__()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", urlsplit(fake.url).port)
        writer.write(b"GET /_sandbox/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await writer.drain()
        await reader.readuntil(b": connected")
        for number in range(50):  # never read: the socket's buffers fill, the writer waits
            fake.user_message("x" * 50_000 + str(number), channel_id=DEV_CHANNEL_ID)
        await asyncio.sleep(0.2)
    finally:
        # Ctrl-C on make run: the stand-in must stop, not wait on a page that reads nothing.
        async with asyncio.timeout(10):
            await fake.__aexit__(None, None, None)
    writer.close()


async def test_a_file_over_discords_limit_is_refused_saying_so(discord):
    from devtools.standin.multipart import MAX_FILE_SIZE

    base = root(discord)
    async with aiohttp.ClientSession() as session:
        for route in ("/_sandbox/files", "/_fake/files"):
            url = f"{base}{route}?filename=big.bin"
            fits_data = io.BytesIO(b"x" * MAX_FILE_SIZE)
            async with session.post(url, data=fits_data, headers=SANDBOX) as fits:
                assert fits.status == 200
            over = io.BytesIO(b"x" * (MAX_FILE_SIZE + 1))
            async with session.post(url, data=over, headers=SANDBOX) as refused:
                assert refused.status == 413
                assert "big.bin is over the 10 MiB" in (await refused.json())["error"]
        deep = b"[" * 100_000 + b"]" * 100_000
        async with session.post(base + "/_fake/interactions", data=deep, headers=SANDBOX) as bad:
            assert bad.status == 400
