"""The Discord stand-in playing Discord's side of an interaction: it delivers signed
interactions to a bot on loopback, checks each answer as Discord would, and applies it, so
later REST calls land on the message Discord would have; and it takes files as Discord does."""

from __future__ import annotations

import asyncio
import inspect
import json
import os
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from devtools import interactions
from devtools.standin.guard import HEADERS
from services.core.discord import multipart
from services.core.discord.messages import File, Message
from services.core.discord.rest import DiscordRest
from services.core.discord.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER
from services.core.env import Secret
from tests.conftest import APPLICATION_ID, BOT_TOKEN

EPHEMERAL, LOADING = 64, 128
BUTTON_ROW = {
    "type": 1,
    "components": [{"type": 2, "style": 1, "label": "Approve", "custom_id": "approve"}],
}
Answer = Callable[[dict[str, Any]], web.StreamResponse | Awaitable[web.StreamResponse]]


class Bot:
    """Stands in for the bot's interactions endpoint: checks Discord's signature with
    PyNaCl, as the real API does, and answers what the test gave it."""

    def __init__(self, key: VerifyKey) -> None:
        self._key = key
        self.answer: Answer = lambda _payload: web.json_response({"type": 1})
        self.received: list[dict[str, Any]] = []
        self.release = asyncio.Event()  # for a bot that must not answer in time

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        stamp = request.headers.get(TIMESTAMP_HEADER, "")
        try:
            signature = bytes.fromhex(request.headers.get(SIGNATURE_HEADER, ""))
            self._key.verify(stamp.encode() + body, signature)
        except (ValueError, BadSignatureError):
            return web.json_response({"error": "invalid request signature"}, status=401)
        payload = json.loads(body)
        self.received.append(payload)
        answer = self.answer(payload)
        return await answer if inspect.isawaitable(answer) else answer


@pytest.fixture
async def bot(discord, signing_key):
    fake_bot = Bot(signing_key.verify_key)
    app = web.Application()
    app.router.add_post("/interactions", fake_bot.handle)
    async with TestServer(app, host="127.0.0.1") as server:
        discord.connect(str(server.make_url("/interactions")), signing_key)
        yield fake_bot
        fake_bot.release.set()


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def client(discord, session) -> DiscordRest:
    return DiscordRest(
        session=session,
        api_url=discord.url,
        application_id=APPLICATION_ID,
        bot_token=Secret(BOT_TOKEN),
    )


@pytest.fixture
def events(discord) -> list[tuple[str, str | None]]:
    seen: list[tuple[str, str | None]] = []
    discord.on_event = lambda kind, record, _message: seen.append((kind, record.token))
    return seen


def command(name: str = "report") -> dict[str, Any]:
    return interactions.command(APPLICATION_ID, name)


def click(message: dict[str, Any]) -> dict[str, Any]:
    """The "Approve" button pressed on ``message``, which Discord sends along."""
    return interactions.click(APPLICATION_ID, "approve", message=message)


def answering(answer: dict[str, Any]) -> Answer:
    return lambda _payload: web.json_response(answer)


