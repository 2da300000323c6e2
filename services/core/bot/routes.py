"""A route: one thing an interaction can name, the handler that answers it, and where it runs.

A route runs *now* (in the API, inside Discord's 3-second window) or is *deferred* to the
worker: the API answers "thinking…" (type 5, ``Defer.REPLY``) or, for a component or a modal
opened from one, acknowledges without a visible change (type 6, ``Defer.UPDATE``), and the
worker's handler then edits that reply or that message with no time limit.

Its ``id`` (``"command:countdown"``, ``"component:roll"``) goes in the job envelope, so the
worker runs the route the API chose, or tells the user it is gone if a deploy removed it.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from services.core.bot.errors import CommandDefinitionError
from services.core.discord.components import Modal

if TYPE_CHECKING:
    from services.core.bot.custom_ids import Template
    from services.core.bot.options import OptionSpec

Handler = Callable[..., Awaitable[Any]]


class RouteKind(StrEnum):
    COMMAND = "command"  # a slash command (CHAT_INPUT), by its full path
    USER_COMMAND = "user"  # a user context-menu command, by name
    MESSAGE_COMMAND = "message"  # a message context-menu command, by name
    COMPONENT = "component"  # a button or select menu, by custom_id template name
    MODAL = "modal"  # a modal submit, by custom_id template name
    AUTOCOMPLETE = "autocomplete"  # suggestions for one option of one command


class Defer(StrEnum):
    """How a deferred route is acknowledged: interaction response type 5 or 6."""

    REPLY = "reply"  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: "thinking…", then the reply
    UPDATE = "update"  # DEFERRED_UPDATE_MESSAGE: the component's message is edited later


@dataclass(frozen=True, slots=True)
class Route:
    kind: RouteKind
    key: str
    handler: Handler = field(repr=False)
    defer: Defer | None = None
    ephemeral: bool = False
    description: str = ""
    options: tuple[OptionSpec, ...] = field(default=(), repr=False)
    template: Template | None = field(default=None, repr=False)

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.key}"

    @property
    def deferred(self) -> bool:
        return self.defer is not None


# Not frozen: built for every interaction, and a frozen dataclass's __init__ costs several
# times a plain one on that path. Treat it as read-only.
@dataclass(slots=True)
class Match:
    """The route an interaction names, and the handler's arguments after the context."""

    route: Route
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


def returns_modal(handler: Handler) -> bool:
    """Whether the handler's return annotation admits a ``Modal``."""
    try:
        hint = typing.get_type_hints(handler).get("return")
    except (NameError, TypeError):
        return False
    if hint is Modal:
        return True
    return Modal in typing.get_args(hint)


def _context_type(handler: Handler) -> str:
    """The name of the type the handler's first parameter (the context) is annotated with."""
    params = list(inspect.signature(handler).parameters)
    try:
        hint = typing.get_type_hints(handler).get(params[0]) if params else None
    except (NameError, TypeError):
        return ""
    return getattr(hint, "__name__", "")


def check_handler(kind: RouteKind, handler: Handler, defer: Defer | None) -> None:
    """What a route cannot work with, refused at declaration: a handler that is not a
    coroutine function, a context of the other mode, and what Discord refuses after a
    deferral."""
    name = getattr(handler, "__name__", repr(handler))
    if not inspect.iscoroutinefunction(handler):
        raise CommandDefinitionError(f"{name}: a handler is an `async def` function")
    context = _context_type(handler)
    if defer is None:
        if context == "JobContext":
            raise CommandDefinitionError(
                f"{name}: it runs now, in the API, and gets a CommandContext; JobContext "
                "(edits, follow-ups) is for routes declared defer=True"
            )
        return
    if kind is RouteKind.AUTOCOMPLETE:
        raise CommandDefinitionError(
            f"{handler.__name__}: autocomplete cannot be deferred; Discord wants the "
            "suggestions within 3 seconds, as the first and only response"
        )
    if returns_modal(handler):
        raise CommandDefinitionError(
            f"{handler.__name__}: a handler that opens a modal cannot be deferred; a modal "
            "must be the first response to an interaction"
        )
    if defer is Defer.UPDATE and kind not in (RouteKind.COMPONENT, RouteKind.MODAL):
        raise CommandDefinitionError(
            f"{handler.__name__}: only components and modals can defer an update (type 6)"
        )
    if context == "CommandContext":
        raise CommandDefinitionError(
            f"{name}: it is deferred and runs in the worker, where it gets a JobContext"
        )


def positional_params(handler: Handler, count: int, what: str) -> Sequence[str]:
    """Check that a handler takes the context and exactly ``count`` more parameters."""
    params = list(inspect.signature(handler).parameters)
    if len(params) != 1 + count:
        raise CommandDefinitionError(
            f"{handler.__name__}: {what} handlers take the context and {count} more parameter"
        )
    return params[1:]
