"""A stand-in for an OpenAI-compatible model server, on loopback (aiohttp): the model of
``make run`` and of the tests.

    POST /v1/chat/completions  (and /chat/completions)  a streamed or a whole answer
    GET  /v1/models                                       the models it claims to serve

Every request body is checked against ``CreateChatCompletionRequest`` from OpenAI's OpenAPI
description (``openai_schemas.py``); one that fails gets OpenAI's 400 and is recorded in
``violations``, which the tests assert empty. Every chunk the stand-in streams is checked
against ``CreateChatCompletionStreamResponse`` before it goes, and a whole answer against
``CreateChatCompletionResponse``: a failure there is a bug of the stand-in, recorded and
raised.

The answer is deterministic: "You asked about: ..." from the last user message, a few
paragraphs and a fenced code block (about 5,000 characters, with an "@everyone" in it, when
the message says "long"), streamed a few words at a time with ``delay`` between chunks so a
reply's progressive edits can be watched. Tests steer it without patching:
``script(text, ...)`` queues the next answers (``cut_after=n`` drops the connection after n
chunks), ``endless()`` one that only stops when the client leaves, ``fail(status, ...)`` the
next failures, in OpenAI's error shape. ``requests``, ``answers``, ``usages``,
``disconnects`` and ``streaming`` say what happened; ``wait_for(predicate)`` waits for it.

    python -m devtools.models.openai_standin --port 8082
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import signal
import sys
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from itertools import count, cycle
from typing import Any, Final, Self

from aiohttp import web

from devtools import loopback
from devtools.models.openai_schemas import (
    WHOLE_BODY,
    chunk_problems,
    completion_problems,
    request_problems,
)

API_PREFIX: Final = "/v1"
COMPLETIONS_PATHS: Final = ("/v1/chat/completions", "/chat/completions")
MODELS_PATH: Final = "/v1/models"
DEFAULT_MODEL: Final = "standin-chat"
DEFAULT_DELAY: Final = 0.05
DEFAULT_PORT: Final = 8082

CHUNK_OBJECT: Final = "chat.completion.chunk"
COMPLETION_OBJECT: Final = "chat.completion"
EVENT_STREAM: Final = "text/event-stream"
# Server-sent events: each chunk is one ``data:`` line and a blank line; OpenAI ends the
# stream with a literal ``[DONE]`` event, not with a chunk.
DATA_PREFIX: Final = b"data: "
EVENT_END: Final = b"\n\n"
DONE_EVENT: Final = b"data: [DONE]\n\n"
FINISH_REASONS: Final = frozenset({"stop", "length", "content_filter", "tool_calls"})

REQUEST_ID_HEADER: Final = "x-request-id"
# OpenAI sends both: whole seconds in the standard header, the exact wait in its own.
RETRY_AFTER_HEADER: Final = "retry-after"
RETRY_AFTER_MS_HEADER: Final = "retry-after-ms"
AUTHORIZATION_HEADER: Final = "Authorization"
BEARER_PREFIX: Final = "Bearer "

INVALID_REQUEST: Final = "invalid_request_error"
# OpenAI's error ``type`` and default ``code`` for a status, and its wording, so a client's
# error mapping meets what it will meet in production.
_ERROR_TYPES: Final = {429: "requests", 401: INVALID_REQUEST, 403: INVALID_REQUEST}
_DEFAULT_CODES: Final = {429: "rate_limit_exceeded", 401: "invalid_api_key", 404: "model_not_found"}
_MESSAGES: Final = {
    "rate_limit_exceeded": "Rate limit reached for requests on the stand-in. Please try again "
    "in {wait}.",
    "invalid_api_key": "Incorrect API key provided.",
    "model_not_found": "The model `{model}` does not exist or you do not have access to it.",
    "context_length_exceeded": "This model's maximum context length is 128000 tokens. "
    "However, your messages resulted in {tokens} tokens. Please reduce the length of the "
    "messages.",
    "content_filter": "The response was filtered due to the prompt triggering the content "
    "management policy.",
    500: "The server had an error while processing your request. Sorry about that!",
    503: "The server is overloaded or not ready yet.",
}
_INVALID_JSON: Final = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly.)"
)
# OpenAI bills an image at low detail as 85 tokens; the stand-in counts every image so.
IMAGE_TOKENS: Final = 85
# A non-streamed endless answer cannot wait for the client to leave: it stops here instead.
_ENDLESS_WORDS: Final = 4096
_REQUIRED: Final = re.compile(r"'(.+)' is a required property")
_LONG: Final = re.compile(r"\blong\b", re.IGNORECASE)
_TOPIC_CHARS: Final = 80
_LONG_CHARS: Final = 5000
# Where the long answer's code block starts: just before Discord's 2,000-character limit, so
# a split of the reply has to keep the fence balanced.
_LONG_CODE_AT: Final = 1700


class StandInBugError(RuntimeError):
    """The stand-in was about to send what OpenAI's schema does not allow."""


