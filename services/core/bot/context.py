"""What a command handler receives.

An instant command gets a ``CommandContext`` in the API and returns its reply. A deferred
command gets a ``JobContext`` in the worker: it may edit the reply as it goes (``ctx.edit``),
send follow-ups, and returns the final reply, which the worker delivers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from services.core.bot.errors import NotConfiguredError
from services.core.discord.messages import Message
from services.core.discord.models import Interaction, Permissions

if TYPE_CHECKING:
    from services.core.events import EventBus
    from services.core.servers import ServerConfig

Reply = Message | str


@dataclass(frozen=True, slots=True)
class Resources:
    """What the worker lends to jobs beside Discord: per-server configuration (SSM) and the
    bot's event bus (EventBridge)."""

    servers: ServerConfig | None = None
    events: EventBus | None = None


def as_message(reply: Reply, *, ephemeral: bool = False) -> Message:
    if isinstance(reply, Message):
        return reply
    return Message(content=reply, ephemeral=ephemeral)


class Responder(Protocol):
    """Where a job's replies go (``services.core.discord.reply.OriginalReply``)."""

    async def edit(self, message: Message) -> None: ...

    async def followup(self, message: Message) -> str | None: ...


class _Invocation:
    """What both contexts tell about who ran the command, and where."""

    __slots__ = ()
    interaction: Interaction

    @property
    def user_id(self) -> str | None:
        return self.interaction.user_id

    @property
    def guild_id(self) -> str | None:
        return self.interaction.guild_id

    @property
    def permissions(self) -> Permissions | None:
        """The member's permissions; ``None`` outside a server."""
        return self.interaction.member_permissions


@dataclass(frozen=True, slots=True)
class CommandContext(_Invocation):
    interaction: Interaction
    command_path: str


@dataclass(frozen=True, slots=True)
class JobContext(_Invocation):
    interaction: Interaction
    command_path: str
    received_at: float
    ephemeral: bool
    _responder: Responder = field(repr=False)
    resources: Resources = field(default_factory=Resources, repr=False)

    @property
    def servers(self) -> ServerConfig:
        if self.resources.servers is None:
            raise NotConfiguredError("per-server configuration", "SSM_PREFIX")
        return self.resources.servers

    @property
    def events(self) -> EventBus:
        if self.resources.events is None:
            raise NotConfiguredError("the event bus", "EVENT_BUS_NAME")
        return self.resources.events

    async def edit(self, reply: Reply) -> None:
        """Replace the deferred reply's content (a progress update)."""
        await self._responder.edit(as_message(reply, ephemeral=self.ephemeral))

    async def followup(self, reply: Reply) -> str | None:
        """Send a further message; returns its id."""
        return await self._responder.followup(as_message(reply, ephemeral=self.ephemeral))
