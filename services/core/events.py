"""Publishing events on the bot's EventBridge bus, from any command or job.

    await bus.notify("The build finished", guild_id="1234...")

EventBridge answers 200 even when it refuses entries; the refusal is in ``FailedEntryCount``,
so it is checked and raised, never lost.
"""

from __future__ import annotations

import json
from typing import Any, Final

from services.core.aws import AWS_ERRORS, error_code
from services.core.errors import EventPublishError

BUS_NAME: Final = "discord-bot-events"
SOURCE: Final = "discord-bot"
NOTIFICATION: Final = "notification"


class EventBus:
    def __init__(self, *, client: Any, bus_name: str = BUS_NAME) -> None:
        self._client = client
        self._bus_name = bus_name

    async def publish(self, detail_type: str, detail: dict[str, Any]) -> str:
        """Put one event; return its id, or raise ``EventPublishError``."""
        try:
            response = await self._client.put_events(
                Entries=[
                    {
                        "EventBusName": self._bus_name,
                        "Source": SOURCE,
                        "DetailType": detail_type,
                        "Detail": json.dumps(detail),
                    }
                ]
            )
        except AWS_ERRORS as exc:
            raise EventPublishError(error_code(exc)) from None
        entry = (response.get("Entries") or [{}])[0]
        if response.get("FailedEntryCount", 0) or "EventId" not in entry:
            raise EventPublishError(str(entry.get("ErrorCode", "refused")))
        return str(entry["EventId"])

    async def notify(
        self, content: str, *, guild_id: str | None = None, author: str | None = None
    ) -> str:
        """A notification for a server's webhook (the default one without ``guild_id``);
        ``author`` names who sent it, shown under the text."""
        detail: dict[str, Any] = {"content": content}
        if guild_id is not None:
            detail["guild_id"] = guild_id
        if author is not None:
            detail["author"] = author
        return await self.publish(NOTIFICATION, detail)
