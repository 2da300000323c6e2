"""The "User info" user command (right-click a user > Apps): who they are and when their
account was created, read from their id."""

from __future__ import annotations

from services.commands._bot import bot
from services.core.bot import MENTION_NONE, CommandContext, Message, Reply, User
from services.core.discord.messages import escape_markdown


@bot.user_command(name="User info", ephemeral=True)
async def user_info(ctx: CommandContext, user: User) -> Reply:
    created = user.created_at
    lines = [
        f"**{escape_markdown(user.name)}**"
        + (f" (@{escape_markdown(user.username)})" if user.username else ""),
        f"Id: `{user.id}`",
        # <t:…:D> shows the date in the reader's own time zone and language.
        f"Account created: <t:{int(created.timestamp())}:D> ({created:%Y-%m-%d %H:%M} UTC)",
    ]
    if user.bot:
        lines.append("This account is a bot.")
    return Message(content="\n".join(lines), ephemeral=True, allowed_mentions=MENTION_NONE)
