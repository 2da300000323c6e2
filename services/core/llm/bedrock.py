"""The ``bedrock`` provider: Amazon Bedrock's ConverseStream, through an aioboto3
``bedrock-runtime`` client that the caller opened (``services.core.aws.aws_client``).

One request shape for every model Bedrock serves (Claude, Llama, Mistral, Nova...); the
answer comes back as an AWS event stream, which aiobotocore parses into dicts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Final

import aiohttp
from botocore.eventstream import ParserError
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from services.core.aws import AWS_ERRORS, error_code
from services.core.llm.errors import ErrorKind, ModelError, kind_for_status
from services.core.llm.models import (
    ChatRequest,
    Event,
    Finished,
    Image,
    Part,
    StopReason,
    TextDelta,
    Turn,
)

_IMAGE_FORMATS: Final[Mapping[str, str]] = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
}

_STOP_REASONS: Final = {
    "end_turn": StopReason.END,
    "stop_sequence": StopReason.END,
    "max_tokens": StopReason.LENGTH,
    # The answer filled what was left of the context window: cut short, like max_tokens.
    "model_context_window_exceeded": StopReason.LENGTH,
    "guardrail_intervened": StopReason.REFUSED,
    "content_filtered": StopReason.REFUSED,
}

_ERROR_CODES: Final = {
    "ThrottlingException": ErrorKind.RATE_LIMITED,
    "ServiceQuotaExceededException": ErrorKind.RATE_LIMITED,
    "ModelTimeoutException": ErrorKind.TIMEOUT,
    "ServiceUnavailableException": ErrorKind.UNAVAILABLE,
    "InternalServerException": ErrorKind.UNAVAILABLE,
    "ModelStreamErrorException": ErrorKind.UNAVAILABLE,
    # The model is being loaded (a custom or imported model after a quiet spell).
    "ModelNotReadyException": ErrorKind.UNAVAILABLE,
    "ModelErrorException": ErrorKind.UNAVAILABLE,
    "ValidationException": ErrorKind.REJECTED,
    "AccessDeniedException": ErrorKind.REJECTED,
    "ResourceNotFoundException": ErrorKind.REJECTED,
}
_VALIDATION: Final = "ValidationException"
# Bedrock has no code for a prompt over the context window: it is a ValidationException whose
# message varies with the model ("Input is too long for requested model.", "prompt is too
# long: 210000 tokens > 200000 maximum", "too many input tokens").
_TOO_LONG_MESSAGES: Final = (
    "too long",
    "too many tokens",
    "too many input tokens",
    "context length",
    "context window",
    "maximum context",
)
# The client's own configuration (no credentials, no region, a malformed request), not the
# service: retrying would not help.
_CONFIG_ERRORS: Final = (
    NoCredentialsError,
    PartialCredentialsError,
    CredentialRetrievalError,
    NoRegionError,
    ParamValidationError,
)
_RETRY_AFTER: Final = "retry-after"


def _block(part: Part) -> dict[str, Any]:
    if isinstance(part, Image):
        image_format = _IMAGE_FORMATS.get(part.media_type)
        if image_format is None:
            raise ModelError(ErrorKind.REJECTED, f"image type {part.media_type} is not supported")
        # Raw bytes: botocore encodes blobs in base64 itself.
        return {"image": {"format": image_format, "source": {"bytes": part.data}}}
    return {"text": part.text}


def message(turn: Turn) -> dict[str, Any]:
    """One turn as a Converse message: text and images as content blocks, in order."""
    return {"role": turn.role, "content": [_block(p) for p in turn.parts]}


def request_params(request: ChatRequest) -> dict[str, Any]:
    """The arguments of ``converse_stream``."""
    params: dict[str, Any] = {
        "modelId": request.model,
        "messages": [message(t) for t in request.turns],
        "inferenceConfig": {"maxTokens": request.max_output_tokens},
    }
    if request.system:  # Bedrock refuses an empty text block
        params["system"] = [{"text": request.system}]
    return params


def _seconds(value: object) -> float:
    """A ``Retry-After`` in seconds, 0 without one: Bedrock sends none, a gateway in front
    of it may."""
    try:
        seconds = float(str(value))
    except ValueError:
        return 0.0
    return seconds if 0 < seconds < float("inf") else 0.0


def _translate(exc: BaseException) -> ModelError:
    if isinstance(exc, ClientError):
        code = error_code(exc)
        # An exception event in the stream is named as its member of the stream's union
        # (``throttlingException``), the same error as the HTTP answer's ThrottlingException.
        code = code[:1].upper() + code[1:]
        metadata = exc.response.get("ResponseMetadata", {})
        status: int | None = metadata.get("HTTPStatusCode")
        kind = _ERROR_CODES.get(code)
        if kind is None:
            kind = kind_for_status(status) if status else ErrorKind.UNAVAILABLE
        said = str(exc.response.get("Error", {}).get("Message", "")).lower()
        if code == _VALIDATION and any(m in said for m in _TOO_LONG_MESSAGES):
            kind = ErrorKind.TOO_LONG
        # The service's message is left out: it can quote the request.
        return ModelError(
            kind,
            f"HTTP {status} {code}" if status else f"stream error {code}",
            status=status,
            retry_after=_seconds(metadata.get("HTTPHeaders", {}).get(_RETRY_AFTER)),
        )
    if isinstance(exc, (ReadTimeoutError, ConnectTimeoutError, TimeoutError)):
        return ModelError(ErrorKind.TIMEOUT, "no answer in time")
    if isinstance(exc, _CONFIG_ERRORS):
        return ModelError(ErrorKind.REJECTED, error_code(exc))
    return ModelError(ErrorKind.UNAVAILABLE, error_code(exc))


class BedrockProvider:
    name = "bedrock"

    def __init__(self, client: Any) -> None:
        """``client``: an open aioboto3 ``bedrock-runtime`` client."""
        self._client = client

    @asynccontextmanager
    async def stream(self, request: ChatRequest) -> AsyncIterator[AsyncIterator[Event]]:
        params = request_params(request)
        try:
            response = await self._client.converse_stream(**params)
        except AWS_ERRORS as exc:
            raise _translate(exc) from None
        events = response["stream"]
        try:
            yield self._events(events)
        finally:
            # Closes the HTTP response under the event stream (aiobotocore's close is not a
            # coroutine): Bedrock sees the client go and stops generating.
            events.close()

    @staticmethod
    async def _events(events: Any) -> AsyncIterator[Event]:
        reason = StopReason.END
        input_tokens = output_tokens = 0
        try:
            async for event in events:
                if "contentBlockDelta" in event:
                    text = event["contentBlockDelta"].get("delta", {}).get("text")
                    if text:
                        yield TextDelta(text)
                elif "messageStop" in event:
                    stop = event["messageStop"].get("stopReason", "")
                    reason = _STOP_REASONS.get(stop, StopReason.END)
                elif "metadata" in event:
                    usage = event["metadata"].get("usage", {})
                    input_tokens = usage.get("inputTokens", 0)
                    output_tokens = usage.get("outputTokens", 0)
        except AWS_ERRORS as exc:  # an exception event in the stream (EventStreamError)
            raise _translate(exc) from None
        # aiobotocore reads the stream from aiohttp directly, so a broken or silent connection
        # raises aiohttp's errors here, not botocore's.
        except TimeoutError as exc:
            raise _translate(exc) from None
        except (aiohttp.ClientError, ParserError) as exc:
            raise ModelError(ErrorKind.UNAVAILABLE, type(exc).__name__) from None
        yield Finished(reason, input_tokens=input_tokens, output_tokens=output_tokens)
