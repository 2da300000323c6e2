"""/config: a server's webhook and settings, for its administrators only.

Discord hides the command from members without ADMINISTRATOR (``default_member_permissions``),
and the handler checks again with the permissions Discord sent, since a server can override
who sees a command. Everything is keyed by the interaction's own server, so no option can
reach another server's configuration. Replies never show a whole webhook URL.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from services.commands._bot import bot
from services.core.bot import MENTION_NONE, JobContext, Message, Option, Reply
from services.core.discord.models import Permissions
from services.core.discord.webhook_urls import NotAWebhookUrl, check_webhook_url, parse_webhook_url
from services.core.env import Secret
from services.core.errors import ConfigStoreError
from services.core.llm.answer import MODEL_SETTING

RESET: Final = "default"
NOT_IN_SERVER: Final = "This command only works in a server."
NOT_ADMIN: Final = "Only server administrators can see or change the bot's configuration."
NOT_READ: Final = "The configuration could not be read right now ({reason}); try again shortly."
NOT_SAVED: Final = (
    "The configuration could not be saved right now ({reason}); nothing was changed. "
    "Try again shortly."
)

config = bot.group(
    "config",
    "This server's bot configuration",
    default_member_permissions=Permissions.ADMINISTRATOR,
    guild_only=True,
)


def _refusal(ctx: JobContext) -> str | None:
    if ctx.guild_id is None:
        return NOT_IN_SERVER
    permissions = ctx.interaction.member_permissions
    if permissions is None or Permissions.ADMINISTRATOR not in permissions:
        return NOT_ADMIN
    return None


def masked(url: Secret | None) -> str:
    """Enough to recognise a webhook, never enough to use it."""
    if url is None:
        return "not set"
    try:
        webhook_id, _token = parse_webhook_url(url)
    except ValueError:
        return "set (not a Discord webhook URL)"
    return f"webhook {webhook_id} (token hidden)"


@config.command(description="Show this server's configuration", defer=True, ephemeral=True)
async def show(ctx: JobContext) -> Reply:
    if (refused := _refusal(ctx)) is not None:
        return refused
    assert ctx.guild_id is not None
    try:
        webhook = await ctx.servers.webhook(ctx.guild_id)
        settings = await ctx.servers.settings(ctx.guild_id)
    except ConfigStoreError as exc:
        return NOT_READ.format(reason=exc.code)
    lines = [f"Webhook: {masked(webhook)}"]
    lines += [f"{key}: {value}" for key, value in sorted(settings.items())] or ["No settings."]
    return "\n".join(lines)


@config.command(description="Set the webhook the bot posts to", defer=True, ephemeral=True)
async def webhook(
    ctx: JobContext,
    url: Annotated[str, Option("The channel webhook's URL", max_length=300)],
) -> Reply:
    if (refused := _refusal(ctx)) is not None:
        return refused
    assert ctx.guild_id is not None
    try:
        secret = check_webhook_url(url)
    except NotAWebhookUrl as exc:
        return (
            f"That is not a Discord webhook URL ({exc.problem}): copy it from the channel's "
            "settings, Integrations, Webhooks (https://discord.com/api/webhooks/…)."
        )
    try:
        await ctx.servers.set_webhook(ctx.guild_id, secret)
    except ConfigStoreError as exc:
        return NOT_SAVED.format(reason=exc.code)
    return f"Webhook set: {masked(secret)}."


def _model_refusal(ctx: JobContext, model: str) -> str | None:
    """A model the operator does not allow (each costs what it costs), in words."""
    llm = ctx.resources.llm
    allowed = sorted(llm.settings.allowed_models) if llm is not None else []
    if model in allowed:
        return None
    if not allowed:
        return "This bot has no language model configured, so there is no model to choose."
    return f"That model is not one this bot allows. Choose one of: {', '.join(allowed)}."


@config.command(description="Change one setting", defer=True, ephemeral=True)
async def set_(
    ctx: JobContext,
    key: Annotated[
        Literal["reminder", "model", "system_prompt"],
        Option("Setting (model and system_prompt are for the AI commands)"),
    ],
    value: Annotated[str, Option(f'New value ("{RESET}" for the bot\'s own)', max_length=1500)],
) -> Reply:
    if (refused := _refusal(ctx)) is not None:
        return refused
    assert ctx.guild_id is not None
    value = value.strip()
    reset = value.lower() == RESET
    if key == MODEL_SETTING and not reset and (refused := _model_refusal(ctx, value)):
        return refused
    try:
        settings = await ctx.servers.settings(ctx.guild_id)
        if reset:
            settings.pop(key, None)
        else:
            settings[key] = value
        await ctx.servers.set_settings(ctx.guild_id, settings)
    except ConfigStoreError as exc:
        return NOT_SAVED.format(reason=exc.code)
    if reset:
        return f"{key} is back to the bot's own."
    # The server's own words, shown back: nobody is pinged by them.
    return Message(content=f"{key} is now: {value}", allowed_mentions=MENTION_NONE, ephemeral=True)
