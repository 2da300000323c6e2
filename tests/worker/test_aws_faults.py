"""Every AWS failure the worker handles, injected by a loopback proxy in front of moto
(``devtools.awsfaults``): SQS receive, heartbeat, delete and visibility changes; the
DynamoDB ledger's put, read, release and update, down to an outage that outlasts every
allowed receive. Each ends the same way for the user: one final reply, never none, never
two, and nothing left on the queue but what the redrive policy parked."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import structlog

from devtools import interactions
from services.core.bot import JobContext, Router
from services.worker.runner import JOB_FAILED_TEXT
from tests.conftest import APPLICATION_ID, base_env, queue_depth, running_worker

DONE = "the work is done"
router = Router()


@router.command(description="A short deferred job", defer=True)
async def work(ctx: JobContext) -> str:
    return DONE


@router.command(description="A deferred job that takes a few seconds", defer=True)
async def slow(ctx: JobContext) -> str:
    # Longer than one heartbeat's whole retry chain (first beat at 2/3 s, then botocore's
    # standard mode backs off up to 1 s and 2 s): a failed beat is logged before the job ends.
    await asyncio.sleep(5)
    return DONE


@pytest.fixture
def env(moto, queues, discord, table, aws_faults) -> dict[str, str]:
    """The worker talks to AWS through the fault proxy; the API (the ``api`` fixture) and
    the test's own checks go to moto directly."""
    return base_env(
        moto,
        queues,
        discord.url,
        AWS_ENDPOINT_URL=aws_faults.url,
        IDEMPOTENCY_TABLE=table,
        WORKER_VISIBILITY_TIMEOUT="2",
        WORKER_RETRY_BASE="0.5",
        WORKER_MAX_RECEIVES="3",  # the test queues' redrive count
    )


async def post(api: Any, name: str) -> dict[str, Any]:
    payload = interactions.command(APPLICATION_ID, name)

    status, body, _ = await api.post(payload)
    assert (status, body["type"]) == (200, 5)
    return payload


async def settle(sqs: Any, queues: Any, until: Callable[[], bool], timeout: float = 30) -> None:
    """Wait until ``until()`` holds and the jobs queue is empty (nothing in flight)."""
    async with asyncio.timeout(timeout):
        while not (until() and queue_depth(sqs, queues.url) == 0):
            await asyncio.sleep(0.1)


def outcomes(logs: list[dict[str, Any]]) -> list[str]:
    return [e["outcome"] for e in logs if e.get("event") == "job"]


def events(logs: list[dict[str, Any]]) -> set[str]:
    return {e["event"] for e in logs}


@pytest.fixture
async def test_api(moto, queues, discord, signing_key):
    from tests.conftest import api_settings, serve_api

    settings = api_settings(base_env(moto, queues, discord.url), signing_key)
    async with serve_api(settings, signing_key, router=router) as api:
        yield api


async def run_through_faults(
    test_api, env, discord, sqs, queues, command: str = "work"
) -> tuple[list[str | None], list[dict[str, Any]]]:
    """Post a command, let the worker run it through whatever faults are queued, and return
    the user's edits and the worker's log."""
    with structlog.testing.capture_logs() as logs:
        # A generous grace: a call still retrying when the queue empties finishes and logs.
        async with running_worker(env, router=router, grace=30):
            payload = await post(test_api, command)
            token = payload["token"]
            await settle(sqs, queues, lambda: DONE in discord.edits(token))
    return discord.edits(token), logs


async def test_receive_errors_back_off_and_the_job_runs_once(
    test_api, env, discord, sqs, queues, aws_faults
):
    aws_faults.fail("ReceiveMessage", "error", times=3)  # one receive, all its attempts
    edits, logs = await run_through_faults(test_api, env, discord, sqs, queues)
    assert edits == [DONE]
    assert "receive_failed" in events(logs)
    assert outcomes(logs) == ["completed"]


async def test_a_lost_receive_answer_hides_the_job_until_it_comes_back(
    test_api, env, discord, sqs, queues, aws_faults
):
    # SQS handed the message out, the worker never heard: it is invisible for the
    # visibility timeout, then received again and run once.
    aws_faults.fail("ReceiveMessage", "lost", times=1)
    edits, logs = await run_through_faults(test_api, env, discord, sqs, queues)
    assert edits == [DONE]
    assert outcomes(logs) == ["completed"]


async def test_failed_heartbeats_never_run_the_job_twice(
    test_api, env, discord, sqs, queues, aws_faults
):
    # Every heartbeat fails while the job runs: the message shows again and another receive
    # gets it; the ledger's lock (renewed apart from the message) keeps it from running twice.
    aws_faults.fail("ChangeMessageVisibility", "error", times=1000)
    edits, logs = await run_through_faults(test_api, env, discord, sqs, queues, "slow")
    assert edits == [DONE]
    assert "heartbeat_failed" in events(logs)
    assert outcomes(logs).count("completed") == 1
    assert set(outcomes(logs)) <= {"busy", "completed", "duplicate"}


