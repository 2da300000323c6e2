"""Limits on long jobs, through two API tasks on real sockets, the real queue and table, and
the worker: one user cannot fill the workers, the refusal is a clear private message, places
come back when jobs end, and a limits table that fails never costs a user the command."""

from __future__ import annotations

from typing import Any

import structlog

from devtools import interactions
from tests.conftest import APPLICATION_ID, api_settings, base_env, running_worker, serve_api

EPHEMERAL = 64


def countdown(seconds: int, user: str = "500000000000000001") -> dict[str, Any]:
    return interactions.command(
        APPLICATION_ID,
        "countdown",
        [{"name": "seconds", "type": 4, "value": seconds}],
        invoker=interactions.user(user, f"user{user[-2:]}"),
    )


async def test_one_user_cannot_fill_the_workers_across_api_tasks(
    moto, queues, discord, signing_key, limits_table
):
    env = base_env(moto, queues, discord.url, LIMITS_TABLE=limits_table)
    settings = api_settings(env, signing_key)
    async with (
        serve_api(settings, signing_key) as first,
        serve_api(settings, signing_key) as second,
    ):
        # What the review did: 16 hour-long countdowns from one member, alternating between
        # two API tasks. No worker runs yet, so every accepted job is still in flight.
        answers = [(await (first if n % 2 else second).post(countdown(3600)))[1] for n in range(16)]
        assert [a["type"] for a in answers[:3]] == [5, 5, 5]
        refused = answers[3:]
        assert all(a["type"] == 4 for a in refused)
        assert all(a["data"]["flags"] == EPHEMERAL for a in refused)
        assert {a["data"]["content"] for a in refused} == {
            "You have too many commands running (3 at most). Try again when one has finished."
        }
        # Somebody else in the same server is not held back.
        status, other, _ = await first.post(countdown(1, user="500000000000000002"))
        assert (status, other["type"]) == (200, 5)


async def test_places_come_back_when_jobs_end(moto, queues, discord, signing_key, limits_table):
    env = base_env(moto, queues, discord.url, LIMITS_TABLE=limits_table, LIMIT_USER_RUNNING="2")
    async with serve_api(api_settings(env, signing_key), signing_key) as api:
        first = [countdown(1), countdown(1)]
        assert [(await api.post(p))[1]["type"] for p in first] == [5, 5]
        assert (await api.post(countdown(1)))[1]["type"] == 4
        async with running_worker(env):
            final = "Countdown of 1 s finished"
            await discord.wait_for(
                lambda: all(final in discord.edits(p["token"]) for p in first), timeout=20
            )
            # The worker gave both places back as the jobs ended, not when leases lapse.
            again = [countdown(1), countdown(1)]
            assert [(await api.post(p))[1]["type"] for p in again] == [5, 5]
            await discord.wait_for(
                lambda: all(final in discord.edits(p["token"]) for p in again), timeout=20
            )


async def test_a_failing_limits_table_lets_the_command_run(
    moto, queues, discord, signing_key, limits_table, aws_faults
):
    env = base_env(moto, queues, discord.url, LIMITS_TABLE=limits_table, LIMIT_USER_RUNNING="1")
    proxied = {**env, "AWS_ENDPOINT_URL": aws_faults.url}
    async with serve_api(api_settings(proxied, signing_key), signing_key) as api:
        # The user's and the server's items, each tried once.
        aws_faults.fail("GetItem", "throttle", times=2)
        with structlog.testing.capture_logs() as logs:
            status, body, _ = await api.post(countdown(1))
        assert (status, body["type"]) == (200, 5)
        (line,) = [entry for entry in logs if entry.get("event") == "interaction"]
        assert line["outcome"] == "deferred"
        assert line["limits"] == "unchecked: ProvisionedThroughputExceededException"
        # A table that does not answer within the limits' budget: the same, inside 3 s.
        aws_faults.fail("GetItem", "timeout", times=2, delay=5)
        with structlog.testing.capture_logs() as logs:
            status, body, _ = await api.post(countdown(1))
        assert (status, body["type"]) == (200, 5)
        (line,) = [entry for entry in logs if entry.get("event") == "interaction"]
        assert line["limits"] == "unchecked: timed out"


async def test_a_job_the_queue_refused_gives_its_place_back(
    moto, queues, discord, signing_key, limits_table, aws_faults
):
    env = base_env(moto, queues, discord.url, LIMITS_TABLE=limits_table, LIMIT_USER_RUNNING="1")
    proxied = {**env, "AWS_ENDPOINT_URL": aws_faults.url}
    async with serve_api(api_settings(proxied, signing_key), signing_key) as api:
        aws_faults.fail("SendMessage", "error", times=2)
        status, body, _ = await api.post(countdown(1))
        assert (status, body["type"]) == (200, 4)
        assert body["data"]["content"].startswith("Sorry, I couldn't start that right now")
        # Its place was given back: the user's one place is free for the next try.
        status, body, _ = await api.post(countdown(1))
        assert (status, body["type"]) == (200, 5)
