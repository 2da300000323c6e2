"""The jobs queue (SQS through aioboto3): the producer side, with a hard time budget. The
consumer side lives in the worker."""

from __future__ import annotations

import asyncio
import time
from contextlib import AbstractAsyncContextManager
from typing import Any

from services.core.aws import AWS_ERRORS, aws_client, error_code
from services.core.config import AwsSettings
from services.core.errors import EnqueueError
from services.core.jobs import FollowupsJob, Job, JobCodec, TaskJob


def sqs_client(
    aws: AwsSettings, *, connect_timeout: float, read_timeout: float, max_attempts: int
) -> AbstractAsyncContextManager[Any]:
    return aws_client(
        "sqs",
        aws,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_attempts=max_attempts,
    )


class JobQueue:
    """Puts jobs on the queue, giving up after ``timeout`` seconds whatever SQS is doing."""

    def __init__(self, *, client: Any, queue_url: str, timeout: float, codec: JobCodec) -> None:
        self._client = client
        self._queue_url = queue_url
        self._timeout = timeout
        self._codec = codec

    async def put(
        self,
        job: Job | FollowupsJob | TaskJob,
        *,
        timeout: float | None = None,
        delay_seconds: int = 0,
    ) -> str:
        """Enqueue and return the SQS message id, or raise ``EnqueueError``. ``timeout``
        shortens the budget (never lengthens it), for a caller with less time left;
        ``delay_seconds`` keeps the message from workers that long (SQS: 0-900)."""
        started = time.monotonic()
        budget = self._timeout if timeout is None else min(timeout, self._timeout)
        try:
            async with asyncio.timeout(budget):
                response = await self._client.send_message(
                    QueueUrl=self._queue_url,
                    MessageBody=self._codec.encode(job),
                    DelaySeconds=delay_seconds,
                    MessageAttributes={
                        "kind": {"DataType": "String", "StringValue": job.kind.value},
                        "command": {
                            "DataType": "String",
                            "StringValue": job.name,
                        },
                    },
                )
        except TimeoutError:
            raise EnqueueError("timed out", elapsed=time.monotonic() - started) from None
        except AWS_ERRORS as exc:
            raise EnqueueError(error_code(exc), elapsed=time.monotonic() - started) from None
        return str(response["MessageId"])

    async def warm_up(self) -> str | None:
        """Open the connection before the first user needs it; return why it failed, if so.

        A failure is not fatal: the API must still answer Discord's PINGs, and each enqueue
        has its own budget and user-visible error.
        """
        try:
            async with asyncio.timeout(self._timeout):
                await self._client.get_queue_attributes(
                    QueueUrl=self._queue_url, AttributeNames=["QueueArn"]
                )
        except TimeoutError:
            return "timed out"
        except AWS_ERRORS as exc:
            return error_code(exc)
        return None
