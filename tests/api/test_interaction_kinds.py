"""Every interaction kind through the real parts: the stand-in delivers each interaction as
Discord does (signed, 3-second deadline, answer checked against Discord's schema and applied
to its messages), the API answers on a real socket, deferred work goes through the queue
(moto) to the worker, whose edits land on the stand-in."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from devtools import interactions
from services.core.discord.messages import MENTION_NONE
from services.core.discord.models import MessageFlags
from services.core.discord.snowflake import DISCORD_EPOCH_MS
from tests.api.commands import LONG_NOW, LONG_REPLY, PAID
from tests.conftest import APPLICATION_ID

EPHEMERAL = int(MessageFlags.EPHEMERAL)


def buttons(message: dict) -> list[dict]:
    return [c for row in message.get("components", []) for c in row["components"]]


async def test_roll_answers_at_once_and_roll_again_updates_the_same_message(bot):
    slash = interactions.command(
        APPLICATION_ID, "roll", [{"name": "sides", "type": 4, "value": 20}]
    )
    result = await bot.interact(slash)
    assert result.accepted, result.violations
    assert result.response["type"] == 4
    first = bot.state(slash["token"]).original
    assert re.fullmatch(r"🎲 You rolled \*\*([0-9]+)\*\* on a d20\.", first["content"])
    [again] = buttons(first)
    assert (again["label"], again["custom_id"]) == ("Roll again", "roll:1:20")

    click = interactions.click(APPLICATION_ID, again["custom_id"], message=first)
    result = await bot.interact(click)
    assert result.accepted, result.violations
    assert result.response["type"] == 7  # UPDATE_MESSAGE: the same message, re-rolled
    updated = bot.messages[first["id"]]
    assert bot.state(click["token"]).original["id"] == first["id"]
    value = int(re.fullmatch(r"🎲 You rolled \*\*([0-9]+)\*\* on a d20\.", updated["content"])[1])
    assert 1 <= value <= 20
    assert buttons(updated) == [again]  # the button is kept


async def test_countdown_again_reruns_in_the_message_it_is_on(bot):
    slash = interactions.command(
        APPLICATION_ID, "countdown", [{"name": "seconds", "type": 4, "value": 1}]
    )
    result = await bot.interact(slash)
    assert result.response == {"type": 5, "data": {}}
    state = bot.state(slash["token"])
    await bot.wait_for(lambda: (state.original or {}).get("content", "").endswith("finished"))
    finished = state.original
    [again] = buttons(finished)
    assert again["label"] == "Again"
    # Signed, and bound to who started it: seconds, user, then the signature.
    assert again["custom_id"].startswith(f"again:1:1:{interactions.DEV_USER_ID}:")

    click = interactions.click(APPLICATION_ID, again["custom_id"], message=finished)
    result = await bot.interact(click)
    assert result.response == {"type": 6}  # DEFERRED_UPDATE_MESSAGE, answered at once
    clicked = bot.state(click["token"])
    await bot.wait_for(lambda: len(clicked.edits) >= 2, timeout=15)
    # The worker ran it again through the click's token, editing the message it is on.
    assert [e["content"] for e in clicked.edits] == [
        "Counting down: 1 s left",
        "Countdown of 1 s finished",
    ]
    assert clicked.edits[0]["components"] == []  # no "Again" while it runs
    assert buttons(bot.messages[finished["id"]]) == [again]
    assert len([m for m in bot.messages.values() if "Countdown" in (m["content"] or "")]) == 1


async def test_someone_else_clicking_again_is_refused_privately(bot):
    slash = interactions.command(
        APPLICATION_ID, "countdown", [{"name": "seconds", "type": 4, "value": 1}]
    )
    await bot.interact(slash)
    state = bot.state(slash["token"])
    await bot.wait_for(lambda: (state.original or {}).get("content", "").endswith("finished"))
    finished = dict(state.original)
    [again] = buttons(finished)
    other = interactions.user("900000000000000077", "someone-else")
    click = interactions.click(APPLICATION_ID, again["custom_id"], message=finished, invoker=other)
    result = await bot.interact(click)
    assert result.response == {"type": 6}
    clicked = bot.state(click["token"])
    await bot.wait_for(lambda: bool(clicked.followups), timeout=15)
    [refusal] = clicked.followups.values()
    assert refusal["flags"] & EPHEMERAL
    assert "Only the person who started this countdown" in refusal["content"]
    assert clicked.edits == []  # the message is left as it was
    assert bot.messages[finished["id"]]["content"] == finished["content"]
    # And a forged id (another number of seconds, the signature kept) has expired.
    forged = again["custom_id"].replace("again:1:1:", "again:1:3600:")
    result = await bot.interact(interactions.click(APPLICATION_ID, forged, message=finished))
    assert "expired" in result.response["data"]["content"]


async def test_feedback_opens_a_modal_and_quotes_the_text_back_privately(bot):
    slash = interactions.command(APPLICATION_ID, "feedback")
    result = await bot.interact(slash)
    assert result.accepted, result.violations
    assert result.response["type"] == 9
    modal = result.response["data"]
    assert (modal["custom_id"], modal["title"]) == ("feedback:1", "Feedback")
    [label] = modal["components"]
    assert label["component"]["style"] == 2  # paragraph

    text = "Love it, but @everyone and <@900000000000000003> should not ping.\nSecond line."
    submitted = interactions.modal_submit(APPLICATION_ID, modal["custom_id"], {"text": text})
    result = await bot.interact(submitted)
    assert result.accepted, result.violations
    reply = result.response
    assert reply["type"] == 4
    assert reply["data"]["flags"] == EPHEMERAL
    assert reply["data"]["allowed_mentions"] == MENTION_NONE
    assert "> Love it, but @everyone" in reply["data"]["content"]
    assert "> Second line." in reply["data"]["content"]


async def test_help_suggests_commands_as_one_types_and_describes_the_chosen_one(bot):
    typing = interactions.autocomplete(
        APPLICATION_ID, "help", [{"name": "command", "type": 3, "value": "co"}]
    )
    result = await bot.interact(typing)
    assert result.accepted, result.violations
    assert result.response["type"] == 8
    choices = result.response["data"]["choices"]
    values = [c["value"] for c in choices]
    # Names that start with what was typed come first.
    assert set(values) == {"config show", "config webhook", "config set", "countdown"}
    assert all(v.startswith("co") for v in values)
    assert {"name": "/countdown", "value": "countdown"} in choices

    chosen = interactions.command(
        APPLICATION_ID, "help", [{"name": "command", "type": 3, "value": "countdown"}]
    )
    result = await bot.interact(chosen)
    content = result.response["data"]["content"]
    assert result.response["data"]["flags"] == EPHEMERAL
    assert content.startswith("**/countdown**: Count down, then say so")
    assert "`seconds` (integer, required; at least 1; at most 3600)" in content


async def test_help_without_a_name_offers_a_menu_whose_choice_is_described_in_place(bot):
    payload = interactions.command(APPLICATION_ID, "help")
    asked = await bot.interact(payload)
    assert asked.accepted, asked.violations
    assert asked.response["type"] == 4
    message = bot.state(payload["token"]).original
    select = message["components"][0]["components"][0]
    assert select["type"] == 3
    assert {"label": "/countdown", "value": "countdown"} in [
        {"label": o["label"], "value": o["value"]} for o in select["options"]
    ]
    chosen = await bot.interact(
        interactions.click(
            APPLICATION_ID,
            select["custom_id"],
            message=message,
            component_type=3,
            values=["countdown"],
        )
    )
    assert chosen.accepted, chosen.violations
    assert chosen.response["type"] == 7  # the same message, now describing the command
    assert chosen.response["data"]["content"].startswith("**/countdown**: Count down")
    kept = chosen.response["data"]["components"][0]["components"][0]
    assert [o["value"] for o in kept["options"] if o.get("default")] == ["countdown"]


async def test_user_info_tells_the_name_and_the_account_date_privately(bot):
    created = datetime(2019, 3, 14, 15, 9, tzinfo=UTC)
    user_id = str((int(created.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22)
    target = interactions.user(user_id, "ada_l", global_name="Ada *Lovelace*")
    result = await bot.interact(
        interactions.user_command(APPLICATION_ID, "User info", target=target)
    )
    assert result.accepted, result.violations
    data = result.response["data"]
    assert data["flags"] == EPHEMERAL
    assert data["allowed_mentions"] == MENTION_NONE
    assert "**Ada \\*Lovelace\\*** (@ada\\_l)" in data["content"]
    assert "2019-03-14 15:09 UTC" in data["content"]
    assert f"<t:{int(created.timestamp())}:D>" in data["content"]


async def test_word_count_counts_the_target_message_privately(bot):
    target = interactions.channel_message("one two  three\nfour, five!")
    result = await bot.interact(
        interactions.message_command(APPLICATION_ID, "Word count", target=target)
    )
    assert result.accepted, result.violations
    assert result.response["data"]["content"] == "That message has 5 words."
    assert result.response["data"]["flags"] == EPHEMERAL


@pytest.mark.parametrize("custom_id", ["roll:1:abc", "roll:2:6", "nothing-here", "again:1"])
async def test_an_unknown_or_altered_custom_id_has_expired(bot, custom_id):
    result = await bot.interact(interactions.click(APPLICATION_ID, custom_id))
    assert result.accepted, result.violations
    assert result.response["type"] == 4
    assert result.response["data"]["flags"] == EPHEMERAL
    assert "expired" in result.response["data"]["content"]


async def test_a_forged_signed_custom_id_is_refused_and_never_runs(test_bot):
    slash = interactions.command(APPLICATION_ID, "offer")
    result = await test_bot.interact(slash)
    [pay] = buttons(test_bot.state(slash["token"]).original)
    user = interactions.DEV_USER_ID
    assert pay["custom_id"].startswith(f"pay:1:{user}:5:")
    PAID.clear()
    forged = pay["custom_id"].replace(f":{user}:5:", f":{user}:500:")
    result = await test_bot.interact(interactions.click(APPLICATION_ID, forged))
    assert "expired" in result.response["data"]["content"]
    assert PAID == []
    result = await test_bot.interact(interactions.click(APPLICATION_ID, pay["custom_id"]))
    assert result.response["type"] == 7
    assert [(user, 5)] == PAID


async def test_a_5000_character_reply_arrives_as_ordered_parts_with_balanced_code(test_bot):
    slash = interactions.command(APPLICATION_ID, "essay")
    await test_bot.interact(slash)
    state = test_bot.state(slash["token"])
    await test_bot.wait_for(lambda: len(state.followups) >= 2, timeout=15)
    parts = [state.original["content"], *(m["content"] for m in state.followups.values())]
    assert len(parts) == 3
    assert all(len(p) <= 2000 for p in parts)
    assert all(p.count("```") % 2 == 0 for p in parts)
    # In order: without the fences added at the cuts, the parts give back the reply.
    rejoined = "".join(parts)
    for fence in ("\n```", "```python\n"):
        rejoined = rejoined.replace(fence, "")
    original = LONG_REPLY.replace("```python\n", "").replace("\n```", "")
    assert re.sub(r"\s+", "", rejoined) == re.sub(r"\s+", "", original)
    assert "print(59)" in parts[-1] or "print(59)" in parts[-2]


async def test_a_job_edits_and_deletes_its_follow_ups(test_bot):
    slash = interactions.command(APPLICATION_ID, "notes")
    await test_bot.interact(slash)
    state = test_bot.state(slash["token"])
    await test_bot.wait_for(lambda: (state.original or {}).get("content") == "all notes sent")
    live = [m["content"] for i, m in state.followups.items() if i not in state.deleted_followups]
    assert live == ["first note, edited"]
    assert len(state.deleted_followups) == 1


async def test_a_long_answer_given_at_once_continues_in_follow_ups(test_bot):
    slash = interactions.command(APPLICATION_ID, "manual")
    result = await test_bot.interact(slash)
    assert result.accepted, result.violations
    first = result.response["data"]["content"]
    assert len(first) <= 2000
    assert result.response["data"]["flags"] == EPHEMERAL
    state = test_bot.state(slash["token"])
    await test_bot.wait_for(lambda: len(state.followups) >= 2, timeout=15)
    rest = [m["content"] for m in state.followups.values()]
    assert all(len(p) <= 2000 for p in rest)
    assert all(m["flags"] & EPHEMERAL for m in state.followups.values())
    assert re.sub(r"\s+", " ", " ".join([first, *rest])) == re.sub(r"\s+", " ", LONG_NOW)
