"""The "Word count" message command (right-click a message > Apps)."""

from __future__ import annotations

from services.commands._bot import bot
from services.core.bot import CommandContext, Message, Reply, TargetMessage


@bot.message_command(name="Word count", ephemeral=True)
async def word_count(ctx: CommandContext, message: TargetMessage) -> Reply:
    words = len(message.content.split())
    if not message.content:
        return Message(content="That message has no text to count.", ephemeral=True)
    return Message(
        content=f"That message has {words} word{'' if words == 1 else 's'}.", ephemeral=True
    )
