"""/help: what a command does and takes; typing the command's name offers the bot's commands
(autocomplete, answered by the API while the user types)."""

from __future__ import annotations

from typing import Annotated, Final

from services.commands._bot import bot
from services.core.bot import MENTION_NONE, CommandContext, Message, Option, Reply
from services.core.bot.errors import UnknownCommandError
from services.core.bot.options import Choice, OptionSpec
from services.core.discord.messages import escape_markdown

# Discord shows at most 25 suggestions.
MAX_SUGGESTIONS: Final = 25


def describe_option(spec: OptionSpec) -> str:
    limits = []
    meta = spec.meta
    if meta.min_value is not None:
        limits.append(f"at least {meta.min_value}")
    if meta.max_value is not None:
        limits.append(f"at most {meta.max_value}")
    if meta.choices:
        limits.append("one of " + ", ".join(c.name for c in meta.choices))
    kind = spec.type.name.lower()
    need = "required" if spec.required else f"optional, default {spec.default!r}"
    extra = f"; {'; '.join(limits)}" if limits else ""
    return f"• `{spec.name}` ({kind}, {need}{extra}): {spec.description}"


@bot.command(description="Describe one of the bot's commands", ephemeral=True)
async def help_(
    ctx: CommandContext,
    command: Annotated[str, Option("The command to describe", max_length=100)],
) -> Reply:
    path = command.strip().lstrip("/")
    try:
        found = bot.get(path)
    except UnknownCommandError:
        shown = escape_markdown(path[:50])
        return Message(
            content=f"There is no command called /{shown}.",
            ephemeral=True,
            allowed_mentions=MENTION_NONE,
        )
    lines = [f"**/{found.path}**: {found.description}"]
    if found.options:
        lines += ["Options:", *(describe_option(o) for o in found.options)]
    else:
        lines.append("It takes no options.")
    if found.deferred:
        lines.append("It runs in the background and edits its reply as it goes.")
    return Message(content="\n".join(lines), ephemeral=True)


@bot.autocomplete("help", "command")
async def command_names(ctx: CommandContext, current: str) -> list[Choice]:
    typed = str(current).strip().lstrip("/").lower()
    paths = sorted(c.path for c in bot.commands())
    # Names that start with what was typed first, then names that merely contain it.
    ranked = [p for p in paths if p.startswith(typed)] + [
        p for p in paths if typed in p and not p.startswith(typed)
    ]
    return [Choice(f"/{p}", p) for p in ranked[:MAX_SUGGESTIONS]]
