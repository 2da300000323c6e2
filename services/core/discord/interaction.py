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
# fullmatch, not "^…$": "$" also matches before a trailing newline.
_TOKEN: Final = re.compile(r"[A-Za-z0-9_.\-]{1,1000}")
# Discord sends permission bitfields as decimal strings (they outgrow 53-bit JSON numbers).
_BITFIELD: Final = re.compile(r"[0-9]{1,20}")
MAX_OPTION_DEPTH: Final = 3  # group > subcommand > option
_SCALARS: Final = (str, int, float, bool)


def _fail(reason: str) -> MalformedInteraction:
    return MalformedInteraction(reason)


# Every interaction is parsed on the hot path: ids of up to 19 ASCII digits (all of today's,
# and any below 2^63) pass with two string methods; is_snowflake settles the rest.
_SHORT_ID_DIGITS: Final = 19


def _id_or_none(value: Any, where: str) -> None:
    if value is None:
        return
    if type(value) is str and len(value) <= _SHORT_ID_DIGITS and value.isdigit():
        if value.isascii():
            return
    elif is_snowflake(value):
        return
    raise _fail(f"{where} is not a snowflake")


def _object(value: Any, where: str) -> dict[str, Any] | None:
    if value is not None and type(value) is not dict:
        raise _fail(f"{where} is not an object")
    return value


def _integer_or_none(value: Any, where: str) -> None:
    if value is not None and type(value) is not int:
        raise _fail(f"{where} is not an integer")


def _user(user: Any, where: str) -> None:
    # Discord's own documentation elides the user as {} in some examples: only an id that is
    # there must be a snowflake.
    if user is None:
        return
    if type(user) is not dict:
        raise _fail(f"{where.removesuffix('.id')} is not an object")
    _id_or_none(user.get("id"), where)


def _options(options: Any, where: str, depth: int = 1) -> None:
    if options is None:
        return
    if type(options) is not list:
        raise _fail(f"{where} is not a list")
    if depth > MAX_OPTION_DEPTH:
        raise _fail(f"{where} is nested too deep")
    for option in options:
        if type(option) is not dict or type(option.get("name")) is not str:
            raise _fail(f"{where} holds an option without a name")
        _integer_or_none(option.get("type"), f"{where}: option type")
        if "value" in option and not isinstance(option["value"], _SCALARS):
            raise _fail(f"{where}: option value is not a string, number or boolean")
        if "options" in option:
            _options(option["options"], f"{where}.options", depth + 1)


def _resolved(data: dict[str, Any]) -> None:
    resolved = _object(data.get("resolved"), "data.resolved")
    if not resolved:
        return
    for kind, table in resolved.items():
        if type(table) is not dict or not all(type(v) is dict for v in table.values()):
            raise _fail(f"data.resolved.{kind} is not a map of objects")


def _strings(values: Any, where: str) -> None:
    if values is not None and not (type(values) is list and all(type(v) is str for v in values)):
        raise _fail(f"{where} is not a list of strings")


def _data(kind: InteractionType | int, data: dict[str, Any] | None) -> None:
    if kind in _COMMAND_TYPES:
        if data is None or type(data.get("name")) is not str:
            raise _fail("data.name is missing")
        _integer_or_none(data.get("type"), "data.type")
        if options := data.get("options"):
            _options(options, "data.options")
        elif options is not None and type(options) is not list:
            raise _fail("data.options is not a list")
        _id_or_none(data.get("target_id"), "data.target_id")
        if "resolved" in data:
            _resolved(data)
    elif kind in _CUSTOM_ID_TYPES:
        if data is None or type(data.get("custom_id")) is not str:
            raise _fail("data.custom_id is missing")
        _strings(data.get("values"), "data.values")
        components = data.get("components")
        if components is not None and not (
            type(components) is list and all(type(c) is dict for c in components)
        ):
            raise _fail("data.components is not a list of components")
        _resolved(data)


_COMMAND_TYPES: Final = frozenset(
    {InteractionType.APPLICATION_COMMAND, InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE}
)
_CUSTOM_ID_TYPES: Final = frozenset(
    {InteractionType.MESSAGE_COMPONENT, InteractionType.MODAL_SUBMIT}
)


def _check_context(kind: InteractionType | int, payload: dict[str, Any]) -> None:
    """Where and by whom, and the data: every field that is there has Discord's shape.
    Written flat, with few calls, since it runs for every interaction."""
    get = payload.get
    _id_or_none(get("guild_id"), "guild_id")
    _id_or_none(get("channel_id"), "channel_id")
    if (channel := get("channel")) is not None:
        if type(channel) is not dict:
            raise _fail("channel is not an object")
        _id_or_none(channel.get("id"), "channel.id")
    if (member := get("member")) is not None:
        if type(member) is not dict:
            raise _fail("member is not an object")
        _user(member.get("user"), "member.user.id")
        permissions = member.get("permissions")
        if permissions is not None and not (
            type(permissions) is str and _BITFIELD.fullmatch(permissions)
        ):
            raise _fail("member.permissions is not a decimal bitfield")
    if (user := get("user")) is not None:
        _user(user, "user.id")
    if (message := get("message")) is not None:
        if type(message) is not dict:
            raise _fail("message is not an object")
        _id_or_none(message.get("id"), "message.id")
        _id_or_none(message.get("channel_id"), "message.channel_id")
    data = get("data")
    if data is not None and type(data) is not dict:
        raise _fail("data is not an object")
    _data(kind, data)


# Not frozen: built for every interaction, and a frozen dataclass's __init__ costs several
# times a plain one on that path. Treat it as read-only.
@dataclass(slots=True)
class Interaction:
    """The fields every part of the product reads; the rest stays in ``raw``."""

    id: str
    application_id: str
    type: InteractionType | int
    token: str = field(repr=False)
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_payload(cls, payload: Any) -> Interaction:
        if type(payload) is not dict:
            raise _fail("payload is not a JSON object")
        get = payload.get
        kind, ident = get("type"), get("id")
        application_id, token = get("application_id"), get("token")
        if type(kind) is not int:  # bool is a subclass of int, not int itself
            raise _fail("type is not an integer")
        if ident is None:
            raise _fail("id is not a snowflake")
        _id_or_none(ident, "id")
        # Not trusted for anything (replies go to the configured application), so only its
        # type is checked.
        if type(application_id) is not str or not application_id:
            raise _fail("application_id is not a string")
        if type(token) is not str or _TOKEN.fullmatch(token) is None:
            raise _fail("token is not an interaction token")
        typed = _INTERACTION_TYPES.get(kind, kind)
        if typed is not InteractionType.PING:
            _check_context(typed, payload)
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
    def user_name(self) -> str | None:
        """The invoking user's name as Discord shows it: server nickname, display name, or
        username."""
        member = self.raw.get("member")
        user = member.get("user") if isinstance(member, dict) else self.raw.get("user")
        names = [member.get("nick")] if isinstance(member, dict) else []
        if isinstance(user, dict):
            names += [user.get("global_name"), user.get("username")]
        return next((n for n in names if isinstance(n, str) and n), None)

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
