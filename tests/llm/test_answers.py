"""LLM answers end to end: a signed /ask through the API, the queue and the worker, the
model stand-in streaming its answer (every request checked against the Chat Completions
contract), and the Discord stand-in showing what a user would see."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections import defaultdict
from typing import Any

import structlog

from devtools import interactions
from services.core.llm.errors import USER_TEXT, ErrorKind
from services.core.llm.streaming import CURSOR, STOPPED_NOTE, UNDELIVERED_NOTE
from tests.conftest import APPLICATION_ID
from tests.llm.conftest import EDIT_INTERVAL, ask, llm_bot

EPHEMERAL = 64
FENCE = re.compile(r"^```", re.MULTILINE)


def long_answer() -> str:
    """About 5,000 characters: prose, a code block that straddles a message's end, and a
    model trying to ping everyone."""
    prose = " ".join(f"Sentence {n} of the answer says something useful." for n in range(30))
    code = "\n".join(f"    total += {n}  # step {n} of the loop" for n in range(60))
    return (
        f"{prose}\n\n@everyone look at this, and <@123456789012345678> too.\n\n"
        f"```python\ndef add():\n    total = 0\n{code}\n    return total\n```\n\n{prose}\n\n"
        f"{prose}"
    )


def words(text: str) -> list[str]:
    return text.replace("```python", " ").replace("```", " ").split()


def messages_of(discord: Any, token: str) -> list[dict[str, Any]]:
    """The answer's messages as the channel shows them, in order: the reply, then its
    follow-ups."""
    state = discord.state(token)
    return [state.original, *state.followups.values()]


def edit_times(discord: Any, token: str) -> dict[str, list[float]]:
    """When each of the answer's messages was edited, by message."""
    times: dict[str, list[float]] = defaultdict(list)
    for record in discord.requests:
        if record.method == "PATCH" and token in record.path:
            times[record.path.rsplit("/", 1)[-1]].append(record.at)
    return times


def stop_button(discord: Any, token: str) -> tuple[dict[str, Any], str] | None:
    """The Stop button on the message the answer is being written in, and that message."""
    message = messages_of(discord, token)[-1]
    for row in (message or {}).get("components") or []:
        for component in row.get("components") or []:
            if component.get("custom_id", "").startswith("answer-stop:"):
                return message, component["custom_id"]
    return None


def finished(discord: Any, token: str) -> bool:
    return any(
        (c.get("custom_id") or "").startswith("answer-more:")
        for m in messages_of(discord, token)
        if m
        for row in m.get("components") or []
        for c in row.get("components") or []
    )


async def test_a_long_answer_streams_into_ordered_messages_that_ping_nobody(
    llm_env, discord, model, signing_key
):
    text = long_answer()
    assert len(text) > 4500
    model.script(text, chunk_words=4, delay=0.01)
    payload = ask("Write me something long")
    token = payload["token"]
    async with llm_bot(llm_env, discord, signing_key):
        result = await discord.interact(payload)
        assert result.response["type"] == 5
        await discord.wait_for(lambda: finished(discord, token), timeout=30)
    messages = messages_of(discord, token)
    contents = [m["content"] for m in messages]
    assert len(messages) >= 3
    assert all(len(c) <= 2000 for c in contents)
    # Every message's code fences are balanced, and no cursor is left anywhere.
    assert all(len(FENCE.findall(c)) % 2 == 0 for c in contents)
    assert not any(CURSOR in c for c in contents)
    # Nothing lost or reordered: the words arrive in the model's order (the cuts drop only
    # whitespace and add the fences that close and reopen the code block).
    assert words("\n".join(contents)) == words(text)
    # Only the last message has the Follow up button, and no message has the Stop button.
    ids = [[c["custom_id"] for r in m["components"] for c in r["components"]] for m in messages]
    assert all(not i for i in ids[:-1])
    assert len(ids[-1]) == 1
    assert ids[-1][0].startswith("answer-more:")
    # Every request the bot made for this answer allows no mentions at all.
    bodies = [r.body for r in discord.requests if token in r.path and r.method != "GET"]
    assert bodies
    assert all(b["allowed_mentions"] == {"parse": []} for b in bodies)
    # Progressive edits of the reply, none faster than the interval (stand-in arrival times:
    # a few milliseconds of network jitter either way).
    times = edit_times(discord, token)
    assert len(times["@original"]) >= 3
    gaps = [b - a for t in times.values() for a, b in itertools.pairwise(t)]
    # (Measured where the edits arrive: the event loop that sends them also runs the API and
    # the stand-ins here, so an edit can arrive late by a fraction of the interval.)
    assert min(gaps) >= EDIT_INTERVAL * 0.8


