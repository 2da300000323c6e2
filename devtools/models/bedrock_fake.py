"""A loopback stand-in for Amazon Bedrock Runtime's ConverseStream:
``POST /model/{modelId}/converse-stream``.

    async with BedrockFake.running() as fake:
        fake.script("Hello there, how are you?", delay=0.01)
        # a bedrock-runtime client with endpoint_url=fake.url, any credentials

It checks each request as Bedrock does (signed: only that an ``Authorization`` header is
there; messages that start with the user and alternate; text and image blocks;
``inferenceConfig.maxTokens``) and answers a wrong one 400 ``ValidationException``. A right
one gets the scripted answer in the AWS event stream binary format
(``application/vnd.amazon.eventstream``): messageStart, contentBlockDelta a few words at a
time, contentBlockStop, messageStop, metadata with the usage.

Errors before the stream are HTTP errors named by ``x-amzn-ErrorType``, as botocore reads
them (429 ``ThrottlingException``, 400 ``ValidationException``, 503
``ServiceUnavailableException``...); errors in the stream are exception messages
(``:message-type`` exception), named as members of the stream's union
(``throttlingException``, ``modelStreamErrorException``), as Bedrock sends them.

Tokens are counted in words, plus ``IMAGE_TOKENS`` an image; the answer is cut at
``maxTokens`` words (stop reason ``max_tokens``). A prompt over ``context_window`` is
refused as Bedrock refuses it ("Input is too long for requested model.").
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import struct
import time
from collections.abc import Mapping
from typing import Any, Final

from aiohttp import web

from devtools.models.scripted import (
    MAX_BODY,
    Failure,
    Recorded,
    ScriptedModel,
    StreamFailure,
    deltas,
)

PATH: Final = "/model/{model_id}/converse-stream"
EVENT_STREAM: Final = "application/vnd.amazon.eventstream"
AUTHORIZATION_HEADER: Final = "Authorization"
ERROR_TYPE_HEADER: Final = "x-amzn-ErrorType"
REQUEST_ID_HEADER: Final = "x-amzn-RequestId"
RETRY_AFTER_HEADER: Final = "Retry-After"
# What follows the code in x-amzn-ErrorType; botocore keeps what is before the colon.
ERROR_NAMESPACE: Final = "http://internal.amazon.com/coral/com.amazon.bedrock/"

# The event stream encoding: a prelude (total length, headers length, each 4 bytes, and the
# prelude's CRC32), the headers, the payload, and a CRC32 of everything before it.
PRELUDE_LENGTH: Final = 12
CRC_LENGTH: Final = 4
HEADER_STRING: Final = 7  # the header value type of a UTF-8 string (2-byte length first)
MESSAGE_TYPE: Final = ":message-type"
EVENT_TYPE: Final = ":event-type"
EXCEPTION_TYPE: Final = ":exception-type"
CONTENT_TYPE: Final = ":content-type"
JSON: Final = "application/json"

IMAGE_FORMATS: Final = frozenset({"png", "jpeg", "gif", "webp"})
ROLES: Final = ("user", "assistant")
STOP_REASONS: Final = frozenset(
    {
        "end_turn",
        "tool_use",
        "max_tokens",
        "stop_sequence",
        "guardrail_intervened",
        "content_filtered",
        "model_context_window_exceeded",
    }
)
# Each status Bedrock Runtime answers with, and the error it names.
ERROR_CODES: Final = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}
MESSAGES: Final = {
    "ValidationException": "The request is not valid.",
    "AccessDeniedException": "You don't have access to the model with the specified model ID.",
    "ResourceNotFoundException": "The specified model was not found.",
    "ModelTimeoutException": "Model has timed out in processing the request.",
    "ModelErrorException": "The model failed to process the request.",
    "ThrottlingException": "Too many requests, please wait before trying again.",
    "InternalServerException": "The server encountered an internal error.",
    "ServiceUnavailableException": "Bedrock is unable to process your request.",
    "ModelStreamErrorException": "An error occurred while streaming the response.",
}
TOO_LONG: Final = "Input is too long for requested model."
IMAGE_TOKENS: Final = 100
DEFAULT_ANSWER: Final = "Hello from the Bedrock stand-in."


def encode_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One message of the AWS event stream binary format, with string headers."""
    encoded = b""
    for name, value in headers.items():
        name_bytes, value_bytes = name.encode(), value.encode()
        encoded += struct.pack(">B", len(name_bytes)) + name_bytes
        encoded += struct.pack(">BH", HEADER_STRING, len(value_bytes)) + value_bytes
    total = PRELUDE_LENGTH + len(encoded) + len(payload) + CRC_LENGTH
    prelude = struct.pack(">II", total, len(encoded))
    prelude += struct.pack(">I", binascii.crc32(prelude))
    message = prelude + encoded + payload
    return message + struct.pack(">I", binascii.crc32(message))


