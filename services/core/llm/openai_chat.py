"""The ``openai`` provider: the Chat Completions protocol, through the ``openai`` package.

One client serves OpenAI itself and every server that speaks the protocol (set
``LLM_BASE_URL``): Gemini's OpenAI-compatible endpoint, Ollama, vLLM, llama.cpp, LM Studio,
OpenRouter, Groq, and the local stand-in of ``make run``.
"""

from __future__ import annotations

import base64
import math
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

import httpx2
import openai

from services.core.llm.errors import ErrorKind, ModelError, kind_for_status
from services.core.llm.models import (
    ChatRequest,
    Event,
    Finished,
    Image,
    StopReason,
    Text,
    TextDelta,
    Turn,
)

# OpenAI (and Azure OpenAI) send the exact wait in milliseconds beside the standard header,
# which only holds whole seconds: a 250 ms wait would otherwise read as a whole second.
_RETRY_AFTER_HEADERS: Final = (("retry-after-ms", 1000.0), ("retry-after", 1.0))
# Azure OpenAI's content filter, and OpenAI's own for images.
_REFUSAL_CODES: Final = frozenset({"content_filter", "content_policy_violation"})
_STOP_REASONS: Final = {
    "stop": StopReason.END,
    "length": StopReason.LENGTH,
    "content_filter": StopReason.REFUSED,
}


def _content(turn: Turn) -> str | list[dict[str, Any]]:
    if all(isinstance(p, Text) for p in turn.parts):
        return turn.text  # the plain form: every compatible server accepts it
    parts: list[dict[str, Any]] = []
    for part in turn.parts:
        if isinstance(part, Image):
            data = base64.b64encode(part.data).decode()
            url = f"data:{part.media_type};base64,{data}"
            parts.append({"type": "image_url", "image_url": {"url": url}})
        else:
            parts.append({"type": "text", "text": part.text})
    return parts


def request_body(request: ChatRequest, *, official: bool) -> dict[str, Any]:
    """The ``/chat/completions`` body. OpenAI itself counts the answer's tokens with
    ``max_completion_tokens`` (and refuses ``max_tokens`` for its reasoning models); the
    compatible servers know ``max_tokens``, and not all of them the newer name."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": request.system}]
    messages += [{"role": t.role, "content": _content(t)} for t in request.turns]
    limit = "max_completion_tokens" if official else "max_tokens"
    return {
        "model": request.model,
        "messages": messages,
        limit: request.max_output_tokens,
        "stream": True,
        # The last chunk then carries the usage: the tokens the budgets count.
        "stream_options": {"include_usage": True},
    }


def _retry_after(headers: httpx2.Headers) -> float:
    """The wait a 429 or 503 asks for, in seconds; 0 when absent or an HTTP date."""
    for name, per_second in _RETRY_AFTER_HEADERS:
        try:
            seconds = float(headers.get(name, "")) / per_second
        except ValueError:
            continue
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
    return 0.0


def _translate(exc: openai.OpenAIError) -> ModelError:
    if isinstance(exc, openai.APITimeoutError):
        return ModelError(ErrorKind.TIMEOUT, "no answer in time")
    if isinstance(exc, openai.APIConnectionError):
        return ModelError(ErrorKind.UNAVAILABLE, type(exc).__name__)
    if isinstance(exc, openai.APIStatusError):
        code = exc.code if isinstance(getattr(exc, "code", None), str) else None
        kind = kind_for_status(exc.status_code)
        if code == "context_length_exceeded":
            kind = ErrorKind.TOO_LONG
        elif code in _REFUSAL_CODES:
            kind = ErrorKind.REFUSED
        return ModelError(
            kind,
            f"HTTP {exc.status_code} {code or type(exc).__name__}",
            status=exc.status_code,
            retry_after=_retry_after(exc.response.headers),
        )
    return ModelError(ErrorKind.UNAVAILABLE, type(exc).__name__)


class OpenAIProvider:
    name = "openai"

    def __init__(self, client: openai.AsyncOpenAI, *, official: bool) -> None:
        self._client = client
        self._official = official

    @asynccontextmanager
    async def stream(self, request: ChatRequest) -> AsyncIterator[AsyncIterator[Event]]:
        try:
            chunks = await self._client.chat.completions.create(
                **request_body(request, official=self._official)
            )
        except openai.OpenAIError as exc:
            raise _translate(exc) from None
        events = self._events(chunks)
        try:
            yield events
        finally:
            # A caller that stops reading leaves the generator suspended; closing it here,
            # not whenever it is collected, keeps its end inside this block.
            await events.aclose()
            # Closes the HTTP response: the server sees the client go and stops generating.
            await chunks.close()

    @staticmethod
    async def _events(chunks: Any) -> AsyncGenerator[Event, None]:
        reason = StopReason.END
        usage = None
        try:
            async for chunk in chunks:
                if chunk.usage is not None:
                    usage = chunk.usage
                for choice in chunk.choices[:1]:
                    if choice.delta is not None and choice.delta.content:
                        yield TextDelta(choice.delta.content)
                    if choice.finish_reason:
                        reason = _STOP_REASONS.get(choice.finish_reason, StopReason.END)
        except openai.OpenAIError as exc:
            raise _translate(exc) from None
        except httpx2.HTTPError as exc:  # the connection broke in the middle of the stream
            raise ModelError(ErrorKind.UNAVAILABLE, type(exc).__name__) from None
        yield Finished(
            reason,
            input_tokens=usage.prompt_tokens if usage else 0,
            output_tokens=usage.completion_tokens if usage else 0,
        )
