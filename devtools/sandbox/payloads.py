"""From what the page asks for to the interaction Discord's client would send.

The page speaks in what a user did ("ran /config set with these options", "clicked this
button on that message", "submitted this form") and as whom; this module turns that into an
interaction payload with ``devtools.interactions``' builders, as the CLI and the tests do, so
all three send the same JSON. A request the page should never make is a ``BadRequestError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from devtools import interactions
from devtools.sandbox.errors import BadRequestError
from devtools.send import MEMBER_PERMISSIONS
from devtools.standin.state import DiscordState
from services.core.discord.components import ComponentType
from services.core.discord.models import InteractionType, OptionType, Permissions

# Discord's channel types (docs, "Channel Object"): a server's text channel, a DM.
GUILD_TEXT: Final = 0
DM: Final = 1
MEMBER_ID: Final = "900000000000000004"
# A subcommand group holds subcommands, which hold options: no deeper (Discord docs,
# "Subcommands and Subcommand Groups").
MAX_OPTION_DEPTH: Final = 3


@dataclass(frozen=True, slots=True)
class Person:
    """Who is typing, and where: what the page's user switch offers."""

    key: str
    label: str
    user: Mapping[str, Any]
    guild_id: str | None
    channel_id: str
    permissions: int = 0
    roles: Sequence[str] = field(default_factory=tuple)

    def describe(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "user": dict(self.user),
            "guild_id": self.guild_id,
            "channel_id": self.channel_id,
            "permissions": str(self.permissions),
        }


PEOPLE: Final = {
    person.key: person
    for person in (
        Person(
            "admin",
            "dev, a server administrator",
            interactions.user(interactions.DEV_USER_ID, "dev", global_name="Dev"),
            interactions.DEV_GUILD_ID,
            interactions.DEV_CHANNEL_ID,
            int(Permissions.ADMINISTRATOR) | MEMBER_PERMISSIONS,
        ),
        Person(
            "member",
            "sam, an ordinary member",
            interactions.user(MEMBER_ID, "sam", global_name="Sam"),
            interactions.DEV_GUILD_ID,
            interactions.DEV_CHANNEL_ID,
            MEMBER_PERMISSIONS,
        ),
        Person(
            "dm",
            "dev, in a DM with the bot",
            interactions.user(interactions.DEV_USER_ID, "dev", global_name="Dev"),
            None,
            interactions.DEV_DM_CHANNEL_ID,
        ),
    )
}

BOT: Final = interactions.user(interactions.DEV_BOT_ID, "bot", global_name="Bot", bot=True)

CHANNELS: Final = [
    {"id": interactions.DEV_CHANNEL_ID, "name": "general", "type": GUILD_TEXT},
    {"id": interactions.DEV_DM_CHANNEL_ID, "name": "bot", "type": DM},
]

# Options whose value is an id that Discord resolves into ``data.resolved``.
_RESOLVED: Final[Mapping[Any, str]] = {
    int(OptionType.USER): "users",
    int(OptionType.ATTACHMENT): "attachments",
}


def person(name: Any) -> Person:
    found = PEOPLE.get(name) if isinstance(name, str) else None
    if found is None:
        raise BadRequestError("as", f"one of {', '.join(PEOPLE)}")
    return found


def _text(request: Mapping[str, Any], key: str) -> str:
    value = request.get(key)
    if not isinstance(value, str) or not value:
        raise BadRequestError(key, "a non-empty string is required")
    return value


def _checked(options: Any, depth: int = 1) -> list[dict[str, Any]]:
    if not isinstance(options, list) or not all(isinstance(o, dict) for o in options):
        raise BadRequestError("options", "a list of Discord's option objects is required")
    for option in options:
        kind = option.get("type")
        if not isinstance(option.get("name"), str) or type(kind) is not int:
            raise BadRequestError("options", "each needs a name (text) and a type (a number)")
        if "options" in option:
            if depth >= MAX_OPTION_DEPTH:
                raise BadRequestError("options", "nested deeper than Discord allows")
            _checked(option["options"], depth + 1)
    return options


