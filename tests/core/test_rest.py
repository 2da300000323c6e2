"""The Discord REST client against the fake Discord: rate limits, retries, errors."""

from __future__ import annotations

import asyncio
import itertools
import os

import aiohttp
import pytest

from devtools.aws import free_port
from devtools.interactions import interaction_token
from services.core.discord.errors import DiscordHTTPError, RateLimitedError, ServerError
from services.core.discord.messages import File, Message
from services.core.discord.ratelimits import RateLimiter
from services.core.discord.rest import DiscordRest, RetryPolicy
from services.core.env import Secret
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


CHANNEL_ID = "900000000000000002"


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
    limiter = RateLimiter()
    rest = client(session, discord.url, limiter=limiter)
    edit = asyncio.create_task(rest.edit_original(token(), Message(content="a")))
    async with asyncio.timeout(5):  # until the client has read the 429
        while limiter.global_wait() == 0:
            await asyncio.sleep(0.005)
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
    # GIVEN every answer says the bucket is exhausted for the next second
    discord.bucket_remaining = 0
    discord.bucket_reset_after = 1.0
    rest = client(session, discord.url)
    first, other = token(), token()
    await rest.edit_original(first, Message(content="1"))
    # WHEN another interaction edits, then the first edits again
    await rest.edit_original(other, Message(content="2"))
    await rest.edit_original(first, Message(content="3"))
    # THEN only the first interaction's second edit waited for its bucket
    sent = [r.at for r in discord.requests]
    assert sent[1] - sent[0] < 0.5
    assert sent[2] - sent[0] >= 0.95


async def test_buckets_of_finished_interactions_are_forgotten():
    clock = [0.0]
    limiter = RateLimiter(clock=lambda: clock[0])
    headers = {
        "X-RateLimit-Bucket": "b",
        "X-RateLimit-Remaining": "4",
        "X-RateLimit-Reset-After": "1",
    }
    for n in range(100_000):
        clock[0] = n * 0.01  # a hundred interactions a second, for 1,000 s
        limiter.update("PATCH /webhooks/{application_id}/{token}", f"app:token-{n}", headers)
    # Those whose window ended over a minute ago are gone: at most ~70 s of them remain.
    assert limiter.buckets < 8_000


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
    declared = bot.to_discord()
    stored = await rest.bulk_overwrite_commands(declared)
    assert {c["name"] for c in stored} == {c["name"] for c in declared} >= {"ping", "countdown"}
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


# -- files -------------------------------------------------------------------------------


async def _send_on(route: str, rest: DiscordRest, discord, message: Message) -> dict:
    """``message`` through one message route, with whatever that route needs beforehand."""
    t = token()
    if route == "edit_original":
        return await rest.edit_original(t, message)
    if route == "create_followup":
        return await rest.create_followup(t, message)
    if route == "edit_followup":
        first = await rest.create_followup(t, Message(content="first"))
        return await rest.edit_followup(t, first["id"], message)
    if route == "execute_webhook":
        return await rest.execute_webhook(Secret(discord.create_webhook(CHANNEL_ID)), message)
    if route == "create_channel_message":
        return await rest.create_channel_message(CHANNEL_ID, message)
    first = await rest.create_channel_message(CHANNEL_ID, Message(content="first"))
    return await rest.edit_channel_message(CHANNEL_ID, first["id"], message)


async def _download(session, url: str) -> bytes:
    async with session.get(url) as response:
        assert response.status == 200
        return await response.read()


