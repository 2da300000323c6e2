"""/notify: publish a notification on the bot's event bus; the scheduler Lambda delivers it
to this server's webhook."""

from __future__ import annotations

from typing import Annotated

from services.commands._bot import bot
from services.commands.server_config import NOT_IN_SERVER
from services.core.bot import JobContext, Option, Reply
from services.core.errors import EventPublishError


@bot.command(
    description="Send a notification to this server's channel",
    defer=True,
    ephemeral=True,
    guild_only=True,
)
async def notify(
    ctx: JobContext,
    message: Annotated[str, Option("What to say", max_length=2000)],
) -> Reply:
    if ctx.guild_id is None:
        return NOT_IN_SERVER
    try:
        await ctx.events.notify(message, guild_id=ctx.guild_id)
    except EventPublishError as exc:
        return f"The notification could not be sent ({exc.reason}); try again."
    return "Notification sent."
