"""Exactly one final reply per interaction: duplicates, retries, and the last receive."""

from __future__ import annotations

import asyncio

import structlog

from devtools import interactions
from services.core.bot import JobContext, Router
from services.core.discord.errors import ServerError
from services.worker.runner import JOB_FAILED_TEXT
from tests.conftest import APPLICATION_ID, base_env, running_worker, signed_job
from tests.worker.test_end_to_end import countdown, queue_depth


def enqueue(sqs, url: str, payload: dict, *, copies: int = 1, ephemeral: bool = False) -> None:
    """Put a job on the queue as the API would for a deferred slash command."""
    body = signed_job(payload, f"command:{payload['data']['name']}", ephemeral=ephemeral)
    for _ in range(copies):
        sqs.send_message(QueueUrl=url, MessageBody=body)


async def drained(sqs, url: str, timeout: float = 20) -> None:
    async with asyncio.timeout(timeout):
        while queue_depth(sqs, url):
            await asyncio.sleep(0.2)


async def test_the_same_job_delivered_twice_runs_once(moto, queues, table, discord, sqs):
    # GIVEN the same job on the queue twice (SQS delivers at least once)
    payload = countdown(1)
    enqueue(sqs, queues.url, payload, copies=2)
    env = base_env(
        moto, queues, discord.url, IDEMPOTENCY_TABLE=table, WORKER_VISIBILITY_TIMEOUT="2"
    )
    with structlog.testing.capture_logs() as logs:
        # WHEN two workers consume the queue
        async with running_worker(env), running_worker(env):
            await drained(sqs, queues.url)
    # THEN the command ran once: one set of edits, one final edit, both messages gone
    edits = discord.edits(payload["token"])
    assert edits.count("Countdown of 1 s finished") == 1
    outcomes = sorted(e["outcome"] for e in logs if e["event"] == "job")
    assert outcomes.count("completed") == 1
    assert "duplicate" in outcomes
    assert queue_depth(sqs, queues.dlq_url) == 0


async def test_a_job_whose_reply_was_delivered_is_not_run_again(moto, queues, table, discord, sqs):
    payload = countdown(1)
    env = base_env(moto, queues, discord.url, IDEMPOTENCY_TABLE=table)
    enqueue(sqs, queues.url, payload)
    async with running_worker(env):
        await drained(sqs, queues.url)
        # a very late redelivery of the same job
        enqueue(sqs, queues.url, payload)
        await drained(sqs, queues.url)
    assert discord.edits(payload["token"]).count("Countdown of 1 s finished") == 1


flaky = Router()
attempts: list[int] = []


@flaky.command(description="Fails while Discord is down", defer=True)
async def unlucky(ctx: JobContext) -> str:
    attempts.append(1)
    if len(attempts) < 3:
        raise ServerError(route="PATCH /webhooks/{application_id}/{token}", status=503)
    return "made it"


async def test_a_passing_failure_is_retried_through_the_queue(moto, queues, table, discord, sqs):
    attempts.clear()
    payload = interactions.command(APPLICATION_ID, "unlucky")
    enqueue(sqs, queues.url, payload)
    env = base_env(moto, queues, discord.url, IDEMPOTENCY_TABLE=table, WORKER_RETRY_BASE="0.5")
    with structlog.testing.capture_logs() as logs:
        async with running_worker(env, router=flaky):
            await discord.wait_for(lambda: "made it" in discord.edits(payload["token"]), timeout=30)
    jobs = [e for e in logs if e["event"] == "job"]
    assert [j["outcome"] for j in jobs] == ["retry", "retry", "completed"]
    assert [j["receive_count"] for j in jobs] == [1, 2, 3]
    assert all(j["retry_in"] >= 1 for j in jobs[:2])
    assert discord.edits(payload["token"]) == ["made it"]


doomed = Router()


@doomed.command(description="Never succeeds", defer=True)
async def hopeless(ctx: JobContext) -> str:
    raise ServerError(route="PATCH /webhooks/{application_id}/{token}", status=503)


async def test_on_its_last_receive_the_user_is_told_and_the_job_is_parked(
    moto, queues, table, discord, sqs
):
    # GIVEN a redrive policy of 3 receives and a job that always fails in a retryable way
    payload = interactions.command(APPLICATION_ID, "hopeless")
    enqueue(sqs, queues.url, payload)
    env = base_env(
        moto,
        queues,
        discord.url,
        IDEMPOTENCY_TABLE=table,
        WORKER_RETRY_BASE="0.5",
        WORKER_MAX_RECEIVES="3",
    )
    async with running_worker(env, router=doomed):
        async with asyncio.timeout(30):
            while queue_depth(sqs, queues.dlq_url) == 0:
                await asyncio.sleep(0.2)
    # THEN the user got one error message, and the job waits in the dead-letter queue
    assert discord.edits(payload["token"]) == [JOB_FAILED_TEXT]
    assert queue_depth(sqs, queues.url) == 0
    assert queue_depth(sqs, queues.dlq_url) == 1


async def test_a_429_storm_delays_replies_but_delivers_each_once(
    api, moto, queues, table, discord, sqs
):
    # GIVEN Discord answers the next 20 edits with 429 (retry_after 50 ms), more than one
    # request waits out before giving up, so some jobs go back through the queue
    discord.fail(status=429, retry_after=0.05, times=20, route="PATCH")
    env = base_env(moto, queues, discord.url, IDEMPOTENCY_TABLE=table, WORKER_RETRY_BASE="0.5")
    payloads = [countdown(1) for _ in range(4)]
    async with running_worker(env):
        for payload in payloads:
            await api.post(payload)
        final = "Countdown of 1 s finished"
        await discord.wait_for(
            lambda: all(final in discord.edits(p["token"]) for p in payloads), timeout=40
        )
    assert all(discord.edits(p["token"]).count(final) == 1 for p in payloads)
    # every retry waited at least the retry_after Discord asked for
    limited = [r for r in discord.requests if r.status == 429]
    assert len(limited) == 20
    for refused in limited:
        after = [r.at for r in discord.requests if r.token == refused.token and r.at > refused.at]
        assert not after or min(after) - refused.at >= 0.05
