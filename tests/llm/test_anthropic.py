"""The ``anthropic`` provider through the real ``anthropic`` package, against the loopback
stand-in of the Messages API (``devtools.models.anthropic_fake``)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import aiohttp
import anthropic
import httpx2
import pytest

from devtools.aws import free_port
from devtools.models.anthropic_fake import AnthropicFake, api_key
from services.core.llm.anthropic_messages import AnthropicProvider
from services.core.llm.errors import ErrorKind, ModelError
from services.core.llm.models import (
    ChatRequest,
    Event,
    Finished,
    Image,
    StopReason,
    TextDelta,
    Turn,
)

API_KEY = "sk-ant-test-key-never-in-errors"
MODEL = "claude-test-1"
SYSTEM = "You answer in one short paragraph."
QUESTION = "What is the capital of France, and why?"
ANSWER = "Paris is the capital of France, and has been for most of a thousand years."
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(32))
CONTEXT_WINDOW = 200  # words, in the stand-in's tokens


def chat(*turns: Turn, max_output_tokens: int = 500) -> ChatRequest:
    return ChatRequest(
        model=MODEL,
        system=SYSTEM,
        turns=turns or (Turn.user(QUESTION),),
        max_output_tokens=max_output_tokens,
    )


@pytest.fixture
async def fake() -> AsyncIterator[AnthropicFake]:
    async with AnthropicFake.running(context_window=CONTEXT_WINDOW) as running:
        yield running


def client_for(url: str, *, read_timeout: float = 5.0) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(
        api_key=API_KEY,
        base_url=url,
        max_retries=0,  # the bot's own policy retries, not the client
        timeout=httpx2.Timeout(5.0, read=read_timeout),
    )


@pytest.fixture
async def provider(fake: AnthropicFake) -> AsyncIterator[AnthropicProvider]:
    async with client_for(fake.url) as client:
        yield AnthropicProvider(client)


async def collect(
    provider: AnthropicProvider, request: ChatRequest, received: list[Event] | None = None
) -> list[Event]:
    """Every event of the answer, into ``received`` if given: there, those before an error
    are kept."""
    received = [] if received is None else received
    async with provider.stream(request) as events:
        async for event in events:
            received.append(event)
    return received


async def failure(provider: AnthropicProvider, request: ChatRequest) -> ModelError:
    with pytest.raises(ModelError) as caught:
        await collect(provider, request)
    error = caught.value
    # What reaches the logs never carries the key or the user's words.
    assert API_KEY not in str(error)
    assert QUESTION not in str(error)
    assert SYSTEM not in str(error)
    return error


async def test_a_streamed_answer_arrives_in_order_then_one_finished(fake, provider):
    fake.script(ANSWER)

    events = await collect(provider, chat())

    *deltas, finished = events
    assert len(deltas) > 1
    assert all(isinstance(d, TextDelta) for d in deltas)
    assert "".join(d.text for d in deltas if isinstance(d, TextDelta)) == ANSWER
    prompt_words = len(SYSTEM.split()) + len(QUESTION.split())
    assert finished == Finished(
        StopReason.END, input_tokens=prompt_words, output_tokens=len(ANSWER.split())
    )
    assert await fake.requests[0].wait() == "complete"


async def test_the_request_keeps_the_system_prompt_apart_and_sends_images_as_base64(fake, provider):
    request = chat(
        Turn.user("Describe this picture.", Image(PNG, "image/png")),
        Turn.assistant("A small square."),
        Turn.user(QUESTION),
        max_output_tokens=321,
    )

    await collect(provider, request)

    (recorded,) = fake.requests
    assert api_key(recorded.headers) == API_KEY
    body = recorded.body
    assert body["model"] == MODEL
    assert body["max_tokens"] == 321
    assert body["stream"] is True
    assert body["system"] == SYSTEM
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert all(SYSTEM not in str(m) for m in body["messages"])
    first = body["messages"][0]["content"]
    assert first[0] == {"type": "text", "text": "Describe this picture."}
    assert first[1]["type"] == "image"
    assert first[1]["source"]["type"] == "base64"
    assert first[1]["source"]["media_type"] == "image/png"
    assert base64.b64decode(first[1]["source"]["data"]) == PNG
    assert body["messages"][2]["content"] == [{"type": "text", "text": QUESTION}]


async def test_leaving_the_context_early_closes_the_stream(fake, provider):
    words = [f"word{i}" for i in range(200)]
    fake.script(" ".join(words), delay=0.01)

    received: list[Event] = []
    async with provider.stream(chat(max_output_tokens=1000)) as events:
        async for event in events:
            received.append(event)
            if len(received) == 2:
                break  # what Stop does

    assert all(isinstance(e, TextDelta) for e in received)
    recorded = fake.requests[0]
    assert await recorded.wait() == "disconnected"
    assert recorded.deltas_sent < len(words) // 2


async def test_the_packages_own_stream_helper_rebuilds_the_stand_ins_message(fake):
    # The stand-in's events must add up, for the package's accumulator, to one message.
    fake.script(ANSWER, stop_reason="stop_sequence")
    async with (
        client_for(fake.url) as client,
        client.messages.stream(
            model=MODEL,
            max_tokens=100,
            system=SYSTEM,
            messages=[{"role": "user", "content": QUESTION}],
        ) as stream,
    ):
        message = await stream.get_final_message()

    assert message.model == MODEL
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == ANSWER  # type: ignore[union-attr]
    assert message.stop_reason == "stop_sequence"
    assert message.usage.output_tokens == len(ANSWER.split())


async def test_reaching_max_tokens_is_length(fake, provider):
    fake.script(ANSWER)

    *deltas, finished = await collect(provider, chat(max_output_tokens=3))

    assert "".join(d.text for d in deltas if isinstance(d, TextDelta)) == "Paris is the"
    assert isinstance(finished, Finished)
    assert finished.reason is StopReason.LENGTH
    assert finished.output_tokens == 3


async def test_a_refusal_is_refused(fake, provider):
    fake.script("I can't help with that.", stop_reason="refusal")

    *_, finished = await collect(provider, chat())

    assert isinstance(finished, Finished)
    assert finished.reason is StopReason.REFUSED


async def test_429_is_rate_limited_with_its_retry_after(fake, provider):
    fake.fail(429, retry_after=7)

    error = await failure(provider, chat())

    assert error.kind is ErrorKind.RATE_LIMITED
    assert error.retryable
    assert error.status == 429
    assert error.retry_after == 7.0


async def test_429_without_retry_after_waits_nothing_in_particular(fake, provider):
    fake.fail(429)

    error = await failure(provider, chat())

    assert error.kind is ErrorKind.RATE_LIMITED
    assert error.retry_after == 0.0


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (529, ErrorKind.RATE_LIMITED),  # Anthropic's "overloaded"
        (500, ErrorKind.UNAVAILABLE),
        (503, ErrorKind.UNAVAILABLE),
        (504, ErrorKind.TIMEOUT),
        (413, ErrorKind.TOO_LONG),
        (401, ErrorKind.REJECTED),
        (403, ErrorKind.REJECTED),
        (404, ErrorKind.REJECTED),
    ],
)
async def test_http_errors_have_their_kind(fake, provider, status, kind):
    fake.fail(status)

    error = await failure(provider, chat())

    assert error.kind is kind
    assert error.status == status


async def test_a_prompt_over_the_context_window_is_too_long(provider):
    request = chat(Turn.user(" ".join([QUESTION] * CONTEXT_WINDOW)))

    error = await failure(provider, request)

    assert error.kind is ErrorKind.TOO_LONG
    assert error.status == 400


async def test_a_request_the_api_refuses_is_rejected(fake, provider):
    # The API wants the user first: a conversation opening with the bot's turn is refused.
    error = await failure(provider, chat(Turn.assistant("Hello!"), Turn.user(QUESTION)))

    assert error.kind is ErrorKind.REJECTED
    assert error.status == 400
    assert fake.requests[0].status == 400


async def test_the_stand_in_refuses_a_request_without_a_key_as_the_api_does(fake):
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            fake.url + "/v1/messages",
            json={"model": MODEL, "max_tokens": 5, "messages": [], "stream": True},
            headers={"anthropic-version": "2023-06-01"},
        ) as response,
    ):
        body = await response.json()

    assert response.status == 401
    assert body["type"] == "error"
    assert body["error"]["type"] == "authentication_error"


@pytest.mark.parametrize(
    ("error_type", "kind"),
    [
        ("overloaded_error", ErrorKind.RATE_LIMITED),
        ("rate_limit_error", ErrorKind.RATE_LIMITED),
        ("api_error", ErrorKind.UNAVAILABLE),
        ("invalid_request_error", ErrorKind.REJECTED),
    ],
)
async def test_an_error_event_in_the_stream_is_a_model_error(fake, provider, error_type, kind):
    fake.script(ANSWER)
    fake.fail_mid_stream(error_type, after=2)
    received: list[Event] = []

    with pytest.raises(ModelError) as caught:
        await collect(provider, chat(), received)

    assert len(received) == 2
    assert all(isinstance(e, TextDelta) for e in received)
    assert caught.value.kind is kind
    assert caught.value.status is None  # the HTTP status was 200
    assert await fake.requests[0].wait() == "error_event"


async def test_an_answer_that_stops_coming_is_a_timeout(fake):
    fake.script(ANSWER, delay=0.3)
    async with client_for(fake.url, read_timeout=0.1) as client:
        error = await failure(AnthropicProvider(client), chat())

    assert error.kind is ErrorKind.TIMEOUT


async def test_nothing_listening_is_unavailable():
    async with client_for(f"http://127.0.0.1:{free_port()}") as client:
        error = await failure(AnthropicProvider(client), chat())

    assert error.kind is ErrorKind.UNAVAILABLE
    assert error.retryable


async def test_an_image_type_the_api_does_not_take_is_rejected_before_sending(fake, provider):
    error = await failure(provider, chat(Turn.user("Look.", Image(b"BM", "image/bmp"))))

    assert error.kind is ErrorKind.REJECTED
    assert fake.requests == []