@pytest.mark.parametrize(
    "route",
    [
        "edit_original",
        "create_followup",
        "edit_followup",
        "execute_webhook",
        "create_channel_message",
        "edit_channel_message",
    ],
)
async def test_a_file_is_uploaded_as_discord_documents(discord, session, route):
    rest = client(session, discord.url)
    chart = os.urandom(50_000)
    file = File("chart 1.png", chart, description="This week", content_type="image/png")
    sent = await _send_on(route, rest, discord, Message(content="the chart", files=(file,)))
    # The message Discord answers with carries the file, under its own name, bytes intact.
    [attachment] = sent["attachments"]
    assert (attachment["filename"], attachment["size"]) == ("chart 1.png", len(chart))
    assert attachment["content_type"] == "image/png"
    assert await _download(session, attachment["url"]) == chart
    # It went as Discord documents: payload_json naming files[0] (schema-checked by the
    # fixture), and the file in its own part.
    upload = discord.requests[-1]
    assert upload.body["attachments"] == [
        {"id": "0", "filename": "chart 1.png", "description": "This week"}
    ]
    assert [(f.name, f.filename, f.content_type, f.data) for f in upload.files] == [
        ("files[0]", "chart 1.png", "image/png", chart)
    ]


async def test_a_message_without_files_goes_as_plain_json(discord, session):
    rest = client(session, discord.url)
    await rest.edit_original(token(), Message(content="no files"))
    [request] = discord.requests
    assert request.files == []
    assert "attachments" not in request.body


async def test_an_upload_refused_with_a_5xx_is_sent_again_whole_and_lands_once(discord, session):
    # GIVEN Discord fails the first PATCH carrying a file
    discord.fail(status=503, times=1)
    rest = client(session, discord.url)
    t = token()
    data = os.urandom(300_000)
    # WHEN the reply is edited with the file
    sent = await rest.edit_original(t, Message(content="report", files=(File("r.bin", data),)))
    # THEN the second attempt carried the whole file again (a fresh form, not a spent one)
    assert [r.status for r in discord.requests] == [503, 200]
    assert [r.files[0].data == data for r in discord.requests] == [True, True]
    # AND the message has it once, intact
    [attachment] = discord.state(t).original["attachments"]
    assert sent["attachments"] == [attachment]
    assert await _download(session, attachment["url"]) == data


async def test_a_file_over_discords_limit_is_refused_and_not_retried(discord, session):
    rest = client(session, discord.url)
    too_big = File("big.bin", bytes(10 * 1024 * 1024 + 1))
    with pytest.raises(DiscordHTTPError) as caught:
        await rest.edit_original(token(), Message(files=(too_big,)))
    assert (caught.value.status, caught.value.code) == (413, 40005)
    assert len(discord.requests) == 1
    # the fixture would fail the test on this violation; this one was on purpose
    assert len(discord.violations) == 1
    discord.violations.clear()


# -- follow-ups ----------------------------------------------------------------------------


async def test_a_followup_can_be_read_back_then_deleted(discord, session):
    rest = client(session, discord.url)
    t = token()
    posted = await rest.create_followup(t, Message(content="step 1 of 3"))
    read = await rest.get_followup(t, posted["id"])
    assert (read["id"], read["content"]) == (posted["id"], "step 1 of 3")
    await rest.delete_followup(t, posted["id"])
    # Once deleted it is gone for every route: reading, editing, deleting again.
    for gone in (
        rest.get_followup(t, posted["id"]),
        rest.edit_followup(t, posted["id"], Message(content="step 2 of 3")),
        rest.delete_followup(t, posted["id"]),
    ):
        with pytest.raises(DiscordHTTPError) as caught:
            await gone
        assert (caught.value.status, caught.value.code) == (404, 10008)


async def test_a_channel_message_deleted_with_the_bot_token_is_gone(discord, session):
    rest = client(session, discord.url)
    posted = await rest.create_channel_message(CHANNEL_ID, Message(content="Stand-up at 10"))
    await rest.delete_channel_message(CHANNEL_ID, posted["id"])
    assert posted["id"] not in discord.messages
    with pytest.raises(DiscordHTTPError) as caught:
        await rest.edit_channel_message(CHANNEL_ID, posted["id"], Message(content="at 11"))
    assert (caught.value.status, caught.value.code) == (404, 10008)
