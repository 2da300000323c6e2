"""Deferred work that goes wrong: the user is told, privately where the message is shared,
and nothing waits "thinking…" forever."""

from __future__ import annotations

from devtools import interactions
from services.worker.runner import JOB_FAILED_TEXT, UNKNOWN_COMMAND_TEXT
from tests.conftest import APPLICATION_ID, signed_job

EPHEMERAL = 64


async def test_a_failing_update_leaves_the_shared_message_and_tells_the_clicker(test_bot):
    poll = interactions.bot_message(
        "Poll: 3 votes so far",
        [
            {
                "type": 1,
                "components": [{"type": 2, "style": 1, "label": "Yes", "custom_id": "vote:1:yes"}],
            }
        ],
    )
    click = interactions.click(APPLICATION_ID, "vote:1:y", message=poll)
    result = await test_bot.interact(click)
    assert result.response == {"type": 6}
    state = test_bot.state(click["token"])
    await test_bot.wait_for(lambda: bool(state.followups), timeout=15)
    [told] = state.followups.values()
    assert (told["content"], told["flags"] & EPHEMERAL) == (JOB_FAILED_TEXT, EPHEMERAL)
    assert state.edits == []
    assert test_bot.messages[poll["id"]]["content"] == "Poll: 3 votes so far"


async def test_a_reply_that_cannot_be_sent_ends_in_an_error_message(test_bot):
    slash = interactions.command(APPLICATION_ID, "poison")
    await test_bot.interact(slash)
    state = test_bot.state(slash["token"])
    await test_bot.wait_for(lambda: bool(state.edits), timeout=15)
    assert [e["content"] for e in state.edits] == [JOB_FAILED_TEXT]


async def test_a_queued_job_for_a_route_that_answers_now_is_refused(test_bot, queues, sqs):
    payload = interactions.command(APPLICATION_ID, "quick")
    sqs.send_message(QueueUrl=queues.url, MessageBody=signed_job(payload, "command:quick"))
    state = test_bot.state(payload["token"])
    await test_bot.wait_for(lambda: bool(state.edits), timeout=15)
    assert [e["content"] for e in state.edits] == [UNKNOWN_COMMAND_TEXT]


async def test_a_deferred_update_from_a_modal_with_no_message_still_replies(test_bot):
    submitted = interactions.modal_submit(APPLICATION_ID, "survey:1", {"answer": "yes"})
    result = await test_bot.interact(submitted)
    assert result.response == {"type": 5, "data": {}}  # no message to update: a reply
    state = test_bot.state(submitted["token"])
    await test_bot.wait_for(lambda: bool(state.edits), timeout=15)
    assert [e["content"] for e in state.edits] == ["Done."]
