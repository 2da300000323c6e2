"""From what a handler returned to the interaction response Discord expects, and from a
deferred route to its acknowledgement (Discord docs, "Interaction Response Object").

    str | Message     → 4 CHANNEL_MESSAGE_WITH_SOURCE (a new message)
    Update(...)       → 7 UPDATE_MESSAGE (components, and modals opened from one)
    Modal(...)        → 9 MODAL (not from a modal submit, never after a deferral)
    None              → 6 DEFERRED_UPDATE_MESSAGE for a component ("seen", nothing changes),
                        else "Done."
    choices           → 8 APPLICATION_COMMAND_AUTOCOMPLETE_RESULT (at most 25)
    deferred route    → 5 (``Defer.REPLY``, ephemeral if the route is) or 6 (``Defer.UPDATE``)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from services.core.bot.context import Update, as_message
from services.core.bot.errors import ResponseNotAllowed
from services.core.bot.options import Choice
from services.core.bot.routes import Defer, Route, RouteKind
from services.core.discord.components import Modal
from services.core.discord.interaction import Interaction
from services.core.discord.messages import File, Message, text_payload
from services.core.discord.models import MessageFlags, ResponseType

# Discord docs, "Autocomplete": at most 25 choices, each name 1-100 characters.
MAX_CHOICES: Final = 25
MAX_CHOICE_NAME: Final = 100
DONE_TEXT: Final = "Done."


# Not frozen: built for every interaction, and a frozen dataclass's __init__ costs several
# times a plain one on that path. Treat it as read-only.
@dataclass(slots=True)
class InteractionResponse:
    """An interaction response: its JSON body, and files to send with it (multipart)."""

    type: ResponseType
    data: dict[str, Any] | None = None
    files: tuple[File, ...] = field(default=(), repr=False)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": int(self.type)}
        if self.data is not None:
            out["data"] = self.data
        return out


def message_response(message: Message, kind: ResponseType) -> InteractionResponse:
    data = message.payload()
    if kind is ResponseType.UPDATE_MESSAGE:
        # An update keeps the message's own flags; it cannot make it ephemeral.
        data.pop("flags", None)
    return InteractionResponse(kind, data, tuple(message.files))


def _choice(value: Choice | str | float) -> dict[str, Any]:
    if isinstance(value, Choice):
        return {"name": value.name[:MAX_CHOICE_NAME], "value": value.value}
    return {"name": str(value)[:MAX_CHOICE_NAME], "value": value}


def choices_response(result: Sequence[Choice | str | int | float] | None) -> InteractionResponse:
    choices = [_choice(c) for c in list(result or [])[:MAX_CHOICES]]
    return InteractionResponse(
        ResponseType.APPLICATION_COMMAND_AUTOCOMPLETE_RESULT, {"choices": choices}
    )


def _on_a_message(route: Route, interaction: Interaction) -> bool:
    """Whether there is a message this interaction can update (a component's, or the one a
    modal was opened from)."""
    return route.kind in (RouteKind.COMPONENT, RouteKind.MODAL) and (
        interaction.message_id is not None
    )


def instant_response(route: Route, interaction: Interaction, result: Any) -> InteractionResponse:
    """The response to a route that ran now. Raises ``ResponseNotAllowed`` for an answer
    Discord would refuse here."""
    if route.kind is RouteKind.AUTOCOMPLETE:
        return choices_response(result)
    if isinstance(result, Modal):
        if route.kind is RouteKind.MODAL:
            raise ResponseNotAllowed(route.id, "a modal cannot answer a modal submit")
        return InteractionResponse(ResponseType.MODAL, result.to_discord())
    if isinstance(result, Update):
        if not _on_a_message(route, interaction):
            raise ResponseNotAllowed(route.id, "Update needs a component's message to update")
        return message_response(as_message(result), ResponseType.UPDATE_MESSAGE)
    if result is None:
        if _on_a_message(route, interaction):
            return InteractionResponse(ResponseType.DEFERRED_UPDATE_MESSAGE)
        result = DONE_TEXT
    if type(result) is str:
        data = text_payload(result, ephemeral=route.ephemeral)
        return InteractionResponse(ResponseType.CHANNEL_MESSAGE_WITH_SOURCE, data)
    if isinstance(result, Message):
        if route.ephemeral and not result.ephemeral:
            result = replace(result, ephemeral=True)  # the route says who may see its replies
        return message_response(result, ResponseType.CHANNEL_MESSAGE_WITH_SOURCE)
    raise ResponseNotAllowed(route.id, f"cannot answer with a {type(result).__name__}")


def effective_defer(route: Route, interaction: Interaction) -> Defer:
    """How a deferred route is acknowledged here: an update needs a message to update (a
    modal opened from a slash command has none), else it becomes a "thinking…" reply."""
    if route.defer is Defer.UPDATE and _on_a_message(route, interaction):
        return Defer.UPDATE
    return Defer.REPLY


def deferred_response(route: Route, interaction: Interaction) -> InteractionResponse:
    """The acknowledgement the API gives a deferred route while its job waits."""
    if effective_defer(route, interaction) is Defer.UPDATE:
        return InteractionResponse(ResponseType.DEFERRED_UPDATE_MESSAGE)
    data = {"flags": int(MessageFlags.EPHEMERAL)} if route.ephemeral else {}
    return InteractionResponse(ResponseType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, data)


def reply_is_ephemeral(route: Route, interaction: Interaction) -> bool:
    """Whether the reply a deferred job edits is ephemeral: the clicked message's own flag
    when the job updates it, else the route's."""
    if effective_defer(route, interaction) is Defer.UPDATE:
        return bool(interaction.message_flags & MessageFlags.EPHEMERAL)
    return route.ephemeral
