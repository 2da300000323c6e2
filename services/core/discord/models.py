"""Discord's protocol numbers, named: interaction, response, command and option types,
message flags and permissions (Discord docs, "Interactions" and "Permissions")."""

from __future__ import annotations

from enum import IntEnum, IntFlag
from typing import Final


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
    LOADING = 1 << 7  # a deferred reply still "thinking"


class Permissions(IntFlag):
    ADMINISTRATOR = 1 << 3
    MANAGE_GUILD = 1 << 5
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    READ_MESSAGE_HISTORY = 1 << 16
