"""/config and /notify through the API, the queue and the worker, with SSM and EventBridge."""

from __future__ import annotations

import json
import uuid

from devtools import interactions
from devtools.aws import client
from services.commands.notify import NOT_A_MANAGER
from services.commands.server_config import NOT_ADMIN, NOT_IN_SERVER, NOT_READ, NOT_SAVED
from services.core.config import SchedulerSettings
from services.core.discord.models import Permissions
from services.scheduler.handler import dispatch
from tests.conftest import APPLICATION_ID, base_env, running_worker

ADMIN = 1 << 3
GUILD_A, GUILD_B = "930000000000000001", "930000000000000002"


def config_command(sub: str, options=None, *, guild: str | None, permissions: int) -> dict:
    return interactions.command(
        APPLICATION_ID,
        "config",
        [{"type": 1, "name": sub, "options": options or []}],
        guild_id=guild,
        permissions=permissions,
    )


async def reply_to(api, discord, payload) -> str:
    status, body, _ = await api.post(payload)
    assert (status, body["type"], body["data"].get("flags")) == (200, 5, 64)
    await discord.wait_for(lambda: bool(discord.edits(payload["token"])), timeout=15)
    return discord.edits(payload["token"])[-1]


async def test_config_is_for_administrators_of_that_server_only(api, moto, queues, discord):
    prefix = f"/bot-{uuid.uuid4().hex[:8]}"
    env = base_env(moto, queues, discord.url, SSM_PREFIX=prefix)
    # A webhook on the stand-in, given as Discord hands webhook URLs out: only the id and
    # token are ever used, against the configured API (here the stand-in).
    webhook_id, token = discord.create_webhook("940000000000000001").rsplit("/", 2)[1:]
    url = f"https://discord.com/api/webhooks/{webhook_id}/{token}"
    set_url = [{"type": 3, "name": "url", "value": url}]
    async with running_worker(env):
        # a member without ADMINISTRATOR is refused, and nothing is written
        refused = await reply_to(
            api, discord, config_command("webhook", set_url, guild=GUILD_A, permissions=0)
        )
        assert refused == NOT_ADMIN
        assert not client("ssm", moto).get_parameters_by_path(Path=prefix, Recursive=True)[
            "Parameters"
        ]
        # an administrator cannot store anything but a Discord webhook URL
        for bad in (
            f"http://127.0.0.1/api/webhooks/{webhook_id}/{token}",
            f"https://discord.com.example/api/webhooks/{webhook_id}/{token}",
            f"https://discord.com/api/webhooks/{webhook_id}/{token}?wait=true",
        ):
            not_stored = await reply_to(
                api,
                discord,
                config_command(
                    "webhook",
                    [{"type": 3, "name": "url", "value": bad}],
                    guild=GUILD_A,
                    permissions=ADMIN,
                ),
            )
            assert not_stored.startswith("That is not a Discord webhook URL")
        assert not client("ssm", moto).get_parameters_by_path(Path=prefix, Recursive=True)[
            "Parameters"
        ]
        # an administrator sets it; the reply shows the webhook id, never its token
        done = await reply_to(
            api, discord, config_command("webhook", set_url, guild=GUILD_A, permissions=ADMIN)
        )
        assert "token hidden" in done
        assert token not in done
        shown = await reply_to(
            api, discord, config_command("show", guild=GUILD_A, permissions=ADMIN)
        )
        assert token not in shown
        assert url.rsplit("/", 2)[1] in shown
        # another server's administrator sees and changes only their own server
        other = await reply_to(
            api, discord, config_command("show", guild=GUILD_B, permissions=ADMIN)
        )
        assert other.startswith("Webhook: not set")
        await reply_to(
            api,
            discord,
            config_command(
                "set",
                [
                    {"type": 3, "name": "key", "value": "reminder"},
                    {"type": 3, "name": "value", "value": "B!"},
                ],
                guild=GUILD_B,
                permissions=ADMIN,
            ),
        )
        mine = await reply_to(
            api, discord, config_command("show", guild=GUILD_A, permissions=ADMIN)
        )
        assert "B!" not in mine
        # outside a server, it refuses clearly
        dm = await reply_to(api, discord, config_command("show", guild=None, permissions=ADMIN))
        assert dm == NOT_IN_SERVER
    stored = client("ssm", moto).get_parameter(
        Name=f"{prefix}/servers/{GUILD_A}/webhook-url", WithDecryption=True
    )
    assert stored["Parameter"]["Value"] == url
    assert stored["Parameter"]["Type"] == "SecureString"


