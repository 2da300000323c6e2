"""The registry of a bot's commands: declared once with a decorator, it routes interactions
and produces the JSON for Discord's bulk overwrite.

    bot = Registry()

    @bot.command(description="Is the bot alive?")
    async def ping(ctx: CommandContext) -> Reply:
        return "Pong!"

    admin = bot.group("admin", "Server administration")

    @admin.command(description="Show settings", defer=True, ephemeral=True)
    async def show(ctx: JobContext) -> Reply: ...

A command marked ``defer=True`` is answered "thinking..." by the API at once and its handler
runs in the worker, without a time limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from services.core.bot.context import Reply
from services.core.bot.errors import CommandDefinitionError, UnknownCommandError
from services.core.bot.options import (
    OptionSpec,
    bind_options,
    check_description,
    check_name,
    options_from_handler,
)
from services.core.discord.models import CommandType, OptionType, Permissions

Handler = Callable[..., Awaitable[Reply | None]]
H = TypeVar("H", bound=Handler)
# Discord docs: at most 100 global chat-input commands, 25 subcommands or groups per level.
MAX_COMMANDS: Final = 100
MAX_CHILDREN: Final = 25
# Interaction context types (Discord docs, "Interaction Context Types").
GUILD_CONTEXT: Final = 0


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    description: str
    handler: Handler
    options: tuple[OptionSpec, ...]
    deferred: bool
    ephemeral: bool
    path: str

    def as_option(self) -> dict[str, Any]:
        """This command as a SUB_COMMAND inside a group."""
        return {
            "type": int(OptionType.SUB_COMMAND),
            "name": self.name,
            "description": self.description,
            "options": [o.to_discord() for o in self.options],
        }


@dataclass(frozen=True, slots=True)
class _TopLevel:
    """What Discord stores per top-level command, beside its name and options."""

    default_member_permissions: Permissions | None
    guild_only: bool
    nsfw: bool

    def fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": int(CommandType.CHAT_INPUT), "nsfw": self.nsfw}
        if self.default_member_permissions is not None:
            # A decimal string, like every permission bitfield Discord exchanges.
            out["default_member_permissions"] = str(int(self.default_member_permissions))
        if self.guild_only:
            out["contexts"] = [GUILD_CONTEXT]
        return out


class Group:
    """A command with subcommands (and, one level down, subcommand groups)."""

    def __init__(self, name: str, description: str, *, parent_path: str, depth: int) -> None:
        check_name(name, "group")
        check_description(description, f"group {name!r}")
        self.name = name
        self.description = description
        self.path = f"{parent_path} {name}".strip()
        self._depth = depth
        self.children: dict[str, Command | Group] = {}

    def command(
        self,
        *,
        description: str,
        name: str | None = None,
        defer: bool = False,
        ephemeral: bool = False,
    ) -> Callable[[H], H]:
        def decorate(handler: H) -> H:
            command_name = name or handler.__name__.rstrip("_").replace("_", "-")
            check_name(command_name, "command")
            check_description(description, f"command {command_name!r}")
            self._add(
                Command(
                    name=command_name,
                    description=description,
                    handler=handler,
                    options=options_from_handler(handler),
                    deferred=defer,
                    ephemeral=ephemeral,
                    path=f"{self.path} {command_name}".strip(),
                )
            )
            return handler

        return decorate

    def group(self, name: str, description: str) -> Group:
        # Discord allows commands > groups > subcommands and no deeper.
        if self._depth >= 1:
            raise CommandDefinitionError("subcommand groups cannot be nested further")
        child = Group(name, description, parent_path=self.path, depth=self._depth + 1)
        self._add(child)
        return child

    def _add(self, child: Command | Group) -> None:
        if child.name in self.children:
            raise CommandDefinitionError(f"{child.name!r} is declared twice in {self.path!r}")
        if len(self.children) >= MAX_CHILDREN:
            raise CommandDefinitionError(f"{self.path!r} has more than {MAX_CHILDREN} children")
        self.children[child.name] = child

    def as_option(self) -> dict[str, Any]:
        return {
            "type": int(OptionType.SUB_COMMAND_GROUP),
            "name": self.name,
            "description": self.description,
            "options": [c.as_option() for c in self.children.values()],
        }

    def walk(self) -> Iterator[Command]:
        for child in self.children.values():
            if isinstance(child, Group):
                yield from child.walk()
            else:
                yield child


class Registry:
    """All of a bot's commands. Build one at import time of the bot's command package."""

    def __init__(self) -> None:
        self._root = Group("root", "root", parent_path="", depth=-1)
        self._root.path = ""
        self._top: dict[str, _TopLevel] = {}
        self._by_path: dict[str, Command] = {}

    def command(
        self,
        *,
        description: str,
        name: str | None = None,
        defer: bool = False,
        ephemeral: bool = False,
        default_member_permissions: Permissions | None = None,
        guild_only: bool = False,
        nsfw: bool = False,
    ) -> Callable[[H], H]:
        """Declare a top-level command. ``defer`` runs it in the worker; ``ephemeral`` makes
        its replies visible only to the user who ran it."""
        inner = self._root.command(
            description=description, name=name, defer=defer, ephemeral=ephemeral
        )

        def decorate(handler: H) -> H:
            inner(handler)
            added = list(self._root.children)[-1]
            self._top[added] = _TopLevel(default_member_permissions, guild_only, nsfw)
            self._index()
            return handler

        return decorate

    def group(
        self,
        name: str,
        description: str,
        *,
        default_member_permissions: Permissions | None = None,
        guild_only: bool = False,
        nsfw: bool = False,
    ) -> Group:
        group = self._root.group(name, description)
        self._top[name] = _TopLevel(default_member_permissions, guild_only, nsfw)
        return group

    def _index(self) -> None:
        self._by_path = {c.path: c for c in self._root.walk()}

    def get(self, path: str) -> Command:
        """The command for a path such as ``"countdown"`` or ``"admin settings show"``."""
        command = self._by_path.get(path)
        if command is None:
            self._index()  # groups may have gained commands since the last index
            command = self._by_path.get(path)
        if command is None:
            raise UnknownCommandError(path)
        return command

    def resolve(self, data: Mapping[str, Any]) -> tuple[Command, list[Mapping[str, Any]]]:
        """Find the command an APPLICATION_COMMAND's ``data`` names, and its own options."""
        parts = [str(data.get("name", ""))]
        options: list[Any] = list(data.get("options") or [])
        while (
            options
            and isinstance(options[0], Mapping)
            and options[0].get("type") in (OptionType.SUB_COMMAND, OptionType.SUB_COMMAND_GROUP)
        ):
            parts.append(str(options[0].get("name", "")))
            options = list(options[0].get("options") or [])
        return self.get(" ".join(parts)), options

    def bind(self, data: Mapping[str, Any]) -> tuple[Command, dict[str, Any]]:
        """The command an interaction's ``data`` names, and its handler's keyword arguments."""
        command, given = self.resolve(data)
        return command, bind_options(command.options, given, data.get("resolved") or {})

    def to_discord(self) -> list[dict[str, Any]]:
        """The body of ``PUT /applications/{id}/commands`` (bulk overwrite)."""
        if len(self._root.children) > MAX_COMMANDS:
            raise CommandDefinitionError(f"more than {MAX_COMMANDS} top-level commands")
        out = []
        for name, child in self._root.children.items():
            if isinstance(child, Group):
                body = {
                    "name": name,
                    "description": child.description,
                    "options": [c.as_option() for c in child.children.values()],
                }
            else:
                body = {
                    "name": name,
                    "description": child.description,
                    "options": [o.to_discord() for o in child.options],
                }
            out.append({**body, **self._top[name].fields()})
        return out

    def __iter__(self) -> Iterator[Command]:
        return self._root.walk()
