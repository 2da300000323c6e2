"""What Discord resolved for an interaction: the users, channels, roles, attachments and
messages its options or its target name, as the handler receives them.

Each keeps Discord's JSON in ``data`` (fields we do not model stay reachable) and offers the
few properties handlers need most.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.core.discord.snowflake import created_at


@dataclass(frozen=True, slots=True)
class Resolved:
    """A resolved object: its id and what Discord sent about it."""

    id: str
    data: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def created_at(self) -> datetime:
        """When the object was created, read from its id."""
        return created_at(self.id)


class User(Resolved):
    __slots__ = ()

    @property
    def name(self) -> str:
        """The name Discord shows: the display name, else the username, else the id."""
        return str(self.data.get("global_name") or self.data.get("username") or self.id)

    @property
    def username(self) -> str | None:
        value = self.data.get("username")
        return str(value) if value else None

    @property
    def bot(self) -> bool:
        return bool(self.data.get("bot"))


class Channel(Resolved):
    __slots__ = ()


class Role(Resolved):
    __slots__ = ()


class Attachment(Resolved):
    __slots__ = ()

    @property
    def filename(self) -> str | None:
        value = self.data.get("filename")
        return str(value) if value else None

    @property
    def url(self) -> str | None:
        value = self.data.get("url")
        return str(value) if value else None


class TargetMessage(Resolved):
    """The message a message context-menu command was run on."""

    __slots__ = ()

    @property
    def content(self) -> str:
        value = self.data.get("content")
        return value if isinstance(value, str) else ""

    @property
    def author(self) -> User | None:
        author = self.data.get("author")
        if isinstance(author, Mapping) and isinstance(author.get("id"), str):
            return User(id=author["id"], data=author)
        return None