def _options(request: Mapping[str, Any]) -> list[dict[str, Any]]:
    return _checked(request.get("options", []))


def _leaves(options: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The options that carry values, below any subcommand group and subcommand."""
    found: list[Mapping[str, Any]] = []
    for option in options:
        nested = option.get("options")
        if isinstance(nested, list):
            found.extend(_leaves(nested))
        else:
            found.append(option)
    return found


def _resolved(
    options: Sequence[Mapping[str, Any]], attachments: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """``data.resolved`` for the users and attachments the options name, as Discord fills it."""
    users = {p.user["id"]: dict(p.user) for p in PEOPLE.values()}
    resolved: dict[str, dict[str, Any]] = {}
    for option in _leaves(options):
        key = _RESOLVED.get(option.get("type"))
        value = str(option.get("value"))
        if key is None:
            continue
        found = (users if key == "users" else attachments).get(value)
        if found is None:
            raise BadRequestError(str(option.get("name")), f"no {key[:-1]} {value} here")
        resolved.setdefault(key, {})[value] = dict(found)
    return resolved


def _message(store: DiscordState, request: Mapping[str, Any]) -> dict[str, Any]:
    message = store.messages.get(_text(request, "message_id"))
    if message is None:
        raise BadRequestError("message_id", "no such message (deleted?)")
    return message


def build(
    request: Mapping[str, Any],
    *,
    application_id: str,
    store: DiscordState,
    attachments: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """The interaction payload for one thing the page's user did."""
    who = person(request.get("as"))
    where: dict[str, Any] = {
        "guild_id": who.guild_id,
        "permissions": who.permissions,
        "invoker": who.user,
    }
    kind = request.get("kind")
    if kind in ("command", "autocomplete"):
        options = _options(request)
        payload = interactions.command(
            application_id,
            _text(request, "name"),
            options,
            resolved=_resolved(options, attachments) if kind == "command" else None,
            **where,
        )
        if kind == "autocomplete":
            payload["type"] = int(InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE)
    elif kind == "user_command":
        targets = [p.user for p in PEOPLE.values()] + [BOT]
        target = next((u for u in targets if u["id"] == request.get("target")), None)
        if target is None:
            raise BadRequestError("target", "the id of a user shown on the page is required")
        payload = interactions.user_command(
            application_id, _text(request, "name"), target=target, **where
        )
    elif kind == "message_command":
        target = _message(store, request)
        payload = interactions.message_command(
            application_id, _text(request, "name"), target=target, **where
        )
    elif kind == "click":
        values = request.get("values")
        if values is not None and not (
            isinstance(values, list) and all(isinstance(v, str) for v in values)
        ):
            raise BadRequestError("values", "a list of strings, for a select menu")
        component_type = request.get("component_type", int(ComponentType.BUTTON))
        if not isinstance(component_type, int):
            raise BadRequestError("component_type", "a number")
        payload = interactions.click(
            application_id,
            _text(request, "custom_id"),
            message=_message(store, request),
            component_type=component_type,
            values=values,
            **where,
        )
    elif kind == "modal":
        fields = request.get("fields")
        if not isinstance(fields, dict) or not all(
            isinstance(v, str) or (isinstance(v, list) and all(isinstance(i, str) for i in v))
            for v in fields.values()
        ):
            raise BadRequestError(
                "fields", "an object of field custom_id to text (or chosen values)"
            )
        message = _message(store, request) if request.get("message_id") else None
        payload = interactions.modal_submit(
            application_id, _text(request, "custom_id"), fields, message=message, **where
        )
    else:
        raise BadRequestError(
            "kind", "one of command, autocomplete, user_command, message_command, click, modal"
        )
    # Where it happened, as Discord sends it: the channel's id and a partial channel.
    payload["channel_id"] = who.channel_id
    channel = next(c for c in CHANNELS if c["id"] == who.channel_id)
    payload["channel"] = {"id": channel["id"], "type": channel["type"]}
    if who.guild_id is not None:
        payload["channel"] |= {"guild_id": who.guild_id, "name": channel["name"]}
    return payload
