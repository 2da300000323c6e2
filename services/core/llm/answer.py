"""One answer, from the question to its last edit: the server's model and instructions, the
model asked (again, after a pause, when it is busy and nothing was shown yet), the text
streamed into Discord, the tokens counted, and the exchange kept for a follow-up."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import structlog

from services.core.bot.context import JobContext
from services.core.discord.components import Button
from services.core.discord.errors import DiscordHTTPError
from services.core.discord.messages import MENTION_NONE, Message
from services.core.errors import ConfigStoreError
from services.core.llm.answers import Exchange
from services.core.llm.errors import USER_TEXT, ErrorKind, ModelError
from services.core.llm.models import ChatRequest, Image, Turn
from services.core.llm.runtime import Llm
from services.core.llm.settings import BASE_SYSTEM_PROMPT, CHARS_PER_TOKEN
from services.core.llm.streaming import AnswerWriter, Streamed

log = structlog.get_logger("llm.answer")

# Per-server choices an administrator sets with /config (SSM settings).
MODEL_SETTING: Final = "model"
PROMPT_SETTING: Final = "system_prompt"
BACKOFF_BASE: Final = 1.0
BACKOFF_CAP: Final = 20.0
RETRYING_TEXT: Final = {
    ErrorKind.RATE_LIMITED: "*(The model is busy; trying again in {seconds} s…)*",
    ErrorKind.UNAVAILABLE: "*(The model could not be reached; trying again in {seconds} s…)*",
}
# What an image counts for before the model has counted it (a 1,000 by 1,000 picture is
# about 1,300 tokens for Claude, 765 to 1,105 for OpenAI's models).
IMAGE_TOKENS: Final = 1600


class AnswerIncompleteError(Exception):
    """Discord refused the rest of an answer it had begun to show (logged where found)."""


@dataclass(frozen=True, slots=True)
class Buttons:
    """The buttons an answer carries: Stop while it streams, Follow up once it is done."""

    stop: Button | None
    follow_up: Button | None


def backoff(attempt: int, retry_after: float) -> float:
    """Seconds to wait before asking again: the service's Retry-After if it gave one, else
    exponential with jitter."""
    if retry_after > 0:
        return min(retry_after, BACKOFF_CAP)
    return min(BACKOFF_CAP, BACKOFF_BASE * 2.0**attempt) * random.uniform(0.5, 1.0)


async def server_choices(ctx: JobContext, llm: Llm) -> tuple[str, str]:
    """The model and instructions for this server: its administrators' choice, if any (and,
    for the model, one the operator allows), else the operator's."""
    model, prompt = llm.settings.model, llm.settings.system_prompt
    if ctx.guild_id is None or ctx.resources.servers is None:
        return model, prompt
    try:
        settings = await ctx.resources.servers.settings(ctx.guild_id)
    except ConfigStoreError as exc:
        log.warning("server_settings_unread", error=exc.code)
        return model, prompt
    chosen = settings.get(MODEL_SETTING)
    if isinstance(chosen, str) and chosen:
        if chosen in llm.settings.allowed_models:
            model = chosen
        else:
            log.warning("server_model_not_allowed", model=chosen)
    custom = settings.get(PROMPT_SETTING)
    if isinstance(custom, str) and custom.strip():
        prompt = custom.strip()
    return model, prompt


async def answer(
    ctx: JobContext, llm: Llm, turns: Sequence[Turn], *, buttons: Buttons, kind: str
) -> None:
    """Stream the model's answer to ``turns`` into the reply; every outcome ends with the
    user told (the answer, a stopped note, or what went wrong)."""
    assert llm.provider is not None
    model, instructions = await server_choices(ctx, llm)
    request = ChatRequest(
        model=model,
        system=f"{BASE_SYSTEM_PROMPT}\n\n{instructions}",
        turns=tuple(turns),
        max_output_tokens=llm.settings.max_output_tokens,
    )
    if estimate_tokens(request) > llm.settings.max_input_tokens:
        # The commands cut what they send to fit; this guards what they did not foresee.
        log.warning("answer", kind=kind, model=model, outcome="too_long")
        await ctx.edit(
            Message(content=USER_TEXT[ErrorKind.TOO_LONG], allowed_mentions=MENTION_NONE)
        )
        return
    # The question's tokens count at once, before the answer: a member's next question
    # is checked against them while this one streams. What the model really counted
    # replaces the estimate when it ends (or nothing is counted, if it never answered).
    reserved = estimate_tokens(request)
    await _charge(ctx, llm, reserved)
    spent = 0
    try:
        streamed = await _ask(ctx, llm, request, buttons, model=model, kind=kind)
        if streamed is None:
            return
        tokens_in, tokens_out = _tokens(request, streamed)
        spent = tokens_in + tokens_out
    finally:
        await _charge(ctx, llm, spent - reserved)
    if llm.answers is not None and streamed.text:
        exchange = Exchange(ctx.user_id, [*turns, Turn.assistant(streamed.text)])
        try:
            await llm.answers.keep(ctx.interaction.id, exchange)
        except Exception as exc:  # a follow-up then says the conversation expired
            log.warning("exchange_not_kept", error=type(exc).__name__)