async def test_notify_publishes_an_event_that_the_lambda_delivers(
    api,
    moto,
    queues,
    discord,
    routed_bus,
):
    bus_name, bus_queue = routed_bus
    prefix = f"/bot-{uuid.uuid4().hex[:8]}"
    env = base_env(moto, queues, discord.url, SSM_PREFIX=prefix, EVENT_BUS_NAME=bus_name)
    url = discord.create_webhook("940000000000000002")
    client("ssm", moto).put_parameter(
        Name=f"{prefix}/servers/{GUILD_A}/webhook-url", Value=url, Type="SecureString"
    )

    def notify(text: str, permissions: int) -> dict:
        return interactions.command(
            APPLICATION_ID,
            "notify",
            [{"type": 3, "name": "message", "value": text}],
            guild_id=GUILD_A,
            permissions=permissions,
        )

    async with running_worker(env):
        # an ordinary member may not post through the server's webhook
        refused = await reply_to(api, discord, notify("Everyone, come here", permissions=0))
        assert refused == NOT_A_MANAGER
        text = "Release is out <@900000000000000009> @everyone"
        sent = await reply_to(api, discord, notify(text, int(Permissions.MANAGE_GUILD)))
        assert sent == "Notification sent."
    received = client("sqs", moto).receive_message(QueueUrl=bus_queue, WaitTimeSeconds=2)
    [message] = received["Messages"]  # the refused one published nothing
    event = json.loads(message["Body"])
    assert event["detail"] == {"content": text, "guild_id": GUILD_A, "author": "dev"}
    await dispatch(event, SchedulerSettings.from_environ(env))
    # delivered, naming who sent it, and pinging nobody
    [post] = discord.webhook_posts[url.rstrip("/").rsplit("/", 2)[1]]
    assert post["content"] == f"{text}\n-# sent by dev with /notify"
    assert discord.requests[-1].body["allowed_mentions"] == {"parse": []}


async def test_config_and_notify_say_so_when_aws_fails(
    api, moto, queues, discord, routed_bus, aws_faults
):
    """SSM or EventBridge failing under /config and /notify: the member reads what failed,
    nothing half-done is left behind, and the same command works once AWS is back."""
    bus_name, bus_queue = routed_bus
    prefix = f"/bot-{uuid.uuid4().hex[:8]}"
    env = base_env(
        moto,
        queues,
        discord.url,
        SSM_PREFIX=prefix,
        EVENT_BUS_NAME=bus_name,
        AWS_ENDPOINT_URL=aws_faults.url,
    )
    webhook_id, token = discord.create_webhook("940000000000000003").rsplit("/", 2)[1:]
    set_url = [
        {
            "type": 3,
            "name": "url",
            "value": f"https://discord.com/api/webhooks/{webhook_id}/{token}",
        }
    ]
    notify = interactions.command(
        APPLICATION_ID,
        "notify",
        [{"type": 3, "name": "message", "value": "Release is out"}],
        guild_id=GUILD_A,
        permissions=int(Permissions.MANAGE_GUILD),
    )
    async with running_worker(env):
        aws_faults.fail("PutParameter", "error", times=3)
        refused = await reply_to(
            api, discord, config_command("webhook", set_url, guild=GUILD_A, permissions=ADMIN)
        )
        assert refused == NOT_SAVED.format(reason="InternalFailure")
        assert not client("ssm", moto).get_parameters_by_path(Path=prefix, Recursive=True)[
            "Parameters"
        ]
        aws_faults.fail("GetParameter", "throttle", times=3)
        unread = await reply_to(
            api, discord, config_command("show", guild=GUILD_A, permissions=ADMIN)
        )
        assert unread == NOT_READ.format(reason="ThrottlingException")
        aws_faults.fail("PutEvents", "error", times=3)
        unsent = await reply_to(api, discord, notify)
        assert unsent == "The notification could not be sent (InternalFailure); try again."
        # AWS is back: the same commands do what they say, once.
        saved = await reply_to(
            api, discord, config_command("webhook", set_url, guild=GUILD_A, permissions=ADMIN)
        )
        assert saved.startswith("Webhook set")
        sent = await reply_to(api, discord, {**notify, **_fresh_ids()})
        assert sent == "Notification sent."
    received = client("sqs", moto).receive_message(
        QueueUrl=bus_queue, WaitTimeSeconds=2, MaxNumberOfMessages=10
    )
    assert len(received["Messages"]) == 1


def _fresh_ids() -> dict:
    """Another interaction of the same command: its own id and token."""
    ident = interactions.snowflake()
    return {"id": ident, "token": interactions.interaction_token(ident)}
