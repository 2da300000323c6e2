"""The bot with its model commands on: the API and the worker on loopback, the real queue and
table (moto), the Discord stand-in and the OpenAI-protocol model stand-in."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from devtools import aws, interactions
from devtools.models.openai_standin import DEFAULT_MODEL, OpenAIStandIn
from tests.conftest import APPLICATION_ID, api_settings, base_env, running_worker, serve_api

EDIT_INTERVAL = 0.5


@pytest.fixture
async def model() -> AsyncIterator[OpenAIStandIn]:
    async with OpenAIStandIn.running() as standin:
        yield standin
        assert standin.violations == [], "requests the Chat Completions contract refuses"


@pytest.fixture
def answers_table(moto: str) -> str:
    return aws.create_table(moto, f"answers-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def llm_env(moto, queues, discord, model, answers_table) -> dict[str, str]:
    return base_env(
        moto,
        queues,
        discord.url,
        LLM_PROVIDER="openai",
        LLM_MODEL=DEFAULT_MODEL,
        LLM_BASE_URL=model.url,
        LLM_TABLE=answers_table,
        LLM_EDIT_INTERVAL=str(EDIT_INTERVAL),
        LLM_RETRIES="2",
        LLM_MAX_OUTPUT_TOKENS="4000",
        DISCORD_CDN_URL=discord.url,
    )


@asynccontextmanager
async def llm_bot(env: dict[str, str], discord: Any, signing_key: Any) -> AsyncIterator[Any]:
    async with serve_api(api_settings(env, signing_key), signing_key) as api, running_worker(env):
        discord.connect(api.url + "/interactions", signing_key)
        yield api


def ask(prompt: str, *, user: str = interactions.DEV_USER_ID, **extra: Any) -> dict[str, Any]:
    return interactions.command(
        APPLICATION_ID,
        "ask",
        [{"name": "prompt", "type": 3, "value": prompt}],
        invoker=interactions.user(user, f"user{user[-2:]}"),
        **extra,
    )