def event(event_type: str, data: Mapping[str, Any]) -> bytes:
    return encode_message(
        {MESSAGE_TYPE: "event", EVENT_TYPE: event_type, CONTENT_TYPE: JSON},
        json.dumps(data).encode(),
    )


def exception(exception_type: str, message: str) -> bytes:
    return encode_message(
        {MESSAGE_TYPE: "exception", EXCEPTION_TYPE: exception_type, CONTENT_TYPE: JSON},
        json.dumps({"message": message}).encode(),
    )


def member_name(code: str) -> str:
    """An error's name as a member of ConverseStreamOutput: ``ThrottlingException`` ->
    ``throttlingException``."""
    return code[:1].lower() + code[1:]


def _block_problems(where: str, block: Any) -> list[str]:
    if not isinstance(block, dict) or len(block) != 1:
        return [f"{where}: a content block must have exactly one member"]
    if "text" in block:
        text = block["text"]
        if not isinstance(text, str) or not text.strip():
            return [f"{where}.text: the text field in the ContentBlock object is blank"]
        return []
    image = block.get("image")
    if not isinstance(image, dict):
        return [f"{where}: only text and image blocks are known to this stand-in"]
    if image.get("format") not in IMAGE_FORMATS:
        return [f"{where}.image.format: must be one of {sorted(IMAGE_FORMATS)}"]
    source = image.get("source")
    if not isinstance(source, dict) or not isinstance(source.get("bytes"), str):
        return [f"{where}.image.source: bytes are required"]
    try:
        if not base64.b64decode(source["bytes"], validate=True):
            return [f"{where}.image.source.bytes: the image is empty"]
    except (binascii.Error, ValueError):
        return [f"{where}.image.source.bytes: not valid base64"]
    return []


def request_problems(body: Any) -> list[str]:
    """What Bedrock would refuse in this ConverseStream body (ValidationException)."""
    if not isinstance(body, dict):
        return ["The request body is not valid JSON."]
    problems: list[str] = []
    system = body.get("system", [])
    if not isinstance(system, list) or not all(
        isinstance(b, dict) and isinstance(b.get("text"), str) and b["text"] for b in system
    ):
        problems.append("system: a list of non-empty text blocks")
    config = body.get("inferenceConfig", {})
    max_tokens = config.get("maxTokens", 1) if isinstance(config, dict) else None
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        problems.append("inferenceConfig.maxTokens: must be an integer of at least 1")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return [*problems, "messages: at least one message is required"]
    previous = "assistant"  # so that the first message must be the user's
    for i, item in enumerate(messages):
        where = f"messages.{i}"
        if not isinstance(item, dict) or item.get("role") not in ROLES:
            problems.append(f"{where}.role: must be user or assistant")
            continue
        if item["role"] == previous:
            problems.append(
                "A conversation must start with a user message."
                if i == 0
                else "A conversation must alternate between user and assistant roles."
            )
        previous = item["role"]
        content = item.get("content")
        if not isinstance(content, list) or not content:
            problems.append(f"{where}.content: at least one content block is required")
            continue
        for j, block in enumerate(content):
            problems += _block_problems(f"{where}.content.{j}", block)
    return problems


def input_tokens(body: Mapping[str, Any]) -> int:
    """The prompt's size in this stand-in's tokens: words, and ``IMAGE_TOKENS`` an image."""
    texts = [b["text"] for b in body.get("system", [])]
    images = 0
    for item in body["messages"]:
        texts += [b["text"] for b in item["content"] if "text" in b]
        images += sum(1 for b in item["content"] if "image" in b)
    return sum(len(t.split()) for t in texts) + images * IMAGE_TOKENS


