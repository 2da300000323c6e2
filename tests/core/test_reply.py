"""OriginalReply against the fake Discord: learning the message before the token expires."""

from __future__ import annotations

import time

import aiohttp

from devtools import interactions
from services.core.config import Secret
from services.core.discord.messages import Message
from services.core.discord.models import Interaction
from services.core.discord.reply import (
    LEARN_BEFORE_EXPIRY,
    TOKEN_LIFETIME,
    TOKEN_MARGIN,
    OriginalReply,
)
from services.core.discord.rest import DiscordRest
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
