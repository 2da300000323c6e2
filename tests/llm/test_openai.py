"""The ``openai`` provider against the local OpenAI-compatible stand-in: a real
``openai.AsyncOpenAI`` on loopback, every request body checked against OpenAI's published
schema, every streamed chunk too; and the stand-in itself, read raw."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import aiohttp
import openai
import pytest

from devtools.models.openai_schemas import chunk_problems, completion_problems, request_problems
from devtools.models.openai_standin import OpenAIStandIn
from services.core.llm.errors import ErrorKind, ModelError
from services.core.llm.models import ChatRequest, Finished, Image, StopReason, TextDelta, Turn
from services.core.llm.openai_chat import OpenAIProvider, request_body

ROOT = Path(__file__).resolve().parents[2]
# The smallest valid PNG: one transparent pixel.
PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
async def standin():
    async with OpenAIStandIn.running(delay=0.0) as server:
        yield server
        assert server.violations == []


@pytest.fixture
async def client(standin):
    async with openai.AsyncOpenAI(
        base_url=standin.url, api_key="local", max_retries=0, timeout=5.0
    ) as c:
        yield c


@pytest.fixture
def provider(client) -> OpenAIProvider:
    return OpenAIProvider(client, official=False)


def ask(*turns: Turn, max_output_tokens: int = 500) -> ChatRequest:
    return ChatRequest(
        model="standin-chat",
        system="You answer briefly.",
        turns=turns or (Turn.user("What is a stand-in?"),),
        max_output_tokens=max_output_tokens,
    )


async def collect(provider: OpenAIProvider, request: ChatRequest):
    async with provider.stream(request) as events:
        return [event async for event in events]


async def failure(provider: OpenAIProvider, request: ChatRequest) -> ModelError:
    with pytest.raises(ModelError) as caught:
        await collect(provider, request)
    return caught.value


# -- streaming -------------------------------------------------------------------------------


async def test_a_streamed_answer_arrives_in_order_then_finishes_with_the_usage(standin, provider):
    standin.script("one two three four five six seven eight", chunk_words=3)

    events = await collect(provider, ask())

    assert events[:-1] == [
        TextDelta("one two three "),
        TextDelta("four five six "),
        TextDelta("seven eight"),
    ]
    usage = standin.usages[-1]
    assert events[-1] == Finished(
        StopReason.END,
        input_tokens=usage["prompt_tokens"],
        output_tokens=usage["completion_tokens"],
    )
    assert usage["completion_tokens"] == 8
    assert usage["prompt_tokens"] > 0


async def test_the_default_answer_repeats_the_question_and_streams_in_many_pieces(
    standin, provider
):
    events = await collect(provider, ask(Turn.user("How do   stand-ins\nwork?")))

    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    text = "".join(deltas)
    assert text.startswith("You asked about: How do stand-ins work?.")
    assert "```python\n" in text
    assert len(deltas) > 10
    assert text == standin.answers[-1]
    assert events[-1].reason is StopReason.END


async def test_a_long_question_gets_a_long_answer_with_a_mention_and_code(standin, provider):
    # 1024: the bot's default LLM_MAX_OUTPUT_TOKENS, which the whole answer must fit.
    events = await collect(provider, ask(Turn.user("Tell me a long story"), max_output_tokens=1024))

    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert 4500 <= len(text) <= 5000
    assert "@everyone" in text
    assert text.count("```") == 2
    assert text.index("```") < 2000 < text.rindex("```")  # the code block straddles a split
    assert events[-1].reason is StopReason.END


async def test_chunks_are_delayed_so_edits_can_be_watched(standin, provider):
    standin.script("a b c d e f", chunk_words=2, delay=0.05)
    async with provider.stream(ask()) as events:
        arrivals = [time.monotonic() async for _ in events]

    assert len(arrivals) == 4  # three deltas, then Finished
    assert arrivals[-1] - arrivals[0] >= 0.08


# -- what the provider sends -----------------------------------------------------------------


async def test_every_request_is_valid_against_openais_schema_an_image_included(standin, provider):
    conversation = (
        Turn.user("What is in this picture?", Image(PIXEL_PNG, "image/png")),
        Turn.assistant("A single transparent pixel."),
        Turn.user("And what colour is it?"),
    )

    await collect(provider, ask())
    await collect(provider, ask(*conversation))

    bodies = [r.body for r in standin.requests]
    assert len(bodies) == 2
    for body in bodies:
        assert request_problems(body) == []
    image_turn = bodies[1]["messages"][1]
    assert image_turn["content"][0] == {"type": "text", "text": "What is in this picture?"}
    assert image_turn["content"][1]["image_url"]["url"].startswith("data:image/png;base64,iVBOR")
    assert [m["role"] for m in bodies[1]["messages"]] == ["system", "user", "assistant", "user"]
    assert standin.violations == []


async def test_the_key_is_sent_as_a_bearer_token_and_never_kept(standin, provider):
    await collect(provider, ask())

    received = standin.requests[-1]
    assert received.bearer
    assert "authorization" not in {name.lower() for name in received.headers}
    assert "local" not in repr(received)


@pytest.mark.parametrize(
    ("official", "sent", "absent"),
    [(False, "max_tokens", "max_completion_tokens"), (True, "max_completion_tokens", "max_tokens")],
)
async def test_the_token_limit_has_the_name_the_server_knows(
    standin, client, official, sent, absent
):
    await collect(OpenAIProvider(client, official=official), ask(max_output_tokens=321))

    body = standin.requests[-1].body
    assert body[sent] == 321
    assert absent not in body
    assert body == request_body(ask(max_output_tokens=321), official=official)


# -- Stop ------------------------------------------------------------------------------------


async def test_leaving_the_stream_early_closes_it_and_the_server_stops(standin, provider):
    standin.endless()

    async with provider.stream(ask()) as events:
        async for event in events:
            assert isinstance(event, TextDelta)
            break

    await standin.wait_for(lambda: standin.disconnects == 1, timeout=1.0)
    assert standin.streaming == 0
    assert standin.answers[-1]  # something was sent before the client left


# -- failures --------------------------------------------------------------------------------


async def test_429_is_rate_limited_with_the_servers_wait(standin, provider):
    standin.fail(429, retry_after=7)

    error = await failure(provider, ask())

    assert error.kind is ErrorKind.RATE_LIMITED
    assert error.retryable
    assert error.status == 429
    assert error.retry_after == 7.0


async def test_a_wait_under_a_second_is_kept_exactly(standin, provider):
    standin.fail(429, retry_after=0.25)

    error = await failure(provider, ask())

    assert error.retry_after == 0.25


async def test_500_is_unavailable(standin, provider):
    standin.fail(500)

    error = await failure(provider, ask())

    assert error.kind is ErrorKind.UNAVAILABLE
    assert error.retryable


async def test_context_length_exceeded_is_too_long(standin, provider):
    standin.fail(400, code="context_length_exceeded")

    error = await failure(provider, ask())

    assert error.kind is ErrorKind.TOO_LONG
    assert not error.retryable
    assert "context_length_exceeded" in error.detail


async def test_a_wrong_key_is_rejected(standin, provider):
    standin.fail(401)

    error = await failure(provider, ask())

    assert error.kind is ErrorKind.REJECTED
    assert error.status == 401


async def test_a_failure_applies_as_many_times_as_asked_then_answers_again(standin, provider):
    standin.fail(503, times=2)

    for _ in range(2):
        assert (await failure(provider, ask())).kind is ErrorKind.UNAVAILABLE
    events = await collect(provider, ask())

    assert events[-1].reason is StopReason.END


async def test_a_connection_dropped_mid_stream_is_unavailable(standin, provider):
    standin.script("one two three four five six", chunk_words=2, cut_after=1)
    received = []

    async def read() -> None:
        async with provider.stream(ask()) as events:
            async for event in events:
                received.append(event)  # noqa: PERF401 - keeps what came before the failure

    with pytest.raises(ModelError) as caught:
        await read()

    assert caught.value.kind is ErrorKind.UNAVAILABLE
    assert received == [TextDelta("one two ")]


async def test_an_unreachable_server_is_unavailable():
    async with OpenAIStandIn.running() as gone:
        url = gone.url
    async with openai.AsyncOpenAI(base_url=url, api_key="local", max_retries=0) as client:
        error = await failure(OpenAIProvider(client, official=False), ask())

    assert error.kind is ErrorKind.UNAVAILABLE


async def test_no_answer_in_time_is_a_timeout(standin):
    standin.script("slow words here", chunk_words=1, delay=1.0)

    async with openai.AsyncOpenAI(
        base_url=standin.url, api_key="local", max_retries=0, timeout=0.2
    ) as client:
        error = await failure(OpenAIProvider(client, official=False), ask())

    assert error.kind is ErrorKind.TIMEOUT
    await standin.wait_for(lambda: standin.streaming == 0, timeout=2.0)


@pytest.mark.parametrize(
    ("finish_reason", "reason"),
    [
        ("stop", StopReason.END),
        ("length", StopReason.LENGTH),
        ("content_filter", StopReason.REFUSED),
    ],
)
async def test_the_finish_reason_becomes_the_stop_reason(standin, provider, finish_reason, reason):
    standin.script("Some words.", finish_reason=finish_reason)

    events = await collect(provider, ask())

    assert events == [TextDelta("Some words."), Finished(reason, events[-1].input_tokens, 2)]


async def test_an_answer_longer_than_the_limit_stops_at_it(standin, provider):
    standin.script("one two three four five six seven eight nine ten")

    events = await collect(provider, ask(max_output_tokens=4))

    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "one two three four "
    assert events[-1].reason is StopReason.LENGTH
    assert events[-1].output_tokens == 4


# -- the stand-in itself, read raw -----------------------------------------------------------


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


def chat(content: str = "Hi there", **options: object) -> dict[str, object]:
    return {
        "model": "standin-chat",
        "messages": [{"role": "user", "content": content}],
        **options,
    }


async def read_events(response: aiohttp.ClientResponse) -> list[str]:
    """The ``data:`` payloads of a server-sent-events body, in order."""
    events = []
    async for line in response.content:
        text = line.decode().rstrip("\r\n")
        if text:
            assert text.startswith("data: "), text
            events.append(text.removeprefix("data: "))
    return events


async def test_every_streamed_chunk_is_valid_against_openais_schema(standin, http):
    standin.script("Alpha beta gamma delta epsilon zeta eta.", chunk_words=2)
    body = chat(stream=True, stream_options={"include_usage": True}, max_completion_tokens=100)

    async with http.post(f"{standin.url}/chat/completions", json=body) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        events = await read_events(response)

    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    for chunk in chunks:
        assert chunk_problems(chunk) == []
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    contents = [c["choices"][0]["delta"].get("content") for c in chunks[1:-2]]
    assert "".join(contents) == "Alpha beta gamma delta epsilon zeta eta."
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == 7
    assert {c["id"] for c in chunks} == {chunks[0]["id"]}


async def test_without_include_usage_no_usage_chunk_is_sent(standin, http):
    async with http.post(f"{standin.url}/chat/completions", json=chat(stream=True)) as response:
        events = await read_events(response)

    chunks = [json.loads(e) for e in events[:-1]]
    assert all("usage" not in c for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_a_whole_answer_is_one_valid_chat_completion(standin, http):
    standin.script("Not streamed at all.")

    async with http.post(f"{standin.url}/chat/completions", json=chat()) as response:
        completion = await response.json()

    assert completion_problems(completion) == []
    assert completion["object"] == "chat.completion"
    assert completion["choices"][0]["message"]["content"] == "Not streamed at all."
    assert completion["usage"]["completion_tokens"] == 4


async def test_the_path_without_v1_is_served_too(standin, http):
    root = standin.url.removesuffix("/v1")

    async with http.post(f"{root}/chat/completions", json=chat()) as response:
        assert response.status == 200


async def test_the_models_are_listed(standin, client):
    models = await client.models.list()

    assert [m.id async for m in models] == ["standin-chat"]


async def test_a_request_without_messages_gets_openais_400(standin, http):
    async with http.post(f"{standin.url}/chat/completions", json={"model": "m"}) as response:
        assert response.status == 400
        error = (await response.json())["error"]

    assert error == {
        "message": "Missing required parameter: 'messages'.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": None,
    }
    assert standin.violations == ["/v1/chat/completions: (body): 'messages' is a required property"]
    standin.violations.clear()


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (chat() | {"messages": [{"role": "user"}]}, "messages.[0].content"),
        (chat() | {"messages": [{"role": "wizard", "content": "hi"}]}, "messages.[0]"),
        (chat(stream_options={"include_usage": True}), "stream_options"),
        (chat(max_tokens="lots"), "max_tokens"),
    ],
)
async def test_a_malformed_request_is_refused_where_it_is_wrong(standin, http, body, param):
    async with http.post(f"{standin.url}/chat/completions", json=body) as response:
        assert response.status == 400
        error = (await response.json())["error"]

    assert error["param"] == param
    assert len(standin.violations) == 1
    standin.violations.clear()


async def test_a_body_that_is_not_json_gets_400(standin, http):
    async with http.post(f"{standin.url}/chat/completions", data=b"{not json") as response:
        assert response.status == 400
        assert (await response.json())["error"]["type"] == "invalid_request_error"

    assert len(standin.violations) == 1
    standin.violations.clear()


async def test_a_client_that_leaves_a_raw_stream_is_counted(standin, http):
    standin.endless(delay=0.0)

    async with http.post(f"{standin.url}/chat/completions", json=chat(stream=True)) as response:
        await response.content.readline()

    await standin.wait_for(lambda: standin.disconnects == 1, timeout=1.0)
    assert standin.streaming == 0


async def test_an_endless_stream_ends_when_the_stand_in_stops(http):
    async with OpenAIStandIn.running() as server:
        server.endless()
        response = await http.post(f"{server.url}/chat/completions", json=chat(stream=True))
        await response.content.readline()
        started = time.monotonic()
    response.close()

    assert time.monotonic() - started < 5.0


async def test_the_stand_in_runs_as_a_process_and_prints_its_url():
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "devtools.models.openai_standin",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        async with asyncio.timeout(20):
            line = (await process.stdout.readline()).decode()
    finally:
        process.terminate()
        await process.wait()

    assert line.startswith("[model] ")
    assert line.rstrip().endswith("/v1")
    assert process.returncode == 0
