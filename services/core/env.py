"""Typed, validating reads from an environment mapping, and ``Secret``, a string that never
prints. ``services.core.config`` builds each service's settings with them."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import TypeVar
from urllib.parse import urlsplit

from services.core.discord.snowflake import is_snowflake
from services.core.errors import ConfigError

N = TypeVar("N", int, float)


class Secret:
    """A string that never shows itself in ``repr``/``str``, so it cannot leak into a log."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _private_host(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost" or "." not in host


class Env:
    """Typed, validating reads from an environment mapping."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def _raw(self, name: str) -> str | None:
        value = self._environ.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def text(self, name: str, default: str | None = None) -> str:
        value = self._raw(name)
        if value is None:
            if default is None:
                raise ConfigError(name, "is required but not set")
            return default
        return value

    def optional(self, name: str) -> str | None:
        return self._raw(name)

    def integer(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        return self._bounded(
            name, default, parse=int, kind="a whole number", low=minimum, high=maximum
        )

    def number(self, name: str, default: float, *, minimum: float, maximum: float) -> float:
        return self._bounded(name, default, parse=float, kind="a number", low=minimum, high=maximum)

    def _bounded(
        self, name: str, default: N, *, parse: Callable[[str], N], kind: str, low: N, high: N
    ) -> N:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = parse(value)
        except ValueError:
            raise ConfigError(name, f"must be {kind}, got {value!r}") from None
        if not low <= number <= high:
            raise ConfigError(name, f"must be between {low} and {high}, got {number}")
        return number

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self._raw(name)
        if value is None:
            return default
        if value.lower() in (c.lower() for c in choices):
            return next(c for c in choices if c.lower() == value.lower())
        raise ConfigError(name, f"must be one of {', '.join(choices)}, got {value!r}")

    def snowflake(self, name: str) -> str:
        value = self.text(name)
        if not is_snowflake(value):
            raise ConfigError(
                name, f"must be a Discord id (a number of up to 20 digits), got {value!r}"
            )
        return value

    def hex_bytes(self, name: str, length: int) -> bytes:
        value = self.text(name)
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raise ConfigError(name, "must be hexadecimal") from None
        if len(raw) != length:
            raise ConfigError(name, f"must be {length} bytes ({2 * length} hex digits)")
        return raw

    def secret(self, name: str, *, min_length: int) -> Secret | None:
        """A secret value (or ``None`` if unset), refused when too short to be a key."""
        value = self.optional(name)
        if value is None:
            return None
        if len(value) < min_length:
            raise ConfigError(name, f"must be at least {min_length} characters")
        return Secret(value)

    def flag(self, name: str) -> bool:
        value = self.choice(name, "false", ("true", "false", "1", "0", "yes", "no"))
        return value in ("true", "1", "yes")

    def url(self, name: str, default: str | None = None, *, secure: bool = False) -> str:
        """An http(s) URL. ``secure``: https, unless the host cannot be on the internet (a
        loopback address, or a one-word name such as a compose service's): the bot token
        travels to it."""
        value = self.text(name, default)
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(name, f"must be an http(s) URL, got {value!r}")
        if secure and parts.scheme != "https" and not _private_host(parts.hostname):
            raise ConfigError(name, f"must be https (http only for a local host), got {value!r}")
        return value.rstrip("/")
