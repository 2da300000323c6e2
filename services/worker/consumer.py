"""The SQS side of the worker: receive, keep each message invisible while its job runs,
delete after success, release on shutdown. Jobs themselves are the runner's business.

Delivery is at least once: a message is deleted only after its job's outcome says so, and a
worker that dies mid-job simply stops heartbeating, so the message reappears after the
visibility timeout and another worker runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any, Final, Protocol

import structlog

from services.core.aws import AWS_ERRORS, error_code
from services.core.config import WorkerSettings
from services.worker.deletes import Deletes
from services.worker.outcomes import Verdict
from services.worker.protection import NoProtection

log = structlog.get_logger("worker.consumer")

# A batch is at most 10 messages (SQS ReceiveMessage limit).
MAX_BATCH: Final = 10
RECEIVE_ERROR_BACKOFF: Final = 2.0
# After the shutdown grace (90 s at most), before ECS's stopTimeout (120 s) kills the task.
DELETES_FLUSH_TIMEOUT: Final = 10.0


class Protection(Protocol):
    async def job_started(self) -> None: ...
    async def job_finished(self) -> None: ...


class Runner(Protocol):
    async def run(self, body: str, *, message_id: str, receive_count: int) -> Verdict: ...


@dataclass(frozen=True, slots=True)
class ConsumerSettings:
    queue_url: str
    concurrency: int
    visibility_timeout: int
    shutdown_grace: float
    poll_seconds: int = 20

    @classmethod
    def of(cls, settings: WorkerSettings) -> ConsumerSettings:
        return cls(
            queue_url=settings.aws.jobs_queue_url,
            concurrency=settings.concurrency,
            visibility_timeout=settings.visibility_timeout,
            shutdown_grace=settings.shutdown_grace,
            poll_seconds=settings.poll_seconds,
        )

    @property
    def heartbeat_interval(self) -> float:
        # Three heartbeats per timeout: one can fail or be late without the message escaping.
        return self.visibility_timeout / 3


class Consumer:
    def __init__(
        self,
        *,
        sqs: Any,
        runner: Runner,
        settings: ConsumerSettings,
        protection: Protection | None = None,
    ) -> None:
        self._sqs = sqs
        self._runner = runner
        self._settings = settings
        self._protection = protection or NoProtection()
        self._running: set[asyncio.Task[None]] = set()
        self._slot_free = asyncio.Event()
        self._deletes = Deletes(sqs, settings.queue_url)

    async def run(self, stopping: asyncio.Event) -> None:
        """Consume until ``stopping`` is set, then drain within the grace and return."""
        log.info(
            "worker_started",
            concurrency=self._settings.concurrency,
            visibility_timeout=self._settings.visibility_timeout,
        )
        stop_wait = asyncio.create_task(stopping.wait())
        try:
            while not stopping.is_set():
                free = self._settings.concurrency - len(self._running)
                if free <= 0:
                    self._slot_free.clear()
                    slot = asyncio.create_task(self._slot_free.wait())
                    await asyncio.wait({slot, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
                    slot.cancel()
                    continue
                receive = asyncio.create_task(self._receive(min(free, MAX_BATCH)))
                await asyncio.wait({receive, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
                if not receive.done():
                    # Stopping: let the long poll finish so nothing it returns is stranded
                    # invisible; what it returns is released at once below.
                    await self._drain(receive)
                    return
                messages = receive.result()
                if stopping.is_set():
                    await self._release_all(messages)
                    break
                for message in messages:
                    self._start(message)
            await self._drain(None)
        finally:
            stop_wait.cancel()

    async def _receive(self, count: int) -> list[dict[str, Any]]:
        try:
            response = await self._sqs.receive_message(
                QueueUrl=self._settings.queue_url,
                MaxNumberOfMessages=count,
                WaitTimeSeconds=self._settings.poll_seconds,
                VisibilityTimeout=self._settings.visibility_timeout,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
        except AWS_ERRORS as exc:
            log.warning("receive_failed", error=error_code(exc), detail=str(exc))
            await asyncio.sleep(RECEIVE_ERROR_BACKOFF)
            return []
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def _start(self, message: dict[str, Any]) -> None:
        task = asyncio.create_task(self._process(message))
        self._running.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._slot_free.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("process_crashed", exc_info=task.exception())

    async def _process(self, message: dict[str, Any]) -> None:
        handle = message["ReceiptHandle"]
        message_id = message["MessageId"]
        receive_count = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        heartbeat = asyncio.create_task(self._heartbeat(handle, message_id))
        await self._protection.job_started()
        try:
            verdict = await self._runner.run(
                message.get("Body", ""), message_id=message_id, receive_count=receive_count
            )
        except asyncio.CancelledError:
            # Shutdown ran out of grace: hand the message straight back for another worker.
            await asyncio.shield(self._release(handle, message_id))
            raise
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            await asyncio.shield(self._protection.job_finished())
        if verdict.outcome.delete:
            # With the next batch; a failure is logged there: the job is done, the message
            # comes back and the ledger knows it ran (at least once).
            self._deletes.delete(handle, message_id)
        elif verdict.retry_in is not None:
            await self._hide(handle, message_id, verdict.retry_in)

    async def _heartbeat(self, handle: str, message_id: str) -> None:
        while True:
            await asyncio.sleep(self._settings.heartbeat_interval)
            try:
                await self._sqs.change_message_visibility(
                    QueueUrl=self._settings.queue_url,
                    ReceiptHandle=handle,
                    VisibilityTimeout=self._settings.visibility_timeout,
                )
            except AWS_ERRORS as exc:
                log.warning("heartbeat_failed", message_id=message_id, error=error_code(exc))

    async def _release(self, handle: str, message_id: str) -> None:
        if await self._hide(handle, message_id, 0):
            log.info("message_released", message_id=message_id)

    async def _hide(self, handle: str, message_id: str, seconds: int) -> bool:
        """Make the message visible again after ``seconds`` (0: at once)."""
        try:
            await self._sqs.change_message_visibility(
                QueueUrl=self._settings.queue_url,
                ReceiptHandle=handle,
                # SQS caps a message's visibility timeout at 12 hours.
                VisibilityTimeout=min(seconds, 43200),
            )
        except AWS_ERRORS as exc:
            log.warning("visibility_change_failed", message_id=message_id, error=error_code(exc))
            return False
        return True

    async def _release_all(self, messages: list[dict[str, Any]]) -> None:
        await asyncio.gather(*(self._release(m["ReceiptHandle"], m["MessageId"]) for m in messages))

    async def _drain(self, receive: asyncio.Task[list[dict[str, Any]]] | None) -> None:
        """Let running jobs finish within the grace; release the rest; release anything a
        pending long poll still returns."""
        log.info("worker_draining", running=len(self._running))
        waits: set[asyncio.Task[Any]] = set(self._running)
        if receive is not None:
            waits.add(receive)
        if waits:
            await asyncio.wait(waits, timeout=self._settings.shutdown_grace)
        unfinished = list(self._running)
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        if receive is not None:
            if receive.done():
                await self._release_all(receive.result())
            else:
                receive.cancel()
        await self._deletes.flush(DELETES_FLUSH_TIMEOUT)
        log.info("worker_stopped", released=len(unfinished))
