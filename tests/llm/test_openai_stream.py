"""What a compatible server may put in its event stream beyond the common case, read by the
``openai`` provider from a raw loopback server: comments, several data lines, an error in
the stream, a broken event, an end without ``[DONE]``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import openai
import orjson
import pytest
from aiohttp import web

from devtools import loopback
from services.core.llm.errors import ErrorKind, ModelError
from services.core.llm.models import ChatRequest, Finished, TextDelta, Turn
from services.core.llm.openai_chat import OpenAIProvider

REQUEST = ChatRequest("m", "system", [Turn.user("hi")], 100)


def chunk(text: str | None = None, finish: str | None = None) -> str:
    delta = {"content": text} if text is not None else {}
    body = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return "data: " + orjson.dumps(body).decode()


@asynccontextmanager
async def serving(raw: str) -> AsyncIterator[OpenAIProvider]:
    async def completions(_request: web.Request) -> web.Response:
        return web.Response(body=raw.encode(), content_type="text/event-stream")

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    runner, root = await loopback.serve(app)
    try:
        async with openai.AsyncOpenAI(base_url=root + "/v1", api_key="k", max_retries=0) as c:
            yield OpenAIProvider(c, official=False)
    finally:
        await runner.cleanup()


async def read(provider: OpenAIProvider) -> list[object]:
    async with provider.stream(REQUEST) as events:
        return [e async for e in events]


async def test_comments_and_other_fields_are_skipped_and_data_lines_are_joined():
    usage = {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9}
    raw = (
        ": keep-alive\n\n"
        f"event: message\nid: 1\n{chunk('Hel')}\n\n"
        # One JSON object over two data lines: the format joins them with a newline.
        'data: {"choices": [{"index": 0,\ndata: "delta": {"content": "lo"}}]}\n\n'
        f"{chunk(finish='length')}\n\n"
        f"data: {orjson.dumps({'choices': [], 'usage': usage}).decode()}\n\n"
        "data: [DONE]\n\n"
    )
    async with serving(raw) as provider:
        events = await read(provider)
    assert events == [
        TextDelta("Hel"),
        TextDelta("lo"),
        Finished(reason="length", input_tokens=7, output_tokens=2),  # type: ignore[arg-type]
    ]


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        ('{"error": {"code": "rate_limit_exceeded", "message": "slow down"}}', "rate_limited"),
        ('{"error": {"type": "server_error", "message": "oops"}}', "unavailable"),
        ("{not json", "unavailable"),
    ],
)
async def test_an_error_in_the_stream_ends_it_as_a_model_error(event, kind):
    raw = f"{chunk('partial')}\n\ndata: {event}\n\n{chunk(' never')}\n\ndata: [DONE]\n\n"
    got: list[object] = []

    async def collect(provider: OpenAIProvider) -> None:
        async with provider.stream(REQUEST) as events:
            async for e in events:
                got.append(e)  # noqa: PERF401 - what arrived before the error counts

    async with serving(raw) as provider:
        with pytest.raises(ModelError) as caught:
            await collect(provider)
    assert got == [TextDelta("partial")]
    assert caught.value.kind is ErrorKind(kind)
    assert "slow down" not in str(caught.value)  # the service's words stay out


async def test_a_stream_that_ends_without_done_still_finishes():
    raw = f"{chunk('all')}\n\n{chunk(' of it', finish='stop')}"  # no blank line, no [DONE]
    async with serving(raw) as provider:
        events = await read(provider)
    assert events == [TextDelta("all"), TextDelta(" of it"), Finished("end")]  # type: ignore[arg-type]