@dataclass(frozen=True, slots=True)
class Script:
    """One answer: ``text`` in chunks of ``chunk_words`` words, ``delay`` s apart, then
    ``finish_reason``. ``endless`` repeats ``text`` until the client leaves, whatever
    ``max_tokens`` says; ``cut_after`` drops the connection after that many content chunks."""

    text: str
    chunk_words: int = 3
    delay: float = 0.0
    finish_reason: str = "stop"
    endless: bool = False
    cut_after: int | None = None


@dataclass(slots=True)
class Failure:
    """The next ``times`` chat requests get ``status`` with OpenAI's error body."""

    status: int
    times: int = 1
    retry_after: float | None = None
    code: str | None = None


@dataclass(frozen=True, slots=True)
class Received:
    """A request as it came; ``bearer`` says whether it carried ``Authorization: Bearer``.
    The key itself is never kept, so no test output can print it."""

    method: str
    path: str
    body: Any
    bearer: bool
    headers: dict[str, str] = field(repr=False)


class OpenAIStandIn:
    """Start with ``async with OpenAIStandIn.running() as standin``; ``standin.url`` is the
    base URL a client takes (``.../v1``)."""

    def __init__(
        self,
        *,
        delay: float = DEFAULT_DELAY,
        chunk_words: int = 3,
        models: tuple[str, ...] = (DEFAULT_MODEL,),
        api_key: str | None = None,
    ) -> None:
        self.delay = delay
        self.chunk_words = chunk_words
        self.models = models
        self._api_key = api_key  # when set, a request without it gets OpenAI's 401
        self.url = ""
        self.requests: list[Received] = []
        self.violations: list[str] = []
        self.answers: list[str] = []  # the text each chat request was sent, as far as it went
        # Each answer's usage: as reported, or as far as it went when the client left.
        self.usages: list[dict[str, int]] = []
        self.disconnects = 0  # streams whose client went away before the end
        self.streaming = 0  # streams being generated now
        self._scripts: deque[Script] = deque()
        self._failures: deque[Failure] = deque()
        self._changed = asyncio.Condition()
        self._closing = asyncio.Event()

    @classmethod
    @asynccontextmanager
    async def running(
        cls, *, host: str = "127.0.0.1", port: int = 0, **options: Any
    ) -> AsyncIterator[Self]:
        standin = cls(**options)
        runner, root = await loopback.serve(standin.app(), host, port)
        standin.url = root + API_PREFIX
        try:
            yield standin
        finally:
            # aiohttp waits up to a minute for open handlers: an endless stream whose client
            # is still reading must end first.
            standin._closing.set()
            await runner.cleanup()

    def app(self) -> web.Application:
        app = web.Application()
        for path in COMPLETIONS_PATHS:
            app.router.add_post(path, self._chat)
        app.router.add_get(MODELS_PATH, self._models)
        return app

    # -- control ---------------------------------------------------------------------------

    def script(
        self,
        text: str,
        *,
        chunk_words: int = 3,
        delay: float = 0.0,
        finish_reason: str = "stop",
        cut_after: int | None = None,
    ) -> None:
        """Queue the next answer; when the queue is empty, the default text is used."""
        if finish_reason not in FINISH_REASONS:
            raise ValueError(f"finish_reason {finish_reason!r} is not one of {FINISH_REASONS}")
        self._scripts.append(Script(text, chunk_words, delay, finish_reason, cut_after=cut_after))

    def endless(self, *, chunk_words: int = 3, delay: float = 0.01) -> None:
        """Queue an answer that never finishes: only the client leaving ends it."""
        text = "This answer goes on and on until the client closes the stream. "
        self._scripts.append(Script(text, chunk_words, delay, endless=True))

    def fail(
        self,
        status: int,
        times: int = 1,
        retry_after: float | None = None,
        code: str | None = None,
    ) -> Failure:
        """The next ``times`` chat requests get ``status``: 429 (``rate_limit_exceeded``),
        500, 503, 400 with ``code="context_length_exceeded"``, 401, 404..."""
        failure = Failure(status, times, retry_after, code)
        self._failures.append(failure)
        return failure

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until ``predicate()`` holds after some request or stream ends."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- routes ----------------------------------------------------------------------------

    async def _models(self, request: web.Request) -> web.Response:
        await self._receive(request, None)
        created = int(time.time())
        data = [
            {"id": m, "object": "model", "created": created, "owned_by": "standin"}
            for m in self.models
        ]
        return web.json_response({"object": "list", "data": data})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            self.violations.append(f"{request.path}: the body is not JSON")
            await self._receive(request, None)
            return _error(400, _INVALID_JSON)
        await self._receive(request, body)
        if self._api_key is not None and request.headers.get(AUTHORIZATION_HEADER) != (
            BEARER_PREFIX + self._api_key
        ):
            return _error(401, _MESSAGES["invalid_api_key"], code="invalid_api_key")
        problems = request_problems(body) or _semantic_problems(body)
        if problems:
            self.violations.extend(f"{request.path}: {p}" for p in problems)
            return _invalid(problems[0])
        if self._failures:
            return self._injected(self._failures[0], body)
        script = self._scripts.popleft() if self._scripts else self._default(body)
        answer = _Answer(script, body)
        if body.get("stream") is True:
            return await self._stream(request, body, answer)
        return self._complete(body, answer)

    async def _receive(self, request: web.Request, body: Any) -> None:
        headers = {
            k: v for k, v in request.headers.items() if k.lower() != AUTHORIZATION_HEADER.lower()
        }
        bearer = request.headers.get(AUTHORIZATION_HEADER, "").startswith(BEARER_PREFIX)
        self.requests.append(Received(request.method, request.path, body, bearer, headers))
        await self._notify()

    def _default(self, body: dict[str, Any]) -> Script:
        question = _last_user_text(body["messages"])
        return Script(default_answer(question), self.chunk_words, self.delay)

    def _injected(self, failure: Failure, body: dict[str, Any]) -> web.Response:
        failure.times -= 1
        if failure.times <= 0:
            self._failures.popleft()
        code = failure.code or _DEFAULT_CODES.get(failure.status)
        template = _MESSAGES.get(code or "") or _MESSAGES.get(failure.status)
        wait = failure.retry_after
        message = (template or "The stand-in was told to fail this request.").format(
            wait=f"{wait}s" if wait is not None else "a moment",
            model=body.get("model"),
            tokens=_prompt_tokens(body["messages"]),
        )
        headers = {}
        if wait is not None:
            headers[RETRY_AFTER_HEADER] = str(math.ceil(wait))
            headers[RETRY_AFTER_MS_HEADER] = str(round(wait * 1000))
        param = "messages" if code == "context_length_exceeded" else None
        return _error(failure.status, message, param=param, code=code, headers=headers)

    # -- answers ---------------------------------------------------------------------------

    async def _stream(
        self, request: web.Request, body: dict[str, Any], answer: _Answer
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": EVENT_STREAM,
                "Cache-Control": "no-cache",
                REQUEST_ID_HEADER: _request_id(),
            }
        )
        await response.prepare(request)
        options = body.get("stream_options") or {}
        # With include_usage, OpenAI puts ``usage: null`` in every chunk, then its numbers
        # in one more chunk with no choices.
        usage: dict[str, Any] = {"usage": None} if options.get("include_usage") else {}
        ids = _Ids(body["model"])
        sent: list[str] = []
        self.streaming += 1
        try:
            role = {"role": "assistant", "content": "", "refusal": None}
            await self._send(response, ids.chunk(role, None, usage))
            for index, text in enumerate(answer.chunks()):
                if self._closing.is_set():
                    return response
                if answer.script.cut_after is not None and index >= answer.script.cut_after:
                    _drop(request)
                    return response
                await asyncio.sleep(answer.script.delay)
                await self._send(response, ids.chunk({"content": text}, None, usage))
                sent.append(text)
            await self._send(response, ids.chunk({}, answer.finish_reason, usage))
            if usage:
                await self._send(response, ids.chunk(None, None, {"usage": answer.usage()}))
            await response.write(DONE_EVENT)
            await response.write_eof()
        except ConnectionResetError:
            # aiohttp does not cancel a handler whose client left; the next write fails.
            self.disconnects += 1
        finally:
            self.streaming -= 1
            self.answers.append("".join(sent))
            self.usages.append(answer.usage())
            await self._notify()
        return response

    async def _send(self, response: web.StreamResponse, chunk: dict[str, Any]) -> None:
        problems = chunk_problems(chunk)
        if problems:
            self.violations.extend(f"stand-in chunk: {p}" for p in problems)
            raise StandInBugError("; ".join(problems))
        data = json.dumps(chunk, separators=(",", ":"))  # compact, as OpenAI sends it
        await response.write(DATA_PREFIX + data.encode() + EVENT_END)

    def _complete(self, body: dict[str, Any], answer: _Answer) -> web.Response:
        text = "".join(answer.chunks(endless_cap=_ENDLESS_WORDS))
        ids = _Ids(body["model"])
        message: dict[str, Any] = {
            "role": "assistant",
            "content": text,
            "refusal": None,
            "annotations": [],
        }
        choice = {
            "index": 0,
            "message": message,
            "logprobs": None,
            "finish_reason": answer.finish_reason,
        }
        completion = {
            **ids.head(COMPLETION_OBJECT),
            "choices": [choice],
            "usage": answer.usage(),
        }
        problems = completion_problems(completion)
        if problems:
            self.violations.extend(f"stand-in completion: {p}" for p in problems)
            raise StandInBugError("; ".join(problems))
        self.answers.append(text)
        self.usages.append(answer.usage())
        return web.json_response(completion, headers={REQUEST_ID_HEADER: _request_id()})


