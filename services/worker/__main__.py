"""``python -m services.worker``: settings, signals, then the consumer until SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Mapping

import aiohttp

from services.core.config import WorkerSettings
from services.core.discord.rest import DiscordRest
from services.core.errors import ConfigError
from services.core.logs import configure_logging, flush_logs
from services.core.queue import sqs_client
from services.worker.consumer import Consumer, ConsumerSettings
from services.worker.runner import JobRunner


async def serve(settings: WorkerSettings, stopping: asyncio.Event) -> None:
    from services.commands import bot  # noqa: PLC0415 - the bot is chosen at start-up

    async with (
        aiohttp.ClientSession() as session,
        sqs_client(
            settings.aws,
            connect_timeout=5,
            # Longer than a long poll, or every empty receive would look like a timeout.
            read_timeout=settings.poll_seconds + 10,
            max_attempts=3,
        ) as sqs,
    ):
        rest = DiscordRest(
            session=session,
            api_url=settings.discord.api_url,
            application_id=settings.discord.application_id,
            bot_token=settings.discord.bot_token,
        )
        consumer = Consumer(
            sqs=sqs,
            runner=JobRunner(registry=bot, rest=rest),
            settings=ConsumerSettings.of(settings),
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
    configure_logging(settings.log)
    try:
        asyncio.run(run(settings))
    finally:
        flush_logs()
    return 0


if __name__ == "__main__":
    sys.exit(main())
