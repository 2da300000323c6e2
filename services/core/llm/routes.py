"""LLM commands on a bot's router. ``ModelCommands`` declares a bot's model-backed commands
(always deferred: an answer takes seconds to minutes) and, once for all of them, the routes
every answer needs:

    Stop        a button on the message being written; runs in the API (a click must not
                wait behind the worker's queue) and sets the answer's Stop flag
    Follow up   a button under a finished answer; opens a form (a modal must be the first
                response, so this one runs in the API too)
    question    the submitted form: another answer, in the worker, with the exchange so far

The API asks ``uses_model`` of a route before queueing it: model routes are refused politely
when no model is configured, over a budget, or with too many answers in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

import structlog

from services.core.aws import AWS_ERRORS, error_code
from services.core.bot.context import SENT, CommandContext, JobContext, Sent
from services.core.bot.router import Router
from services.core.bot.routes import Handler
from services.core.discord.components import Button, ButtonStyle, Modal, TextInput, TextInputStyle
from services.core.discord.messages import MENTION_NONE, Message
from services.core.llm.answer import Buttons, answer
from services.core.llm.models import Turn

log = structlog.get_logger("llm.routes")

H = TypeVar("H", bound=Handler)

NOT_CONFIGURED_TEXT: Final = (
    "This bot has no language model configured, so its AI commands are off for now."
)
NOT_YOURS_TEXT: Final = "Only who asked for this answer can stop it."
NOT_YOUR_TALK_TEXT: Final = (
    "Only who asked for this answer can follow it up; ask your own with /ask."
)
NOT_STOPPABLE_TEXT: Final = "This answer cannot be stopped from here."
STOP_FAILED_TEXT: Final = "The answer could not be stopped just now; try again."
EXPIRED_TEXT: Final = "That conversation has expired; start a new one with /ask."
MAX_QUESTION: Final = 2000
CUT_HERE: Final = "\n[… cut here: too long to send whole]"
CUT_BEFORE: Final = "[… earlier text left out: too long to send whole]\n"
# Within the API's instant budget (3 s in all, Discord's deadline).
STOP_TIMEOUT: Final = 1.5

_MODEL_HANDLERS: set[Handler] = set()


def uses_model(handler: Handler) -> bool:
    return handler in _MODEL_HANDLERS


def fitted(text: str, limit: int, *, keep: str = "start") -> str:
    """``text`` within ``limit`` characters, saying where it was cut: its start kept (a
    file), or its end (a transcript, whose newest lines matter most)."""
    if len(text) <= limit:
        return text
    if keep == "start":
        return text[: limit - len(CUT_HERE)] + CUT_HERE
    return CUT_BEFORE + text[len(text) - limit + len(CUT_BEFORE) :]


def notice(text: str) -> Message:
    """A model command's own short answer (a refusal, a problem). It may quote what a user
    gave (a file's name), so it pings nobody."""
    return Message(content=text, allowed_mentions=MENTION_NONE)


class ModelCommands:
    def __init__(self, router: Router) -> None:
        self._router = router

        @router.component("answer-stop:{answer}:{user}", signed=True)
        async def stop_answer(ctx: CommandContext, answer: str, user: str) -> Message | None:
            if ctx.user_id != user:
                return Message(content=NOT_YOURS_TEXT, ephemeral=True)
            llm = ctx.resources.llm
            if llm is None or llm.answers is None:
                return Message(content=NOT_STOPPABLE_TEXT, ephemeral=True)
            try:
                async with asyncio.timeout(STOP_TIMEOUT):
                    await llm.answers.stop(answer)
            except (TimeoutError, *AWS_ERRORS) as exc:
                log.warning("stop_not_saved", error=error_code(exc))
                return Message(content=STOP_FAILED_TEXT, ephemeral=True)
            log.info("answer_stop_requested", answer_id=answer)
            return None  # acknowledged; the stream's next edit says "stopped"

        @router.component("answer-more:{answer}:{user}", signed=True)
        async def follow_up(ctx: CommandContext, answer: str, user: str) -> Modal | Message:
            # The exchange may hold what only its asker gave (a file): theirs to continue.
            if ctx.user_id != user:
                return Message(content=NOT_YOUR_TALK_TEXT, ephemeral=True)
            question = TextInput(
                "question",
                "Your follow-up question",
                style=TextInputStyle.PARAGRAPH,
                min_length=1,
                max_length=MAX_QUESTION,
            )
            return Modal(
                custom_id=ctx.custom_id(followed_up, answer=answer),
                title="Follow up",
                fields=[question],
            )

        @router.modal("answer-ask:{answer}", defer=True, signed=True)
        async def followed_up(ctx: JobContext, answer: str) -> Sent | Message:
            llm = ctx.resources.llm
            if llm is None or llm.provider is None:
                return notice(NOT_CONFIGURED_TEXT)
            history = await llm.answers.exchange(answer) if llm.answers is not None else None
            if history is None:
                return notice(EXPIRED_TEXT)
            if history.user_id != ctx.user_id:
                return notice(NOT_YOUR_TALK_TEXT)
            question = str(ctx.fields.get("question") or "").strip()[:MAX_QUESTION]
            return await self.answer(ctx, [*history.turns, Turn.user(question)], kind="follow_up")

        _MODEL_HANDLERS.add(followed_up)
        self._stop = stop_answer
        self._more = follow_up

    def command(self, *, description: str, **declaration: Any) -> Callable[[H], H]:
        """A slash command answered by the model (``Router.command``, always deferred)."""
        return self._marked(
            self._router.command(description=description, defer=True, **declaration)
        )

    def message_command(self, *, name: str, **declaration: Any) -> Callable[[H], H]:
        """A message context-menu command answered by the model."""
        return self._marked(self._router.message_command(name=name, defer=True, **declaration))

    @staticmethod
    def _marked(declare: Callable[[H], H]) -> Callable[[H], H]:
        def decorate(handler: H) -> H:
            _MODEL_HANDLERS.add(handler)
            return declare(handler)

        return decorate

    def buttons(self, ctx: JobContext) -> Buttons:
        answer_id = ctx.interaction.id
        stop = Button(
            "Stop",
            custom_id=ctx.custom_id(self._stop, answer=answer_id, user=ctx.user_id or ""),
            style=ButtonStyle.DANGER,
            emoji="⏹️",
        )
        more = Button(
            "Follow up",
            custom_id=ctx.custom_id(self._more, answer=answer_id, user=ctx.user_id or ""),
            style=ButtonStyle.SECONDARY,
            emoji="💬",
        )
        return Buttons(stop=stop, follow_up=more)

    async def answer(self, ctx: JobContext, turns: Sequence[Turn], *, kind: str) -> Sent | Message:
        """Stream the model's answer to ``turns`` into the reply."""
        llm = ctx.resources.llm
        if llm is None or llm.provider is None:
            return notice(NOT_CONFIGURED_TEXT)
        await answer(ctx, llm, turns, buttons=self.buttons(ctx), kind=kind)
        return SENT
