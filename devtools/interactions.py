"""Interaction payloads shaped like Discord's, and signing them with a local key.

Used by the ``send`` CLI, the benchmarks and the tests, so all three speak the same JSON.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import time
from typing import Any

from nacl.signing import SigningKey

from services.core.discord.models import CommandType, InteractionType
from services.core.discord.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER

DEV_GUILD_ID = "900000000000000001"
DEV_CHANNEL_ID = "900000000000000002"
DEV_USER_ID = "900000000000000003"
_ids = itertools.count(int(time.time() * 1000) << 22)


def snowflake() -> str:
    return str(next(_ids))


def interaction_token(interaction_id: str) -> str:
    """Shaped like Discord's: base64 of ``interaction:<id>:<random>``."""
    raw = f"interaction:{interaction_id}:{secrets.token_urlsafe(48)}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def ping(application_id: str) -> dict[str, Any]:
    ident = snowflake()
    return {
        "id": ident,
        "application_id": application_id,
        "type": int(InteractionType.PING),
        "token": interaction_token(ident),
        "version": 1,
        "user": {"id": DEV_USER_ID, "username": "dev", "discriminator": "0"},
    }


def command(
    application_id: str,
    name: str,
    options: list[dict[str, Any]] | None = None,
    *,
    guild_id: str | None = DEV_GUILD_ID,
    permissions: int = 0,
) -> dict[str, Any]:
    """An APPLICATION_COMMAND interaction; ``options`` as Discord sends them."""
    ident = snowflake()
    payload: dict[str, Any] = {
        "id": ident,
        "application_id": application_id,
        "type": int(InteractionType.APPLICATION_COMMAND),
        "token": interaction_token(ident),
        "version": 1,
        "channel_id": DEV_CHANNEL_ID,
        "locale": "en-GB",
        "data": {
            "id": snowflake(),
            "name": name,
            "type": int(CommandType.CHAT_INPUT),
            "options": options or [],
        },
    }
    user = {"id": DEV_USER_ID, "username": "dev", "discriminator": "0"}
    if guild_id is None:
        payload["user"] = user
    else:
        payload["guild_id"] = guild_id
        payload["member"] = {"user": user, "permissions": str(permissions), "roles": []}
    return payload


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