async def test_stop_ends_the_stream_within_two_seconds(llm_env, discord, model, signing_key):
    model.endless(chunk_words=2, delay=0.02)
    payload = ask("Tell me everything")
    token = payload["token"]
    async with llm_bot(llm_env, discord, signing_key):
        await discord.interact(payload)
        await discord.wait_for(lambda: stop_button(discord, token) is not None, 15)
        message, custom_id = stop_button(discord, token)
        # Someone else's click is refused, privately, and the answer goes on.
        other = interactions.user("900000000000000077", "other")
        refused = await discord.interact(
            interactions.click(APPLICATION_ID, custom_id, message=message, invoker=other)
        )
        assert refused.response["type"] == 4
        assert refused.response["data"]["flags"] == EPHEMERAL
        assert model.disconnects == 0
        clicked = time.monotonic()
        stop = await discord.interact(
            interactions.click(APPLICATION_ID, custom_id, message=message)
        )
        assert stop.response["type"] == 6
        await model.wait_for(lambda: model.disconnects == 1, timeout=5)
        stopped_in = time.monotonic() - clicked
        await discord.wait_for(
            lambda: STOPPED_NOTE in (messages_of(discord, token)[-1] or {}).get("content", ""), 10
        )
    assert stopped_in < 2.0
    last = messages_of(discord, token)[-1]
    assert last["content"].endswith(STOPPED_NOTE)
    assert CURSOR not in last["content"]


async def test_a_rate_limited_model_is_asked_again_and_the_answer_arrives(
    llm_env, discord, model, signing_key
):
    model.fail(429, times=1, retry_after=0.2)
    model.script("Here is the answer after the pause.")
    payload = ask("Anything")
    token = payload["token"]
    async with llm_bot(llm_env, discord, signing_key):
        await discord.interact(payload)
        await discord.wait_for(lambda: finished(discord, token), timeout=20)
    assert messages_of(discord, token)[0]["content"] == "Here is the answer after the pause."
    assert len(model.requests) == 2


async def test_a_model_that_keeps_failing_ends_in_one_clear_message(
    llm_env, discord, model, signing_key
):
    model.fail(500, times=10)
    payload = ask("Anything")
    token = payload["token"]
    with structlog.testing.capture_logs() as logs:
        async with llm_bot(llm_env, discord, signing_key):
            await discord.interact(payload)
            await discord.wait_for(
                lambda: USER_TEXT[ErrorKind.UNAVAILABLE] in discord.edits(token), timeout=30
            )
            await asyncio.sleep(0.5)  # nothing else follows
    *waiting, final = discord.edits(token)
    assert final == USER_TEXT[ErrorKind.UNAVAILABLE]
    # While it was asked again the user saw why they wait, and nothing else.
    assert all("could not be reached; trying again in" in w for w in waiting)
    assert len(model.requests) == 3  # the first ask and LLM_RETRIES=2 more
    answer = next(e for e in logs if e["event"] == "answer")
    assert (answer["outcome"], answer["error"]) == ("failed", "unavailable")
    assert not any("Traceback" in str(e) for e in logs)


