"""/notify: publish a notification on the bot's event bus; the scheduler Lambda delivers it
to this server's webhook, naming who sent it and pinging nobody.

Only members who may manage the server: Discord hides it from others
(``default_member_permissions``), and the handler checks again with the permissions Discord
sent, since a server can override who sees a command."""

from __future__ import annotations

from typing import Annotated, Final

from services.commands._bot import bot
from services.commands.server_config import NOT_IN_SERVER
from services.core.bot import JobContext, Option, Reply
from services.core.discord.models import Permissions
from services.core.errors import EventPublishError

NOT_A_MANAGER: Final = "Only members who can manage this server can send notifications."


@bot.command(
    description="Send a notification to this server's channel",
    defer=True,
    ephemeral=True,
    guild_only=True,
    default_member_permissions=Permissions.MANAGE_GUILD,
)
async def notify(
    ctx: JobContext,
    # Room under Discord's 2,000 characters for the line that names the sender.
    message: Annotated[str, Option("What to say", max_length=1800)],
) -> Reply:
    if ctx.guild_id is None:
        return NOT_IN_SERVER
    permissions = ctx.permissions or Permissions(0)
    if not permissions & (Permissions.MANAGE_GUILD | Permissions.ADMINISTRATOR):
        return NOT_A_MANAGER
    author = ctx.interaction.user_name or ctx.user_id or "someone"
    try:
        await ctx.events.notify(message, guild_id=ctx.guild_id, author=author)
    except EventPublishError as exc:
        return f"The notification could not be sent ({exc.reason}); try again."
    return "Notification sent."
