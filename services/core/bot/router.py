"""The one router of a bot: every kind of interaction, declared with a decorator, routed the
same way by the API and the worker.

    bot = Router()

    @bot.command(description="Roll a die")                    # /roll, answered in the API
    async def roll(ctx: CommandContext, sides: int = 6) -> Reply: ...

    @bot.component("roll:{sides}")                            # its "Roll again" button
    async def roll_again(ctx: CommandContext, sides: int) -> Update: ...

    @bot.user_command(name="User info", ephemeral=True)       # right-click on a user
    async def user_info(ctx: CommandContext, user: User) -> Reply: ...

    @bot.message_command(name="Word count", ephemeral=True)   # right-click on a message
    async def word_count(ctx: CommandContext, message: TargetMessage) -> Reply: ...

    @bot.modal("feedback")                                    # a submitted form
    async def feedback_sent(ctx: CommandContext) -> Reply: ...

    @bot.autocomplete("help", "command")                      # suggestions for /help command:
    async def command_names(ctx: CommandContext, current: str) -> list[Choice]: ...

One table per kind: slash commands by path, context menus by type *and* name (a user command
called "ping" is not /ping), components and modals by their custom_id template's name,
autocomplete by command and option. Anything Discord would refuse fails at declaration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any, Final, TypeVar

from services.core.bot.commands import Command, Group, TopLevel
from services.core.bot.custom_ids import Template, name_of
from services.core.bot.errors import (
    CommandDefinitionError,
    ExpiredCustomId,
    OptionValueError,
    UnknownCommandError,
)
from services.core.bot.options import bind_options
from services.core.bot.resolved import TargetMessage, User
from services.core.bot.routes import (
    Defer,
    Handler,
    Match,
    Route,
    RouteKind,
    check_handler,
    positional_params,
    returns_modal,
)
from services.core.discord.interaction import Interaction
from services.core.discord.models import CommandType, InteractionType, OptionType, Permissions

H = TypeVar("H", bound=Handler)
# Discord docs, "Registering a Command": an app has at most 100 global CHAT_INPUT commands
# and 15 each of USER and MESSAGE commands.
MAX_COMMANDS: Final = 100
MAX_CONTEXT_MENUS: Final = 15
MAX_CONTEXT_MENU_NAME: Final = 32
_AUTOCOMPLETE_TYPES: Final = frozenset({OptionType.STRING, OptionType.INTEGER, OptionType.NUMBER})


class CustomIds:
    """Builds custom_ids for this process: the router's templates and the signing key."""

    def __init__(self, templates: Mapping[Handler, Template], key: bytes | None) -> None:
        self._templates = templates
        self.key = key

    def encode(self, handler: Handler, /, **values: Any) -> str:
        template = self._templates.get(handler)
        if template is None:
            raise LookupError(f"{getattr(handler, '__name__', handler)!r} is not a component")
        return template.encode(values, self.key)