async def _ask(
    ctx: JobContext, llm: Llm, request: ChatRequest, buttons: Buttons, *, model: str, kind: str
) -> Streamed | None:
    """The model asked (again, after a pause, while it is busy and nothing was shown) and
    its answer streamed; ``None`` when it never answered (the user was told) or Discord
    stopped taking the answer half-way."""
    assert llm.provider is not None
    answer_id = ctx.interaction.id
    started = time.monotonic()
    attempts = 0
    streamed: Streamed | None = None
    failure: ModelError | None = None
    while streamed is None:
        attempts += 1
        try:
            streamed = await _stream_once(ctx, llm, request, answer_id, buttons)
        except AnswerIncompleteError:
            return None
        except ModelError as exc:  # nothing was shown: it can be asked again
            failure = exc
            if not exc.retryable or attempts > llm.settings.retries:
                break
            wait = backoff(attempts - 1, exc.retry_after)
            log.info("model_retry", kind=exc.kind.value, wait_s=round(wait, 2), attempt=attempts)
            notice = RETRYING_TEXT.get(exc.kind)
            if notice is not None and wait >= 1:
                await ctx.edit(
                    Message(
                        content=notice.format(seconds=round(wait)),
                        allowed_mentions=MENTION_NONE,
                    )
                )
            await asyncio.sleep(wait)
    if streamed is None:
        assert failure is not None
        log.warning(
            "answer",
            kind=kind,
            model=model,
            outcome="failed",
            error=failure.kind.value,
            detail=failure.detail,
            attempts=attempts,
        )
        await ctx.edit(Message(content=failure.user_text, allowed_mentions=MENTION_NONE))
        return None
    tokens_in, tokens_out = _tokens(request, streamed)
    log.info(
        "answer",
        kind=kind,
        provider=llm.provider.name,
        model=model,
        outcome=_outcome(streamed),
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        ttft_ms=_ms(started, streamed.first_token_at),
        first_edit_ms=_ms(streamed.first_token_at, streamed.first_edit_at),
        duration_ms=round((time.monotonic() - started) * 1000, 1),
        messages=streamed.messages,
        edits=streamed.edits,
        attempts=attempts,
        error=streamed.error.kind.value if streamed.error else None,
    )
    return streamed


async def _charge(ctx: JobContext, llm: Llm, tokens: int) -> None:
    if llm.budget is not None and tokens:
        await llm.budget.charge(tokens, user_id=ctx.user_id, guild_id=ctx.guild_id)


async def _stream_once(
    ctx: JobContext, llm: Llm, request: ChatRequest, answer_id: str, buttons: Buttons
) -> Streamed:
    assert llm.provider is not None
    answers = llm.answers

    async def stopped() -> bool:
        return answers is not None and await answers.stopped(answer_id)

    writer = AnswerWriter(
        ctx,
        interval=llm.settings.edit_interval,
        stop_button=buttons.stop if answers is not None else None,
        final_button=buttons.follow_up if answers is not None else None,
        stopped=stopped,
    )
    try:
        # Leaving this block closes the model's stream: on Stop, the model stops generating.
        async with llm.provider.stream(request) as events:
            return await writer.write(events)
    except DiscordHTTPError as exc:
        if not writer.sent:
            raise  # nothing reached the user: the job may run again
        # Part of the answer is in Discord: running the job again would generate it again
        # and send it twice. The user keeps what arrived.
        log.error("answer_incomplete", status=exc.status, code=exc.code)
        raise AnswerIncompleteError from None


def estimate_tokens(request: ChatRequest) -> int:
    """The request's size in tokens, as counted before the model does."""
    text = len(request.system) + sum(len(t.text) for t in request.turns)
    images = sum(1 for t in request.turns for p in t.parts if isinstance(p, Image))
    return text // CHARS_PER_TOKEN + images * IMAGE_TOKENS


def _tokens(request: ChatRequest, streamed: Streamed) -> tuple[int, int]:
    """Tokens in and out: the model's count, else an estimate (a stopped or undelivered
    stream ends before the model says)."""
    if streamed.finished is not None and (
        streamed.finished.input_tokens or streamed.finished.output_tokens
    ):
        return streamed.finished.input_tokens, streamed.finished.output_tokens
    return estimate_tokens(request), len(streamed.text) // CHARS_PER_TOKEN


def _outcome(streamed: Streamed) -> str:
    if streamed.undelivered:
        return "undelivered"
    if streamed.stopped:
        return "stopped"
    if streamed.error is not None:
        return "cut_short"
    return streamed.finished.reason.value if streamed.finished else "ended"


def _ms(start: float | None, end: float | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start) * 1000, 1)
