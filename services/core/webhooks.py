"""Messages to servers through their webhooks (SSM), with the REST client's rate-limit
handling. Every message allows at most user mentions: text from users never pings
@everyone or a role."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Protocol

from services.core.discord.errors import DiscordHTTPError
from services.core.discord.messages import MENTION_USERS, Message
from services.core.env import Secret
from services.core.errors import NoWebhook
from services.core.servers import ServerConfig

DEFAULT_TARGET: Final = "default"
UNKNOWN_WEBHOOK: Final = 10015


class WebhookApi(Protocol):
    async def execute_webhook(self, webhook_url: Secret, message: Message) -> dict[str, Any]: ...


class WebhookDelivery:
    def __init__(self, *, rest: WebhookApi, servers: ServerConfig) -> None:
        self._rest = rest
        self.servers = servers

    async def send(
        self,
        guild_id: str | None,
        content: str,
        *,
        mentions: Mapping[str, Any] = MENTION_USERS,
    ) -> str:
        """Post ``content`` to a server's webhook (the default one without a server);
        return the message id. Raises ``NoWebhook`` or ``DiscordHTTPError``."""
        url = (
            await self.servers.webhook(guild_id)
            if guild_id is not None
            else await self.servers.default_webhook()
        )
        if url is None:
            raise NoWebhook(guild_id or DEFAULT_TARGET)
        sent = await self._rest.execute_webhook(
            url, Message(content=content, allowed_mentions=mentions)
        )
        return str(sent.get("id", ""))


def describe_failure(exc: Exception) -> str:
    """A reason for a log line or a report: never the webhook URL."""
    if isinstance(exc, NoWebhook):
        return "no webhook configured"
    if isinstance(exc, DiscordHTTPError):
        if exc.status == 404 and exc.code == UNKNOWN_WEBHOOK:
            return "webhook deleted in Discord (404)"
        return f"Discord answered {exc.status} (code {exc.code})"
    if isinstance(exc, ValueError):
        return "stored webhook URL is not a Discord webhook URL"
    return type(exc).__name__
