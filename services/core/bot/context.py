"""What a handler receives.

A route that runs now gets a ``CommandContext`` in the API and returns its answer. A deferred
route gets a ``JobContext`` in the worker: it may edit its reply as it goes (``ctx.edit``),
send follow-ups and edit or delete them, and returns the final reply, which the worker
delivers (split into several messages past 2,000 characters).

Both tell who acted and where, what a component or modal carried (``values``, ``fields``,
``message``), and build custom_ids for the components they send (``ctx.custom_id``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol

from services.core.bot.errors import NotConfiguredError
from services.core.bot.router import CustomIds
from services.core.bot.routes import Handler, Route
from services.core.discord.interaction import Interaction, modal_values
from services.core.discord.messages import Message
from services.core.discord.models import Permissions

if TYPE_CHECKING:
    from services.core.events import EventBus
    from services.core.llm.runtime import Llm
    from services.core.servers import ServerConfig

Reply = Message | str


@dataclass(frozen=True, slots=True)
class Update:
    """Answer a component (or a modal opened from one) by replacing the message it is on:
    interaction response type 7, or the worker's edit of that message when deferred."""

    message: Reply


def as_message(reply: Reply | Update, *, ephemeral: bool = False) -> Message:
    if isinstance(reply, Update):
        reply = reply.message
    if isinstance(reply, Message):
        return reply
    return Message(content=reply, ephemeral=ephemeral)


class ChannelReader(Protocol):
    """Reading a channel's messages with the bot token (``DiscordRest``)."""

    async def channel_messages(self, channel_id: str, *, limit: int) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class Resources:
    """What the services lend to handlers beside the reply: per-server configuration (SSM),
    the bot's event bus (EventBridge), the language model's parts, and channel reads. The
    worker has them all; the API only the model's table (for Stop)."""

    servers: ServerConfig | None = None
    events: EventBus | None = None
    llm: Llm | None = None
    channels: ChannelReader | None = None


class Sent:
    """A deferred handler's answer when it has already delivered everything itself (an
    answer streamed into several messages): the worker sends nothing more."""

    __slots__ = ()


SENT: Final = Sent()


class Responder(Protocol):
    """Where a job's replies go (``services.core.discord.reply.OriginalReply``)."""

    async def edit(self, message: Message) -> None: ...
    async def followup(self, message: Message) -> str | None: ...
    async def edit_followup(self, message_id: str, message: Message) -> None: ...
    async def delete_followup(self, message_id: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Followup:
    """A follow-up message a job sent, to edit or delete later."""

    id: str | None
    _responder: Responder = field(repr=False)
    ephemeral: bool = False

    async def edit(self, reply: Reply) -> None:
        if self.id is not None:
            await self._responder.edit_followup(
                self.id, as_message(reply, ephemeral=self.ephemeral)
            )

    async def delete(self) -> None:
        if self.id is not None:
            await self._responder.delete_followup(self.id)


class _Invocation:
    """What every context tells about the interaction: who, where, and what it carried."""

    __slots__ = ()
    interaction: Interaction
    route: Route
    ids: CustomIds

    @property
    def user_id(self) -> str | None:
        return self.interaction.user_id

    @property
    def guild_id(self) -> str | None:
        return self.interaction.guild_id

    @property
    def channel_id(self) -> str | None:
        return self.interaction.channel_id

    @property
    def locale(self) -> str | None:
        locale = self.interaction.raw.get("locale")
        return locale if isinstance(locale, str) else None

    @property
    def permissions(self) -> Permissions | None:
        """The member's permissions; ``None`` outside a server."""
        return self.interaction.member_permissions

    @property
    def values(self) -> tuple[str, ...]:
        """What was chosen in a select menu (option values, or user/role/channel ids)."""
        values = self.interaction.data.get("values")
        return tuple(str(v) for v in values) if isinstance(values, list) else ()

    @property
    def fields(self) -> Mapping[str, Any]:
        """A submitted modal's values by field custom_id: text for a text input, a list for
        a select or file upload, a bool for a checkbox."""
        return modal_values(self.interaction.data)

    @property
    def message(self) -> Mapping[str, Any] | None:
        """The message a component was on (as Discord sent it), else ``None``."""
        message = self.interaction.raw.get("message")
        return message if isinstance(message, dict) else None

    def custom_id(self, handler: Handler, /, **values: Any) -> str:
        """The custom_id that routes to ``handler`` (a component or modal) with ``values``."""
        return self.ids.encode(handler, **values)


# Not frozen: built for every interaction, and a frozen dataclass's __init__ costs several
# times a plain one on that path. Treat it as read-only.
@dataclass(slots=True)
class CommandContext(_Invocation):
    interaction: Interaction
    route: Route
    ids: CustomIds = field(default_factory=lambda: CustomIds({}, None), repr=False)
    resources: Resources = field(default=Resources(), repr=False)


@dataclass(slots=True)
class JobContext(_Invocation):
    interaction: Interaction
    route: Route
    received_at: float
    ephemeral: bool
    _responder: Responder = field(repr=False)
    resources: Resources = field(default_factory=Resources, repr=False)
    ids: CustomIds = field(default_factory=lambda: CustomIds({}, None), repr=False)

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

    async def edit(self, reply: Reply | Update) -> None:
        """Replace the reply (a progress update), or the component's message when the route
        defers an update. Past 2,000 characters the text is cut: split long text in the
        final reply, which the worker sends as several messages."""
        await self._responder.edit(as_message(reply, ephemeral=self.ephemeral))

    async def followup(self, reply: Reply) -> Followup:
        """Send a further message; the handle edits or deletes it later."""
        sent = await self._responder.followup(as_message(reply, ephemeral=self.ephemeral))
        return Followup(sent, self._responder, self.ephemeral)