class Router:
    """Every route of one bot. Build one at import time of the bot's package."""

    def __init__(self) -> None:
        self._root = Group("root", "root", parent_path="", depth=-1, index=self._index)
        self._root.path = ""
        self._top: dict[str, TopLevel] = {}
        self._by_path: dict[str, Command] = {}
        self._menus: dict[tuple[CommandType, str], Route] = {}
        self._menu_top: dict[tuple[CommandType, str], TopLevel] = {}
        self._components: dict[str, Route] = {}
        self._modals: dict[str, Route] = {}
        self._autocomplete: dict[tuple[str, str], Route] = {}
        self._templates: dict[Handler, Template] = {}

    # -- declaring -------------------------------------------------------------------------

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
        """A top-level slash command. ``defer`` runs it in the worker (the user sees
        "thinking…" at once); ``ephemeral`` shows its replies to the user who ran it only."""
        inner = self._root.command(
            description=description, name=name, defer=defer, ephemeral=ephemeral
        )

        def decorate(handler: H) -> H:
            inner(handler)
            added = list(self._root.children)[-1]
            self._top[added] = TopLevel(
                CommandType.CHAT_INPUT, default_member_permissions, guild_only, nsfw
            )
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
        self._top[name] = TopLevel(
            CommandType.CHAT_INPUT, default_member_permissions, guild_only, nsfw
        )
        return group

    def user_command(self, *, name: str, **declaration: Any) -> Callable[[H], H]:
        """A command in a user's context menu; the handler gets the ``User`` clicked on."""
        return self._context_menu(CommandType.USER, name, **declaration)

    def message_command(self, *, name: str, **declaration: Any) -> Callable[[H], H]:
        """A command in a message's context menu; the handler gets the ``TargetMessage``."""
        return self._context_menu(CommandType.MESSAGE, name, **declaration)

    def _context_menu(
        self,
        kind: CommandType,
        name: str,
        *,
        defer: bool = False,
        ephemeral: bool = False,
        default_member_permissions: Permissions | None = None,
        guild_only: bool = False,
        nsfw: bool = False,
    ) -> Callable[[H], H]:
        # Discord docs, "Application Command Naming": USER and MESSAGE command names may be
        # mixed case and include spaces; 1-32 characters.
        if not 1 <= len(name.strip()) <= MAX_CONTEXT_MENU_NAME or name != name.strip():
            raise CommandDefinitionError(f"context menu name {name!r} must be 1-32 characters")
        if (kind, name) in self._menus:
            raise CommandDefinitionError(f"{kind.name.lower()} command {name!r} declared twice")
        if sum(1 for k, _ in self._menus if k is kind) >= MAX_CONTEXT_MENUS:
            raise CommandDefinitionError(
                f"more than {MAX_CONTEXT_MENUS} {kind.name.lower()} commands"
            )
        route_kind = (
            RouteKind.USER_COMMAND if kind is CommandType.USER else RouteKind.MESSAGE_COMMAND
        )

        def decorate(handler: H) -> H:
            positional_params(handler, 1, "context-menu")
            mode = Defer.REPLY if defer else None
            check_handler(route_kind, handler, mode)
            self._menus[kind, name] = Route(
                kind=route_kind, key=name, handler=handler, defer=mode, ephemeral=ephemeral
            )
            self._menu_top[kind, name] = TopLevel(
                kind, default_member_permissions, guild_only, nsfw
            )
            return handler

        return decorate

    def component(
        self,
        template: str,
        *,
        defer: bool = False,
        update: bool = True,
        ephemeral: bool = False,
        signed: bool = False,
        version: int = 1,
    ) -> Callable[[H], H]:
        """A button or select menu whose custom_id is built from ``template``. Run now, its
        handler answers with ``Update`` (type 7), a new message (type 4), a ``Modal`` or
        ``None`` (acknowledged, nothing changes). Deferred, the API acknowledges at once and
        the worker's reply edits the clicked message (``update=True``, type 6) or a new
        "thinking…" reply (``update=False``, type 5)."""
        shape = Route(
            kind=RouteKind.COMPONENT,
            key="",
            handler=_unset,
            defer=(Defer.UPDATE if update else Defer.REPLY) if defer else None,
            ephemeral=ephemeral,
        )
        return self._custom_id_route(shape, self._components, template, signed, version)

    def modal(
        self,
        template: str,
        *,
        defer: bool = False,
        update: bool = False,
        ephemeral: bool = False,
        signed: bool = False,
        version: int = 1,
    ) -> Callable[[H], H]:
        """A submitted modal, matched on its custom_id template. The submitted values are in
        ``ctx.fields``. ``update=True`` (only for a modal opened from a component) edits
        that component's message."""
        shape = Route(
            kind=RouteKind.MODAL,
            key="",
            handler=_unset,
            defer=(Defer.UPDATE if update else Defer.REPLY) if defer else None,
            ephemeral=ephemeral,
        )
        return self._custom_id_route(shape, self._modals, template, signed, version)

    def _custom_id_route(
        self, shape: Route, table: dict[str, Route], template: str, signed: bool, version: int
    ) -> Callable[[H], H]:
        """Declare a component or modal route shaped like ``shape``, keyed by its template."""

        def decorate(handler: H) -> H:
            parsed = Template.declare(
                template, handler, version=version, signed=signed, scope=shape.kind.value
            )
            if parsed.name in table:
                raise CommandDefinitionError(f"{shape.kind} {parsed.name!r} is declared twice")
            if shape.kind is RouteKind.MODAL and returns_modal(handler):
                raise CommandDefinitionError(
                    f"{handler.__name__}: Discord does not open a modal from a modal submit"
                )
            check_handler(shape.kind, handler, shape.defer)
            table[parsed.name] = replace(shape, key=parsed.name, handler=handler, template=parsed)
            self._templates[handler] = parsed
            return handler

        return decorate

    def autocomplete(self, command: str, option: str, *, defer: bool = False) -> Callable[[H], H]:
        """Suggestions for one option of a slash command declared before: the handler gets
        what the user typed so far and returns up to 25 ``Choice``s (or plain values).
        Always answered in the API: Discord allows autocomplete no deferral."""

        def decorate(handler: H) -> H:
            check_handler(RouteKind.AUTOCOMPLETE, handler, Defer.REPLY if defer else None)
            positional_params(handler, 1, "autocomplete")
            target = self.get(command)
            spec = next((o for o in target.options if o.name == option), None)
            if spec is None:
                raise CommandDefinitionError(f"/{command} has no option {option!r}")
            if spec.type not in _AUTOCOMPLETE_TYPES or spec.meta.choices:
                raise CommandDefinitionError(
                    f"/{command} {option}: autocomplete needs a string, integer or number "
                    "option without fixed choices"
                )
            if (command, option) in self._autocomplete:
                raise CommandDefinitionError(f"/{command} {option} has two autocompleters")
            self._autocomplete[command, option] = Route(
                kind=RouteKind.AUTOCOMPLETE, key=f"{command} {option}", handler=handler
            )
            updated = Command(
                target.name,
                target.description,
                target.route,
                target.autocompleted | {option},
            )
            self._root.parent_of(command).replace(updated)
            return handler

        return decorate

    # -- using -----------------------------------------------------------------------------

    def _index(self) -> None:
        self._by_path = {c.path: c for c in self._root.walk()}

    def get(self, path: str) -> Command:
        """The slash command at a path such as ``"countdown"`` or ``"config show"``."""
        command = self._by_path.get(path)
        if command is None:
            raise UnknownCommandError(path)
        return command

    def commands(self) -> Iterator[Command]:
        return self._root.walk()

    def routes(self) -> Iterator[Route]:
        """Every route, of every kind."""
        yield from (c.route for c in self._root.walk())
        yield from self._menus.values()
        yield from self._components.values()
        yield from self._modals.values()
        yield from self._autocomplete.values()

    def route(self, route_id: str) -> Route | None:
        """A route by its id (``"command:countdown"``), as a job names it."""
        return next((r for r in self.routes() if r.id == route_id), None)

    @property
    def signs_custom_ids(self) -> bool:
        """Whether any template is signed, so the process needs ``CUSTOM_ID_SECRET``."""
        return any(t.signed for t in self._templates.values())

    def custom_ids(self, key: bytes | None) -> CustomIds:
        return CustomIds(self._templates, key)

    def match(self, interaction: Interaction, key: bytes | None = None) -> Match:
        """The route an interaction names, with the handler's arguments. Raises
        ``UnknownCommandError``, ``OptionValueError`` or ``ExpiredCustomId``."""
        data = interaction.data
        kind = interaction.type
        if kind is InteractionType.APPLICATION_COMMAND:
            command_type = data.get("type", CommandType.CHAT_INPUT)
            if command_type == CommandType.CHAT_INPUT:
                command, given = self._resolve(data)
                options = bind_options(command.options, given, data.get("resolved") or {})
                return Match(command.route, kwargs=options)
            return self._context_menu_match(interaction, command_type)
        if kind is InteractionType.MESSAGE_COMPONENT:
            return self._custom_id_match(self._components, data, key)
        if kind is InteractionType.MODAL_SUBMIT:
            return self._custom_id_match(self._modals, data, key)
        if kind is InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE:
            command, given = self._resolve(data)
            focused = next((o for o in given if o.get("focused")), None)
            if focused is None:
                raise OptionValueError("(none)", "is not marked as focused")
            route = self._autocomplete.get((command.path, str(focused.get("name"))))
            if route is None:
                raise UnknownCommandError(f"{command.path} {focused.get('name')} (autocomplete)")
            return Match(route, args=(focused.get("value", ""),))
        raise UnknownCommandError(f"interaction type {int(kind)}")

    def _resolve(self, data: Mapping[str, Any]) -> tuple[Command, list[Mapping[str, Any]]]:
        """The slash command ``data`` names, and its own options."""
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

    def _context_menu_match(self, interaction: Interaction, command_type: Any) -> Match:
        data = interaction.data
        name = str(data.get("name", ""))
        try:
            kind = CommandType(command_type)
        except ValueError:
            raise UnknownCommandError(f"{name} (command type {command_type!r})") from None
        route = self._menus.get((kind, name))
        if route is None:
            raise UnknownCommandError(f"{name} ({kind.name.lower()} command)")
        target_id = data.get("target_id")
        resolved = data.get("resolved") or {}
        if kind is CommandType.USER:
            user = dict(resolved.get("users", {}).get(target_id) or {})
            member = resolved.get("members", {}).get(target_id)
            if member:
                user["member"] = member
            return Match(route, args=(User(id=str(target_id), data=user),))
        message = resolved.get("messages", {}).get(target_id) or {}
        return Match(route, args=(TargetMessage(id=str(target_id), data=message),))

    def _custom_id_match(
        self, table: Mapping[str, Route], data: Mapping[str, Any], key: bytes | None
    ) -> Match:
        custom_id = str(data.get("custom_id", ""))
        route = table.get(name_of(custom_id))
        if route is None or route.template is None:
            raise ExpiredCustomId(name_of(custom_id), "no route has this name")
        return Match(route, kwargs=route.template.decode(custom_id, key))

    def to_discord(self) -> list[dict[str, Any]]:
        """The body of ``PUT /applications/{id}/commands`` (bulk overwrite)."""
        if len(self._root.children) > MAX_COMMANDS:
            raise CommandDefinitionError(f"more than {MAX_COMMANDS} top-level commands")
        out: list[dict[str, Any]] = []
        for name, child in self._root.children.items():
            options = (
                [c.as_option() for c in child.children.values()]
                if isinstance(child, Group)
                else child.options_json()
            )
            out.append(
                {
                    "name": name,
                    "description": child.description,
                    "options": options,
                    **self._top[name].fields(),
                }
            )
        out += [{"name": name, **self._menu_top[kind, name].fields()} for kind, name in self._menus]
        return out


async def _unset(*_args: Any) -> None:
    """Stands in for a handler until the decorator receives it."""
