"""The Discord REST client against the fake Discord: rate limits, retries, errors."""

from __future__ import annotations

import asyncio
import itertools

import aiohttp
import pytest

from devtools.aws import free_port
from devtools.interactions import interaction_token
from services.core.config import Secret
from services.core.discord.errors import DiscordHTTPError, RateLimitedError, ServerError
from services.core.discord.messages import Message
from services.core.discord.rest import DiscordRest, RetryPolicy
from tests.conftest import APPLICATION_ID, BOT_TOKEN

FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, max_rate_limited=3)


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


def client(session, url, **kwargs) -> DiscordRest:
    return DiscordRest(
        session=session,
        api_url=url,
        application_id=APPLICATION_ID,
        bot_token=Secret(BOT_TOKEN),
        retry=kwargs.pop("retry", FAST),
        **kwargs,
    )


def token() -> str:
    return interaction_token("1")


def gaps(requests) -> list[float]:
    return [b.at - a.at for a, b in itertools.pairwise(requests)]


async def test_edit_original_sends_a_schema_valid_body(discord, session):
    rest = client(session, discord.url)
    t = token()
    sent = await rest.edit_original(t, Message(content="hello", ephemeral=True))
    assert sent["content"] == "hello"
    assert discord.state(t).edits == [
        {
            "content": "hello",
            "allowed_mentions": {"parse": ["users"]},
            "embeds": [],
            "components": [],
            "flags": 64,
        }
    ]


async def test_429_waits_retry_after_then_succeeds(discord, session):
    discord.fail(status=429, retry_after=0.3, times=1)
    rest = client(session, discord.url)
    await rest.edit_original(token(), Message(content="x"))
    assert [r.status for r in discord.requests] == [429, 200]
    assert gaps(discord.requests)[0] >= 0.3


async def test_429_storm_gives_up_with_rate_limited_error(discord, session):
    discord.fail(status=429, retry_after=0.01, times=10)
    rest = client(session, discord.url)
    with pytest.raises(RateLimitedError) as caught:
        await rest.edit_original(token(), Message(content="x"))
    assert caught.value.status == 429
    # the first try plus max_rate_limited retries, no more
    assert len(discord.requests) == FAST.max_rate_limited + 1


async def test_global_429_holds_back_other_routes_too(discord, session):
    # GIVEN a global rate limit answered to one request
    discord.fail(status=429, retry_after=0.4, is_global=True, times=1, route="PATCH")
    rest = client(session, discord.url)
    edit = asyncio.create_task(rest.edit_original(token(), Message(content="a")))
    await discord.wait_for(lambda: len(discord.requests) == 1)
    await asyncio.sleep(0.05)
    # WHEN a request on another route starts during the limit
    await rest.create_followup(token(), Message(content="b"))
    await edit
    # THEN it was not sent until the global limit had passed
    first, *later = discord.requests
    assert first.status == 429
    assert all(r.at - first.at >= 0.4 for r in later)


async def test_exhausted_bucket_waits_for_its_reset(discord, session):
    discord.bucket_remaining = 0
    discord.bucket_reset_after = 0.3
    rest = client(session, discord.url)
    t = token()
    await rest.edit_original(t, Message(content="1"))
    await rest.edit_original(t, Message(content="2"))
    assert gaps(discord.requests)[0] >= 0.3


async def test_buckets_are_per_webhook(discord, session):
    # An exhausted bucket for one interaction does not slow another's.
    discord.bucket_remaining = 0
    discord.bucket_reset_after = 5.0
    rest = client(session, discord.url)
    await rest.edit_original(token(), Message(content="1"))
    async with asyncio.timeout(2):
        await rest.edit_original(token(), Message(content="2"))


async def test_5xx_is_retried_then_succeeds(discord, session):
    discord.fail(status=503, times=2)
    rest = client(session, discord.url)
    await rest.edit_original(token(), Message(content="x"))
    assert [r.status for r in discord.requests] == [503, 503, 200]


async def test_5xx_that_persists_raises_server_error_with_status(discord, session):
    discord.fail(status=502, times=100)
    rest = client(session, discord.url)
    with pytest.raises(ServerError) as caught:
        await rest.edit_original(token(), Message(content="x"))
    assert caught.value.status == 502
    assert caught.value.route == "PATCH /webhooks/{application_id}/{token}/messages/@original"
    assert len(discord.requests) == FAST.attempts


async def test_followup_is_not_retried_after_a_5xx_so_it_is_never_doubled(discord, session):
    discord.fail(status=500, times=1)
    rest = client(session, discord.url)
    t = token()
    with pytest.raises(ServerError):
        await rest.create_followup(t, Message(content="once"))
    assert len(discord.requests) == 1


