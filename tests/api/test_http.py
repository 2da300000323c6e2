"""The interactions endpoint through a real uvicorn socket, a real moto SQS and our app."""

from __future__ import annotations

import asyncio
import time

import pytest

from devtools import interactions
from devtools.standin import schemas
from services.api.app import create_app
from services.core.bot import Router
from services.core.discord.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER
from services.core.errors import ConfigError
from tests.api.commands import router
from tests.conftest import APPLICATION_ID, api_settings, base_env, serve_api, worker_reader

EPHEMERAL = 64


def assert_valid_callback(body):
    """Our HTTP answer is an interaction callback: Discord's schema must accept it."""
    assert schemas().errors("create_interaction_response", body) == []


async def test_ping_gets_pong_as_json(api):
    status, body, response = await api.post(interactions.ping(APPLICATION_ID))
    assert status == 200
    assert body == {"type": 1}
    assert response.content_type == "application/json"


async def test_healthz(api):
    async with api.session.get(api.url + "/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok"}


async def test_readyz_says_the_queue_is_reachable(api):
    async with api.session.get(api.url + "/readyz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ready", "queue": "reachable"}


def _forged_headers(key, body):
    good = interactions.sign(key, body)
    ts, sig = good[TIMESTAMP_HEADER], good[SIGNATURE_HEADER]
    flipped = ("1" if sig[0] == "0" else "0") + sig[1:]
    base = {"Content-Type": "application/json"}
    return {
        "zero signature": {**base, SIGNATURE_HEADER: "0" * 128, TIMESTAMP_HEADER: ts},
        "wrong signature": {**base, SIGNATURE_HEADER: flipped, TIMESTAMP_HEADER: ts},
        "non-hex signature": {**base, SIGNATURE_HEADER: "g" * 128, TIMESTAMP_HEADER: ts},
        "short signature": {**base, SIGNATURE_HEADER: sig[:64], TIMESTAMP_HEADER: ts},
        "no headers": base,
        "no timestamp": {**base, SIGNATURE_HEADER: sig},
        "no signature": {**base, TIMESTAMP_HEADER: ts},
        "changed timestamp": {**base, SIGNATURE_HEADER: sig, TIMESTAMP_HEADER: str(int(ts) - 1)},
        "huge timestamp": {**base, SIGNATURE_HEADER: sig, TIMESTAMP_HEADER: "9" * 400},
    }


FORGED_CASES = [
    "zero signature",
    "wrong signature",
    "non-hex signature",
    "short signature",
    "no headers",
    "no timestamp",
    "no signature",
    "changed timestamp",
    "huge timestamp",
]


@pytest.mark.parametrize("case", FORGED_CASES)
async def test_forged_requests_get_401(api, case):
    body = interactions.encode(interactions.ping(APPLICATION_ID))
    status, data, _ = await api.post(body, headers=_forged_headers(api.key, body)[case])
    assert status == 401
    assert data == {"error": "invalid request signature"}


async def test_changed_body_gets_401(api):
    body = interactions.encode(interactions.ping(APPLICATION_ID))
    headers = interactions.sign(api.key, body)
    status, _, _ = await api.post(body.replace(b'"type":1', b'"type":2'), headers=headers)
    assert status == 401


@pytest.mark.parametrize("offset", [-301, 301, -3600, 3600])
async def test_stale_or_future_signed_requests_get_401(api, offset):
    status, _, _ = await api.post(
        interactions.ping(APPLICATION_ID), timestamp=int(time.time()) + offset
    )
    assert status == 401


async def test_oversized_body_is_refused_before_verification(api):
    body = b"{" + b" " * (300 * 1024) + b"}"
    status, data, _ = await api.post(body, headers={"Content-Type": "application/json"})
    assert status == 413
    assert data == {"error": "request body too large"}


async def test_oversized_chunked_body_is_refused(api):
    async def chunks():
        for _ in range(40):
            yield b" " * 8192

    async with api.session.post(api.url + "/interactions", data=chunks()) as response:
        assert response.status == 413