class _Answer:
    """The words of one answer, cut at the request's token limit (a word counts as a token)
    unless the script is endless, and the usage they add up to."""

    def __init__(self, script: Script, body: dict[str, Any]) -> None:
        self.script = script
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        self._limit: int | None = None if script.endless else limit
        self._prompt_tokens = _prompt_tokens(body["messages"])
        self.words = 0
        self.finish_reason = script.finish_reason

    def chunks(self, *, endless_cap: int | None = None) -> Iterator[str]:
        limit = endless_cap if self.script.endless else self._limit
        pieces = _pieces(self.script.text)
        words = cycle(pieces) if self.script.endless and pieces else iter(pieces)
        batch: list[str] = []
        for word in words:
            if limit is not None and self.words >= limit:
                self.finish_reason = "length"
                break
            batch.append(word)
            self.words += 1
            if len(batch) == self.script.chunk_words:
                yield "".join(batch)
                batch = []
        if batch:
            yield "".join(batch)

    def usage(self) -> dict[str, int]:
        return {
            "prompt_tokens": self._prompt_tokens,
            "completion_tokens": self.words,
            "total_tokens": self._prompt_tokens + self.words,
        }


class _Ids:
    """What every chunk of one answer repeats: its id, creation time and model."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())
        self.model = model

    def head(self, obj: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": obj,
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_standin",
        }

    def chunk(
        self, delta: dict[str, Any] | None, finish_reason: str | None, extra: dict[str, Any]
    ) -> dict[str, Any]:
        choices = (
            []
            if delta is None
            else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]
        )
        return {**self.head(CHUNK_OBJECT), "choices": choices, **extra}


def _error(
    status: int,
    message: str,
    *,
    param: str | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    kind = _ERROR_TYPES.get(status, "server_error" if status >= 500 else INVALID_REQUEST)
    error = {"message": message, "type": kind, "param": param, "code": code}
    return web.json_response(
        {"error": error},
        status=status,
        headers={REQUEST_ID_HEADER: _request_id(), **(headers or {})},
    )


def _invalid(problem: str) -> web.Response:
    """OpenAI's 400 for a body it cannot take, ``param`` in its notation (``messages.[0].role``)."""
    where, message = problem.split(": ", 1)
    missing = _REQUIRED.fullmatch(message)
    if missing is not None:
        where = missing[1] if where == WHOLE_BODY else f"{where}/{missing[1]}"
    if where == WHOLE_BODY:
        return _error(400, message)
    param = ".".join(f"[{p}]" if p.isdigit() else p for p in where.split("/"))
    if missing is not None:
        return _error(400, f"Missing required parameter: '{param}'.", param=param)
    return _error(400, f"Invalid value for '{param}': {message}", param=param)


