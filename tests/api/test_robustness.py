"""What a hostile review found, each through the real API socket: nothing a signed request
or a buggy handler does gets a 5xx, and private replies stay private."""

from __future__ import annotations

import pytest

from devtools import interactions
from services.api.interactions import COMMAND_FAILED_TEXT
from tests.api.commands import router
from tests.conftest import APPLICATION_ID, api_settings, base_env, serve_api


@pytest.fixture
async def test_api(moto, queues, discord, signing_key):
    env = base_env(moto, queues, discord.url)
    async with serve_api(api_settings(env, signing_key), signing_key, router=router) as api:
        yield api


async def test_a_deeply_nested_field_in_a_deferred_command_is_no_5xx(api):
    payload = interactions.command(
        APPLICATION_ID, "countdown", [{"name": "seconds", "type": 4, "value": 1}]
    )
    nested: list = []
    for _ in range(900):
        nested = [nested]
    payload["extra"] = nested
    status, body, _ = await api.post(payload)
    assert status == 200
    assert body["type"] == 5  # queued as Discord sent it: the bytes, not a re-encoding


@pytest.mark.parametrize("name", ["abandoned", "twins"])
async def test_a_handler_failing_in_odd_ways_gets_an_ephemeral_error(test_api, name):
    status, body, _ = await test_api.post(interactions.command(APPLICATION_ID, name))
    assert status == 200
    assert body["data"]["content"] == COMMAND_FAILED_TEXT
    assert body["data"]["flags"] == 64


async def test_suggestions_json_cannot_carry_become_no_suggestions(test_api):
    typing = interactions.autocomplete(
        APPLICATION_ID, "pick", [{"name": "n", "type": 4, "value": 1}]
    )
    status, body, _ = await test_api.post(typing)
    assert (status, body) == (200, {"type": 8, "data": {"choices": []}})


async def test_an_ephemeral_route_keeps_a_message_private(test_api):
    status, body, _ = await test_api.post(interactions.command(APPLICATION_ID, "private"))
    assert status == 200
    assert body["data"]["content"] == "for you only"
    assert body["data"]["flags"] == 64


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"token": "abc\n"}, "token"),
        ({"id": "123\n"}, "id"),
    ],
)
async def test_a_trailing_newline_is_not_accepted(api, change, reason):
    payload = {**interactions.command(APPLICATION_ID, "ping"), **change}
    status, body, _ = await api.post(payload)
    assert status == 400
    assert reason in body["reason"]