async def test_the_daily_budget_refuses_politely_and_says_when_it_resets(
    llm_env, discord, model, signing_key
):
    env = {**llm_env, "LLM_USER_DAILY_TOKENS": "20"}
    model.script("one two three four five six seven eight nine ten eleven twelve")
    first = ask("First question")
    with structlog.testing.capture_logs() as logs:
        async with llm_bot(env, discord, signing_key):
            await discord.interact(first)
            # The answer's tokens are counted as its job ends.
            async with asyncio.timeout(20):
                while not any(e["event"] == "job" for e in logs):
                    await asyncio.sleep(0.05)
            second = await discord.interact(ask("Second question"))
    assert second.response["type"] == 4
    assert second.response["data"]["flags"] == EPHEMERAL
    text = second.response["data"]["content"]
    assert text.startswith("You have used today's budget for answers (20 tokens).")
    midnight = (int(time.time()) // 86400 + 1) * 86400
    assert f"<t:{midnight}:R>" in text
    assert len(model.requests) == 1


async def test_answers_in_flight_are_limited_per_user(llm_env, discord, model, signing_key):
    env = {**llm_env, "LLM_USER_ANSWERS": "1"}
    model.endless(delay=0.05)
    first = ask("A long one")
    with structlog.testing.capture_logs() as logs:
        await in_flight_limit(env, discord, model, signing_key, first, logs)


async def in_flight_limit(env, discord, model, signing_key, first, logs) -> None:
    async with llm_bot(env, discord, signing_key):
        await discord.interact(first)
        await discord.wait_for(lambda: stop_button(discord, first["token"]) is not None, 15)
        second = await discord.interact(ask("Another"))
        assert second.response["data"]["content"].startswith(
            "You have too many answers running (1 at most)."
        )
        # Another member is not held back by this one.
        third = await discord.interact(ask("Mine", user="900000000000000088"))
        assert third.response["type"] == 5
        # Stopping the first frees the place.
        message, custom_id = stop_button(discord, first["token"])
        await discord.interact(interactions.click(APPLICATION_ID, custom_id, message=message))
        await discord.wait_for(
            lambda: (
                STOPPED_NOTE in (messages_of(discord, first["token"])[-1] or {}).get("content", "")
            ),
            10,
        )
        # The worker gives the place back as the first job ends.
        async with asyncio.timeout(10):
            while not any(e.get("job_id") == first["id"] and e["event"] == "job" for e in logs):
                await asyncio.sleep(0.05)
        model.script("Now it fits.")
        again = await discord.interact(ask("Another, later"))
        assert again.response["type"] == 5


async def test_without_a_model_the_commands_say_so_and_nothing_is_queued(
    moto, queues, discord, signing_key, sqs
):
    from tests.conftest import base_env, queue_depth

    env = base_env(moto, queues, discord.url)
    async with llm_bot(env, discord, signing_key):
        result = await discord.interact(ask("Hello?"))
    assert result.response["type"] == 4
    assert result.response["data"]["flags"] == EPHEMERAL
    assert "no language model configured" in result.response["data"]["content"]
    assert queue_depth(sqs, queues.url) == 0


async def test_discord_failing_mid_answer_never_generates_it_again(
    llm_env, discord, model, signing_key
):
    # The answer's first edit arrives; then Discord refuses every follow-up create for good.
    model.script(long_answer(), chunk_words=8, delay=0.01)
    payload = ask("Something long")
    token = payload["token"]
    with structlog.testing.capture_logs() as logs:
        async with llm_bot(llm_env, discord, signing_key):
            discord.fail(status=500, times=1000, route="POST /webhooks")
            await discord.interact(payload)
            async with asyncio.timeout(30):
                while not any(e["event"] == "job" for e in logs):
                    await asyncio.sleep(0.05)
    job = next(e for e in logs if e["event"] == "job")
    assert job["outcome"] == "completed"  # not retried: that would answer again
    assert len(model.requests) == 1
    assert any(e["event"] == "answer_undelivered" for e in logs)
    # The user keeps what arrived, told the rest did not, with no cursor or Stop left.
    reply = discord.state(token).original
    assert reply["content"].endswith(UNDELIVERED_NOTE)
    assert CURSOR not in reply["content"]
    assert reply["components"] == []
    # The answer's tokens are counted all the same.
    answer = next(e for e in logs if e["event"] == "answer")
    assert answer["outcome"] == "undelivered"
    assert answer["tokens_out"] > 0


async def test_a_reply_deleted_mid_answer_ends_it_without_hammering_discord(
    llm_env, discord, model, signing_key
):
    model.endless(chunk_words=2, delay=0.01)
    payload = ask("Go on")
    token = payload["token"]
    with structlog.testing.capture_logs() as logs:
        async with llm_bot(llm_env, discord, signing_key):
            await discord.interact(payload)
            await discord.wait_for(lambda: stop_button(discord, token) is not None, 15)
            # A moderator deletes the reply: every edit of it is now 404.
            discord.fail(status=404, times=10_000, route="PATCH /webhooks")
            await model.wait_for(lambda: model.disconnects == 1, timeout=10)
            async with asyncio.timeout(10):
                while not any(e["event"] == "job" for e in logs):
                    await asyncio.sleep(0.05)
    refused = [r for r in discord.requests if r.method == "PATCH" and r.status == 404]
    assert 1 <= len(refused) <= 2  # the edit that found it gone, and the one last attempt
    assert next(e for e in logs if e["event"] == "answer")["outcome"] == "undelivered"


async def test_a_question_counts_against_the_budget_while_its_answer_streams(
    llm_env, discord, model, signing_key
):
    # 60 tokens a day: the first question's own estimate (its instructions and text, ~100
    # tokens) is counted as it starts, so a second one is refused while the first streams,
    # not only once it has ended.
    env = {**llm_env, "LLM_USER_DAILY_TOKENS": "60", "LLM_USER_ANSWERS": "2"}
    model.endless(delay=0.05)
    first = ask("A long one")
    async with llm_bot(env, discord, signing_key):
        await discord.interact(first)
        await discord.wait_for(lambda: stop_button(discord, first["token"]) is not None, 15)
        second = await discord.interact(ask("Another"))
        message, custom_id = stop_button(discord, first["token"])
        await discord.interact(interactions.click(APPLICATION_ID, custom_id, message=message))
        await model.wait_for(lambda: model.disconnects == 1, timeout=10)
    assert second.response["type"] == 4
    assert second.response["data"]["content"].startswith("You have used today's budget")
    assert len(model.requests) == 1