class BedrockFake(ScriptedModel):
    STOP_REASONS = STOP_REASONS
    DEFAULT_ANSWER = DEFAULT_ANSWER

    def app(self) -> web.Application:
        # Images come inline, base64: Bedrock takes up to 3.75 MB each.
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(PATH, self._converse_stream)
        return app

    def fail(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: float | None = None,
        code: str | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests with this HTTP error (429
        ``ThrottlingException``, 503 ``ServiceUnavailableException``...; ``code`` for
        another, such as ``ServiceQuotaExceededException``). Bedrock sends no
        ``Retry-After``; ``retry_after`` adds one, as a proxy in front of it might."""
        name = code or ERROR_CODES.get(
            status, "InternalServerException" if status >= 500 else "ValidationException"
        )
        text = message or MESSAGES.get(name, "Error")
        self._failures.append(Failure(status, name, text, retry_after, times))

    def fail_mid_stream(
        self,
        exception_type: str = "ModelStreamErrorException",
        *,
        after: int = 1,
        message: str | None = None,
    ) -> None:
        """End the next answer with an exception message after ``after`` text deltas."""
        self._stream_failure = StreamFailure(
            member_name(exception_type),
            message or MESSAGES.get(exception_type[:1].upper() + exception_type[1:], "Error"),
            after,
        )

    def _error(
        self, recorded: Recorded, status: int, code: str, message: str, **headers: str
    ) -> web.Response:
        recorded.status = status
        recorded.end("refused")
        return web.json_response(
            {"message": message},
            status=status,
            headers={
                ERROR_TYPE_HEADER: f"{code}:{ERROR_NAMESPACE}",
                REQUEST_ID_HEADER: f"fake-{next(self._ids):06d}",
                **headers,
            },
        )

    async def _converse_stream(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = None
        recorded = Recorded(request.headers.copy(), body, model_id=request.match_info["model_id"])
        self.requests.append(recorded)
        if not request.headers.get(AUTHORIZATION_HEADER):
            return self._error(
                recorded, 403, "AccessDeniedException", "Missing Authentication Token"
            )
        failure = self._take_failure()
        if failure is not None:
            extra = {}
            if failure.retry_after is not None:
                extra[RETRY_AFTER_HEADER] = f"{failure.retry_after:g}"
            return self._error(recorded, failure.status, failure.name, failure.message, **extra)
        problems = request_problems(body)
        if problems:
            return self._error(recorded, 400, "ValidationException", "; ".join(problems))
        prompt = input_tokens(body)
        if prompt > self.context_window:
            return self._error(recorded, 400, "ValidationException", TOO_LONG)
        return await self._stream(request, recorded, body, prompt)

    async def _stream(
        self, request: web.Request, recorded: Recorded, body: Mapping[str, Any], prompt: int
    ) -> web.StreamResponse:
        started = time.monotonic()
        script, stream_failure = self._script, self._stream_failure
        self._stream_failure = None
        max_tokens = body.get("inferenceConfig", {}).get("maxTokens")
        stop_reason, text = script.stop_reason, script.text
        if max_tokens is not None and len(text.split()) > max_tokens:
            # Cut after maxTokens words, keeping the text's own spacing.
            text = "".join(re.findall(r"\s*\S+", text)[:max_tokens])
            stop_reason = "max_tokens"
        response = web.StreamResponse(
            headers={
                "Content-Type": EVENT_STREAM,
                REQUEST_ID_HEADER: f"fake-{next(self._ids):06d}",
            }
        )
        await response.prepare(request)
        try:
            await response.write(event("messageStart", {"role": "assistant"}))
            for piece in deltas(text):
                if stream_failure is not None and recorded.deltas_sent >= stream_failure.after:
                    break
                if script.delay:
                    await asyncio.sleep(script.delay)
                # Bedrock pads each event ("p") so that its length does not give the
                # text's away; clients must ignore the field.
                await response.write(
                    event(
                        "contentBlockDelta",
                        {"contentBlockIndex": 0, "delta": {"text": piece}, "p": "abcdefgh"},
                    )
                )
                recorded.deltas_sent += 1
            if stream_failure is not None:
                await response.write(exception(stream_failure.name, stream_failure.message))
                await response.write_eof()
                recorded.end("exception")
                return response
            await response.write(event("contentBlockStop", {"contentBlockIndex": 0}))
            await response.write(event("messageStop", {"stopReason": stop_reason}))
            output = len(text.split())
            await response.write(
                event(
                    "metadata",
                    {
                        "usage": {
                            "inputTokens": prompt,
                            "outputTokens": output,
                            "totalTokens": prompt + output,
                        },
                        "metrics": {"latencyMs": int((time.monotonic() - started) * 1000)},
                    },
                )
            )
            await response.write_eof()
        except asyncio.CancelledError:
            recorded.end("disconnected")
            raise
        except ConnectionError:  # a write after the client closed its connection
            recorded.end("disconnected")
            return response
        recorded.end("complete")
        return response
