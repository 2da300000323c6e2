"""The limits on long jobs against a real DynamoDB (moto), with the clock in the test's
hands: places taken, refused, renewed, lapsed and given back; per-minute windows; servers;
two API tasks racing for the last place; the table failing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from devtools import aws
from services.core.aws import aws_client
from services.core.config import AwsSettings, LimitSettings
from services.core.errors import LimitsUnavailable
from services.core.limits import LEASE_SECONDS, JobLimits, Kind, Refused, Subject

T0 = 1_800_000_000  # a whole minute (divisible by 60)


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def settings(table: str, **limits: int) -> LimitSettings:
    values = {"user_running": 3, "user_per_minute": 0, "server_running": 0, "server_per_minute": 0}
    return LimitSettings(table=table, **{**values, **limits})


@asynccontextmanager
async def limits_at(
    endpoint: str, table: str, clock: Callable[[], float], **limits: int
) -> AsyncIterator[JobLimits]:
    aws_settings = AwsSettings(region=aws.LOCAL_REGION, endpoint_url=endpoint, jobs_queue_url="-")
    async with aws_client(
        "dynamodb", aws_settings, connect_timeout=2, read_timeout=2, max_attempts=2
    ) as client:
        yield JobLimits(client=client, table=table, settings=settings(table, **limits), clock=clock)


def item(moto: str, table: str, key: str) -> dict[str, Any] | None:
    return (
        aws.client("dynamodb", moto).get_item(TableName=table, Key={"id": {"S": key}}).get("Item")
    )


async def take(limits: JobLimits, job: str, user: str = "1", guild: str | None = "9") -> Any:
    return await limits.take(job, user_id=user, guild_id=guild, timeout=5)


async def test_a_user_runs_three_long_jobs_at_most_and_a_place_frees_when_one_ends(
    moto, limits_table
):
    async with limits_at(moto, limits_table, Clock()) as limits:
        assert [await take(limits, job) for job in ("a", "b", "c")] == [None, None, None]
        refused = await take(limits, "d")
        assert refused == Refused(Subject.USER, Kind.RUNNING, 3)
        assert refused.text == (
            "You have too many commands running (3 at most). Try again when one has finished."
        )
        # Another user is not held back by this one.
        assert await take(limits, "e", user="2") is None
        await limits.give_back("b", user_id="1", guild_id="9")
        assert await take(limits, "d") is None
        assert await take(limits, "f") is not None
    running = item(moto, limits_table, "user:1")["running"]["M"]
    assert sorted(running) == ["a", "c", "d"]


async def test_a_place_lapses_with_its_lease_unless_the_worker_renews_it(moto, limits_table):
    clock = Clock()
    async with limits_at(moto, limits_table, clock) as limits:
        for job in ("a", "b", "c"):
            assert await take(limits, job) is None
        clock.now = T0 + LEASE_SECONDS - 60
        await limits.renew("a", user_id="1", guild_id="9")  # "a" is running in a worker
        clock.now = T0 + LEASE_SECONDS + 1  # "b" and "c" vanished (a killed worker)
        assert await take(limits, "d") is None
        assert await take(limits, "e") is None
        assert await take(limits, "f") == Refused(Subject.USER, Kind.RUNNING, 3)


async def test_starts_per_minute_count_until_the_minute_turns(moto, limits_table):
    clock = Clock(T0 + 45)
    async with limits_at(moto, limits_table, clock, user_running=0, user_per_minute=2) as limits:
        assert await take(limits, "a") is None
        assert await take(limits, "b") is None
        refused = await take(limits, "c")
        assert refused == Refused(Subject.USER, Kind.PER_MINUTE, 2, wait=15)
        assert "in the last minute (2 at most). Try again in 15 s." in refused.text
        clock.now = T0 + 60
        assert await take(limits, "c") is None


async def test_a_server_limit_counts_every_member_and_a_dm_is_not_in_a_server(moto, limits_table):
    async with limits_at(moto, limits_table, Clock(), server_running=2) as limits:
        assert await take(limits, "a", user="1") is None
        assert await take(limits, "b", user="2") is None
        refused = await take(limits, "c", user="3")
        assert refused == Refused(Subject.SERVER, Kind.RUNNING, 2)
        assert refused.text.startswith("This server has too many commands running (2 at most)")
        # The refused job took no place of its user's either.
        assert item(moto, limits_table, "user:3") is None
        assert await take(limits, "d", user="3", guild=None) is None


async def test_two_api_tasks_never_both_take_the_last_place(moto, limits_table):
    clock = Clock()
    async with (
        limits_at(moto, limits_table, clock, user_running=1) as first,
        limits_at(moto, limits_table, clock, user_running=1) as second,
    ):
        results = await asyncio.gather(
            *(take(first if n % 2 else second, f"job{n}") for n in range(12))
        )
    assert results.count(None) == 1
    assert len(item(moto, limits_table, "user:1")["running"]["M"]) == 1


async def test_many_commands_at_once_never_pass_the_limit_by_contention(moto, limits_table):
    # One member sends 16 long commands at once, through two API tasks: every one is either
    # counted or refused; none runs unchecked because the writes kept colliding.
    clock = Clock()
    async with (
        limits_at(moto, limits_table, clock) as first,
        limits_at(moto, limits_table, clock) as second,
    ):
        results = await asyncio.gather(
            *(take(first if n % 2 else second, f"job{n}") for n in range(16))
        )
    taken = [r for r in results if r is None]
    refused = {r.kind for r in results if r is not None}
    assert 1 <= len(taken) <= 3
    assert refused <= {Kind.RUNNING, Kind.CONTENDED}
    assert len(item(moto, limits_table, "user:1")["running"]["M"]) == len(taken)
    contended = Refused(Subject.USER, Kind.CONTENDED, 0)
    assert (
        contended.text == "Too many of your commands arrived at once. Try again in a few seconds."
    )


async def test_renew_and_give_back_of_an_unknown_place_create_nothing(moto, limits_table):
    async with limits_at(moto, limits_table, Clock()) as limits:
        await limits.renew("a", user_id="5", guild_id="9")
        await limits.give_back("a", user_id="5", guild_id="9")
    assert item(moto, limits_table, "user:5") is None


async def test_a_failing_table_says_so_and_renewals_shrug(moto, limits_table, aws_faults):
    async with limits_at(aws_faults.url, limits_table, Clock()) as limits:
        aws_faults.fail("GetItem", "throttle", times=2)  # both attempts
        with pytest.raises(LimitsUnavailable) as raised:
            await take(limits, "a")
        assert raised.value.reason == "ProvisionedThroughputExceededException"
        assert await take(limits, "a") is None
        aws_faults.fail("TransactWriteItems", "error", times=2)
        with pytest.raises(LimitsUnavailable, match="InternalFailure"):
            await take(limits, "b")
        # The worker's renewal and release are best effort: a failure is logged, not raised.
        aws_faults.fail("UpdateItem", "error", times=4)
        await limits.renew("a", user_id="1", guild_id="9")
        await limits.give_back("a", user_id="1", guild_id="9")
    assert aws_faults.calls["UpdateItem"] == 4


async def test_a_place_freed_while_a_take_is_writing_stays_free(moto, limits_table, aws_faults):
    # "a" and "b" run; a take for "c" has read the item when "a" ends and gives its place
    # back. The take's write must not bring "a"'s place back with it.
    clock = Clock()
    async with (
        limits_at(aws_faults.url, limits_table, clock) as through_proxy,
        limits_at(moto, limits_table, clock) as direct,
    ):
        for job in ("a", "b"):
            assert await take(direct, job) is None
        aws_faults.fail("TransactWriteItems", "slow", delay=1.0)
        taking = asyncio.create_task(take(through_proxy, "c"))
        async with asyncio.timeout(5):
            while aws_faults.calls["TransactWriteItems"] == 0:  # read, and now writing
                await asyncio.sleep(0.01)
        await direct.give_back("a", user_id="1", guild_id="9")
        assert await taking is None
        assert await take(direct, "d") is None  # two run: a third place is free
    running = item(moto, limits_table, "user:1")["running"]["M"]
    assert sorted(running) == ["b", "c", "d"]
