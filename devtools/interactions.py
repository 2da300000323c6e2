"""Interaction payloads shaped like Discord's, for every interaction type, and signing them
with a local key.

Used by the ``send`` CLI, the benchmarks and the tests, so all three speak the same JSON:

    command(app, "roll", [{"name": "sides", "type": 4, "value": 20}])
    user_command(app, "User info", target=user("900000000000000009", "ada"))
    message_command(app, "Word count", target=channel_message("three little words"))
    click(app, "roll:1:20", message=bot_message(...))             # a button
    click(app, "colour:1", values=["red"], component_type=3)       # a select menu
    modal_submit(app, "feedback:1", {"text": "Nice bot"})
    autocomplete(app, "help", [{"name": "command", "type": 3, "value": "co"}])
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

from nacl.signing import SigningKey

from services.core.discord.components import ComponentType
from services.core.discord.models import CommandType, InteractionType, OptionType
from services.core.discord.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER
from services.core.discord.snowflake import DISCORD_EPOCH_MS

DEV_GUILD_ID = "900000000000000001"
DEV_CHANNEL_ID = "900000000000000002"
DEV_USER_ID = "900000000000000003"
DEV_BOT_ID = "100000000000000002"
# The bot's DM with the dev user, for interactions outside a server.
DEV_DM_CHANNEL_ID = "900000000000000006"
# Real snowflakes: milliseconds since Discord's epoch in the top bits, so dates read from
# them are today's.
_ids = itertools.count((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22)


def snowflake() -> str:
    return str(next(_ids))


def interaction_token(interaction_id: str) -> str:
    """Shaped like Discord's: base64 of ``interaction:<id>:<random>``."""
    raw = f"interaction:{interaction_id}:{secrets.token_urlsafe(48)}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def user(user_id: str = DEV_USER_ID, username: str = "dev", **extra: Any) -> dict[str, Any]:
    return {"id": user_id, "username": username, "discriminator": "0", **extra}


