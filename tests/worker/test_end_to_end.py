"""A deferred command from the signed request to the final edit, through the real queue."""

from __future__ import annotations

import asyncio

import structlog

from devtools import interactions
from services.core.bot import Router
from services.worker.runner import JOB_FAILED_TEXT
from tests.conftest import APPLICATION_ID, base_env, queue_depth, running_worker


def countdown(seconds: int) -> dict:
    return interactions.command(
        APPLICATION_ID, "countdown", [{"name": "seconds", "type": 4, "value": seconds}]
    )


async def test_countdown_runs_to_its_final_edit(api, moto, queues, discord, sqs):
    env = base_env(moto, queues, discord.url)
    async with running_worker(env):
        payload = countdown(2)
        status, body, _ = await api.post(payload)
        assert (status, body["type"]) == (200, 5)
        token = payload["token"]
        final = "Countdown of 2 s finished"
        await discord.wait_for(lambda: final in discord.edits(token), timeout=15)
    edits = discord.edits(token)
    # progress first, then exactly one final edit, and nothing after it
    assert edits[0].startswith("Counting down:")
    assert edits.count(final) == 1
    assert edits[-1] == final
    assert queue_depth(sqs, queues.url) == 0
    assert queue_depth(sqs, queues.dlq_url) == 0


async def test_many_jobs_run_concurrently(api, moto, queues, discord, sqs):
    env = base_env(moto, queues, discord.url, WORKER_CONCURRENCY="8")
    async with running_worker(env):
        payloads = [countdown(1) for _ in range(12)]
        await asyncio.gather(*(api.post(p) for p in payloads))
        final = "Countdown of 1 s finished"
        await discord.wait_for(
            lambda: all(final in discord.edits(p["token"]) for p in payloads), timeout=20
        )
    assert all(discord.edits(p["token"]).count(final) == 1 for p in payloads)
    assert queue_depth(sqs, queues.url) == 0


failing = Router()


@failing.command(description="A deferred command with a bug", defer=True)
async def explode(ctx) -> str:
    await ctx.edit("working on it")
    raise ValueError("the job broke")


async def test_job_that_raises_tells_the_user_and_logs_the_traceback(
    api, moto, queues, discord, sqs, signing_key
):
    from tests.conftest import api_settings, serve_api

    env = base_env(moto, queues, discord.url)
    payload = interactions.command(APPLICATION_ID, "explode")
    with structlog.testing.capture_logs() as logs:
        async with (
            serve_api(api_settings(env, signing_key), signing_key, router=failing) as app,
            running_worker(env, router=failing),
        ):
            await app.post(payload)
            await discord.wait_for(
                lambda: JOB_FAILED_TEXT in discord.edits(payload["token"]), timeout=10
            )
    assert discord.edits(payload["token"]) == ["working on it", JOB_FAILED_TEXT]
    raised = [e for e in logs if e["event"] == "job_raised"]
    assert len(raised) == 1
    assert raised[0]["exc_info"] is True
    jobs = [e for e in logs if e["event"] == "job"]
    assert jobs[0]["outcome"] == "failed"
    # reported to the user, so not retried: the message is gone
    assert queue_depth(sqs, queues.url) == 0


async def test_malformed_message_is_parked_not_dropped(api, moto, queues, discord, sqs):
    # GIVEN a message on the queue that is not a job
    sqs.send_message(QueueUrl=queues.url, MessageBody='{"v": 99, "junk": true}')
    env = base_env(moto, queues, discord.url, WORKER_VISIBILITY_TIMEOUT="2")
    with structlog.testing.capture_logs() as logs:
        async with running_worker(env):
            # WHEN the worker has received it as often as the redrive policy allows (3)
            async with asyncio.timeout(20):
                while queue_depth(sqs, queues.dlq_url) == 0:
                    await asyncio.sleep(0.2)
            # AND the worker keeps serving real jobs meanwhile
            payload = countdown(1)
            await api.post(payload)
            await discord.wait_for(
                lambda: "Countdown of 1 s finished" in discord.edits(payload["token"]), timeout=15
            )
    # THEN it is in the dead-letter queue, untouched, and each attempt was logged
    parked = sqs.receive_message(QueueUrl=queues.dlq_url)["Messages"]
    assert parked[0]["Body"] == '{"v": 99, "junk": true}'
    invalid = [e for e in logs if e["event"] == "job" and e["outcome"] == "invalid"]
    assert len(invalid) >= 1
    assert {r.token for r in discord.requests} == {payload["token"]}


async def test_discord_5xx_during_final_edit_is_retried(api, moto, queues, discord):
    env = base_env(moto, queues, discord.url)
    discord.fail(status=502, times=2, route="PATCH")
    async with running_worker(env):
        payload = countdown(1)
        await api.post(payload)
        final = "Countdown of 1 s finished"
        await discord.wait_for(lambda: final in discord.edits(payload["token"]), timeout=15)
    statuses = [r.status for r in discord.requests]
    assert statuses[:2] == [502, 502]
    assert discord.edits(payload["token"]).count(final) == 1
