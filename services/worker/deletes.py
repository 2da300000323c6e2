"""Deleting finished jobs' messages, up to ten in one call (SQS DeleteMessageBatch).

A delete is a whole AWS call, as much CPU as the job's other calls (botocore's work per call
is most of a short job's cost): when several jobs end together, one call deletes them all.
A delete waits at most ``GATHER`` seconds for others, apart from its job, whose slot is free
at once (the user's reply went before it; nobody waits for it); the worker sends what is
left when it stops. A failed delete (the whole call, or one entry of it) is logged: the
message comes back after its visibility timeout and the ledger finds the job done, as with
any lost delete.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import structlog

from services.core.aws import AWS_ERRORS, error_code

log = structlog.get_logger("worker.deletes")

# SQS: "a maximum of 10 messages" per DeleteMessageBatch.
MAX_BATCH: Final = 10
GATHER: Final = 0.2
# Calls in flight at once: the worker's SQS calls share one connection pool, and a slow SQS
# must not let deletes take it from the heartbeats and receives. What waits meanwhile is
# only memory (a receipt handle each).
MAX_IN_FLIGHT: Final = 4


class Deletes:
    def __init__(self, sqs: Any, queue_url: str, *, gather: float = GATHER) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._gather = gather
        self._pending: list[tuple[str, str]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)

    def delete(self, handle: str, message_id: str) -> None:
        """Delete one message, with the next call that goes (within ``GATHER`` seconds)."""
        self._pending.append((handle, message_id))
        if len(self._pending) >= MAX_BATCH:
            self._send_pending()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._gather, self._send_pending)

    async def flush(self, timeout: float) -> None:
        """Send what waits, and wait for the calls in flight, at most ``timeout`` seconds (at
        shutdown: the task is killed soon after). What is not deleted by then comes back
        after its visibility timeout, and the ledger knows its job ran."""
        while self._pending:
            self._send_pending()
        if not self._sending:
            return
        _, unsent = await asyncio.wait(self._sending, timeout=timeout)
        if unsent:
            log.warning("deletes_unsent", calls=len(unsent))
            for task in unsent:
                task.cancel()

    def _send_pending(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        if self._pending:
            self._timer = asyncio.get_running_loop().call_later(self._gather, self._send_pending)
        task = asyncio.create_task(self._send(batch))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[tuple[str, str]]) -> None:
        entries = [{"Id": str(n), "ReceiptHandle": handle} for n, (handle, _) in enumerate(batch)]
        try:
            async with self._in_flight:
                response = await self._sqs.delete_message_batch(
                    QueueUrl=self._queue_url, Entries=entries
                )
        except AWS_ERRORS as exc:
            for _, message_id in batch:
                log.error("delete_failed", message_id=message_id, error=error_code(exc))
            return
        for failure in response.get("Failed", []):
            _, message_id = batch[int(failure["Id"])]
            log.error("delete_failed", message_id=message_id, error=failure.get("Code"))
