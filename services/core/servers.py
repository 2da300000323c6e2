"""Per-server configuration in SSM Parameter Store, read through a short cache.

    {prefix}/webhook-url                       SecureString: the default webhook
    {prefix}/servers/{guild_id}/webhook-url    SecureString: one server's webhook
    {prefix}/servers/{guild_id}/settings       SecureString: one server's settings (JSON)

Paths are built only from a guild id that is a Discord snowflake, so no input can name
another server's parameters (or anything outside the prefix).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Final

from services.core.aws import AWS_ERRORS, error_code
from services.core.discord.snowflake import is_snowflake
from services.core.env import Secret
from services.core.errors import ConfigStoreError

DEFAULT_PREFIX: Final = "/discord-bot"
_NOT_FOUND: Final = "ParameterNotFound"


class ServerConfig:
    def __init__(
        self,
        *,
        ssm: Any,
        prefix: str = DEFAULT_PREFIX,
        ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ssm = ssm
        self._prefix = prefix.rstrip("/")
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[str, tuple[float, str | None]] = {}

    def _server_path(self, guild_id: str, leaf: str) -> str:
        if not is_snowflake(guild_id):
            raise ConfigStoreError(f"not a server id: {guild_id!r}", code="not a server id")
        return f"{self._prefix}/servers/{guild_id}/{leaf}"

    async def _get(self, path: str) -> str | None:
        cached = self._cache.get(path)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        try:
            response = await self._ssm.get_parameter(Name=path, WithDecryption=True)
            value: str | None = response["Parameter"]["Value"]
        except AWS_ERRORS as exc:
            if error_code(exc) != _NOT_FOUND:
                code = error_code(exc)
                raise ConfigStoreError(f"cannot read {path}: {code}", code=code) from None
            value = None
        self._cache[path] = (self._clock() + self._ttl, value)
        return value

    async def _put(self, path: str, value: str) -> None:
        try:
            await self._ssm.put_parameter(
                Name=path, Value=value, Type="SecureString", Overwrite=True
            )
        except AWS_ERRORS as exc:
            code = error_code(exc)
            raise ConfigStoreError(f"cannot write {path}: {code}", code=code) from None
        self._cache[path] = (self._clock() + self._ttl, value)

    async def default_webhook(self) -> Secret | None:
        value = await self._get(f"{self._prefix}/webhook-url")
        return Secret(value) if value else None

    async def webhook(self, guild_id: str) -> Secret | None:
        value = await self._get(self._server_path(guild_id, "webhook-url"))
        return Secret(value) if value else None

    async def set_webhook(self, guild_id: str, url: Secret) -> None:
        await self._put(self._server_path(guild_id, "webhook-url"), url.reveal())

    async def settings(self, guild_id: str) -> dict[str, Any]:
        value = await self._get(self._server_path(guild_id, "settings"))
        try:
            loaded = json.loads(value) if value else {}
        except ValueError:
            raise ConfigStoreError(
                f"settings of server {guild_id} are not JSON", code="not JSON"
            ) from None
        return loaded if isinstance(loaded, dict) else {}

    async def set_settings(self, guild_id: str, settings: dict[str, Any]) -> None:
        await self._put(self._server_path(guild_id, "settings"), json.dumps(settings))

    async def servers_with_webhooks(self) -> list[str]:
        """Every server that has a webhook configured."""
        found: list[str] = []
        kwargs: dict[str, Any] = {"Path": f"{self._prefix}/servers", "Recursive": True}
        try:
            while True:
                page = await self._ssm.get_parameters_by_path(**kwargs)
                for parameter in page.get("Parameters", []):
                    parts = parameter["Name"].rsplit("/", 2)
                    if parts[-1] == "webhook-url" and is_snowflake(parts[-2]):
                        found.append(parts[-2])
                if not page.get("NextToken"):
                    return sorted(found)
                kwargs["NextToken"] = page["NextToken"]
        except AWS_ERRORS as exc:
            code = error_code(exc)
            raise ConfigStoreError(f"cannot list servers: {code}", code=code) from None
