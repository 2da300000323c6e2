"""The LLM layer's parts for a service's lifetime: the model provider (the worker's), the
table of Stop flags, follow-up history and budgets, and the limit on answers in flight."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Final

from services.core.aws import aws_client
from services.core.config import AwsSettings, LimitSettings
from services.core.limits import JobLimits
from services.core.llm.answers import AnswerStore
from services.core.llm.budget import TokenBudget
from services.core.llm.models import Provider
from services.core.llm.settings import LlmSettings

# Compatible servers that run locally take any key, but the client needs one.
NO_KEY: Final = "unused"


@dataclass(frozen=True, slots=True)
class Llm:
    settings: LlmSettings
    provider: Provider | None = None  # the worker's; None in the API
    answers: AnswerStore | None = None
    budget: TokenBudget | None = None
    places: JobLimits | None = None  # answers in flight, per user and server


@asynccontextmanager
async def open_llm(
    settings: LlmSettings,
    aws: AwsSettings,
    *,
    with_provider: bool,
    table_timeout: float,
    table_attempts: int,
) -> AsyncIterator[Llm | None]:
    """``None`` when no provider is configured: the LLM commands then say so."""
    if not settings.enabled:
        yield None
        return
    async with AsyncExitStack() as stack:
        answers = budget = places = None
        if settings.table is not None:
            table = await stack.enter_async_context(
                aws_client(
                    "dynamodb",
                    aws,
                    connect_timeout=table_timeout,
                    read_timeout=table_timeout,
                    max_attempts=table_attempts,
                )
            )
            answers = AnswerStore(
                client=table, table=settings.table, history_seconds=settings.history_seconds
            )
            budget = TokenBudget(client=table, table=settings.table, budgets=settings.budgets)
            b = settings.budgets
            places = JobLimits(
                client=table,
                table=settings.table,
                settings=LimitSettings(
                    table=settings.table,
                    user_running=b.user_answers,
                    user_per_minute=0,
                    server_running=b.server_answers,
                    server_per_minute=0,
                ),
                pool="answers",
                what="answers",
            )
        provider = (
            await stack.enter_async_context(_provider(settings, aws)) if with_provider else None
        )
        yield Llm(settings, provider=provider, answers=answers, budget=budget, places=places)


@asynccontextmanager
async def _provider(settings: LlmSettings, aws: AwsSettings) -> AsyncIterator[Provider]:
    key = settings.api_key.reveal() if settings.api_key else NO_KEY
    # Retries are ours (``services.core.llm.answer``): they know whether text was shown.
    if settings.provider == "openai":
        import openai  # noqa: PLC0415 - the worker's alone: the API never loads it

        from services.core.llm.openai_chat import OpenAIProvider  # noqa: PLC0415

        async with openai.AsyncOpenAI(
            api_key=key, base_url=settings.base_url, timeout=settings.timeout, max_retries=0
        ) as client:
            yield OpenAIProvider(client, official=settings.base_url is None)
    elif settings.provider == "anthropic":
        import anthropic  # noqa: PLC0415

        from services.core.llm.anthropic_messages import AnthropicProvider  # noqa: PLC0415

        async with anthropic.AsyncAnthropic(
            api_key=key, base_url=settings.base_url, timeout=settings.timeout, max_retries=0
        ) as client:
            yield AnthropicProvider(client)
    else:
        from services.core.llm.bedrock import BedrockProvider  # noqa: PLC0415

        async with aws_client(
            "bedrock-runtime",
            aws,
            connect_timeout=10,
            read_timeout=settings.timeout,
            max_attempts=1,
        ) as client:
            yield BedrockProvider(client)
