"""Fire a scheduled task or a notification at the local stack (`make run`), as EventBridge
would, and watch it arrive at the Discord stand-in.

    python -m devtools.fire daily-reminder
    python -m devtools.fire --notify "Deploy finished" [--guild 900000000000000001]

A notification is published on the local event bus, whose rule routes it to the stand-in
for the scheduler Lambda; a scheduled task is put straight on that route, as a schedule's
input is.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from devtools import aws
from devtools.local import STATE_DIR
from services.core.aws import aws_client
from services.core.config import AwsSettings
from services.core.env import Env
from services.core.events import EventBus


async def notify(env: dict[str, str], content: str, guild_id: str | None) -> str:
    settings = AwsSettings.from_env(Env(env))
    # The client reads credentials from the environment: the local stack's, not yours.
    os.environ.update({k: env[k] for k in aws.LOCAL_CREDENTIALS if k in env})
    async with aws_client(
        "events", settings, connect_timeout=3, read_timeout=5, max_attempts=2
    ) as events:
        bus = EventBus(client=events, bus_name=env["EVENT_BUS_NAME"])
        return await bus.notify(content, guild_id=guild_id)


def fire_task(env: dict[str, str], task: str) -> None:
    """Put a scheduled task on the scheduler's route, as its schedule's input is."""
    sqs = aws.client("sqs", env["AWS_ENDPOINT_URL"])
    sqs.send_message(
        QueueUrl=env["SCHEDULER_QUEUE_URL"],
        MessageBody=json.dumps({"type": "scheduled_task", "task": task}),
    )


class LocalScheduler:
    """The sandbox page's scheduler buttons, on ``make run``'s stack."""

    def __init__(self, env: dict[str, str], tasks: list[str]) -> None:
        self._env = env
        self.tasks = tasks

    async def fire(self, task: str) -> str:
        await asyncio.to_thread(fire_task, self._env, task)
        return task

    async def notify(self, content: str, guild_id: str | None) -> str:
        return await notify(self._env, content, guild_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", nargs="?", help="a scheduled task's name, e.g. daily-reminder")
    parser.add_argument("--notify", metavar="TEXT", help="publish a notification instead")
    parser.add_argument("--guild", help="the server a notification is for")
    args = parser.parse_args(argv)
    try:
        env = json.loads((STATE_DIR / "env.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        print("no local stack: start it with `make run`", file=sys.stderr)
        return 2
    if args.notify:
        event_id = asyncio.run(notify(env, args.notify, args.guild))
        print(f"published notification {event_id}")
        return 0
    if not args.task:
        parser.error("name a task, or --notify TEXT")
    fire_task(env, args.task)
    print(f"fired scheduled task {args.task}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
