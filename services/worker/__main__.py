"""``python -m services.worker``: settings, signals, then the consumer until SIGTERM."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import aiohttp
import structlog

from services.core.aws import aws_client
from services.core.bot import Router
from services.core.bot.context import Resources
from services.core.bot.loader import check_custom_id_key, load_bot
from services.core.config import WorkerSettings
from services.core.discord.rest import DiscordRest, RetryPolicy
from services.core.errors import ConfigError
from services.core.events import EventBus
from services.core.limits import open_limits
from services.core.llm.runtime import open_llm
from services.core.logs import configure_logging, flush_logs
from services.core.queue import sqs_client
from services.core.servers import ServerConfig
from services.core.tasks import TaskRegistry
from services.worker.authenticity import job_reader
from services.worker.consumer import Consumer, ConsumerSettings
from services.worker.idempotency import DynamoLedger, Ledger, NoLedger
from services.worker.outcomes import Redelivery
from services.worker.protection import TaskProtection
from services.worker.runner import JobRunner

log = structlog.get_logger("worker")


def worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


@asynccontextmanager
async def open_ledger(settings: WorkerSettings) -> AsyncIterator[Ledger]:
    if settings.idempotency_table is None:
        log.warning("idempotency_off", reason="IDEMPOTENCY_TABLE is not set")
        yield NoLedger()
        return
    async with aws_client(
        "dynamodb", settings.aws, connect_timeout=5, read_timeout=10, max_attempts=3
    ) as dynamodb:
        yield DynamoLedger(
            client=dynamodb,
            table=settings.idempotency_table,
            owner=worker_id(),
            # The lock lives as long as the message stays hidden, renewed with it.
            lock_seconds=settings.visibility_timeout,
            keep_seconds=settings.idempotency_keep,
        )


async def serve(
    settings: WorkerSettings,
    stopping: asyncio.Event,
    *,
    router: Router | None = None,
    tasks: TaskRegistry | None = None,
    rest_retry: RetryPolicy | None = None,
) -> None:
    """Run the worker until ``stopping`` is set. ``router`` and ``tasks`` default to the
    bot's own (``services.commands``)."""
    if router is None or tasks is None:
        bot = load_bot()
        router, tasks = router or bot.router, tasks or bot.tasks
    check_custom_id_key(router, settings.discord)

    async with (
        aiohttp.ClientSession() as session,
        sqs_client(
            settings.aws,
            connect_timeout=5,
            # Longer than a long poll, or every empty receive would look like a timeout.
            read_timeout=settings.poll_seconds + 10,
            max_attempts=3,
        ) as sqs,
        open_ledger(settings) as ledger,
        open_limits(settings.limits, settings.aws, timeout=5, max_attempts=3) as limits,
        aws_client("ssm", settings.aws, connect_timeout=3, read_timeout=5, max_attempts=3) as ssm,
        aws_client(
            "events", settings.aws, connect_timeout=3, read_timeout=5, max_attempts=3
        ) as events,
        open_llm(
            settings.llm, settings.aws, with_provider=True, table_timeout=3, table_attempts=3
        ) as llm,
    ):
        rest = DiscordRest(
            session=session,
            api_url=settings.discord.api_url,
            application_id=settings.discord.application_id,
            bot_token=settings.discord.bot_token,
            retry=rest_retry,
        )
        consumer = Consumer(
            sqs=sqs,
            runner=JobRunner(
                router=router,
                codec=job_reader(settings),
                custom_id_key=settings.discord.custom_id_key,
                rest=rest,
                bot_token=settings.discord.bot_token is not None,
                ledger=ledger,
                retry=Redelivery(max_receives=settings.max_receives, base=settings.retry_base),
                lock_refresh=settings.visibility_timeout / 3,
                tasks=tasks,
                limits=limits,
                resources=Resources(
                    servers=ServerConfig(ssm=ssm, prefix=settings.ssm_prefix),
                    events=EventBus(client=events, bus_name=settings.event_bus),
                    llm=llm,
                    # Reading a channel (/summarize) needs the bot token.
                    channels=rest if settings.discord.bot_token is not None else None,
                ),
            ),
            settings=ConsumerSettings.of(settings),
            protection=(
                TaskProtection(session=session, agent_uri=settings.ecs_agent_uri)
                if settings.ecs_agent_uri
                else None
            ),
        )
        await consumer.run(stopping)


async def run(settings: WorkerSettings) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        # The handler only sets the event; the consumer does the orderly part.
        loop.add_signal_handler(sig, stopping.set)
    await serve(settings, stopping)


def main(environ: Mapping[str, str] = os.environ) -> int:
    try:
        settings = WorkerSettings.from_environ(environ)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log, metrics_service="worker")
    try:
        asyncio.run(run(settings))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    finally:
        flush_logs()
    return 0


if __name__ == "__main__":
    sys.exit(main())
