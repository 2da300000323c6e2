"""Summaries by the AI: "Summarize" on a message's context menu, and /summarize for a
channel's recent messages (read with the bot token, so the bot must be able to see them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Final

import structlog

from services.commands._bot import models
from services.commands.prompts import SUMMARIZE
from services.core.bot import JobContext, Message, Option, TargetMessage
from services.core.bot.context import Sent
from services.core.discord.errors import DiscordHTTPError
from services.core.discord.models import Permissions
from services.core.llm.routes import fitted, notice

log = structlog.get_logger("commands.summarize")

NOTHING_TEXT: Final = "There is no text to summarize there."
NO_BOT_TEXT: Final = "I cannot read channels: the bot has no bot token configured."
NO_ACCESS_TEXT: Final = (
    "I cannot read this channel's messages. Give the bot the View Channel and Read Message "
    "History permissions here, then try again."
)
NOT_YOURS_TO_READ_TEXT: Final = (
    "You can't read this channel's history yourself, so I won't summarize it for you."
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
async def summarize_message(ctx: JobContext, message: TargetMessage) -> Sent | Message:
    text = transcript([message.data])
    if not text:
        return notice(NOTHING_TEXT)
    turn = SUMMARIZE.turn(data={"messages": text})
    return await models.answer(ctx, [turn], kind="summarize_message")


@models.command(description="Summarize this channel's recent messages", name="summarize")
async def summarize_channel(
    ctx: JobContext,
    messages: Annotated[
        int, Option("How many recent messages", min_value=1, max_value=MAX_MESSAGES)
    ],
) -> Sent | Message:
    # The bot reads with its own rights: the member must be able to read that history too.
    needed = Permissions.VIEW_CHANNEL | Permissions.READ_MESSAGE_HISTORY
    held = ctx.permissions
    if held is not None and needed not in held and Permissions.ADMINISTRATOR not in held:
        return notice(NOT_YOURS_TO_READ_TEXT)
    channels = ctx.resources.channels
    if channels is None:
        return notice(NO_BOT_TEXT)
    if ctx.channel_id is None:
        return notice(NOTHING_TEXT)
    try:
        # One more: the newest is this command's own "thinking…" reply, which has no text.
        found = await channels.channel_messages(
            ctx.channel_id, limit=min(messages + 1, MAX_MESSAGES)
        )
    except DiscordHTTPError as exc:
        log.warning("channel_unread", status=exc.status, code=exc.code)
        refused = exc.status in (FORBIDDEN, NOT_FOUND)
        return notice(NO_ACCESS_TEXT if refused else READ_FAILED_TEXT)
    with_text = [m for m in found if str(m.get("content") or "").strip()][:messages]
    text = transcript(reversed(with_text))  # Discord lists the newest first
    llm = ctx.resources.llm
    text = fitted(text, llm.settings.data_chars if llm is not None else 0, keep="end")
    if not text:
        return notice(NOTHING_TEXT)
    turn = SUMMARIZE.turn(data={"messages": text})
    return await models.answer(ctx, [turn], kind="summarize")