def _command(**change):
    payload = interactions.command(APPLICATION_ID, "ping")
    for path, value in change.items():
        node = payload
        *parents, leaf = path.split("__")
        for key in parents:
            node = node[key]
        node[leaf] = value
    return interactions.encode(payload)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"type":1}', "id is not a snowflake"),
        (b'{"id":"1","application_id":"2","token":"t","type":"1"}', "type is not an integer"),
        (_command(data__options=5), "data.options is not a list"),
        (_command(data__options=[{"name": "x", "options": 5, "type": 1}]), "options"),
        (_command(data__options=[{"type": 4, "value": 1}]), "without a name"),
        (_command(data__options=[{"name": "a", "type": 3, "value": {"$gt": 1}}]), "value"),
        (_command(id="12abc"), "id is not a snowflake"),
        (_command(id="-123"), "id is not a snowflake"),
        (_command(id="99999999999999999999"), "id is not a snowflake"),
        (_command(guild_id=900000000000000001), "guild_id is not a snowflake"),
        (_command(channel_id="1/../../guilds"), "channel_id is not a snowflake"),
        (_command(token="t/../../x?y="), "token"),
        (_command(member__permissions="-1"), "permissions"),
        (_command(member__permissions=" 8 "), "permissions"),
        (_command(member__permissions="\uff18"), "permissions"),
        (_command(member__user__id=5), "member.user.id"),
        (_command(data__resolved={"users": [1]}), "resolved"),
        (_command(data="ping"), "data is not an object"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
async def test_signed_shapes_discord_never_sends_get_400_with_the_reason(api, body, reason):
    status, data, _ = await api.post(body)
    assert status == 400
    assert data["error"] == "not an interaction"
    assert reason in data["reason"]


async def test_signed_unknown_interaction_type_gets_400(api):
    payload = {**interactions.ping(APPLICATION_ID), "type": 99}
    status, _, _ = await api.post(payload)
    assert status == 400


async def test_ping_command_answers_inline(api):
    status, body, _ = await api.post(interactions.command(APPLICATION_ID, "ping"))
    assert status == 200
    assert body["type"] == 4
    assert body["data"]["content"] == "Pong!"
    assert_valid_callback(body)


async def test_unknown_command_gets_an_ephemeral_message(api):
    status, body, _ = await api.post(interactions.command(APPLICATION_ID, "nope"))
    assert status == 200
    assert body["type"] == 4
    assert body["data"]["flags"] == EPHEMERAL
    assert "isn't available" in body["data"]["content"]
    assert_valid_callback(body)


async def test_option_out_of_range_gets_an_ephemeral_message(api):
    payload = interactions.command(
        APPLICATION_ID, "countdown", [{"name": "seconds", "type": 4, "value": 0}]
    )
    status, body, _ = await api.post(payload)
    assert status == 200
    assert body["data"]["flags"] == EPHEMERAL
    assert "seconds" in body["data"]["content"]


async def test_countdown_defers_and_enqueues_the_job(api, queues, sqs):
    payload = interactions.command(
        APPLICATION_ID, "countdown", [{"name": "seconds", "type": 4, "value": 5}]
    )
    before = time.time()
    status, body, _ = await api.post(payload)
    assert status == 200
    assert body == {"type": 5, "data": {}}
    assert_valid_callback(body)
    received = sqs.receive_message(QueueUrl=queues.url, WaitTimeSeconds=1)["Messages"]
    assert len(received) == 1
    job = worker_reader().decode(received[0]["Body"])
    assert job.id == payload["id"]
    assert job.route == "command:countdown"
    assert job.interaction.raw == payload
    assert before <= job.received_at <= time.time()


async def test_deferred_ephemeral_command_defers_ephemerally(moto, queues, discord, signing_key):

    env = base_env(moto, queues, discord.url)
    async with serve_api(api_settings(env, signing_key), signing_key, router=router) as api:
        status, body, _ = await api.post(interactions.command(APPLICATION_ID, "secret"))
    assert status == 200
    assert body == {"type": 5, "data": {"flags": EPHEMERAL}}


async def test_instant_command_that_raises_gets_an_ephemeral_error(
    moto, queues, discord, signing_key
):

    env = base_env(moto, queues, discord.url)
    async with serve_api(api_settings(env, signing_key), signing_key, router=router) as api:
        status, body, _ = await api.post(interactions.command(APPLICATION_ID, "broken"))
    assert status == 200
    assert body["data"]["flags"] == EPHEMERAL
    assert "went wrong" in body["data"]["content"]


async def test_enqueue_to_unreachable_sqs_answers_within_discords_deadline(
    moto, queues, discord, signing_key
):
    # GIVEN SQS is down (nothing listens on its port)
    from devtools.aws import free_port

    env = base_env(moto, queues, discord.url, AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}")
    async with serve_api(api_settings(env, signing_key), signing_key) as api:
        # WHEN a deferred command arrives, THEN the user gets an ephemeral error before
        # Discord's 3 s deadline (the client gives up at 3 s, as Discord does)
        payload = interactions.command(
            APPLICATION_ID, "countdown", [{"name": "seconds", "type": 4, "value": 5}]
        )
        status, body, _ = await api.post(payload, timeout=3.0)
    assert status == 200
    assert body["type"] == 4
    assert body["data"]["flags"] == EPHEMERAL
    assert "couldn't start" in body["data"]["content"]
    assert_valid_callback(body)


async def test_enqueue_to_hanging_sqs_answers_within_discords_deadline(
    moto, queues, discord, signing_key
):
    # GIVEN SQS accepts connections but never answers
    held: list[asyncio.StreamWriter] = []

    async def hang(_reader, writer):
        held.append(writer)

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    env = base_env(moto, queues, discord.url, AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}")
    try:
        async with serve_api(api_settings(env, signing_key), signing_key) as api:
            payload = interactions.command(
                APPLICATION_ID, "countdown", [{"name": "seconds", "type": 4, "value": 5}]
            )
            status, body, _ = await api.post(payload, timeout=3.0)
    finally:
        for writer in held:
            writer.close()
        server.close()
    assert status == 200
    assert body["data"]["flags"] == EPHEMERAL
    assert "couldn't start" in body["data"]["content"]


async def test_concurrent_requests_are_all_answered(api):
    payloads = [interactions.command(APPLICATION_ID, "ping") for _ in range(50)]
    results = await asyncio.gather(*(api.post(p) for p in payloads))
    assert [r[1]["data"]["content"] for r in results] == ["Pong!"] * 50


async def test_get_on_interactions_is_405(api):
    async with api.session.get(api.url + "/interactions") as response:
        assert response.status == 405


def test_a_bot_with_signed_custom_ids_does_not_start_without_the_key(moto, queues, signing_key):
    env = {**base_env(moto, queues, "http://127.0.0.1:9/api/v10")}
    env.pop("CUSTOM_ID_SECRET")
    with pytest.raises(ConfigError, match="CUSTOM_ID_SECRET"):
        create_app(api_settings(env, signing_key), router=router)
    # A bot without signed templates needs no key.
    create_app(api_settings(env, signing_key), router=Router())


async def test_a_long_answer_whose_rest_cannot_be_queued_says_so(
    moto, queues, discord, signing_key
):
    from devtools.aws import free_port
    from tests.api.commands import LONG_NOW

    env = base_env(moto, queues, discord.url, AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}")
    async with serve_api(api_settings(env, signing_key), signing_key, router=router) as api:
        status, body, _ = await api.post(interactions.command(APPLICATION_ID, "manual"))
    assert status == 200
    content = body["data"]["content"]
    assert len(content) <= 2000
    assert content.startswith(LONG_NOW[:100])
    assert content.endswith("(the rest of this answer could not be sent)")
    assert_valid_callback(body)
