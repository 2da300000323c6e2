"""The dead-letter queue, for operators: see what is parked, and send it back.

    python -m services.worker.dlq list               # what is parked, without any token
    python -m services.worker.dlq redrive            # move every parked message back
    python -m services.worker.dlq redrive --id MSG   # move one back

Uses the worker's configuration; the dead-letter queue is found from the jobs queue's
redrive policy. Moving a job back runs it again: jobs whose reply was delivered are skipped
by the idempotency ledger, and an interaction token lasts 15 minutes, so an old job's reply
may no longer reach the user.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from services.core.config import AwsSettings, Env
from services.core.errors import ConfigError, JobFormatError
from services.core.jobs import TaskJob, decode_any
from services.core.queue import sqs_client
from services.core.redact import scrub_text

# Messages are hidden while listed, then shown again; long enough to page through a queue.
PEEK_SECONDS = 30


async def dead_letter_url(sqs: Any, queue_url: str) -> str:
    attributes = await sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["RedrivePolicy"]
    )
    policy = attributes.get("Attributes", {}).get("RedrivePolicy")
    if not policy:
        raise ConfigError("JOBS_QUEUE_URL", "the queue has no redrive policy (no DLQ)")
    name = json.loads(policy)["deadLetterTargetArn"].rsplit(":", 1)[1]
    return str((await sqs.get_queue_url(QueueName=name))["QueueUrl"])


async def _peek_all(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message in the queue, each hidden for PEEK_SECONDS; a message received twice
    is kept with its latest receipt handle, which is the one that can show it again."""
    latest: dict[str, dict[str, Any]] = {}
    while True:
        response = await sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=PEEK_SECONDS,
            WaitTimeSeconds=1,
            MessageSystemAttributeNames=["All"],
        )
        batch = response.get("Messages", [])
        fresh = [m for m in batch if m["MessageId"] not in latest]
        latest.update((m["MessageId"], m) for m in batch)
        if not fresh:
            return list(latest.values())


async def _show(sqs: Any, url: str, messages: list[dict[str, Any]]) -> None:
    """Make peeked messages visible again at once, so listing holds nothing back."""
    for message in messages:
        await sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )


def describe(message: Mapping[str, Any]) -> dict[str, Any]:
    """What an operator needs to know of a parked message, and no token."""
    attributes = message.get("Attributes", {})
    sent = int(attributes.get("SentTimestamp", "0")) / 1000
    row: dict[str, Any] = {
        "message_id": message["MessageId"],
        "sent": datetime.fromtimestamp(sent, UTC).isoformat(timespec="seconds"),
        "receives": int(attributes.get("ApproximateReceiveCount", "0")),
    }
    try:
        job = decode_any(message.get("Body", ""))
    except JobFormatError as exc:
        row.update(valid=False, reason=exc.reason, body=scrub_text(message.get("Body", ""))[:200])
        return row
    row.update(valid=True, job_id=job.id, kind=job.kind.value)
    if isinstance(job, TaskJob):
        row["task"] = job.task
    else:
        row.update(
            route=job.route, guild_id=job.interaction.guild_id, user_id=job.interaction.user_id
        )
    row["received"] = datetime.fromtimestamp(job.received_at, UTC).isoformat(timespec="seconds")
    return row


async def list_parked(sqs: Any, dlq: str) -> list[dict[str, Any]]:
    messages = await _peek_all(sqs, dlq)
    await _show(sqs, dlq, messages)
    return [describe(m) for m in messages]


async def redrive(sqs: Any, dlq: str, queue_url: str, only: str | None = None) -> int:
    messages = await _peek_all(sqs, dlq)
    kept = []
    for message in messages:
        if only is not None and message["MessageId"] != only:
            kept.append(message)
            continue
        # Sent before it is deleted: a crash in between leaves a copy, never a loss.
        await sqs.send_message(QueueUrl=queue_url, MessageBody=message["Body"])
        await sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
    await _show(sqs, dlq, kept)
    return len(messages) - len(kept)


async def run(args: argparse.Namespace, aws: AwsSettings) -> int:
    async with sqs_client(aws, connect_timeout=5, read_timeout=10, max_attempts=3) as sqs:
        dlq = await dead_letter_url(sqs, aws.jobs_queue_url)
        if args.action == "list":
            rows = await list_parked(sqs, dlq)
            for row in rows:
                print(json.dumps(row))
            print(f"{len(rows)} parked message(s) in {dlq}", file=sys.stderr)
            return 0
        moved = await redrive(sqs, dlq, aws.jobs_queue_url, args.id)
        print(f"moved {moved} message(s) back to {aws.jobs_queue_url}", file=sys.stderr)
        return 0 if moved or args.id is None else 1


def main(argv: list[str] | None = None, environ: Mapping[str, str] = os.environ) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.worker.dlq")
    parser.add_argument("action", choices=["list", "redrive"])
    parser.add_argument("--id", help="redrive only this message id")
    args = parser.parse_args(argv)
    try:
        aws = AwsSettings.from_env(Env(environ))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(run(args, aws))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
