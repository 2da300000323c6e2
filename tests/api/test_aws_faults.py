"""The API's AWS failures, injected by the fault proxy in front of moto: SQS unreachable at
start, throttling the enqueue, and an enqueue whose answer is lost after SQS took the job."""

from __future__ import annotations

import asyncio

import structlog

from devtools import interactions
from tests.conftest import (
    APPLICATION_ID,
    api_settings,
    base_env,
    queue_depth,
    running_worker,
    serve_api,
)

EPHEMERAL = 64


def countdown() -> dict:
    return interactions.command(
        APPLICATION_ID, "countdown", [{"name": "seconds", "type": 4, "value": 1}]
    )


async def test_the_api_starts_with_sqs_failing_and_enqueues_once_it_is_back(
    moto, queues, discord, signing_key, aws_faults
):
    env = base_env(moto, queues, discord.url, AWS_ENDPOINT_URL=aws_faults.url)
    aws_faults.fail("GetQueueAttributes", "error", times=2)
    with structlog.testing.capture_logs() as logs:
        async with serve_api(api_settings(env, signing_key), signing_key) as api:
            status, body, _ = await api.post(interactions.ping(APPLICATION_ID))
            assert (status, body) == (200, {"type": 1})
            status, body, _ = await api.post(countdown())
            assert (status, body["type"]) == (200, 5)
    [warning] = [e for e in logs if e["event"] == "jobs_queue_unreachable"]
    assert warning["reason"] == "InternalFailure"


async def test_a_throttled_enqueue_tells_the_user_and_queues_nothing(
    moto, queues, discord, signing_key, aws_faults, sqs
):
    env = base_env(moto, queues, discord.url, AWS_ENDPOINT_URL=aws_faults.url)
    async with serve_api(api_settings(env, signing_key), signing_key) as api:
        aws_faults.fail("SendMessage", "throttle", times=2)
        status, body, _ = await api.post(countdown())
    assert (status, body["type"], body["data"]["flags"]) == (200, 4, EPHEMERAL)
    assert "couldn't start" in body["data"]["content"]
    assert queue_depth(sqs, queues.url) == 0


async def test_a_lost_enqueue_answer_queues_the_job_twice_and_it_runs_once(
    moto, queues, discord, signing_key, aws_faults, table, sqs
):
    # SQS took the job, the answer never came back, the client sent it again: two copies.
    env = base_env(moto, queues, discord.url, AWS_ENDPOINT_URL=aws_faults.url)
    async with serve_api(api_settings(env, signing_key), signing_key) as api:
        aws_faults.fail("SendMessage", "lost", times=1)
        payload = countdown()
        status, body, _ = await api.post(payload)
    assert (status, body["type"]) == (200, 5)
    assert queue_depth(sqs, queues.url) == 2
    final = "Countdown of 1 s finished"
    worker_env = base_env(
        moto, queues, discord.url, IDEMPOTENCY_TABLE=table, WORKER_VISIBILITY_TIMEOUT="2"
    )
    async with running_worker(worker_env):
        await discord.wait_for(lambda: final in discord.edits(payload["token"]), timeout=15)
        async with asyncio.timeout(15):
            while queue_depth(sqs, queues.url):
                await asyncio.sleep(0.1)
    assert discord.edits(payload["token"]).count(final) == 1


async def test_readiness_says_the_queue_is_unreachable_while_liveness_stays_up(
    moto, queues, discord, signing_key, aws_faults
):
    env = base_env(moto, queues, discord.url, AWS_ENDPOINT_URL=aws_faults.url)
    async with serve_api(api_settings(env, signing_key), signing_key) as api:
        aws_faults.fail("GetQueueAttributes", "error", times=2)
        with structlog.testing.capture_logs() as logs:
            async with api.session.get(api.url + "/readyz") as response:
                assert response.status == 503
                # no AWS detail to whoever asks: the path is as public as the API
                assert await response.json() == {"status": "not ready", "queue": "unreachable"}
        assert [e["queue"] for e in logs if e["event"] == "not_ready"] == ["InternalFailure"]
        # The load balancer's check, and Discord's PINGs, do not depend on SQS.
        async with api.session.get(api.url + "/healthz") as response:
            assert response.status == 200
        status, body, _ = await api.post(interactions.ping(APPLICATION_ID))
        assert (status, body) == (200, {"type": 1})
