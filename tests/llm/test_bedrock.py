"""The ``bedrock`` provider through a real aioboto3 ``bedrock-runtime`` client, against the
loopback stand-in of ConverseStream (``devtools.models.bedrock_fake``)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from devtools.aws import LOCAL_CREDENTIALS, free_port
from devtools.models.bedrock_fake import BedrockFake
from services.core.aws import aws_client
from services.core.config import AwsSettings
from services.core.llm.bedrock import BedrockProvider
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

MODEL = "anthropic.claude-test-v1:0"  # the colon travels percent-encoded in the path
SYSTEM = "You answer in one short paragraph."
QUESTION = "What is the capital of France, and why?"
ANSWER = "Paris is the capital of France, and has been for most of a thousand years."
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(32))
CONTEXT_WINDOW = 200  # words, in the stand-in's tokens


def chat(*turns: Turn, max_output_tokens: int = 500) -> ChatRequest:
    return ChatRequest(
        model=MODEL,
        system=SYSTEM,
        turns=turns or (Turn.user(QUESTION),),
        max_output_tokens=max_output_tokens,
    )


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in LOCAL_CREDENTIALS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
async def fake() -> AsyncIterator[BedrockFake]:
    async with BedrockFake.running(context_window=CONTEXT_WINDOW) as running:
        yield running


def client_for(url: str, *, read_timeout: float = 5.0) -> Any:
    aws = AwsSettings(region="us-east-1", endpoint_url=url, jobs_queue_url="")
    # One attempt: the bot's own policy retries, not the client.
    return aws_client(
        "bedrock-runtime", aws, connect_timeout=2.0, read_timeout=read_timeout, max_attempts=1
    )


@pytest.fixture
async def provider(fake: BedrockFake) -> AsyncIterator[BedrockProvider]:
    async with client_for(fake.url) as client:
        yield BedrockProvider(client)


async def collect(
    provider: BedrockProvider, request: ChatRequest, received: list[Event] | None = None
) -> list[Event]:
    """Every event of the answer, into ``received`` if given: there, those before an error
    are kept."""
    received = [] if received is None else received
    async with provider.stream(request) as events:
        async for event in events:
            received.append(event)
    return received


async def failure(provider: BedrockProvider, request: ChatRequest) -> ModelError:
    with pytest.raises(ModelError) as caught:
        await collect(provider, request)
    error = caught.value
    # What reaches the logs never carries the credentials or the user's words.
    assert QUESTION not in str(error)
    assert SYSTEM not in str(error)
    assert "local" not in str(error)
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


async def test_the_request_keeps_the_system_prompt_apart_and_sends_images_as_image_blocks(
    fake, provider
):
    request = chat(
        Turn.user("Describe this picture.", Image(JPEG, "image/jpeg")),
        Turn.assistant("A small square."),
        Turn.user(QUESTION),
        max_output_tokens=321,
    )

    await collect(provider, request)

    (recorded,) = fake.requests
    assert recorded.model_id == MODEL
    assert recorded.headers["Authorization"].startswith("AWS4-HMAC-SHA256 ")
    body = recorded.body
    assert body["system"] == [{"text": SYSTEM}]
    assert body["inferenceConfig"] == {"maxTokens": 321}
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert all(SYSTEM not in str(m) for m in body["messages"])
    first = body["messages"][0]["content"]
    assert first[0] == {"text": "Describe this picture."}
    assert first[1]["image"]["format"] == "jpeg"
    assert base64.b64decode(first[1]["image"]["source"]["bytes"]) == JPEG
    assert body["messages"][2]["content"] == [{"text": QUESTION}]


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


async def test_reaching_max_tokens_is_length(fake, provider):
    fake.script(ANSWER)

    *deltas, finished = await collect(provider, chat(max_output_tokens=3))

    assert "".join(d.text for d in deltas if isinstance(d, TextDelta)) == "Paris is the"
    assert isinstance(finished, Finished)
    assert finished.reason is StopReason.LENGTH
    assert finished.output_tokens == 3


@pytest.mark.parametrize("stop_reason", ["guardrail_intervened", "content_filtered"])
async def test_a_filter_stopping_the_answer_is_refused(fake, provider, stop_reason):
    fake.script("I can't help with that.", stop_reason=stop_reason)

    *_, finished = await collect(provider, chat())

    assert isinstance(finished, Finished)
    assert finished.reason is StopReason.REFUSED


async def test_throttling_is_rate_limited(fake, provider):
    fake.fail(429)

    error = await failure(provider, chat())

    assert error.kind is ErrorKind.RATE_LIMITED
    assert error.retryable
    assert error.status == 429
    assert error.detail == "HTTP 429 ThrottlingException"
    assert error.retry_after == 0.0


async def test_a_retry_after_in_front_of_bedrock_is_kept(fake, provider):
    fake.fail(429, retry_after=4)

    error = await failure(provider, chat())

    assert error.kind is ErrorKind.RATE_LIMITED
    assert error.retry_after == 4.0


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, "ServiceQuotaExceededException", ErrorKind.RATE_LIMITED),
        (503, None, ErrorKind.UNAVAILABLE),  # ServiceUnavailableException
        (500, None, ErrorKind.UNAVAILABLE),  # InternalServerException
        (408, None, ErrorKind.TIMEOUT),  # ModelTimeoutException
        (403, None, ErrorKind.REJECTED),  # AccessDeniedException
        (404, None, ErrorKind.REJECTED),  # ResourceNotFoundException
        (400, None, ErrorKind.REJECTED),  # ValidationException
    ],
)
async def test_errors_before_the_stream_have_their_kind(fake, provider, status, code, kind):
    fake.fail(status, code=code)

    error = await failure(provider, chat())

    assert error.kind is kind
    assert error.status == status


async def test_a_prompt_over_the_context_window_is_too_long(provider):
    request = chat(Turn.user(" ".join([QUESTION] * CONTEXT_WINDOW)))

    error = await failure(provider, request)

    assert error.kind is ErrorKind.TOO_LONG
    assert error.status == 400


async def test_a_validation_exception_saying_too_many_tokens_is_too_long(fake, provider):
    message = "The model returned the following errors: too many input tokens"
    fake.fail(400, message=message)

    error = await failure(provider, chat())

    assert error.kind is ErrorKind.TOO_LONG


async def test_a_request_bedrock_refuses_is_rejected(fake, provider):
    # Bedrock wants the user first: a conversation opening with the bot's turn is refused.
    error = await failure(provider, chat(Turn.assistant("Hello!"), Turn.user(QUESTION)))

    assert error.kind is ErrorKind.REJECTED
    assert error.detail == "HTTP 400 ValidationException"
    assert fake.requests[0].status == 400


@pytest.mark.parametrize(
    ("exception_type", "kind"),
    [
        ("modelStreamErrorException", ErrorKind.UNAVAILABLE),
        ("throttlingException", ErrorKind.RATE_LIMITED),
        ("internalServerException", ErrorKind.UNAVAILABLE),
        ("serviceUnavailableException", ErrorKind.UNAVAILABLE),
        ("validationException", ErrorKind.REJECTED),
    ],
)
async def test_an_exception_in_the_stream_is_a_model_error(fake, provider, exception_type, kind):
    fake.script(ANSWER)
    fake.fail_mid_stream(exception_type, after=2)
    received: list[Event] = []

    with pytest.raises(ModelError) as caught:
        await collect(provider, chat(), received)

    assert len(received) == 2
    assert all(isinstance(e, TextDelta) for e in received)
    assert caught.value.kind is kind
    assert caught.value.status is None  # the HTTP status was 200
    assert await fake.requests[0].wait() == "exception"


async def test_an_answer_that_stops_coming_is_a_timeout(fake):
    fake.script(ANSWER, delay=0.3)
    async with client_for(fake.url, read_timeout=0.1) as client:
        error = await failure(BedrockProvider(client), chat())

    assert error.kind is ErrorKind.TIMEOUT


async def test_nothing_listening_is_unavailable():
    async with client_for(f"http://127.0.0.1:{free_port()}") as client:
        error = await failure(BedrockProvider(client), chat())

    assert error.kind is ErrorKind.UNAVAILABLE
    assert error.detail == "EndpointConnectionError"


async def test_the_stand_in_refuses_an_unsigned_request(fake):
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{fake.url}/model/{MODEL}/converse-stream",
            json={"messages": [{"role": "user", "content": [{"text": QUESTION}]}]},
        ) as response,
    ):
        body = await response.json()

    assert response.status == 403
    assert response.headers["x-amzn-ErrorType"].startswith("AccessDeniedException:")
    assert "message" in body


async def test_an_image_type_bedrock_does_not_take_is_rejected_before_sending(fake, provider):
    error = await failure(provider, chat(Turn.user("Look.", Image(b"BM", "image/bmp"))))

    assert error.kind is ErrorKind.REJECTED
    assert fake.requests == []