def _semantic_problems(body: dict[str, Any]) -> list[str]:
    """What OpenAI refuses though its schema allows it."""
    if body.get("stream_options") is not None and body.get("stream") is not True:
        return ["stream_options: only allowed when 'stream' is enabled"]
    return []


def _drop(request: web.Request) -> None:
    """Close the connection in the middle of the body, as a crashed server would."""
    if request.transport is not None:
        request.transport.close()


def _request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


def _pieces(text: str) -> list[str]:
    """``text`` as words, each with the whitespace after it, so the pieces join back to it."""
    lead = text[: len(text) - len(text.lstrip())]
    pieces = re.findall(r"\S+\s*", text[len(lead) :])
    if lead:
        return [lead + pieces[0], *pieces[1:]] if pieces else [lead]
    return pieces


def _texts(messages: list[dict[str, Any]]) -> Iterator[tuple[str, str]]:
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            yield message["role"], content
        elif isinstance(content, list):
            for part in content:
                yield message["role"], part.get("text", "") if part.get("type") == "text" else ""


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return " ".join(text for _, text in _texts([message]) if text)
    return ""


def _prompt_tokens(messages: list[dict[str, Any]]) -> int:
    words = sum(len(text.split()) for _, text in _texts(messages))
    images = sum(
        1
        for m in messages
        if isinstance(m.get("content"), list)
        for part in m["content"]
        if part.get("type") == "image_url"
    )
    return words + IMAGE_TOKENS * images


