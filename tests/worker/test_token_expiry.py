"""Past Discord's 15 minutes: the reply still reaches the user through the bot token."""

from __future__ import annotations

import asyncio

import structlog

from devtools import interactions
from services.core.bot import JobContext, Router
from tests.conftest import APPLICATION_ID, base_env, queue_depth, running_worker
from tests.worker.test_reliability import enqueue

slow = Router()
gate: dict[str, asyncio.Event] = {}


async def _long_job(ctx: JobContext) -> str:
    await ctx.edit("Working…")
    # The test expires the token here, as 15 minutes would.
    await gate[ctx.interaction.id].wait()
    return "Finished after the token expired"


slow.command(description="A job that outlives its token", defer=True, name="long-job")(_long_job)
slow.command(description="The same, ephemeral", defer=True, ephemeral=True, name="secret-job")(
    _long_job
)


async def run_until_expired_then_finish(
    discord, sqs, queues, env, payload, *, ephemeral: bool = False
) -> None:
    gate[payload["id"]] = asyncio.Event()
    enqueue(sqs, queues.url, payload, ephemeral=ephemeral)
    async with running_worker(env, router=slow):
        await discord.wait_for(lambda: "Working…" in discord.edits(payload["token"]))
        discord.expire(payload["token"])
        gate[payload["id"]].set()
        async with asyncio.timeout(15):
            while queue_depth(sqs, queues.url):
                await asyncio.sleep(0.1)


async def test_final_edit_after_expiry_goes_through_the_channel_endpoint(
    moto, queues, table, discord, sqs
):
    payload = interactions.command(APPLICATION_ID, "long-job")
    env = base_env(moto, queues, discord.url, IDEMPOTENCY_TABLE=table)
    await run_until_expired_then_finish(discord, sqs, queues, env, payload)
    state = discord.state(payload["token"])
    # the webhook refused it once (401, 50027), then the bot edited the same message
    assert [r.status for r in discord.requests if r.token == payload["token"]][-1] == 401
    assert [e["content"] for e in state.bot_edits] == ["Finished after the token expired"]
    assert state.original["content"] == "Finished after the token expired"
    assert not discord.channel_posts


async def test_when_the_message_cannot_be_edited_a_new_one_is_posted(
    moto, queues, table, discord, sqs
):
    discord.forbid_channel_edits = True
    payload = interactions.command(APPLICATION_ID, "long-job")
    env = base_env(moto, queues, discord.url, IDEMPOTENCY_TABLE=table)
    await run_until_expired_then_finish(discord, sqs, queues, env, payload)
    posts = discord.channel_posts[payload["channel_id"]]
    assert [p["content"] for p in posts] == ["Finished after the token expired"]


async def test_an_ephemeral_reply_past_expiry_is_reported_not_retried(
    moto, queues, table, discord, sqs
):
    payload = interactions.command(APPLICATION_ID, "secret-job")
    env = base_env(moto, queues, discord.url, IDEMPOTENCY_TABLE=table)
    with structlog.testing.capture_logs() as logs:
        await run_until_expired_then_finish(discord, sqs, queues, env, payload, ephemeral=True)
    unreachable = [e for e in logs if e["event"] == "reply_unreachable"]
    assert unreachable[0]["reason"] == "ephemeral reply after its token expired"
    assert [e["outcome"] for e in logs if e["event"] == "job"] == ["failed"]
    assert not discord.channel_posts
    assert not discord.state(payload["token"]).bot_edits
