"""Discord interaction payloads and the messages we send back, with protocol numbers named.

An ``Interaction`` wraps the JSON Discord sent without copying it: the worker receives the
same JSON through the queue, and fields we do not model stay available in ``raw``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, IntFlag
from typing import Any, Final

from services.core.discord.errors import MalformedInteraction


class InteractionType(IntEnum):
    PING = 1
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    APPLICATION_COMMAND_AUTOCOMPLETE = 4
    MODAL_SUBMIT = 5


# A dict lookup: calling the enum costs more than the rest of parsing a PING.
_INTERACTION_TYPES: Final[dict[int, InteractionType]] = {t.value: t for t in InteractionType}


class ResponseType(IntEnum):
    """Interaction callback types."""

    PONG = 1
    CHANNEL_MESSAGE_WITH_SOURCE = 4
    DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
    DEFERRED_UPDATE_MESSAGE = 6
    UPDATE_MESSAGE = 7
    APPLICATION_COMMAND_AUTOCOMPLETE_RESULT = 8
    MODAL = 9


class CommandType(IntEnum):
    CHAT_INPUT = 1
    USER = 2
    MESSAGE = 3


class OptionType(IntEnum):
    SUB_COMMAND = 1
    SUB_COMMAND_GROUP = 2
    STRING = 3
    INTEGER = 4
    BOOLEAN = 5
    USER = 6
    CHANNEL = 7
    ROLE = 8
    MENTIONABLE = 9
    NUMBER = 10
    ATTACHMENT = 11


class MessageFlags(IntFlag):
    EPHEMERAL = 1 << 6


class Permissions(IntFlag):
    ADMINISTRATOR = 1 << 3
    MANAGE_GUILD = 1 << 5


@dataclass(frozen=True, slots=True)
class Interaction:
    """The fields every part of the product reads; the rest stays in ``raw``."""

    id: str
    application_id: str
    type: InteractionType | int
    token: str = field(repr=False)
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_payload(cls, payload: Any) -> Interaction:
        if not isinstance(payload, dict):
            raise MalformedInteraction("payload is not a JSON object")
        try:
            kind = payload["type"]
            ident = payload["id"]
            application_id = payload["application_id"]
            token = payload["token"]
        except KeyError as exc:
            raise MalformedInteraction(f"missing field {exc.args[0]!r}") from None
        if not isinstance(kind, int) or isinstance(kind, bool):
            raise MalformedInteraction("type is not an integer")
        if not all(isinstance(v, str) and v for v in (ident, application_id, token)):
            raise MalformedInteraction("id, application_id and token must be strings")
        typed = _INTERACTION_TYPES.get(kind, kind)
        return cls(id=ident, application_id=application_id, type=typed, token=token, raw=payload)

    @property
    def data(self) -> dict[str, Any]:
        data = self.raw.get("data")
        return data if isinstance(data, dict) else {}

    @property
    def guild_id(self) -> str | None:
        return self.raw.get("guild_id")

    @property
    def channel_id(self) -> str | None:
        channel = self.raw.get("channel")
        if isinstance(channel, dict) and "id" in channel:
            return str(channel["id"])
        return self.raw.get("channel_id")

    @property
    def user_id(self) -> str | None:
        """The invoking user, whether in a server (``member.user``) or a DM (``user``)."""
        member = self.raw.get("member")
        user = member.get("user") if isinstance(member, dict) else self.raw.get("user")
        return str(user["id"]) if isinstance(user, dict) and "id" in user else None

    @property
    def member_permissions(self) -> Permissions | None:
        """Permissions of the invoking member; ``None`` outside a server. Discord sends the
        bitfield as a decimal string because it outgrows 53-bit JSON numbers."""
        member = self.raw.get("member")
        if not isinstance(member, dict):
            return None
        try:
            return Permissions(int(member.get("permissions", "0")))
        except (TypeError, ValueError):
            return Permissions(0)
