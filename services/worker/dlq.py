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

from services.core.aws import AWS_ERRORS, error_code
from services.core.config import WorkerSettings
from services.core.errors import ConfigError, JobFormatError
from services.core.jobs import JobCodec, TaskJob
from services.core.queue import sqs_client
from services.core.redact import REDACTED, redact_keys, scrub_text
from services.worker.authenticity import job_reader

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


def _iso(timestamp: float) -> str | None:
    """A time for a human, or None for one no calendar has (a forged ``1e20``)."""
    try:
        return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return None


def _preview(body: str) -> str:
    """What an invalid message holds, for an operator, with every token taken out: token
    fields anywhere (also inside the Discord body a job carries), and token-shaped text."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return f"(not JSON, {len(body)} characters)"
    if isinstance(data, dict) and isinstance(data.get("discord"), dict):
        inner = data["discord"].get("body")
        try:
            data["discord"]["body"] = redact_keys(json.loads(inner)) if inner else inner
        except (TypeError, ValueError, RecursionError):
            data["discord"]["body"] = REDACTED
    try:
        return scrub_text(json.dumps(redact_keys(data)))[:300]
    except RecursionError:
        return f"(JSON nested too deep to show, {len(body)} characters)"


def describe(message: Mapping[str, Any], codec: JobCodec) -> dict[str, Any]:
    """What an operator needs to know of a parked message, and no token."""
    attributes = message.get("Attributes", {})
    sent = int(attributes.get("SentTimestamp", "0")) / 1000
    row: dict[str, Any] = {
        "message_id": message["MessageId"],
        "sent": _iso(sent),
        "receives": int(attributes.get("ApproximateReceiveCount", "0")),
    }
    body = message.get("Body", "")
    try:
        job = codec.decode(body)
    except JobFormatError as exc:
        row.update(valid=False, reason=exc.reason, preview=_preview(body))
        return row
    row.update(valid=True, job_id=job.id, kind=job.kind.value)
    if isinstance(job, TaskJob):
        row["task"] = job.task
    else:
        row.update(
            route=job.route, guild_id=job.interaction.guild_id, user_id=job.interaction.user_id
        )
    row["received"] = _iso(job.received_at)
    return row


async def list_parked(sqs: Any, dlq: str, codec: JobCodec) -> list[dict[str, Any]]:
    messages = await _peek_all(sqs, dlq)
    await _show(sqs, dlq, messages)
    return [describe(m, codec) for m in messages]


async def redrive(
    sqs: Any, dlq: str, queue_url: str, codec: JobCodec, only: str | None = None
) -> tuple[int, int]:
    """Move parked jobs back to the jobs queue: all, or the one ``only`` names. A message
    the worker would refuse again (not a job, forged, altered) stays parked: moving it
    would only park it again. How many moved, and how many invalid ones stayed."""
    messages = await _peek_all(sqs, dlq)
    kept = []
    invalid = 0
    for message in messages:
        if only is not None and message["MessageId"] != only:
            kept.append(message)
            continue
        try:
            codec.decode(message.get("Body", ""))
        except JobFormatError:
            invalid += 1
            kept.append(message)
            continue
        # Sent before it is deleted: a crash in between leaves a copy, never a loss.
        await sqs.send_message(QueueUrl=queue_url, MessageBody=message["Body"])
        await sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
    await _show(sqs, dlq, kept)
    return len(messages) - len(kept), invalid


async def run(args: argparse.Namespace, settings: WorkerSettings) -> int:
    aws = settings.aws
    async with sqs_client(aws, connect_timeout=5, read_timeout=10, max_attempts=3) as sqs:
        dlq = await dead_letter_url(sqs, aws.jobs_queue_url)
        if args.action == "list":
            rows = await list_parked(sqs, dlq, job_reader(settings))
            for row in rows:
                print(json.dumps(row))
            print(f"{len(rows)} parked message(s) in {dlq}", file=sys.stderr)
            return 0
        moved, invalid = await redrive(sqs, dlq, aws.jobs_queue_url, job_reader(settings), args.id)
        print(f"moved {moved} message(s) back to {aws.jobs_queue_url}", file=sys.stderr)
        if invalid:
            print(
                f"kept {invalid} invalid message(s) parked (`list` says why); "
                "delete them from the dead-letter queue once looked at",
                file=sys.stderr,
            )
        return 0 if moved or args.id is None else 1


def main(argv: list[str] | None = None, environ: Mapping[str, str] = os.environ) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.worker.dlq")
    parser.add_argument("action", choices=["list", "redrive"])
    parser.add_argument("--id", help="redrive only this message id")
    args = parser.parse_args(argv)
    try:
        settings = WorkerSettings.from_environ(environ)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(run(args, settings))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except AWS_ERRORS as exc:
        print(f"AWS refused or could not be reached: {error_code(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
