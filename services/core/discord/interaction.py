"""An interaction as Discord sends it, checked strictly where we parse it.

``Interaction`` wraps the JSON without copying it: the worker receives the same JSON through
the queue, and fields we do not model stay available in ``raw``. ``from_payload`` refuses any
shape Discord never sends (``MalformedInteraction``, answered 400 by the API and parked by the
worker), so nothing past it can trip over a number where a string belongs: ids are snowflakes
(they go into URL paths and SSM names), the token has a token's characters (it goes into URL
paths), ``data.options`` is a list of options at every level, and so on.

What is checked is the structure; option *values* are checked against the command's own
declaration when the options are bound, and a mismatch is answered with a message the user
can read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from services.core.discord.components import ComponentType
from services.core.discord.errors import MalformedInteraction
from services.core.discord.models import InteractionType, Permissions
from services.core.discord.snowflake import is_snowflake

# A dict lookup: calling the enum costs more than the rest of parsing a PING.
_INTERACTION_TYPES: Final[dict[int, InteractionType]] = {t.value: t for t in InteractionType}
# Interaction tokens are URL-safe base64-like text (a few hundred characters); nothing else
# may reach the webhook paths they are put in.
_TOKEN: Final = re.compile(r"^[A-Za-z0-9_.\-]{1,1000}$")
# Discord sends permission bitfields as decimal strings (they outgrow 53-bit JSON numbers).
_BITFIELD: Final = re.compile(r"^[0-9]{1,20}$")
MAX_OPTION_DEPTH: Final = 3  # group > subcommand > option
_SCALARS: Final = (str, int, float, bool)


def _fail(reason: str) -> MalformedInteraction:
    return MalformedInteraction(reason)


def _snowflake(payload: Mapping[str, Any], key: str) -> None:
    value = payload.get(key)
    if value is not None and not is_snowflake(value):
        raise _fail(f"{key} is not a snowflake")


def _object(payload: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _fail(f"{key} is not an object")
    return value


def _user(user: Mapping[str, Any] | None, where: str) -> None:
    # Discord's own documentation elides the user as {} in some examples: only an id that is
    # there must be a snowflake.
    if user is not None and "id" in user and not is_snowflake(user["id"]):
        raise _fail(f"{where}.id is not a snowflake")


def _options(options: Any, where: str, depth: int = 1) -> None:
    if options is None:
        return
    if not isinstance(options, list):
        raise _fail(f"{where} is not a list")
    if depth > MAX_OPTION_DEPTH:
        raise _fail(f"{where} is nested too deep")
    for option in options:
        if not isinstance(option, dict) or not isinstance(option.get("name"), str):
            raise _fail(f"{where} holds an option without a name")
        kind = option.get("type")
        if kind is not None and (not isinstance(kind, int) or isinstance(kind, bool)):
            raise _fail(f"{where}: option type is not an integer")
        if "value" in option and not isinstance(option["value"], _SCALARS):
            raise _fail(f"{where}: option value is not a string, number or boolean")
        _options(option.get("options"), f"{where}.options", depth + 1)


def _resolved(data: Mapping[str, Any]) -> None:
    resolved = _object(data, "resolved")
    if resolved is None:
        return
    for kind, table in resolved.items():
        if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
            raise _fail(f"data.resolved.{kind} is not a map of objects")


def _data(kind: InteractionType | int, data: Mapping[str, Any] | None) -> None:
    if kind in (
        InteractionType.APPLICATION_COMMAND,
        InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE,
    ):
        if data is None or not isinstance(data.get("name"), str):
            raise _fail("data.name is missing")
        command_type = data.get("type")
        if command_type is not None and (
            not isinstance(command_type, int) or isinstance(command_type, bool)
        ):
            raise _fail("data.type is not an integer")
        _options(data.get("options"), "data.options")
        _snowflake(data, "target_id")
        _resolved(data)
    elif kind in (InteractionType.MESSAGE_COMPONENT, InteractionType.MODAL_SUBMIT):
        if data is None or not isinstance(data.get("custom_id"), str):
            raise _fail("data.custom_id is missing")
        values = data.get("values")
        if values is not None and not (
            isinstance(values, list) and all(isinstance(v, str) for v in values)
        ):
            raise _fail("data.values is not a list of strings")
        components = data.get("components")
        if components is not None and not (
            isinstance(components, list) and all(isinstance(c, dict) for c in components)
        ):
            raise _fail("data.components is not a list of components")
        _resolved(data)


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
            raise _fail("payload is not a JSON object")
        kind, ident = payload.get("type"), payload.get("id")
        application_id, token = payload.get("application_id"), payload.get("token")
        if not isinstance(kind, int) or isinstance(kind, bool):
            raise _fail("type is not an integer")
        if not is_snowflake(ident):
            raise _fail("id is not a snowflake")
        # Not trusted for anything (replies go to the configured application), so only its
        # type is checked.
        if not isinstance(application_id, str) or not application_id:
            raise _fail("application_id is not a string")
        if not isinstance(token, str) or not _TOKEN.match(token):
            raise _fail("token is not an interaction token")
        typed = _INTERACTION_TYPES.get(kind, kind)
        if typed is not InteractionType.PING:
            cls._check_context(typed, payload)
        return cls(id=ident, application_id=application_id, type=typed, token=token, raw=payload)

    @staticmethod
    def _check_context(kind: InteractionType | int, payload: Mapping[str, Any]) -> None:
        _snowflake(payload, "guild_id")
        _snowflake(payload, "channel_id")
        channel = _object(payload, "channel")
        if channel is not None:
            _snowflake(channel, "id")
        member = _object(payload, "member")
        if member is not None:
            _user(_object(member, "user"), "member.user")
            permissions = member.get("permissions")
            if permissions is not None and not (
                isinstance(permissions, str) and _BITFIELD.match(permissions)
            ):
                raise _fail("member.permissions is not a decimal bitfield")
        _user(_object(payload, "user"), "user")
        message = _object(payload, "message")
        if message is not None:
            _snowflake(message, "id")
            _snowflake(message, "channel_id")
        _data(kind, _object(payload, "data"))

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
        """Permissions of the invoking member; ``None`` outside a server."""
        member = self.raw.get("member")
        if not isinstance(member, dict):
            return None
        permissions = member.get("permissions")
        return Permissions(int(permissions)) if isinstance(permissions, str) else Permissions(0)

    @property
    def message_id(self) -> str | None:
        """The id of the message a component was on."""
        message = self.raw.get("message")
        return str(message["id"]) if isinstance(message, dict) and "id" in message else None

    @property
    def message_flags(self) -> int:
        message = self.raw.get("message")
        flags = message.get("flags") if isinstance(message, dict) else None
        return flags if isinstance(flags, int) else 0


def modal_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """A submitted modal's values by field custom_id, from either layout Discord sends:
    action rows of text inputs, or labels each holding one component."""
    values: dict[str, Any] = {}

    def take(component: Any) -> None:
        if not isinstance(component, dict) or not isinstance(component.get("custom_id"), str):
            return
        if "value" in component:
            values[component["custom_id"]] = component["value"]
        elif isinstance(component.get("values"), list):
            values[component["custom_id"]] = [str(v) for v in component["values"]]

    for outer in data.get("components") or []:
        if not isinstance(outer, dict):
            continue
        if outer.get("type") == ComponentType.ACTION_ROW:
            for inner in outer.get("components") or []:
                take(inner)
        elif outer.get("type") == ComponentType.LABEL:
            take(outer.get("component"))
        else:
            take(outer)
    return values