# -- the default answer ----------------------------------------------------------------------

_PARAGRAPHS: Final = (
    (
        "This answer comes from the local stand-in of an OpenAI-compatible model server. It "
        "streams a few words at a time, the way a real model does, so the reply in Discord "
        "grows in steps while the text arrives."
    ),
    (
        "Nothing here is generated: the text is fixed, so what you see is the same every time "
        "you ask. Point LLM_BASE_URL at a real server, such as Ollama or OpenAI itself, to get "
        "a real answer instead."
    ),
    (
        "The bot edits its reply at most about once a second while the words arrive, and "
        "starts a new message when one would pass Discord's 2,000 character limit."
    ),
)
_CODE: Final = (
    "```python\n"
    "def greet(name: str) -> str:\n"
    '    return f"Hello, {name}!"\n'
    "\n"
    'print(greet("stand-in"))\n'
    "```"
)
_CLOSING: Final = "That is all the stand-in knows. Ask for something long to see a long answer."
_LONG_PARAGRAPHS: Final = (
    (
        "A long answer is where a chat bot shows how it handles Discord's limits. A message "
        "holds at most 2,000 characters, so the reply is split into several messages, each "
        "edited in place while it is the newest one, and the next started when it is full. "
        "The split is made at a paragraph or a line where it can be, not in the middle of a "
        "word."
    ),
    (
        "Code blocks need care across a split: a fence opened in one message has to be closed "
        "at its end and opened again, with the same language, at the start of the next, or the "
        "rest of the answer would be shown as code, or the code as text."
    ),
    (
        "Model output is text the bot did not write, so it must never be allowed to mention "
        "anyone. A model can write @everyone, as this one just did, and the bot has to send it "
        "with mentions disabled so that nobody on the server is pinged by an answer."
    ),
    (
        "Streaming has a cost in requests: every edit is a call to Discord's API, which has its "
        "own rate limits per webhook. Editing at most about once a second keeps a long answer "
        "well inside them while still showing progress to the person who asked."
    ),
    (
        "When the person presses Stop, the bot leaves the model's stream, which closes the "
        "connection; a real server notices and stops generating, so no more tokens are billed "
        "than the ones already shown. This stand-in counts those disconnects for the tests."
    ),
)
_LONG_CODE: Final = (
    "```python\n"
    "from collections.abc import Iterator\n"
    "\n"
    "\n"
    "def chunks(text: str, limit: int = 2000) -> Iterator[str]:\n"
    '    """Split text into pieces of at most limit characters, at line ends."""\n'
    '    piece = ""\n'
    "    for line in text.splitlines(keepends=True):\n"
    "        if len(piece) + len(line) > limit and piece:\n"
    "            yield piece\n"
    '            piece = ""\n'
    "        piece += line\n"
    "    if piece:\n"
    "        yield piece\n"
    "\n"
    "\n"
    'for number, part in enumerate(chunks("word " * 1000, 300), start=1):\n'
    '    print(f"message {number}: {len(part)} characters")\n'
    "```"
)