async def test_slow_answer_times_out_and_is_retried(discord, session):
    discord.fail(status=200, delay=1.0, times=1)
    rest = client(session, discord.url, timeout=0.3)
    await rest.edit_original(token(), Message(content="x"))
    assert len(discord.requests) == 2


async def test_connection_refused_is_retried_then_reported(session):
    rest = client(session, f"http://127.0.0.1:{free_port()}/api/v10")
    with pytest.raises(ServerError) as caught:
        await rest.edit_original(token(), Message(content="x"))
    assert caught.value.status == 0


async def test_expired_token_error_carries_discords_code(discord, session):
    rest = client(session, discord.url)
    t = token()
    discord.expire(t)
    with pytest.raises(DiscordHTTPError) as caught:
        await rest.edit_original(t, Message(content="late"))
    assert (caught.value.status, caught.value.code) == (401, 50027)
    assert caught.value.message == "Invalid Webhook Token"
    assert t not in str(caught.value)


async def test_schema_violation_is_refused_like_discord_does(discord, session):
    rest = client(session, discord.url)
    with pytest.raises(DiscordHTTPError) as caught:
        await rest.edit_original(token(), Message(embeds=({"title": "x" * 300},)))
    assert (caught.value.status, caught.value.code) == (400, 50035)
    # the fixture would fail the test on this violation; this one was on purpose
    assert len(discord.violations) == 1
    discord.violations.clear()


async def test_long_content_is_cut_to_discords_limit(discord, session):
    rest = client(session, discord.url)
    t = token()
    await rest.edit_original(t, Message(content="x" * 5000))
    content = discord.edits(t)[0]
    assert len(content) == 2000
    assert content.endswith("…")


async def test_bulk_overwrite_registers_the_bots_commands(discord, session):
    from services.commands import bot

    rest = client(session, discord.url)
    stored = await rest.bulk_overwrite_commands(bot.to_discord())
    assert {c["name"] for c in stored} == {"ping", "countdown", "config", "notify"}
    assert discord.commands[None] == stored


async def test_bulk_overwrite_without_a_bot_token_is_refused_before_sending(discord, session):
    rest = DiscordRest(session=session, api_url=discord.url, application_id=APPLICATION_ID)
    with pytest.raises(DiscordHTTPError) as caught:
        await rest.bulk_overwrite_commands([])
    assert caught.value.status == 401
    assert discord.requests == []


async def test_repeated_refusals_suspend_requests_before_discord_bans_the_ip(discord, session):
    from services.core.discord.errors import RequestsSuspended
    from services.core.discord.ratelimits import RateLimiter

    # GIVEN Discord refuses everything with 403, and a guard that trips after 5 refusals
    discord.fail(status=403, times=100)
    rest = client(session, discord.url, limiter=RateLimiter(invalid_limit=5))
    for _ in range(5):
        with pytest.raises(DiscordHTTPError):
            await rest.edit_original(token(), Message(content="x"))
    # WHEN more requests are made, THEN they fail at once and never reach Discord
    with pytest.raises(RequestsSuspended) as caught:
        await rest.edit_original(token(), Message(content="x"))
    assert caught.value.retry_after > 500
    assert len(discord.requests) == 5


async def test_shared_scope_429s_do_not_count_as_invalid(discord, session):
    from services.core.discord.ratelimits import RateLimiter

    discord.fail(status=429, retry_after=0.01, scope="shared", times=3)
    limiter = RateLimiter(invalid_limit=2)
    rest = client(session, discord.url, limiter=limiter)
    await rest.edit_original(token(), Message(content="x"))
    assert limiter.suspended_for() == 0


async def test_bot_token_requests_keep_under_the_global_limit(discord, session):
    from services.core.discord.ratelimits import RateLimiter

    # A limit of 5 per second stands in for Discord's 50, to keep the test short.
    rest = client(session, discord.url, limiter=RateLimiter(global_limit=5))
    await asyncio.gather(
        *(
            rest.create_channel_message("900000000000000002", Message(content=str(i)))
            for i in range(12)
        )
    )
    times = sorted(r.at for r in discord.requests)
    # no more than 5 requests in any one-second window (as sent; arrival adds a little jitter)
    assert all(b - a >= 0.95 for a, b in zip(times, times[5:], strict=False))
    # interaction routes are exempt: 12 edits go out without waiting a second
    discord.requests.clear()
    await asyncio.gather(*(rest.edit_original(token(), Message(content="e")) for _ in range(12)))
    times = sorted(r.at for r in discord.requests)
    assert times[-1] - times[0] < 1.0
