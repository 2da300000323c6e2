"""Summaries by the AI: "Summarize" on a message's context menu, and /summarize for a
channel's recent messages (read with the bot token, so the bot must be able to see them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Final

from services.commands._bot import models
from services.commands.prompts import SUMMARIZE
from services.core.bot import JobContext, Option, TargetMessage
from services.core.bot.context import Sent
from services.core.discord.errors import DiscordHTTPError

NOTHING_TEXT: Final = "There is no text to summarize there."
NO_BOT_TEXT: Final = "I cannot read channels: the bot has no bot token configured."
NO_ACCESS_TEXT: Final = (
    "I cannot read this channel's messages. Give the bot the View Channel and Read Message "
    "History permissions here, then try again."
)
READ_FAILED_TEXT: Final = "I could not read this channel's messages just now; try again."
# Discord docs, "Get Channel Messages": at most 100 at a time.
MAX_MESSAGES: Final = 100
FORBIDDEN: Final = 403
NOT_FOUND: Final = 404


def transcript(messages: Iterable[Mapping[str, Any]]) -> str:
    """Messages as "name: text" lines, oldest first as given; the ones without text left out."""
    lines = []
    for message in messages:
        content = message.get("content")
        if not isinstance(content, str) or not content.strip():
            continue
        author = message.get("author")
        author = author if isinstance(author, dict) else {}
        name = author.get("global_name") or author.get("username") or "someone"
        lines.append(f"{name}: {content}")
    return "\n".join(lines)


@models.message_command(name="Summarize")
async def summarize_message(ctx: JobContext, message: TargetMessage) -> Sent | str:
    text = transcript([message.data])
    if not text:
        return NOTHING_TEXT
    turn = SUMMARIZE.turn(data={"messages": text})
    return await models.answer(ctx, [turn], kind="summarize_message")


@models.command(description="Summarize this channel's recent messages", name="summarize")
async def summarize_channel(
    ctx: JobContext,
    messages: Annotated[
        int, Option("How many recent messages", min_value=1, max_value=MAX_MESSAGES)
    ],
) -> Sent | str:
    channels = ctx.resources.channels
    if channels is None:
        return NO_BOT_TEXT
    if ctx.channel_id is None:
        return NOTHING_TEXT
    try:
        # One more: the newest is this command's own "thinking…" reply, which has no text.
        found = await channels.channel_messages(
            ctx.channel_id, limit=min(messages + 1, MAX_MESSAGES)
        )
    except DiscordHTTPError as exc:
        return NO_ACCESS_TEXT if exc.status in (FORBIDDEN, NOT_FOUND) else READ_FAILED_TEXT
    with_text = [m for m in found if str(m.get("content") or "").strip()][:messages]
    text = transcript(reversed(with_text))  # Discord lists the newest first
    if not text:
        return NOTHING_TEXT
    turn = SUMMARIZE.turn(data={"messages": text})
    return await models.answer(ctx, [turn], kind="summarize")
