"""The EventBridge Lambda against moto (SSM, EventBridge routing to SQS) and the fake Discord."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import uuid
from dataclasses import replace

import pytest
import structlog

from devtools.aws import client
from services.commands.daily_reminder import DEFAULT_TEXT
from services.core.aws import aws_client
from services.core.config import JobSigning, SchedulerSettings
from services.core.env import Secret
from services.core.errors import ConfigStoreError, DeliveryFailed, JobFormatError, UnknownTask
from services.core.events import EventBus
from services.core.jobs import JobCodec
from services.core.servers import ServerConfig
from services.core.tasks import TaskContext, TaskRegistry
from services.scheduler import handler
from services.scheduler.errors import MalformedEvent
from services.scheduler.handler import dispatch
from tests.conftest import ROOT, base_env, queue_depth

# A task too long for a Lambda: the scheduler only queues it.
LONG_TASKS = TaskRegistry()


@LONG_TASKS.task(description="Too long for a Lambda", long=True)
async def big_report(ctx: TaskContext) -> None:
    return None


GUILD_A, GUILD_B, GUILD_C = "910000000000000001", "910000000000000002", "910000000000000003"


@pytest.fixture
def prefix() -> str:
    return f"/discord-bot-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def settings(moto, queues, discord, prefix) -> SchedulerSettings:
    return SchedulerSettings.from_environ(
        {**base_env(moto, queues, discord.url), "SSM_PREFIX": prefix}
    )


def put(moto, name: str, value: str) -> None:
    client("ssm", moto).put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)


def scheduled(task: str) -> dict:
    return {"type": "scheduled_task", "task": task}


async def test_daily_reminder_reaches_every_server_with_a_webhook(moto, discord, prefix, settings):
    hooks = {
        g: discord.create_webhook(f"92000000000000000{i}") for i, g in enumerate((GUILD_A, GUILD_B))
    }
    for guild, url in hooks.items():
        put(moto, f"{prefix}/servers/{guild}/webhook-url", url)
    put(moto, f"{prefix}/servers/{GUILD_B}/settings", json.dumps({"reminder": "Stand-up at 10!"}))
    result = await dispatch(scheduled("daily-reminder"), settings)
    assert result["status"] == "done"
    assert discord.posts_by_webhook(hooks[GUILD_A]) == [DEFAULT_TEXT]
    assert discord.posts_by_webhook(hooks[GUILD_B]) == ["Stand-up at 10!"]
    posted = discord.requests[-1].body
    assert posted["allowed_mentions"] == {"parse": ["users"]}


async def test_one_servers_deleted_webhook_does_not_stop_the_others(
    moto, discord, prefix, settings
):
    hooks = {g: discord.create_webhook("920000000000000009") for g in (GUILD_A, GUILD_B, GUILD_C)}
    for guild, url in hooks.items():
        put(moto, f"{prefix}/servers/{guild}/webhook-url", url)
    discord.delete_webhook(hooks[GUILD_B])
    with pytest.raises(DeliveryFailed) as caught:
        await dispatch(scheduled("daily-reminder"), settings)
    assert caught.value.failures == {GUILD_B: "webhook deleted in Discord (404)"}
    assert discord.posts_by_webhook(hooks[GUILD_A]) == [DEFAULT_TEXT]
    assert discord.posts_by_webhook(hooks[GUILD_C]) == [DEFAULT_TEXT]
    # a gone webhook is reported, not retried
    assert sum(1 for r in discord.requests if r.status == 404) == 1
    assert hooks[GUILD_B].rsplit("/", 1)[1] not in str(caught.value)


async def test_unknown_task_and_malformed_events_fail_the_invocation(settings):
    with pytest.raises(UnknownTask):
        await dispatch(scheduled("no-such-task"), settings)
    for event in (
        [],
        {"type": "scheduled_task"},
        {"source": "elsewhere"},
        {"source": "discord-bot", "detail-type": "notification", "detail": {"content": ""}},
        {
            "source": "discord-bot",
            "detail-type": "notification",
            "detail": {"content": "hi", "guild_id": "../../other"},
        },
    ):
        with pytest.raises(MalformedEvent):
            await dispatch(event, settings)


async def published(settings, bus_name: str, queue: str, moto, content: str, guild_id=None) -> dict:
    async with aws_client(
        "events", settings.aws, connect_timeout=3, read_timeout=5, max_attempts=2
    ) as events:
        await EventBus(client=events, bus_name=bus_name).notify(content, guild_id=guild_id)
    message = client("sqs", moto).receive_message(QueueUrl=queue, WaitTimeSeconds=2)["Messages"][0]
    return json.loads(message["Body"])


async def test_a_notification_for_a_server_reaches_its_webhook(
    moto, discord, prefix, settings, routed_bus
):
    url = discord.create_webhook("920000000000000001")
    put(moto, f"{prefix}/servers/{GUILD_A}/webhook-url", url)
    event = await published(settings, *routed_bus, moto, "Deploy finished @everyone", GUILD_A)
    assert event["detail-type"] == "notification"
    result = await dispatch(event, settings)
    assert result["kind"] == "notification"
    assert discord.posts_by_webhook(url) == ["Deploy finished @everyone"]
    # the text mentions @everyone, but the message may only ping users
    assert discord.requests[-1].body["allowed_mentions"] == {"parse": []}


async def test_a_notification_without_a_server_goes_to_the_default_webhook(
    moto, discord, prefix, settings, routed_bus
):
    url = discord.create_webhook("920000000000000002")
    put(moto, f"{prefix}/webhook-url", url)
    event = await published(settings, *routed_bus, moto, "Hello all")
    await dispatch(event, settings)
    assert discord.posts_by_webhook(url) == ["Hello all"]


async def test_a_notification_for_a_server_without_a_webhook_is_reported(
    moto, discord, settings, routed_bus
):
    event = await published(settings, *routed_bus, moto, "Nobody hears this", GUILD_C)
    with pytest.raises(DeliveryFailed) as caught:
        await dispatch(event, settings)
    assert caught.value.failures == {GUILD_C: "no webhook configured"}


async def test_server_config_is_per_server_and_cached(moto, aws_faults, settings, prefix):
    clock = [0.0]
    through_proxy = replace(settings.aws, endpoint_url=aws_faults.url)
    async with aws_client(
        "ssm", through_proxy, connect_timeout=3, read_timeout=5, max_attempts=2
    ) as ssm:
        config = ServerConfig(ssm=ssm, prefix=prefix, ttl=60, clock=lambda: clock[0])
        await config.set_webhook(GUILD_A, Secret("https://discord.com/api/webhooks/1/a"))
        await config.set_settings(GUILD_A, {"reminder": "A"})
        assert await config.webhook(GUILD_B) is None
        assert await config.settings(GUILD_B) == {}
        assert (await config.settings(GUILD_A)) == {"reminder": "A"}
        assert await config.servers_with_webhooks() == [GUILD_A]
        with pytest.raises(Exception, match="not a server id"):
            await config.webhook("../webhook-url")
        # Read again within the minute: from the cache, not SSM, even after SSM changed.
        reads = aws_faults.calls["GetParameter"]
        client("ssm", moto).put_parameter(
            Name=f"{prefix}/servers/{GUILD_A}/settings",
            Value=json.dumps({"reminder": "changed elsewhere"}),
            Type="SecureString",
            Overwrite=True,
        )
        clock[0] = 59.0
        assert await config.settings(GUILD_A) == {"reminder": "A"}
        assert await config.webhook(GUILD_B) is None  # "not set" is cached too
        assert aws_faults.calls["GetParameter"] == reads
        # Past it, SSM is asked again and the change is seen.
        clock[0] = 61.0
        assert await config.settings(GUILD_A) == {"reminder": "changed elsewhere"}
        assert aws_faults.calls["GetParameter"] == reads + 1
        # Written as SecureString, overwritten in place; our own write is seen at once.
        await config.set_settings(GUILD_A, {"reminder": "A2"})
        assert await config.settings(GUILD_A) == {"reminder": "A2"}
    stored = client("ssm", moto).get_parameter(Name=f"{prefix}/servers/{GUILD_A}/settings")
    assert stored["Parameter"]["Type"] == "SecureString"
    assert json.loads(
        client("ssm", moto).get_parameter(
            Name=f"{prefix}/servers/{GUILD_A}/settings", WithDecryption=True
        )["Parameter"]["Value"]
    ) == {"reminder": "A2"}


def test_the_lambda_entry_point_runs_without_pynacl_and_reports_failures(
    moto, queues, discord, prefix
):
    env = {**base_env(moto, queues, discord.url), "SSM_PREFIX": prefix}
    code = (
        "import json, sys\n"
        "from services.scheduler.handler import handler\n"
        "try:\n"
        "    handler({'type': 'scheduled_task', 'task': 'nope'}, None)\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__)\n"
        "print('nacl' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "UnknownTask" in lines
    assert lines[-1] == "False"
    logged = [json.loads(x) for x in lines if x.startswith("{")]
    assert logged[-1]["event"] == "scheduled_event"
    assert logged[-1]["outcome"] == "failed"


async def test_a_long_task_is_handed_to_the_worker_and_runs_there(
    moto, queues, table, discord, prefix, settings, sqs
):
    from tests.conftest import running_worker

    long_tasks = TaskRegistry()

    @long_tasks.task(description="Too long for a Lambda", long=True)
    async def big_report(ctx: TaskContext) -> None:
        await ctx.delivery.send(None, f"Report for {ctx.detail.get('period', '?')} is ready")

    url = discord.create_webhook("950000000000000001")
    put(moto, f"{prefix}/webhook-url", url)
    event = {"type": "scheduled_task", "task": "big-report", "period": "November", "id": "evt-1"}
    # WHEN the Lambda gets the schedule, it only queues the task
    result = await dispatch(event, settings, tasks=long_tasks)
    assert result["handed_to_worker"] is True
    assert discord.posts_by_webhook(url) == []
    # a retried invocation queues it again; the ledger runs it once
    await dispatch(event, settings, tasks=long_tasks)
    assert queue_depth(sqs, queues.url) == 2
    env = {
        **base_env(moto, queues, discord.url),
        "SSM_PREFIX": prefix,
        "IDEMPOTENCY_TABLE": table,
        "WORKER_VISIBILITY_TIMEOUT": "2",
    }
    async with running_worker(env, tasks=long_tasks):
        await discord.wait_for(lambda: bool(discord.posts_by_webhook(url)), timeout=15)
        import asyncio

        async with asyncio.timeout(15):
            while queue_depth(sqs, queues.url):
                await asyncio.sleep(0.1)
    assert discord.posts_by_webhook(url) == ["Report for November is ready"]


async def test_a_refused_event_is_raised_not_lost(settings):
    from services.core.errors import EventPublishError

    async with aws_client(
        "events", settings.aws, connect_timeout=3, read_timeout=5, max_attempts=1
    ) as events:
        bus = EventBus(client=events, bus_name=f"no-such-bus-{uuid.uuid4().hex[:6]}")
        with pytest.raises(EventPublishError):
            await bus.notify("into the void")


async def test_ssm_failures_fail_the_invocation_with_their_reason(
    moto, discord, aws_faults, settings, prefix
):
    """SSM refusing the daily task's list or a notification's webhook: the invocation fails
    (Lambda retries it, then keeps it in the on-failure queue), logged with the reason."""
    proxied = replace(settings, aws=replace(settings.aws, endpoint_url=aws_faults.url))
    url = discord.create_webhook("920000000000000011")
    put(moto, f"{prefix}/servers/{GUILD_A}/webhook-url", url)
    aws_faults.fail("GetParametersByPath", "error", times=3)
    with (
        structlog.testing.capture_logs() as logs,
        pytest.raises(ConfigStoreError, match="cannot list servers: InternalFailure"),
    ):
        await dispatch(scheduled("daily-reminder"), proxied)
    aws_faults.fail("GetParameter", "throttle", times=3)
    notification = {
        "source": "discord-bot",
        "detail-type": "notification",
        "detail": {"content": "hi", "guild_id": GUILD_A},
    }
    with pytest.raises(ConfigStoreError, match="ThrottlingException"):
        await dispatch(notification, proxied)
    assert discord.posts_by_webhook(url) == []
    assert [e["outcome"] for e in logs if e["event"] == "scheduled_event"] == ["failed"]
    # The retried invocation, with SSM back, delivers once.
    await dispatch(notification, proxied)
    assert discord.posts_by_webhook(url) == ["hi"]


async def test_a_long_task_that_cannot_be_queued_fails_the_invocation(
    moto, queues, discord, aws_faults, settings
):
    proxied = replace(settings, aws=replace(settings.aws, endpoint_url=aws_faults.url))
    event = {"type": "scheduled_task", "task": "big-report", "id": "evt-9"}
    aws_faults.fail("SendMessage", "error", times=3)
    with pytest.raises(DeliveryFailed) as caught:
        await dispatch(event, proxied, tasks=LONG_TASKS)
    assert caught.value.failures == {"jobs queue": "InternalFailure"}
    assert queue_depth(client("sqs", moto), queues.url) == 0


async def test_the_job_key_from_secrets_manager_is_read_once_and_its_failure_reported(
    moto, queues, discord, aws_faults, settings
):
    key = f"a job signing key held in Secrets Manager {uuid.uuid4().hex}"
    arn = client("secretsmanager", moto).create_secret(
        Name=f"job-key-{uuid.uuid4().hex[:8]}", SecretString=key
    )["ARN"]
    proxied = replace(
        settings,
        aws=replace(settings.aws, endpoint_url=aws_faults.url),
        jobs=JobSigning(key=None, secret_arn=arn),
    )
    event = {"type": "scheduled_task", "task": "big-report", "id": "evt-10"}
    aws_faults.fail("GetSecretValue", "error", times=3)
    with pytest.raises(DeliveryFailed) as caught:
        await dispatch(event, proxied, tasks=LONG_TASKS)
    assert caught.value.failures == {"job signing key": "InternalFailure"}
    # Next time it is read, then kept: two more tasks, one read.
    for _ in range(2):
        await dispatch(event, proxied, tasks=LONG_TASKS)
    assert aws_faults.calls["GetSecretValue"] == 4
    sqs = client("sqs", moto)
    body = sqs.receive_message(QueueUrl=queues.url)["Messages"][0]["Body"]
    assert JobCodec(key=key.encode()).decode(body).task == "big-report"


async def test_a_rotated_job_key_is_used_once_the_kept_one_is_old(
    moto, queues, discord, settings, monkeypatch
):
    secrets = client("secretsmanager", moto)
    old, new = (f"job signing key {n} {uuid.uuid4().hex}" for n in ("old", "new"))
    arn = secrets.create_secret(Name=f"job-key-{uuid.uuid4().hex[:8]}", SecretString=old)["ARN"]
    configured = replace(settings, jobs=JobSigning(key=None, secret_arn=arn))
    event = {"type": "scheduled_task", "task": "big-report", "id": "evt-11"}
    sqs = client("sqs", moto)

    async def signed_with() -> str:
        await dispatch(event, configured, tasks=LONG_TASKS)
        body = sqs.receive_message(QueueUrl=queues.url, VisibilityTimeout=60)["Messages"][0]
        sqs.delete_message(QueueUrl=queues.url, ReceiptHandle=body["ReceiptHandle"])
        for key in (old, new):
            with contextlib.suppress(JobFormatError):
                JobCodec(key=key.encode()).decode(body["Body"])
                return key
        raise AssertionError("signed with neither key")

    assert await signed_with() == old
    secrets.put_secret_value(SecretId=arn, SecretString=new)
    assert await signed_with() == old  # kept a while: one read per container, not per task
    monkeypatch.setattr(handler, "KEY_TTL", 0.0)  # ...until the kept key is old
    assert await signed_with() == new
