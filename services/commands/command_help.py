"""/help: what a command does and takes; typing the command's name offers the bot's commands
(autocomplete, answered by the API while the user types). Without a name, a menu of the
commands: choosing one shows it in the same message."""

from __future__ import annotations

from typing import Annotated, Final

from services.commands._bot import bot
from services.core.bot import (
    MENTION_NONE,
    CommandContext,
    Message,
    Option,
    Reply,
    SelectOption,
    StringSelect,
    Update,
)
from services.core.bot.commands import Command
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


def describe(found: Command) -> str:
    lines = [f"**/{found.path}**: {found.description}"]
    if found.options:
        lines += ["Options:", *(describe_option(o) for o in found.options)]
    else:
        lines.append("It takes no options.")
    if found.deferred:
        lines.append("It runs in the background and edits its reply as it goes.")
    return "\n".join(lines)


def menu(ctx: CommandContext, chosen: str | None = None) -> StringSelect:
    """The bot's commands, the one shown marked as chosen (Discord shows at most 25)."""
    commands = sorted(bot.commands(), key=lambda c: c.path)[:MAX_SUGGESTIONS]
    options = [
        SelectOption(
            f"/{c.path}", c.path, description=c.description[:100], default=c.path == chosen
        )
        for c in commands
    ]
    return StringSelect(ctx.custom_id(help_pick), placeholder="Choose a command", options=options)


@bot.command(description="Describe one of the bot's commands", ephemeral=True)
async def help_(
    ctx: CommandContext,
    command: Annotated[
        str | None, Option("The command to describe (none: a menu of them)", max_length=100)
    ] = None,
) -> Reply:
    if command is None:
        return Message(
            content="Which command would you like to know about?",
            components=[menu(ctx)],
            ephemeral=True,
        )
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
    return Message(content=describe(found), ephemeral=True)


@bot.component("help-pick")
async def help_pick(ctx: CommandContext) -> Update:
    """A command chosen in the menu: described in the same message, the menu kept."""
    path = ctx.values[0] if ctx.values else ""
    try:
        content = describe(bot.get(path))
    except UnknownCommandError:  # a command removed since the menu was sent
        content = "That command no longer exists; choose another."
    return Update(Message(content=content, components=[menu(ctx, path)]))


@bot.autocomplete("help", "command")
async def command_names(ctx: CommandContext, current: str) -> list[Choice]:
    typed = str(current).strip().lstrip("/").lower()
    paths = sorted(c.path for c in bot.commands())
    # Names that start with what was typed first, then names that merely contain it.
    ranked = [p for p in paths if p.startswith(typed)] + [
        p for p in paths if typed in p and not p.startswith(typed)
    ]
    return [Choice(f"/{p}", p) for p in ranked[:MAX_SUGGESTIONS]]