def _envelope(
    application_id: str,
    kind: InteractionType,
    data: Mapping[str, Any] | None,
    *,
    guild_id: str | None = DEV_GUILD_ID,
    permissions: int = 0,
    invoker: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What every interaction carries: ids, token, where and by whom."""
    ident = snowflake()
    payload: dict[str, Any] = {
        "id": ident,
        "application_id": application_id,
        "type": int(kind),
        "token": interaction_token(ident),
        "version": 1,
        "channel_id": DEV_CHANNEL_ID,
        "locale": "en-GB",
        "app_permissions": "2248473465835073",
    }
    if data is not None:
        payload["data"] = dict(data)
    who = dict(invoker or user())
    if guild_id is None:
        payload["user"] = who
        payload["context"] = 1
    else:
        payload["guild_id"] = guild_id
        payload["guild_locale"] = "en-US"
        payload["member"] = {"user": who, "permissions": str(permissions), "roles": []}
        payload["context"] = 0
    return payload


def ping(application_id: str) -> dict[str, Any]:
    ident = snowflake()
    return {
        "id": ident,
        "application_id": application_id,
        "type": int(InteractionType.PING),
        "token": interaction_token(ident),
        "version": 1,
        "user": user(),
    }


def command(
    application_id: str,
    name: str,
    options: list[dict[str, Any]] | None = None,
    *,
    guild_id: str | None = DEV_GUILD_ID,
    permissions: int = 0,
    resolved: Mapping[str, Any] | None = None,
    invoker: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An APPLICATION_COMMAND interaction (slash command); ``options`` as Discord sends them;
    ``invoker``: who runs it (``user(...)``), the dev user by default."""
    data: dict[str, Any] = {
        "id": snowflake(),
        "name": name,
        "type": int(CommandType.CHAT_INPUT),
        "options": options or [],
    }
    if resolved:
        data["resolved"] = dict(resolved)
    return _envelope(
        application_id,
        InteractionType.APPLICATION_COMMAND,
        data,
        guild_id=guild_id,
        permissions=permissions,
        invoker=invoker,
    )


def user_command(
    application_id: str,
    name: str,
    *,
    target: Mapping[str, Any],
    guild_id: str | None = DEV_GUILD_ID,
    permissions: int = 0,
    invoker: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A USER context-menu command run on ``target`` (a user object)."""
    resolved: dict[str, Any] = {"users": {target["id"]: dict(target)}}
    if guild_id is not None:
        resolved["members"] = {target["id"]: {"roles": [], "permissions": "0", "nick": None}}
    data = {
        "id": snowflake(),
        "name": name,
        "type": int(CommandType.USER),
        "target_id": target["id"],
        "resolved": resolved,
    }
    return _envelope(
        application_id,
        InteractionType.APPLICATION_COMMAND,
        data,
        guild_id=guild_id,
        permissions=permissions,
        invoker=invoker,
    )


def channel_message(
    content: str, *, author: Mapping[str, Any] | None = None, message_id: str | None = None
) -> dict[str, Any]:
    """A message in the development channel, as Discord resolves one."""
    return {
        "id": message_id or snowflake(),
        "channel_id": DEV_CHANNEL_ID,
        "type": 0,
        "content": content,
        "author": dict(author or user()),
        "attachments": [],
        "embeds": [],
        "mentions": [],
        "mention_roles": [],
        "pinned": False,
        "mention_everyone": False,
        "tts": False,
        "timestamp": "2026-11-29T12:00:00.000000+00:00",
        "edited_timestamp": None,
        "flags": 0,
        "components": [],
    }


def message_command(
    application_id: str,
    name: str,
    *,
    target: Mapping[str, Any],
    guild_id: str | None = DEV_GUILD_ID,
    permissions: int = 0,
    invoker: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A MESSAGE context-menu command run on ``target`` (a message object)."""
    data = {
        "id": snowflake(),
        "name": name,
        "type": int(CommandType.MESSAGE),
        "target_id": target["id"],
        "resolved": {"messages": {target["id"]: dict(target)}},
    }
    return _envelope(
        application_id,
        InteractionType.APPLICATION_COMMAND,
        data,
        guild_id=guild_id,
        permissions=permissions,
        invoker=invoker,
    )


def bot_message(
    content: str = "",
    components: Sequence[Mapping[str, Any]] = (),
    *,
    message_id: str | None = None,
    ephemeral: bool = False,
) -> dict[str, Any]:
    """A message the bot sent earlier, carrying ``components`` (as Discord stores them)."""
    message = channel_message(
        content, author=user(DEV_BOT_ID, "bot", bot=True), message_id=message_id
    )
    message["components"] = [dict(c) for c in components]
    message["flags"] = 64 if ephemeral else 0
    return message


def click(
    application_id: str,
    custom_id: str,
    *,
    message: Mapping[str, Any] | None = None,
    component_type: int = ComponentType.BUTTON,
    values: Sequence[str] | None = None,
    guild_id: str | None = DEV_GUILD_ID,
    permissions: int = 0,
    invoker: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A MESSAGE_COMPONENT interaction: a button clicked, or ``values`` chosen in a select
    menu, on ``message`` (by default a bot message carrying that very component)."""
    if message is None:
        row = {
            "type": int(ComponentType.ACTION_ROW),
            "components": [{"type": int(component_type), "custom_id": custom_id}],
        }
        message = bot_message(components=[row])
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": int(component_type)}
    if values is not None:
        data["values"] = list(values)
    payload = _envelope(
        application_id,
        InteractionType.MESSAGE_COMPONENT,
        data,
        guild_id=guild_id,
        permissions=permissions,
        invoker=invoker,
    )
    payload["message"] = dict(message)
    return payload


def modal_submit(
    application_id: str,
    custom_id: str,
    fields: Mapping[str, str | Sequence[str]],
    *,
    message: Mapping[str, Any] | None = None,
    guild_id: str | None = DEV_GUILD_ID,
    permissions: int = 0,
    invoker: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A MODAL_SUBMIT interaction, each field in a Label as current modals are: a text
    input's value (a string) or a select menu's values (a list); ``message`` when the modal
    was opened from a component."""
    components = []
    for index, (field_id, value) in enumerate(fields.items()):
        field: dict[str, Any] = {"id": index * 2 + 2, "custom_id": field_id}
        if isinstance(value, str):
            field |= {"type": int(ComponentType.TEXT_INPUT), "value": value}
        else:
            field |= {"type": int(ComponentType.STRING_SELECT), "values": list(value)}
        components.append(
            {"type": int(ComponentType.LABEL), "id": index * 2 + 1, "component": field}
        )
    payload = _envelope(
        application_id,
        InteractionType.MODAL_SUBMIT,
        {"custom_id": custom_id, "components": components},
        guild_id=guild_id,
        permissions=permissions,
        invoker=invoker,
    )
    if message is not None:
        payload["message"] = dict(message)
    return payload


def autocomplete(
    application_id: str,
    name: str,
    options: list[dict[str, Any]],
    *,
    focused: str | None = None,
    guild_id: str | None = DEV_GUILD_ID,
) -> dict[str, Any]:
    """An APPLICATION_COMMAND_AUTOCOMPLETE interaction: the user is typing ``focused`` (by
    default the last option given), whose value is what they typed so far."""
    marked = [dict(o) for o in options]
    target = focused or (marked[-1]["name"] if marked else None)
    for option in marked:
        if option["name"] == target:
            option["focused"] = True
            option.setdefault("type", int(OptionType.STRING))
    data = {
        "id": snowflake(),
        "name": name,
        "type": int(CommandType.CHAT_INPUT),
        "options": marked,
    }
    return _envelope(
        application_id, InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE, data, guild_id=guild_id
    )


def sign(key: SigningKey, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers Discord would send with ``body``."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = key.sign(stamp.encode() + body).signature.hex()
    return {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature,
        TIMESTAMP_HEADER: stamp,
    }


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()
