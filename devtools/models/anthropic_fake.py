"""A loopback stand-in for Anthropic's Messages API, streamed: ``POST /v1/messages``.

    async with AnthropicFake.running() as fake:
        fake.script("Hello there, how are you?", delay=0.01)
        client = anthropic.AsyncAnthropic(api_key="local", base_url=fake.url, max_retries=0)

It checks each request as the API does (a key, in ``x-api-key`` or as a bearer token; a dated
``anthropic-version`` header; the model, ``max_tokens``, messages that start with the user and
alternate, text and base64 image blocks, a system prompt as a string or text blocks,
``stream: true``, no unknown fields) and answers a wrong one with Anthropic's error body: 401
without a key, 400 otherwise. A right one gets the scripted answer as
server-sent events, a few words per ``content_block_delta``, in the order the API sends them.

Tokens are counted in words: the system prompt's and every text block's, plus
``IMAGE_TOKENS`` an image; the answer's words up to ``max_tokens`` (beyond it, the answer is
cut and the stop reason is ``max_tokens``). A prompt over ``context_window`` is refused as the
API refuses it (400 "prompt is too long").

Each request is kept in ``requests`` with how its stream ended (``Recorded.outcome``), so a
test sees a client that left in the middle of the answer.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
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

PATH: Final = "/v1/messages"
API_KEY_HEADER: Final = "x-api-key"
# The key as a bearer token: how the anthropic package sends it since its 2.x releases.
AUTHORIZATION_HEADER: Final = "authorization"
BEARER: Final = "Bearer "
VERSION_HEADER: Final = "anthropic-version"
# Dated versions; the package sends its own (2023-06-01 for years, later ones since), so any
# date is taken rather than a list this stand-in would have to keep up with.
VERSION_FORMAT: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
REQUEST_ID_HEADER: Final = "request-id"
RETRY_AFTER_HEADER: Final = "retry-after"
MEDIA_TYPES: Final = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
ROLES: Final = ("user", "assistant")
# The request fields of the Messages API; anything else is refused, as the API does.
FIELDS: Final = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "system",
        "stream",
        "metadata",
        "stop_sequences",
        "temperature",
        "top_k",
        "top_p",
        "tools",
        "tool_choice",
        "thinking",
        "service_tier",
        "container",
        "cache_control",
        "output_config",
        "inference_geo",
        "speed",
        "diagnostics",
    }
)
STOP_REASONS: Final = frozenset(
    {"end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal"}
)
# Anthropic's ``error.type`` for each status it answers with.
ERROR_TYPES: Final = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
MESSAGES: Final = {
    "invalid_request_error": "Invalid request",
    "authentication_error": "invalid x-api-key",
    "billing_error": "Your credit balance is too low to access the Anthropic API.",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "The requested resource could not be found.",
    "request_too_large": "Request exceeds the maximum allowed number of bytes.",
    "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit",
    "api_error": "Internal server error",
    "timeout_error": "Request timed out",
    "overloaded_error": "Overloaded",
}
IMAGE_TOKENS: Final = 100
DEFAULT_ANSWER: Final = "Hello from the Anthropic stand-in."


def error_body(error_type: str, message: str, request_id: str) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": request_id,
    }


def api_key(headers: Mapping[str, str]) -> str:
    """The key a request carries, in ``x-api-key`` or as a bearer token; empty if none."""
    authorization = headers.get(AUTHORIZATION_HEADER, "")
    bearer = authorization[len(BEARER) :] if authorization.startswith(BEARER) else ""
    return headers.get(API_KEY_HEADER, "") or bearer.strip()


def _text_problems(where: str, value: Any) -> list[str]:
    if not isinstance(value, str):
        return [f"{where}: Input should be a valid string"]
    if not value.strip():
        return [f"{where}: text content blocks must contain non-whitespace text"]
    return []


def _block_problems(where: str, block: Any) -> list[str]:
    if not isinstance(block, dict):
        return [f"{where}: Input should be a valid dictionary"]
    kind = block.get("type")
    if kind == "text":
        return _text_problems(f"{where}.text", block.get("text"))
    if kind != "image":
        return [f"{where}.type: Input should be 'text' or 'image' (as this stand-in knows)"]
    source = block.get("source")
    if not isinstance(source, dict) or source.get("type") != "base64":
        return [f"{where}.source.type: Input should be 'base64' (as this stand-in knows)"]
    if source.get("media_type") not in MEDIA_TYPES:
        return [f"{where}.source.media_type: Input should be one of {sorted(MEDIA_TYPES)}"]
    try:
        if not base64.b64decode(source.get("data", ""), validate=True):
            return [f"{where}.source.data: image cannot be empty"]
    except (binascii.Error, TypeError, ValueError):
        return [f"{where}.source.data: invalid base64 data"]
    return []


def request_problems(headers: Mapping[str, str], body: Any) -> list[str]:
    """What the Messages API would refuse in this request (400), none when it is right."""
    if not VERSION_FORMAT.fullmatch(headers.get(VERSION_HEADER, "")):
        return [f"{VERSION_HEADER}: header is required (a dated version, YYYY-MM-DD)"]
    if not isinstance(body, dict):
        return ["There was an error parsing the body of your request"]
    problems = [f"{name}: Extra inputs are not permitted" for name in body if name not in FIELDS]
    if not isinstance(body.get("model"), str) or not body["model"]:
        problems.append("model: Field required")
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        problems.append("max_tokens: Input should be an integer of at least 1")
    if body.get("stream") is not True:
        problems.append("stream: this stand-in answers streamed requests only")
    system = body.get("system")
    if isinstance(system, list):
        for i, block in enumerate(system):
            if not isinstance(block, dict) or block.get("type") != "text":
                problems.append(f"system.{i}.type: Input should be 'text'")
            else:
                problems += _text_problems(f"system.{i}.text", block.get("text"))
    elif system is not None and not isinstance(system, str):
        problems.append("system: Input should be a valid string or a list of text blocks")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return [*problems, "messages: at least one message is required"]
    previous = "assistant"  # so that the first message must be the user's
    for i, item in enumerate(messages):
        where = f"messages.{i}"
        if not isinstance(item, dict) or item.get("role") not in ROLES:
            problems.append(f"{where}.role: Input should be 'user' or 'assistant'")
            continue
        if item["role"] == previous:
            problems.append(
                'messages: first message must use the "user" role'
                if i == 0
                else f'{where}: roles must alternate between "user" and "assistant"'
            )
        previous = item["role"]
        content = item.get("content")
        if isinstance(content, str):
            problems += _text_problems(f"{where}.content", content)
        elif isinstance(content, list) and content:
            for j, block in enumerate(content):
                problems += _block_problems(f"{where}.content.{j}", block)
        else:
            problems.append(f"{where}.content: Input should be a string or a list of blocks")
    return problems


def input_tokens(body: Mapping[str, Any]) -> int:
    """The prompt's size in this stand-in's tokens: words, and ``IMAGE_TOKENS`` an image."""
    system = body.get("system") or ""
    texts = [system] if isinstance(system, str) else [b["text"] for b in system]
    images = 0
    for item in body["messages"]:
        content = item["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        texts += [b["text"] for b in blocks if b["type"] == "text"]
        images += sum(1 for b in blocks if b["type"] == "image")
    return sum(len(t.split()) for t in texts) + images * IMAGE_TOKENS


def _event(name: str, data: Mapping[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


class AnthropicFake(ScriptedModel):
    STOP_REASONS = STOP_REASONS
    DEFAULT_ANSWER = DEFAULT_ANSWER

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(PATH, self._messages)
        return app

    def fail(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: float | None = None,
        error_type: str | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests with this HTTP error, in Anthropic's shape
        (429 ``rate_limit_error``, 529 ``overloaded_error``, 500 ``api_error``...)."""
        kind = error_type or ERROR_TYPES.get(
            status, "api_error" if status >= 500 else "invalid_request_error"
        )
        text = message or MESSAGES.get(kind, "Error")
        self._failures.append(Failure(status, kind, text, retry_after, times))

    def fail_mid_stream(
        self, error_type: str = "overloaded_error", *, after: int = 1, message: str | None = None
    ) -> None:
        """End the next answer with an ``error`` event after ``after`` text deltas, as the
        API does when it is overloaded once the stream has begun."""
        self._stream_failure = StreamFailure(
            error_type, message or MESSAGES.get(error_type, "Error"), after
        )

    def _error(
        self, recorded: Recorded, status: int, error_type: str, message: str, **headers: str
    ) -> web.Response:
        request_id = f"req_fake{next(self._ids):06d}"
        recorded.status = status
        recorded.end("refused")
        return web.json_response(
            error_body(error_type, message, request_id),
            status=status,
            headers={REQUEST_ID_HEADER: request_id, **headers},
        )

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = None
        recorded = Recorded(request.headers.copy(), body)
        self.requests.append(recorded)
        if not api_key(request.headers):
            return self._error(
                recorded, 401, "authentication_error", f"{API_KEY_HEADER} header is required"
            )
        failure = self._take_failure()
        if failure is not None:
            extra = {}
            if failure.retry_after is not None:
                extra[RETRY_AFTER_HEADER] = f"{failure.retry_after:g}"
            return self._error(recorded, failure.status, failure.name, failure.message, **extra)
        problems = request_problems(request.headers, body)
        if problems:
            return self._error(recorded, 400, "invalid_request_error", "; ".join(problems))
        prompt = input_tokens(body)
        if prompt > self.context_window:
            return self._error(
                recorded,
                400,
                "invalid_request_error",
                f"prompt is too long: {prompt} tokens > {self.context_window} maximum",
            )
        return await self._stream(request, recorded, body, prompt)

    async def _stream(
        self, request: web.Request, recorded: Recorded, body: Mapping[str, Any], prompt: int
    ) -> web.StreamResponse:
        script, stream_failure = self._script, self._stream_failure
        self._stream_failure = None
        words = script.text.split()
        stop_reason = script.stop_reason
        text = script.text
        if len(words) > body["max_tokens"]:
            # Cut after max_tokens words, keeping the text's own spacing.
            text = "".join(re.findall(r"\s*\S+", script.text)[: body["max_tokens"]])
            stop_reason = "max_tokens"
        pieces = deltas(text)
        message_id = f"msg_fake{next(self._ids):06d}"
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                REQUEST_ID_HEADER: f"req_fake{next(self._ids):06d}",
            }
        )
        await response.prepare(request)
        try:
            await response.write(
                _event(
                    "message_start",
                    {
                        "type": "message_start",
                        "message": {
                            "id": message_id,
                            "type": "message",
                            "role": "assistant",
                            "model": body["model"],
                            "content": [],
                            "stop_reason": None,
                            "stop_sequence": None,
                            "usage": {"input_tokens": prompt, "output_tokens": 1},
                        },
                    },
                )
            )
            await response.write(
                _event(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": 0,
                        "content_block": {"type": "text", "text": ""},
                    },
                )
            )
            await response.write(_event("ping", {"type": "ping"}))
            for piece in pieces:
                if stream_failure is not None and recorded.deltas_sent >= stream_failure.after:
                    break
                if script.delay:
                    await asyncio.sleep(script.delay)
                await response.write(
                    _event(
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": 0,
                            "delta": {"type": "text_delta", "text": piece},
                        },
                    )
                )
                recorded.deltas_sent += 1
            if stream_failure is not None:
                error = error_body(stream_failure.name, stream_failure.message, message_id)
                await response.write(_event("error", {"type": "error", "error": error["error"]}))
                await response.write_eof()
                recorded.end("error_event")
                return response
            await response.write(
                _event("content_block_stop", {"type": "content_block_stop", "index": 0})
            )
            await response.write(
                _event(
                    "message_delta",
                    {
                        "type": "message_delta",
                        "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                        "usage": {"output_tokens": len(text.split())},
                    },
                )
            )
            await response.write(_event("message_stop", {"type": "message_stop"}))
            await response.write_eof()
        except asyncio.CancelledError:
            recorded.end("disconnected")
            raise
        except ConnectionError:  # a write after the client closed its connection
            recorded.end("disconnected")
            return response
        recorded.end("complete")
        return response