def aiohttp_multipart(answer: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Answer:
    """An instant reply with files, written by aiohttp's multipart writer."""

    def respond(_payload: dict[str, Any]) -> web.StreamResponse:
        writer = aiohttp.MultipartWriter("form-data")
        part = writer.append(json.dumps(answer), {"Content-Type": "application/json"})
        part.set_content_disposition("form-data", name="payload_json")
        for name, (filename, data) in files.items():
            part = writer.append(data, {"Content-Type": "image/png"})
            part.set_content_disposition("form-data", name=name, filename=filename)
        return web.Response(body=writer)

    return respond


def api_multipart(answer: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Answer:
    """The same, written by the encoder the API answers with."""

    def respond(_payload: dict[str, Any]) -> web.StreamResponse:
        sent = [File(filename, data, content_type="image/png") for filename, data in files.values()]
        body, content_type = multipart.encode(json.dumps(answer).encode(), sent)
        return web.Response(body=body, headers={"Content-Type": content_type})

    return respond


async def test_a_reply_becomes_the_interactions_original_message(discord, bot, client, events):
    bot.answer = answering(
        {"type": 4, "data": {"content": "Your report", "flags": EPHEMERAL, "components": []}}
    )
    payload = command()
    result = await discord.interact(payload)
    # The bot got the interaction signed as Discord signs it (it answers 401 otherwise).
    assert (result.status, result.response["type"]) == (200, 4)
    assert bot.received == [payload]
    assert 0 < result.elapsed < 3
    original = discord.state(payload["token"]).original
    assert (original["content"], original["flags"]) == ("Your report", EPHEMERAL)
    assert original["channel_id"] == payload["channel_id"]
    assert events == [("reply", payload["token"])]
    # A later edit through the token lands on that message.
    edited = await client.edit_original(payload["token"], Message(content="Updated report"))
    assert edited["id"] == original["id"]
    assert discord.messages[original["id"]]["content"] == "Updated report"


@pytest.mark.parametrize(
    ("payload", "answer", "problem"),
    [
        (command(), {"type": 4, "data": {"content": "x" * 2001}}, "data/content: "),
        (command(), {"type": 4, "data": {"embeds": "not a list"}}, "data/embeds: "),
        (command(), {"type": 6}, "type: 6 is not an answer to an interaction of type 2"),
        (interactions.ping(APPLICATION_ID), {"type": 4, "data": {"content": "hi"}}, "type: 4"),
        (command(), {"kind": "reply"}, "(body): "),
    ],
)
async def test_an_answer_discord_would_refuse_is_recorded_and_not_applied(
    discord, bot, events, payload, answer, problem
):
    bot.answer = answering(answer)
    result = await discord.interact(payload)
    assert result.status == 200
    assert not result.accepted
    assert any(v.startswith(problem) for v in result.violations), result.violations
    assert discord.violations == [f"create_interaction_response: {v}" for v in result.violations]
    # Discord shows "interaction failed": nothing is made of the answer.
    assert discord.state(payload["token"]).original is None
    assert events == [("failed", payload["token"])]
    discord.violations.clear()  # refused on purpose; the fixture checks the rest


async def test_a_deferral_shows_thinking_until_the_first_edit_replaces_it(
    discord, bot, client, events
):
    bot.answer = answering({"type": 5, "data": {"flags": EPHEMERAL}})
    payload = command("countdown")
    await discord.interact(payload)
    placeholder = discord.state(payload["token"]).original
    assert (placeholder["content"], placeholder["flags"]) == ("", LOADING | EPHEMERAL)
    assert events == [("deferred", payload["token"])]

    done = await client.edit_original(payload["token"], Message(content="Done", ephemeral=True))
    # The same message, no longer "thinking", still only for the user who asked.
    assert done["id"] == placeholder["id"]
    assert discord.state(payload["token"]).original["content"] == "Done"
    assert discord.state(payload["token"]).original["flags"] == EPHEMERAL


async def test_a_deferred_update_makes_the_clicks_token_edit_the_clicked_message(
    discord, bot, client, events
):
    # GIVEN a reply with a button
    bot.answer = answering({"type": 4, "data": {"content": "Approve?", "components": [BUTTON_ROW]}})
    asked = command("approve")
    await discord.interact(asked)
    message = discord.state(asked["token"]).original
    # WHEN the button is clicked and the bot defers the update
    bot.answer = answering({"type": 6})
    pressed = click(message)
    result = await discord.interact(pressed)
    assert result.accepted
    assert discord.requests == []  # nothing was edited yet
    # THEN the click's token edits the clicked message, not a new one
    edited = await client.edit_original(pressed["token"], Message(content="Approved"))
    assert edited["id"] == message["id"]
    assert discord.messages[message["id"]]["content"] == "Approved"
    assert discord.messages[message["id"]]["components"] == []
    assert discord.state(asked["token"]).original["content"] == "Approved"
    assert events == [
        ("reply", asked["token"]),
        ("deferred", pressed["token"]),
        ("edit_original", pressed["token"]),
    ]


async def test_an_update_changes_the_clicked_message_at_once(discord, bot, events):
    bot.answer = answering({"type": 4, "data": {"content": "Approve?", "components": [BUTTON_ROW]}})
    asked = command("approve")
    await discord.interact(asked)
    message = discord.state(asked["token"]).original

    bot.answer = answering({"type": 7, "data": {"content": "Approved", "components": []}})
    pressed = click(message)
    await discord.interact(pressed)
    updated = discord.messages[message["id"]]
    assert (updated["content"], updated["components"]) == ("Approved", [])
    assert discord.state(pressed["token"]).original is updated
    assert discord.requests == []  # the answer did it, no REST call
    assert events[-1] == ("update", pressed["token"])


async def test_a_click_on_a_message_the_stand_in_never_saw_updates_that_message(discord, bot):
    seen = {"id": interactions.snowflake(), "channel_id": "900000000000000009", "content": "Old"}
    bot.answer = answering({"type": 7, "data": {"content": "New"}})
    pressed = click(seen)
    await discord.interact(pressed)
    assert discord.messages[seen["id"]]["content"] == "New"
    assert discord.messages[seen["id"]]["channel_id"] == "900000000000000009"


async def test_a_modal_and_autocomplete_choices_are_kept_on_the_interaction(discord, bot, events):
    modal = {
        "custom_id": "feedback",
        "title": "Feedback",
        "components": [
            {
                "type": 1,
                "components": [
                    {"type": 4, "custom_id": "text", "label": "Your feedback", "style": 2}
                ],
            }
        ],
    }
    bot.answer = answering({"type": 9, "data": modal})
    asked = command("feedback")
    await discord.interact(asked)
    assert discord.state(asked["token"]).modal == modal

    choices = [{"name": "London", "value": "london"}]
    bot.answer = answering({"type": 8, "data": {"choices": choices}})
    typing = interactions.autocomplete(
        APPLICATION_ID, "weather", [{"name": "city", "type": 3, "value": "Lon"}]
    )
    await discord.interact(typing)
    assert discord.state(typing["token"]).choices == choices
    assert [kind for kind, _ in events] == ["modal", "autocomplete"]


@pytest.mark.parametrize("multipart_answer", [aiohttp_multipart, api_multipart])
async def test_a_reply_with_a_file_is_read_from_multipart_checked_and_kept(
    discord, bot, session, multipart_answer
):
    chart = os.urandom(20_000)
    answer = {
        "type": 4,
        "data": {"content": "The chart", "attachments": [{"id": "0", "filename": "c.png"}]},
    }
    bot.answer = multipart_answer(answer, {"files[0]": ("c.png", chart)})
    payload = command("chart")
    result = await discord.interact(payload)
    assert result.accepted, result.violations
    assert result.response == answer
    assert [(f.name, f.filename, f.content_type, f.data) for f in result.files] == [
        ("files[0]", "c.png", "image/png", chart)
    ]
    [attachment] = discord.state(payload["token"]).original["attachments"]
    assert (attachment["filename"], attachment["size"]) == ("c.png", len(chart))
    async with session.get(attachment["url"]) as response:
        assert await response.read() == chart


async def test_a_multipart_reply_whose_file_attachments_do_not_name_is_refused(discord, bot):
    answer = {"type": 4, "data": {"content": "The chart"}}  # no attachments entry
    bot.answer = aiohttp_multipart(answer, {"files[0]": ("c.png", b"png")})
    payload = command("chart")
    result = await discord.interact(payload)
    assert result.violations == ("files[0]: uploaded but not named in attachments",)
    assert discord.state(payload["token"]).original is None
    discord.violations.clear()


async def test_a_bot_that_does_not_answer_in_three_seconds_fails_the_interaction(
    discord, bot, events
):
    async def never(_payload: dict[str, Any]) -> web.StreamResponse:
        await bot.release.wait()  # set when the test is over
        return web.json_response({"type": 1})

    bot.answer = never
    payload = command()
    result = await discord.interact(payload)
    assert (result.status, result.error) == (0, "no answer within 3 s")
    assert 3 <= result.elapsed < 4
    assert events == [("failed", payload["token"])]
    assert discord.violations == []  # a timeout is Discord's "did not respond", not a refusal


async def test_interactions_can_be_sent_through_the_http_route(discord, bot, session):
    bot.answer = answering({"type": 4, "data": {"content": "Pong!"}})
    payload = command("ping")
    route = discord.url.removesuffix("/api/v10") + "/_fake/interactions"
    async with session.post(route, json=payload, headers=HEADERS) as response:
        assert response.status == 200
        summary = await response.json()
    assert summary["status"] == 200
    assert summary["response"] == {"type": 4, "data": {"content": "Pong!"}}
    assert 0 < summary["elapsed_ms"] < 3000
    assert discord.state(payload["token"]).original["content"] == "Pong!"
    # The stand-in's own route is not a request the bot made.
    assert discord.requests == []


async def test_the_http_route_says_when_no_bot_is_connected(discord, session):
    route = discord.url.removesuffix("/api/v10") + "/_fake/interactions"
    async with session.post(route, json=command("ping"), headers=HEADERS) as response:
        assert response.status == 409
        assert "connect" in (await response.json())["error"]


# -- files sent to the REST routes -----------------------------------------------------------


def form(body: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> aiohttp.FormData:
    data = aiohttp.FormData(quote_fields=False)
    data.add_field("payload_json", json.dumps(body), content_type="application/json")
    for name, (filename, content) in files.items():
        data.add_field(name, content, filename=filename, content_type="text/plain")
    return data


async def test_attachments_must_name_the_uploaded_files_and_only_them(discord, session):
    url = f"{discord.url}/webhooks/{APPLICATION_ID}/{interactions.interaction_token('1')}"
    body = {"content": "two files", "attachments": [{"id": "1", "filename": "b.txt"}]}
    async with session.post(url, data=form(body, {"files[0]": ("a.txt", b"a")})) as response:
        assert response.status == 400
        refusal = await response.json()
    assert (refusal["code"], refusal["message"]) == (50035, "Invalid Form Body")
    assert len(refusal["errors"]) == 2  # attachments/0 names nothing; files[0] is unnamed
    assert len(discord.violations) == 2
    discord.violations.clear()


async def test_an_edit_keeps_listed_attachments_adds_new_ones_and_drops_the_rest(discord, session):
    token = interactions.interaction_token("1")
    url = f"{discord.url}/webhooks/{APPLICATION_ID}/{token}/messages/@original"
    first = {"attachments": [{"id": "0", "filename": "a.txt"}, {"id": "1", "filename": "b.txt"}]}
    files = {"files[0]": ("a.txt", b"a"), "files[1]": ("b.txt", b"b")}
    async with session.patch(url, data=form(first, files)) as response:
        a, _b = (await response.json())["attachments"]
    # Keep a, drop b, add c.
    second = {"attachments": [{"id": a["id"]}, {"id": "0", "filename": "c.txt"}]}
    async with session.patch(url, data=form(second, {"files[0]": ("c.txt", b"c")})) as response:
        kept = (await response.json())["attachments"]
    assert [x["filename"] for x in kept] == ["a.txt", "c.txt"]
    assert kept[0] == a
    # An edit without an attachments key leaves them as they are.
    async with session.patch(url, json={"content": "text only"}) as response:
        assert (await response.json())["attachments"] == kept
