"""Discord REST routes: a method and a path template, kept apart from the values that fill
it, so logs and errors name ``/webhooks/{application_id}/{token}`` and never a token, and the
rate limiter can tell routes and their major parameters apart."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Route:
    """A method and path template, with the values to fill it."""

    method: str
    template: str
    params: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def path(self) -> str:
        return self.template.format_map(self.params)

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"

    @property
    def major(self) -> str:
        """Discord's major parameter: limits are per channel, guild, or webhook + token."""
        for name in ("channel_id", "guild_id"):
            if name in self.params:
                return self.params[name]
        if "token" in self.params:
            owner = self.params.get("webhook_id") or self.params.get("application_id", "")
            return f"{owner}:{self.params['token']}"
        return ""

    def __str__(self) -> str:
        return self.key
