"""One DynamoDB item per interaction: the lock that makes a job run once at a time, and the
record that it already ran.

Item: ``id`` (interaction id, the key), ``status`` (``in_progress`` or ``completed``),
``owner`` (the worker that holds it), ``lock_until`` (epoch seconds) and ``expires_at``
(epoch seconds; the table's TTL attribute, so DynamoDB deletes old items by itself).

Time windows (V is the worker's visibility timeout, renewed every V/3 while a job runs):

    t0        worker A receives the message, puts {in_progress, lock_until = t0 + V}
              (conditional: no item, or an in-progress item whose lock has lapsed)
    t0+V/3…   A's heartbeat renews the message's visibility and the lock together
    crash     A stops renewing: the message reappears and the lock lapses, both within V
    t1        worker B receives it again; its conditional put succeeds only once the lock
              has lapsed; before that B sees "busy" and hides the message until the lock's
              end, so two workers never run the job at once
    done      the final reply is delivered, then the item becomes {completed, expires_at =
              now + keep}; a later delivery of the same message finds it and is deleted
              without running. ``keep`` must outlast the queue's retention (4 days by
              default), or a very late duplicate could run again.

The one window left: a worker that dies after Discord accepted the final edit and before the
item says ``completed``. The job then runs again; its final edit replaces the message with
the same content, so the user still sees one reply.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final, Protocol

import structlog

from services.core.aws import AWS_ERRORS, error_code

log = structlog.get_logger("worker.idempotency")

IN_PROGRESS: Final = "in_progress"
COMPLETED: Final = "completed"
_CONDITION_FAILED: Final = "ConditionalCheckFailedException"


class ClaimState(Enum):
    ACQUIRED = "acquired"  # run it
    COMPLETED = "completed"  # it already ran: drop the message
    BUSY = "busy"  # another worker holds it: try again after ``retry_in``
    UNAVAILABLE = "unavailable"  # the store could not be asked: try again later


@dataclass(frozen=True, slots=True)
class Claim:
    state: ClaimState
    retry_in: int = 0


class Ledger(Protocol):
    async def acquire(self, job_id: str) -> Claim: ...
    async def extend(self, job_id: str) -> None: ...
    async def complete(self, job_id: str) -> None: ...
    async def release(self, job_id: str) -> None: ...


class NoLedger:
    """Without a table: every delivery runs (at least once, no more)."""

    async def acquire(self, job_id: str) -> Claim:  # noqa: ARG002
        return Claim(ClaimState.ACQUIRED)

    async def extend(self, job_id: str) -> None:  # noqa: ARG002
        return None

    async def complete(self, job_id: str) -> None:  # noqa: ARG002
        return None

    async def release(self, job_id: str) -> None:  # noqa: ARG002
        return None


class DynamoLedger:
    def __init__(
        self,
        *,
        client: Any,
        table: str,
        owner: str,
        lock_seconds: int,
        keep_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._table = table
        self._owner = owner
        self._lock_seconds = lock_seconds
        self._keep_seconds = keep_seconds
        self._clock = clock

    async def acquire(self, job_id: str) -> Claim:
        now = int(self._clock())
        try:
            await self._client.put_item(
                TableName=self._table,
                Item={
                    "id": {"S": job_id},
                    "status": {"S": IN_PROGRESS},
                    "owner": {"S": self._owner},
                    "lock_until": {"N": str(now + self._lock_seconds)},
                    "expires_at": {"N": str(now + self._keep_seconds)},
                },
                ConditionExpression=(
                    "attribute_not_exists(id) OR (#s = :in_progress AND lock_until < :now)"
                ),
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":in_progress": {"S": IN_PROGRESS},
                    ":now": {"N": str(now)},
                },
            )
        except AWS_ERRORS as exc:
            if error_code(exc) != _CONDITION_FAILED:
                log.warning("ledger_unavailable", error=error_code(exc))
                return Claim(ClaimState.UNAVAILABLE)
            return await self._existing(job_id, now)
        return Claim(ClaimState.ACQUIRED)

    async def _existing(self, job_id: str, now: int) -> Claim:
        try:
            item = (
                await self._client.get_item(
                    TableName=self._table, Key={"id": {"S": job_id}}, ConsistentRead=True
                )
            ).get("Item")
        except AWS_ERRORS as exc:
            log.warning("ledger_unavailable", error=error_code(exc))
            return Claim(ClaimState.UNAVAILABLE)
        if item is None:  # released between our put and our read: try again soon
            return Claim(ClaimState.BUSY, retry_in=1)
        if item["status"]["S"] == COMPLETED:
            return Claim(ClaimState.COMPLETED)
        return Claim(ClaimState.BUSY, retry_in=max(1, int(item["lock_until"]["N"]) - now + 1))

    async def extend(self, job_id: str) -> None:
        await self._update(
            job_id,
            "SET lock_until = :until",
            {":until": {"N": str(int(self._clock()) + self._lock_seconds)}},
        )

    async def complete(self, job_id: str) -> None:
        await self._update(
            job_id,
            "SET #s = :completed, expires_at = :expires REMOVE lock_until",
            {
                ":completed": {"S": COMPLETED},
                ":expires": {"N": str(int(self._clock()) + self._keep_seconds)},
            },
            names={"#s": "status"},
        )

    async def release(self, job_id: str) -> None:
        """Give the lock up at once (a retry, or a shutdown), so the next delivery can run."""
        try:
            await self._client.delete_item(
                TableName=self._table,
                Key={"id": {"S": job_id}},
                ConditionExpression="#o = :owner AND #s = :in_progress",
                ExpressionAttributeNames={"#o": "owner", "#s": "status"},
                ExpressionAttributeValues={
                    ":owner": {"S": self._owner},
                    ":in_progress": {"S": IN_PROGRESS},
                },
            )
        except AWS_ERRORS as exc:
            # It lapses by itself within the lock time; nothing is lost.
            log.warning("ledger_release_failed", job_id=job_id, error=error_code(exc))

    async def _update(
        self,
        job_id: str,
        expression: str,
        values: dict[str, Any],
        *,
        names: dict[str, str] | None = None,
    ) -> None:
        try:
            await self._client.update_item(
                TableName=self._table,
                Key={"id": {"S": job_id}},
                UpdateExpression=expression,
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": "owner", **(names or {})},
                ExpressionAttributeValues={":owner": {"S": self._owner}, **values},
            )
        except AWS_ERRORS as exc:
            log.warning("ledger_update_failed", job_id=job_id, error=error_code(exc))
