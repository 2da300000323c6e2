"""The Lambda entry point: ``services.scheduler.handler.handler(event, context)``.

Two kinds of event arrive from EventBridge:

    scheduled (a rule's or schedule's input):
        {"type": "scheduled_task", "task": "daily-reminder", ...}
    custom, from the bus discord-bot-events:
        {"version": "0", "source": "discord-bot", "detail-type": "notification",
         "detail": {"content": "...", "guild_id": "..."}, ...}

Anything else, an unknown task, or a delivery that fails raises: the invocation fails, so
EventBridge retries it and then parks it in the target's dead-letter queue.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
import structlog

from services.core.aws import AWS_ERRORS, aws_client, error_code
from services.core.bot.loader import load_bot
from services.core.config import SchedulerSettings
from services.core.discord.errors import DiscordHTTPError
from services.core.discord.messages import MENTION_NONE, escape_markdown
from services.core.discord.rest import DiscordRest
from services.core.discord.snowflake import is_snowflake
from services.core.errors import (
    ConfigStoreError,
    DeliveryFailed,
    EnqueueError,
    NoWebhook,
    TaskError,
)
from services.core.events import NOTIFICATION, SOURCE
from services.core.jobs import JobCodec, TaskJob
from services.core.logs import configure_logging, flush_logs
from services.core.queue import JobQueue, sqs_client
from services.core.servers import ServerConfig
from services.core.tasks import TaskContext, TaskRegistry
from services.core.webhooks import WebhookDelivery, describe_failure
from services.scheduler.errors import MalformedEvent, SchedulerError

log = structlog.get_logger("scheduler")

SCHEDULED_TASK: Final = "scheduled_task"


@dataclass(frozen=True, slots=True)
class ScheduledTask:
    name: str
    detail: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Notification:
    content: str
    guild_id: str | None


def parse(event: Any) -> ScheduledTask | Notification:
    if not isinstance(event, dict):
        raise MalformedEvent("not a JSON object")
    if event.get("type") == SCHEDULED_TASK:
        name = event.get("task")
        if not isinstance(name, str) or not name:
            raise MalformedEvent("scheduled_task without a task name")
        return ScheduledTask(name, event)
    if event.get("source") == SOURCE and event.get("detail-type") == NOTIFICATION:
        detail = event.get("detail")
        if not isinstance(detail, dict):
            raise MalformedEvent("notification without a detail object")
        content, guild_id = detail.get("content"), detail.get("guild_id")
        if not isinstance(content, str) or not content.strip():
            raise MalformedEvent("notification without content")
        author = detail.get("author")
        if author is not None:
            if not isinstance(author, str) or not author.strip():
                raise MalformedEvent("notification author is not a name")
            # Who sent it, under the text: a member cannot post as the server.
            content = f"{content}\n-# sent by {escape_markdown(author[:100])} with /notify"
        if guild_id is not None and not is_snowflake(guild_id):
            raise MalformedEvent("notification guild_id is not a server id")
        return Notification(content, guild_id)
    raise MalformedEvent(
        f"unrecognised event (source={event.get('source')!r}, "
        f"detail-type={event.get('detail-type')!r}, type={event.get('type')!r})"
    )


def task_job_id(parsed: ScheduledTask) -> str:
    """The key that makes a long task run once. A schedule's input passes the event's
    ``time`` (the deployed rule's input transformer does): every retry of that run carries the
    same one, so the task and its scheduled time name it. Else the event's id, else a new one."""
    scheduled_for = parsed.detail.get("time")
    if isinstance(scheduled_for, str) and scheduled_for:
        return f"task:{parsed.name}:{scheduled_for}"
    event_id = parsed.detail.get("id")
    return f"task:{parsed.name}:{event_id or uuid.uuid4()}"


# The job signing key, read from Secrets Manager when configured that way (so it never sits
# in the function's configuration), and kept by secret for a few minutes: a warm container
# signs with a rotated key soon after the rotation, not for its whole life.
KEY_TTL: Final = 300.0
_job_keys: dict[str, tuple[bytes, float]] = {}


async def job_key(settings: SchedulerSettings) -> bytes:
    if settings.jobs.key_bytes is not None:
        return settings.jobs.key_bytes
    arn = settings.jobs.secret_arn
    if arn is None:
        raise DeliveryFailed({"jobs queue": "no JOB_SIGNING_KEY to sign the job with"})
    cached = _job_keys.get(arn)
    if cached is not None and time.monotonic() - cached[1] < KEY_TTL:
        return cached[0]
    async with aws_client(
        "secretsmanager", settings.aws, connect_timeout=3, read_timeout=5, max_attempts=3
    ) as secrets:
        try:
            answer = await secrets.get_secret_value(SecretId=arn)
        except AWS_ERRORS as exc:
            raise DeliveryFailed({"job signing key": error_code(exc)}) from None
    key = str(answer["SecretString"]).encode()
    _job_keys[arn] = (key, time.monotonic())
    return key


async def hand_to_worker(parsed: ScheduledTask, settings: SchedulerSettings) -> str:
    """Queue a long task for the worker, signed so the worker knows the scheduler sent it."""
    job = TaskJob(
        id=task_job_id(parsed),
        task=parsed.name,
        received_at=time.time(),
        detail=dict(parsed.detail),
    )
    codec = JobCodec(key=await job_key(settings))
    async with sqs_client(settings.aws, connect_timeout=3, read_timeout=5, max_attempts=3) as sqs:
        queue = JobQueue(client=sqs, queue_url=settings.aws.jobs_queue_url, timeout=10, codec=codec)
        try:
            return await queue.put(job)
        except EnqueueError as exc:
            raise DeliveryFailed({"jobs queue": exc.reason}) from None


async def dispatch(
    event: Any, settings: SchedulerSettings, *, tasks: TaskRegistry | None = None
) -> dict[str, Any]:
    """Handle one event; one canonical log line whatever happens."""
    if tasks is None:
        tasks = load_bot().tasks
    started = time.monotonic()
    fields: dict[str, Any] = {}
    try:
        parsed = parse(event)
        async with (
            aiohttp.ClientSession() as session,
            aws_client(
                "ssm", settings.aws, connect_timeout=3, read_timeout=5, max_attempts=3
            ) as ssm,
        ):
            delivery = WebhookDelivery(
                rest=DiscordRest(
                    session=session,
                    api_url=settings.discord.api_url,
                    application_id=settings.discord.application_id,
                    bot_token=settings.discord.bot_token,
                ),
                servers=ServerConfig(ssm=ssm, prefix=settings.ssm_prefix),
            )
            if isinstance(parsed, ScheduledTask):
                fields.update(kind="scheduled_task", task=parsed.name)
                task = tasks.get(parsed.name)
                if task.long:
                    fields["message_id"] = await hand_to_worker(parsed, settings)
                    fields["handed_to_worker"] = True
                else:
                    await task.handler(TaskContext(delivery=delivery, detail=parsed.detail))
            else:
                fields.update(kind="notification", guild_id=parsed.guild_id)
                try:
                    # Text from a member: it pings nobody, not even users.
                    fields["message_id"] = await delivery.send(
                        parsed.guild_id, parsed.content, mentions=MENTION_NONE
                    )
                except (NoWebhook, DiscordHTTPError, ValueError) as exc:
                    raise DeliveryFailed(
                        {parsed.guild_id or "default": describe_failure(exc)}
                    ) from None
    except (SchedulerError, TaskError, ConfigStoreError) as exc:
        # Raised again: the invocation fails, Lambda retries it, then keeps the event in the
        # on-failure destination (the scheduler's dead-letter queue).
        log.error(
            "scheduled_event",
            outcome="failed",
            reason=str(exc),
            duration_ms=round((time.monotonic() - started) * 1000, 1),
            **fields,
        )
        raise
    log.info(
        "scheduled_event",
        outcome="done",
        duration_ms=round((time.monotonic() - started) * 1000, 1),
        **fields,
    )
    return {"status": "done", **fields}


_settings: SchedulerSettings | None = None


def handler(event: Any, _context: Any) -> dict[str, Any]:
    """AWS Lambda entry point. Settings are read once per cold start."""
    global _settings  # noqa: PLW0603 - one settings object per Lambda container
    if _settings is None:
        _settings = SchedulerSettings.from_environ(os.environ)
        configure_logging(_settings.log, context_vars=False, metrics_service="scheduler")
    try:
        return asyncio.run(dispatch(event, _settings))
    finally:
        flush_logs()
