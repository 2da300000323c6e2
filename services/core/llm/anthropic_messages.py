"""The ``anthropic`` provider: Anthropic's Messages API, streamed, through the ``anthropic``
package (which speaks HTTP with ``httpx2``)."""

from __future__ import annotations

import base64
import math
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Final, Literal

import anthropic
import httpx2
from anthropic.types import (
    AssistantMessageParam,
    ImageBlockParam,
    MessageParam,
    RawMessageStreamEvent,
    TextBlockParam,
    UserMessageParam,
)

from services.core.llm.errors import ErrorKind, ModelError, kind_for_status
from services.core.llm.models import (
    ChatRequest,
    Event,
    Finished,
    Image,
    StopReason,
    TextDelta,
    Turn,
)

MediaType = Literal["image/jpeg", "image/png", "image/gif", "image/webp"]
_MEDIA_TYPES: Final[Mapping[str, MediaType]] = {
    "image/jpeg": "image/jpeg",
    "image/png": "image/png",
    "image/gif": "image/gif",
    "image/webp": "image/webp",
}

_STOP_REASONS: Final = {
    "end_turn": StopReason.END,
    "stop_sequence": StopReason.END,
    "max_tokens": StopReason.LENGTH,
    # The answer filled what was left of the context window: cut short, like max_tokens.
    "model_context_window_exceeded": StopReason.LENGTH,
    "refusal": StopReason.REFUSED,
}

# ``error.type`` of Anthropic's error body. An ``error`` event in the middle of a stream
# arrives on a response whose status was 200, so its type is all there is to go on.
_ERROR_TYPES: Final = {
    "rate_limit_error": ErrorKind.RATE_LIMITED,
    "overloaded_error": ErrorKind.RATE_LIMITED,
    "api_error": ErrorKind.UNAVAILABLE,
    "timeout_error": ErrorKind.TIMEOUT,
    "request_too_large": ErrorKind.TOO_LONG,
    "invalid_request_error": ErrorKind.REJECTED,
    "authentication_error": ErrorKind.REJECTED,
    "permission_error": ErrorKind.REJECTED,
    "not_found_error": ErrorKind.REJECTED,
    "billing_error": ErrorKind.REJECTED,
}
# A prompt over the context window is a plain 400 ``invalid_request_error`` whose message
# reads "prompt is too long: 210000 tokens > 200000 maximum"; there is no code to match.
_TOO_LONG_MESSAGE: Final = "prompt is too long"
_RETRY_AFTER: Final = "retry-after"


def _text_block(text: str) -> TextBlockParam:
    return {"type": "text", "text": text}


def _image_block(image: Image) -> ImageBlockParam:
    media_type = _MEDIA_TYPES.get(image.media_type)
    if media_type is None:
        raise ModelError(ErrorKind.REJECTED, f"image type {image.media_type} is not supported")
    data = base64.b64encode(image.data).decode()
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}


def message(turn: Turn) -> MessageParam:
    """One turn as an Anthropic message: text and images as content blocks, in order."""
    blocks = [_image_block(p) if isinstance(p, Image) else _text_block(p.text) for p in turn.parts]
    if turn.role == "assistant":
        return AssistantMessageParam(role="assistant", content=blocks)
    return UserMessageParam(role="user", content=blocks)


def _seconds(value: str | None) -> float:
    """A ``retry-after`` header in seconds; 0 when absent or an HTTP date (not worth a
    parser: Anthropic sends seconds)."""
    try:
        seconds = float(value or "")
    except ValueError:
        return 0.0
    return seconds if math.isfinite(seconds) and seconds > 0 else 0.0


def _translate(exc: anthropic.AnthropicError) -> ModelError:
    if isinstance(exc, anthropic.APITimeoutError):
        return ModelError(ErrorKind.TIMEOUT, "no answer in time")
    if isinstance(exc, anthropic.APIConnectionError):
        return ModelError(ErrorKind.UNAVAILABLE, type(exc).__name__)
    if isinstance(exc, anthropic.APIStatusError):
        error_type = exc.type if isinstance(exc.type, str) else None
        status = exc.status_code
        if status >= 400:
            kind = kind_for_status(status)
        else:  # an ``error`` event in a stream that had started with 200
            kind = _ERROR_TYPES.get(error_type or "", ErrorKind.UNAVAILABLE)
        if kind is ErrorKind.REJECTED and _TOO_LONG_MESSAGE in (exc.api_message or "").lower():
            kind = ErrorKind.TOO_LONG
        # The body's message is left out: it can quote the request.
        label = error_type or type(exc).__name__
        return ModelError(
            kind,
            f"HTTP {status} {label}" if status >= 400 else f"stream error {label}",
            status=status if status >= 400 else None,
            retry_after=_seconds(exc.response.headers.get(_RETRY_AFTER)),
        )
    if isinstance(exc, anthropic.CredentialsError):
        return ModelError(ErrorKind.REJECTED, type(exc).__name__)
    return ModelError(ErrorKind.UNAVAILABLE, type(exc).__name__)


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, client: anthropic.AsyncAnthropic) -> None:
        self._client = client

    @asynccontextmanager
    async def stream(self, request: ChatRequest) -> AsyncIterator[AsyncIterator[Event]]:
        messages = [message(t) for t in request.turns]
        try:
            events = await self._client.messages.create(
                model=request.model,
                # No system prompt is no field, rather than an empty text the API may refuse.
                system=request.system or anthropic.omit,
                messages=messages,
                max_tokens=request.max_output_tokens,
                stream=True,
            )
        except anthropic.AnthropicError as exc:
            raise _translate(exc) from None
        try:
            yield self._events(events)
        finally:
            # Closes the HTTP response: the server sees the client go and stops generating.
            await events.close()

    @staticmethod
    async def _events(events: anthropic.AsyncStream[RawMessageStreamEvent]) -> AsyncIterator[Event]:
        reason = StopReason.END
        input_tokens = output_tokens = 0
        try:
            async for event in events:
                if event.type == "message_start":
                    input_tokens = event.message.usage.input_tokens or 0
                elif event.type == "content_block_delta":
                    if event.delta.type == "text_delta" and event.delta.text:
                        yield TextDelta(event.delta.text)
                elif event.type == "message_delta":
                    # Cumulative counts: the last message_delta holds the totals.
                    output_tokens = event.usage.output_tokens or output_tokens
                    if event.delta.stop_reason:
                        reason = _STOP_REASONS.get(event.delta.stop_reason, StopReason.END)
        except anthropic.AnthropicError as exc:
            raise _translate(exc) from None
        except httpx2.TimeoutException:  # the stream went quiet for longer than the timeout
            raise ModelError(ErrorKind.TIMEOUT, "no answer in time") from None
        except httpx2.HTTPError as exc:  # the connection broke in the middle of the stream
            raise ModelError(ErrorKind.UNAVAILABLE, type(exc).__name__) from None
        yield Finished(reason, input_tokens=input_tokens, output_tokens=output_tokens)
