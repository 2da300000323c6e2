"""OriginalReply against the fake Discord: learning the message before the token expires."""

from __future__ import annotations

import time

import aiohttp

from devtools import interactions
from services.core.discord.interaction import Interaction
from services.core.discord.messages import Message
from services.core.discord.reply import (
    LEARN_BEFORE_EXPIRY,
    TOKEN_LIFETIME,
    TOKEN_MARGIN,
    OriginalReply,
)
from services.core.discord.rest import DiscordRest
from services.core.env import Secret
from tests.conftest import APPLICATION_ID, BOT_TOKEN


async def test_a_job_with_no_edit_learns_its_message_in_time_and_edits_it_after_expiry(discord):
    payload = interactions.command(APPLICATION_ID, "countdown")
    token = payload["token"]
    async with aiohttp.ClientSession() as session:
        rest = DiscordRest(
            session=session,
            api_url=discord.url,
            application_id=APPLICATION_ID,
            bot_token=Secret(BOT_TOKEN),
        )
        # GIVEN the deferred "thinking" message exists, and nothing has edited it yet
        await rest.edit_original(token, Message(content="thinking"))
        discord.requests.clear()
        now = time.time()
        received = now - (TOKEN_LIFETIME - TOKEN_MARGIN - LEARN_BEFORE_EXPIRY)
        clock = [now]
        reply = OriginalReply(
            api=rest,
            interaction=Interaction.from_payload(payload),
            received_at=received,
            ephemeral=False,
            can_use_bot_token=True,
            clock=lambda: clock[0],
        )
        # WHEN the job is two minutes from its token's end
        await reply.learn_before_expiry()
        assert [r.route for r in discord.requests] == [
            "GET /webhooks/{application_id}/{token}/messages/@original"
        ]
        assert reply.message_id == discord.state(token).original["id"]
        # THEN past the end, the edit goes straight to the channel route, not the dead token
        clock[0] = received + TOKEN_LIFETIME + 60
        await reply.edit(Message(content="late but here"))
    assert discord.requests[-1].route == "PATCH /channels/{channel_id}/messages/{message_id}"
    assert discord.state(token).original["content"] == "late but here"


async def test_after_expiry_a_follow_up_does_not_take_the_originals_place(discord):
    payload = interactions.command(APPLICATION_ID, "countdown")
    async with aiohttp.ClientSession() as session:
        rest = DiscordRest(
            session=session,
            api_url=discord.url,
            application_id=APPLICATION_ID,
            bot_token=Secret(BOT_TOKEN),
        )
        clock = [time.time()]
        reply = OriginalReply(
            api=rest,
            interaction=Interaction.from_payload(payload),
            received_at=clock[0],
            ephemeral=False,
            can_use_bot_token=True,
            clock=lambda: clock[0],
        )
        # GIVEN a job whose reply and one follow-up were sent with the token
        await reply.edit(Message(content="step 1"))
        original_id = reply.message_id
        early = await reply.followup(Message(content="early note"))
        # WHEN the token has expired and the job posts another follow-up, then edits
        clock[0] += TOKEN_LIFETIME + 60
        late = await reply.followup(Message(content="late note"))
        await reply.edit(Message(content="final answer"))
        # ... and edits and deletes its follow-ups through the channel
        assert early is not None
        assert late is not None
        await reply.edit_followup(early, Message(content="early note, edited"))
        await reply.delete_followup(late)
    # THEN the original got the final answer; the follow-ups kept theirs
    assert reply.message_id == original_id
    assert discord.messages[original_id]["content"] == "final answer"
    assert discord.messages[early]["content"] == "early note, edited"
    assert late not in discord.messages
    posts = discord.channel_posts[payload["channel_id"]]
    assert [p["content"] for p in posts] == ["late note"]
