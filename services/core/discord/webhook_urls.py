"""Channel webhook URLs: reading the id and token out of one, and deciding whether a URL a
user gives is one.

    https://discord.com/api/webhooks/{id}/{token}
    https://canary.discord.com/api/v10/webhooks/{id}/{token}

The bot only ever takes the id and token from a stored URL and sends the request to its own
Discord API URL, so a stored URL cannot send the bot anywhere else; still, ``/config
webhook`` accepts only what Discord hands out, so nothing else is stored.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import urlsplit

from services.core.discord.snowflake import is_snowflake
from services.core.env import Secret

WEBHOOK_HOSTS: Final = frozenset(
    {
        "discord.com",
        "ptb.discord.com",
        "canary.discord.com",
        "discordapp.com",
        "ptb.discordapp.com",
        "canary.discordapp.com",
    }
)
_WEBHOOK_PATH: Final = r"/webhooks/([0-9]{1,20})/([A-Za-z0-9_\-]{20,100})"
# Discord's own form: /api, an optional version, /webhooks/{id}/{token}.
_DISCORD_PATH: Final = re.compile(r"/api(?:/v[0-9]{1,2})?" + _WEBHOOK_PATH)
# Any API root (the local stand-in's too) followed by /webhooks/{id}/{token}.
_ANY_PATH: Final = re.compile(r".*" + _WEBHOOK_PATH + r"/?")


class NotAWebhookUrl(ValueError):  # noqa: N818 - reads as what it is
    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"not a Discord webhook URL: {problem}")


def parse_webhook_url(url: Secret) -> tuple[str, str]:
    """The id and token of a stored webhook URL (…/webhooks/{id}/{token})."""
    parts = urlsplit(url.reveal())
    found = _ANY_PATH.fullmatch(parts.path)
    if found is None or not is_snowflake(found.group(1)):
        raise NotAWebhookUrl("no /webhooks/{id}/{token} in its path")
    return found.group(1), found.group(2)


def check_webhook_url(text: str) -> Secret:
    """A webhook URL as Discord hands them out, or ``NotAWebhookUrl`` saying what is wrong."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise NotAWebhookUrl("it does not parse as a URL") from None
    if parts.scheme != "https":
        raise NotAWebhookUrl("it must start with https://")
    if parts.hostname not in WEBHOOK_HOSTS or port not in (None, 443) or parts.username:
        raise NotAWebhookUrl("it must be on discord.com")
    if parts.query or parts.fragment:
        raise NotAWebhookUrl("it must not carry a query or a fragment")
    found = _DISCORD_PATH.fullmatch(parts.path.rstrip("/"))
    if found is None or not is_snowflake(found.group(1)):
        raise NotAWebhookUrl("its path must be /api/webhooks/{id}/{token}")
    return Secret(f"https://{parts.hostname}/api/webhooks/{found.group(1)}/{found.group(2)}")