async def test_a_failed_delete_brings_the_job_back_and_it_is_not_run_again(
    test_api, env, discord, sqs, queues, aws_faults
):
    # The delete's three attempts back off for up to 3 s, longer than the 2 s visibility
    # timeout: the message may come back (and its copy try to delete) while they go on. Six
    # failures fail the first delete whatever the interleaving.
    aws_faults.fail("DeleteMessageBatch", "error", times=6)
    edits, logs = await run_through_faults(test_api, env, discord, sqs, queues)
    assert edits == [DONE]
    assert "delete_failed" in events(logs)
    # It came back after the visibility timeout; the ledger knew it had run.
    first, *again = outcomes(logs)
    assert first == "completed"
    assert again
    assert set(again) == {"duplicate"}


async def test_a_failed_hide_after_a_passing_failure_still_runs_the_job_again(
    test_api, env, discord, sqs, queues, aws_faults
):
    # Discord fails every attempt of the final edit: the job is to run again after a delay,
    # but the message cannot be hidden for it; it comes back after the visibility timeout.
    discord.fail(status=500, times=5, route="PATCH")
    aws_faults.fail("ChangeMessageVisibility", "error", times=3)
    edits, logs = await run_through_faults(test_api, env, discord, sqs, queues)
    assert edits == [DONE]
    assert "visibility_change_failed" in events(logs)
    assert outcomes(logs) == ["retry", "completed"]


async def test_a_throttled_ledger_retries_the_job_later(
    test_api, env, discord, sqs, queues, aws_faults
):
    aws_faults.fail("PutItem", "throttle", times=3)
    edits, logs = await run_through_faults(test_api, env, discord, sqs, queues)
    assert edits == [DONE]
    assert "ledger_unavailable" in events(logs)
    assert outcomes(logs) == ["retry", "completed"]


async def test_a_lost_ledger_answer_waits_out_its_own_lock_then_runs_once(
    test_api, env, discord, sqs, queues, aws_faults
):
    # The lock was written but the worker never heard; its retry finds a lock it cannot
    # tell from another worker's, so it waits for the lock to lapse: once, not twice.
    aws_faults.fail("PutItem", "lost", times=1)
    edits, logs = await run_through_faults(test_api, env, discord, sqs, queues)
    assert edits == [DONE]
    assert outcomes(logs) == ["busy", "completed"]


async def test_a_ledger_that_cannot_be_read_after_a_conflict_retries(
    test_api, env, discord, sqs, queues, aws_faults
):
    aws_faults.fail("PutItem", "condition", times=1)
    aws_faults.fail("GetItem", "error", times=3)
    edits, logs = await run_through_faults(test_api, env, discord, sqs, queues)
    assert edits == [DONE]
    assert "ledger_unavailable" in events(logs)
    assert outcomes(logs) == ["retry", "completed"]


async def test_a_conflict_whose_item_is_gone_is_tried_again_soon(
    test_api, env, discord, sqs, queues, aws_faults
):
    # The conditional put failed, and the item was released before it could be read.
    aws_faults.fail("PutItem", "condition", times=1)
    edits, logs = await run_through_faults(test_api, env, discord, sqs, queues)
    assert edits == [DONE]
    assert outcomes(logs) == ["busy", "completed"]


async def test_a_lock_that_cannot_be_released_lapses(
    test_api, env, discord, sqs, queues, aws_faults
):
    discord.fail(status=500, times=5, route="PATCH")
    aws_faults.fail("DeleteItem", "error", times=3)
    edits, logs = await run_through_faults(test_api, env, discord, sqs, queues)
    assert edits == [DONE]
    assert "ledger_release_failed" in events(logs)
    assert outcomes(logs)[0] == "retry"
    assert outcomes(logs)[-1] == "completed"
    assert set(outcomes(logs)) <= {"retry", "busy", "completed"}


async def test_a_completion_that_cannot_be_recorded_does_not_run_the_job_again(
    test_api, env, discord, sqs, queues, aws_faults
):
    aws_faults.fail("UpdateItem", "error", times=3)
    edits, logs = await run_through_faults(test_api, env, discord, sqs, queues)
    assert edits == [DONE]
    assert "ledger_update_failed" in events(logs)
    assert outcomes(logs) == ["completed"]


async def test_a_ledger_outage_through_the_last_receive_tells_the_user(
    test_api, env, discord, sqs, queues, aws_faults
):
    # DynamoDB throttles every call for longer than the job's allowed receives (3): on the
    # last one the user is told, and the message is parked, not lost.
    aws_faults.fail("PutItem", "throttle", times=1000)
    with structlog.testing.capture_logs() as logs:
        async with running_worker(env, router=router):
            payload = await post(test_api, "work")
            token = payload["token"]
            async with asyncio.timeout(30):
                while queue_depth(sqs, queues.dlq_url) == 0:
                    await asyncio.sleep(0.1)
    assert discord.edits(token) == [JOB_FAILED_TEXT]
    assert outcomes(logs) == ["retry", "retry", "parked"]
    assert queue_depth(sqs, queues.url) == 0