# The bot's data blocks (services/core/llm/prompts.py): <data-<tag> label="...">…</data-<tag>>.
_DATA: Final = re.compile(r'<data-([0-9a-f]+) label="[^"]*">\n(.*?)\n</data-\1>', re.DOTALL)


def default_answer(question: str) -> str:
    """The stand-in's answer to ``question`` when no script is queued. A question built from a
    template is told by what it carries (the topic, the text, the messages), not by the
    template's instruction."""
    carried = [content for _tag, content in _DATA.findall(question)]
    # Only the asker's own words ask for a long answer, not a file or messages they quote.
    wants_long = _LONG.search(_DATA.sub("", question)) is not None
    if carried:
        question = " ".join(carried)
    topic = " ".join(question.split())[:_TOPIC_CHARS] or "nothing in particular"
    opening = f"You asked about: {topic}."
    if not wants_long:
        return "\n\n".join((opening, *_PARAGRAPHS, _CODE, _CLOSING))
    parts = [opening]
    numbered = (f"**{n}.** {p}" for n, p in zip(count(1), cycle(_LONG_PARAGRAPHS), strict=False))
    code_placed = False
    while True:
        length = sum(len(p) + 2 for p in parts)
        if not code_placed and length >= _LONG_CODE_AT:
            parts.append(_LONG_CODE)
            code_placed = True
            continue
        paragraph = next(numbered)
        if length + len(paragraph) > _LONG_CHARS:
            return "\n\n".join(parts)
        parts.append(paragraph)


# -- as a process of its own -----------------------------------------------------------------


async def _serve(host: str, port: int, delay: float) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    async with OpenAIStandIn.running(host=host, port=port, delay=delay) as standin:
        print(f"[model] OpenAI-compatible stand-in at {standin.url}", flush=True)
        await stopping.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.models.openai_standin",
        description="A local OpenAI-compatible model server with deterministic answers.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--delay", type=float, default=DEFAULT_DELAY, help="seconds per chunk")
    args = parser.parse_args(argv)
    with suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port, args.delay))
    return 0


if __name__ == "__main__":
    sys.exit(main())
