"""/ping: answered inline by the API."""

from services.commands._bot import bot
from services.core.bot import CommandContext, Reply


@bot.command(description="Check that the bot is alive")
async def ping(ctx: CommandContext) -> Reply:
    return "Pong!"
