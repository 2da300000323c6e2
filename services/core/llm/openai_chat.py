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
import orjson

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
_DONE: Final = "[DONE]"
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
    """Requests, authentication and errors go through the ``openai`` client; the stream's
    events are read from its raw response: the client builds a typed model of every chunk,
    which cost more CPU than everything else a streamed answer does in the worker (about
    0.4 ms a chunk, a few hundred chunks an answer), and a chunk's three fields we read
    need no model."""

    name = "openai"

    def __init__(self, client: openai.AsyncOpenAI, *, official: bool) -> None:
        self._client = client
        self._official = official

    @asynccontextmanager
    async def stream(self, request: ChatRequest) -> AsyncIterator[AsyncIterator[Event]]:
        body = request_body(request, official=self._official)
        try:
            # A refused request raises here (APIStatusError), before any event.
            async with self._client.chat.completions.with_streaming_response.create(
                **body
            ) as response:
                events = _events(response)
                try:
                    yield events
                finally:
                    # A caller that stops reading leaves the generator suspended; closing it
                    # here keeps its end inside this block. Leaving the block closes the
                    # HTTP response: the server sees the client go and stops generating.
                    await events.aclose()
        except openai.OpenAIError as exc:
            raise _translate(exc) from None


async def _events(response: Any) -> AsyncGenerator[Event, None]:
    """Server-sent events (``data: {chunk}`` ... ``data: [DONE]``) as our events."""
    reason = StopReason.END
    usage: dict[str, Any] = {}
    try:
        async for payload in _payloads(response):
            if payload == _DONE:
                break
            chunk = _chunk(payload)
            if isinstance(chunk.get("usage"), dict):
                usage = chunk["usage"]
            choices = chunk.get("choices")
            choice = choices[0] if isinstance(choices, list) and choices else None
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta")
            text = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(text, str) and text:
                yield TextDelta(text)
            if choice.get("finish_reason"):
                reason = _STOP_REASONS.get(str(choice["finish_reason"]), StopReason.END)
    except openai.OpenAIError as exc:
        raise _translate(exc) from None
    except httpx2.HTTPError as exc:  # the connection broke in the middle of the stream
        kind = ErrorKind.TIMEOUT if isinstance(exc, httpx2.TimeoutException) else None
        raise ModelError(kind or ErrorKind.UNAVAILABLE, type(exc).__name__) from None
    yield Finished(
        reason,
        input_tokens=_count(usage.get("prompt_tokens")),
        output_tokens=_count(usage.get("completion_tokens")),
    )


async def _payloads(response: Any) -> AsyncGenerator[str, None]:
    """Each event's data (its ``data:`` lines joined), as the SSE format defines it."""
    data: list[str] = []
    async for line in response.iter_lines():
        if line:
            field, _, value = line.partition(":")
            if field == "data":
                data.append(value.removeprefix(" "))
            continue  # other fields (event:, id:) and comments (": ping") say nothing
        if data:
            yield "\n".join(data)
            data = []
    if data:  # the last event, without the blank line that should end it
        yield "\n".join(data)


def _chunk(payload: str) -> dict[str, Any]:
    """One event's JSON; an error the server sends in the stream is raised as one."""
    try:
        chunk = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise ModelError(ErrorKind.UNAVAILABLE, "a stream event that is not JSON") from None
    if not isinstance(chunk, dict):
        raise ModelError(ErrorKind.UNAVAILABLE, "a stream event that is not an object")
    error = chunk.get("error")
    if error:
        details = error if isinstance(error, dict) else {}
        code = str(details.get("code") or details.get("type") or "error")
        kind = ErrorKind.UNAVAILABLE
        if code in ("rate_limit_exceeded", "rate_limit_error", "overloaded_error"):
            kind = ErrorKind.RATE_LIMITED
        elif code == "context_length_exceeded":
            kind = ErrorKind.TOO_LONG
        elif code in _REFUSAL_CODES:
            kind = ErrorKind.REFUSED
        raise ModelError(kind, f"stream error {code}"[:120])
    return chunk


def _count(value: object) -> int:
    """A token count as reported; anything else (absent, negative, not a number) is 0."""
    return value if isinstance(value, int) and value > 0 else 0
