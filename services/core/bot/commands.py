"""The tree of slash commands (CHAT_INPUT): top-level commands, groups and subcommands, and
what Discord stores for each top-level one. The ``Router`` builds it; Discord's own rules
(names, descriptions, nesting, counts) are checked as each node is declared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from services.core.bot.errors import CommandDefinitionError
from services.core.bot.options import (
    OptionSpec,
    check_description,
    check_name,
    options_from_handler,
)
from services.core.bot.routes import Defer, Handler, Route, RouteKind, check_handler
from services.core.discord.models import CommandType, OptionType, Permissions

H = TypeVar("H", bound=Handler)
# Discord docs, "Registering a Command": 25 subcommands or groups per level.
MAX_CHILDREN: Final = 25


class InteractionContext:
    """Where a command may be used (Discord docs, "Interaction Context Types")."""

    GUILD: Final = 0
    BOT_DM: Final = 1
    PRIVATE_CHANNEL: Final = 2


@dataclass(frozen=True, slots=True)
class Command:
    """A slash command or subcommand: its route and its options."""

    name: str
    description: str
    route: Route
    autocompleted: frozenset[str] = frozenset()

    @property
    def path(self) -> str:
        return self.route.key

    @property
    def options(self) -> tuple[OptionSpec, ...]:
        return self.route.options

    @property
    def handler(self) -> Callable[..., Any]:
        return self.route.handler

    @property
    def deferred(self) -> bool:
        return self.route.deferred

    @property
    def ephemeral(self) -> bool:
        return self.route.ephemeral

    def options_json(self) -> list[dict[str, Any]]:
        return [o.to_discord(autocomplete=o.name in self.autocompleted) for o in self.options]

    def as_option(self) -> dict[str, Any]:
        """This command as a SUB_COMMAND inside a group."""
        return {
            "type": int(OptionType.SUB_COMMAND),
            "name": self.name,
            "description": self.description,
            "options": self.options_json(),
        }


@dataclass(frozen=True, slots=True)
class TopLevel:
    """What Discord stores per top-level command, beside its name and options."""

    kind: CommandType = CommandType.CHAT_INPUT
    default_member_permissions: Permissions | None = None
    guild_only: bool = False
    nsfw: bool = False

    def fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": int(self.kind), "nsfw": self.nsfw}
        if self.default_member_permissions is not None:
            # A decimal string, like every permission bitfield Discord exchanges.
            out["default_member_permissions"] = str(int(self.default_member_permissions))
        if self.guild_only:
            out["contexts"] = [InteractionContext.GUILD]
        return out


class Group:
    """A command with subcommands (and, one level down, subcommand groups)."""

    def __init__(
        self,
        name: str,
        description: str,
        *,
        parent_path: str,
        depth: int,
        index: Callable[[], None],
    ) -> None:
        check_name(name, "group")
        check_description(description, f"group {name!r}")
        self.name = name
        self.description = description
        self.path = f"{parent_path} {name}".strip()
        self._depth = depth
        self._index = index
        self.children: dict[str, Command | Group] = {}

    def command(
        self,
        *,
        description: str,
        name: str | None = None,
        defer: bool = False,
        ephemeral: bool = False,
    ) -> Callable[[H], H]:
        """Declare a subcommand: options from the handler's typed parameters; ``defer`` runs
        it in the worker; ``ephemeral`` shows its replies to the user who ran it only."""

        def decorate(handler: H) -> H:
            command_name = name or handler.__name__.rstrip("_").replace("_", "-")
            check_name(command_name, "command")
            check_description(description, f"command {command_name!r}")
            kind = RouteKind.COMMAND
            mode = Defer.REPLY if defer else None
            check_handler(kind, handler, mode)
            route = Route(
                kind=kind,
                key=f"{self.path} {command_name}".strip(),
                handler=handler,
                defer=mode,
                ephemeral=ephemeral,
                description=description,
                options=options_from_handler(handler),
            )
            self.add(Command(command_name, description, route))
            return handler

        return decorate

    def group(self, name: str, description: str) -> Group:
        # Discord allows commands > groups > subcommands and no deeper.
        if self._depth >= 1:
            raise CommandDefinitionError("subcommand groups cannot be nested further")
        child = Group(
            name, description, parent_path=self.path, depth=self._depth + 1, index=self._index
        )
        self.add(child)
        return child

    def add(self, child: Command | Group) -> None:
        if child.name in self.children:
            raise CommandDefinitionError(f"{child.name!r} is declared twice in {self.path!r}")
        if len(self.children) >= MAX_CHILDREN:
            raise CommandDefinitionError(f"{self.path!r} has more than {MAX_CHILDREN} children")
        self.children[child.name] = child
        self._index()

    def replace(self, command: Command) -> None:
        """Swap in a command that gained an autocomplete provider."""
        self.children[command.name] = command
        self._index()

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

    def parent_of(self, path: str) -> Group:
        """The group holding the command at ``path`` (this group for a direct child)."""
        node: Group = self
        for part in path.split()[len(self.path.split()) : -1]:
            child = node.children[part]
            assert isinstance(child, Group)
            node = child
        return node
