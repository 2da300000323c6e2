"""The 2-second budget of handlers that run in the API, kept by one watchdog."""

from __future__ import annotations

import asyncio
import time

import pytest

from devtools import interactions
from services.api.deadlines import Deadlines
from services.api.interactions import COMMAND_FAILED_TEXT, INSTANT_COMMAND_BUDGET
from tests.api.commands import router
from tests.conftest import APPLICATION_ID, api_settings, base_env, serve_api


async def test_a_handler_past_its_budget_is_answered_in_time_and_the_api_goes_on(
    moto, queues, discord, signing_key
):
    env = base_env(moto, queues, discord.url)
    async with serve_api(api_settings(env, signing_key), signing_key, router=router) as api:
        started = time.monotonic()
        status, body, _ = await api.post(interactions.command(APPLICATION_ID, "dawdle"))
        took = time.monotonic() - started
        assert status == 200
        assert body["data"]["content"] == COMMAND_FAILED_TEXT
        assert body["data"]["flags"] == 64
        # Within Discord's 3 seconds, and not before the budget ran out.
        assert INSTANT_COMMAND_BUDGET <= took < 3.0
        status, body, _ = await api.post(interactions.command(APPLICATION_ID, "offer"))
        assert (status, body["type"]) == (200, 4)


async def test_work_within_the_budget_is_untouched_and_others_cancellations_pass():
    async with Deadlines(0.2, tick=0.01) as deadlines:
        assert await deadlines.run(asyncio.sleep(0.05, "done")) == "done"
        with pytest.raises(TimeoutError):
            await deadlines.run(asyncio.sleep(5))
        # The task that ran out is usable again: its later awaits are not cancelled.
        await asyncio.sleep(0.05)

        async def cancelled_by_someone_else() -> None:
            await deadlines.run(asyncio.sleep(5))

        task = asyncio.create_task(cancelled_by_someone_else())
        await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_handler_that_swallows_the_cancellation_leaves_its_task_clean():
    async def stubborn() -> str:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            return "swallowed"
        return "slept"

    async with Deadlines(0.05, tick=0.01) as deadlines:
        assert await deadlines.run(stubborn()) == "swallowed"
        current = asyncio.current_task()
        assert current is not None
        assert current.cancelling() == 0
        await asyncio.sleep(0.02)  # not cancelled again
