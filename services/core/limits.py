"""Limits on long jobs, per user and per server: how many run at once and how many start in
a minute. Kept in DynamoDB, so every API task counts the same places.

One item per subject (``id`` is ``user:<id>`` or ``server:<id>``):

    running     map of job id -> end of its lease (epoch seconds): the places taken
    window      the minute (epoch seconds // 60) that ``started`` counts
    started     jobs started in that minute
    version     one more on every write: a write is conditional on the version it read,
                so two API tasks cannot both take the last place
    expires_at  the table's TTL: a day after the last start

The API takes a place (in the user's and the server's items, one transaction) before it
queues a long job, and gives it back if the queue refuses the job. The worker renews the
lease while the job runs and gives the place back when the job ends, whatever the outcome.
A place whose job vanished (a worker killed, a job parked as invalid) lapses with its lease;
a job still waiting in the queue or retrying keeps it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Final

import structlog

from services.core.aws import AWS_ERRORS, aws_client, error_code
from services.core.config import AwsSettings, LimitSettings
from services.core.errors import LimitsUnavailable

log = structlog.get_logger("core.limits")

# A place is held this long without a renewal: time to wait in the queue (a backlog, a
# worker scaling up from zero) and between the worker's renewals.
LEASE_SECONDS: Final = 15 * 60
RENEW_EVERY: Final = LEASE_SECONDS / 3
KEEP_SECONDS: Final = 24 * 3600
# Two API tasks writing the same item at once: the loser reads again, after a short
# jittered pause, and is refused if it keeps losing (never let through unchecked: a member
# who sends many commands at once would otherwise pass the limits by contention alone).
ATTEMPTS: Final = 5
BACKOFF: Final = (0.005, 0.03)
_CONFLICTS: Final = ("TransactionCanceledException", "ConditionalCheckFailedException")


class Subject(StrEnum):
    USER = "user"
    SERVER = "server"


class Kind(StrEnum):
    RUNNING = "running"
    PER_MINUTE = "per_minute"
    CONTENDED = "contended"  # too many at once to count
    DAILY_TOKENS = "daily_tokens"  # the day's budget of model tokens is spent


_TEXTS: Final = {
    (Subject.USER, Kind.RUNNING): "You have too many {what} running ({limit} at most). "
    "Try again when one has finished.",
    (Subject.USER, Kind.PER_MINUTE): "You have started too many {what} in the last minute "
    "({limit} at most). Try again in {wait} s.",
    (Subject.SERVER, Kind.RUNNING): "This server has too many {what} running ({limit} at "
    "most). Try again when one has finished.",
    (Subject.SERVER, Kind.PER_MINUTE): "This server has started too many {what} in the "
    "last minute ({limit} at most). Try again in {wait} s.",
    (Subject.USER, Kind.CONTENDED): "Too many of your {what} arrived at once. "
    "Try again in a few seconds.",
    (Subject.SERVER, Kind.CONTENDED): "Too many {what} arrived at once in this server. "
    "Try again in a few seconds.",
    # <t:…:R> is Discord's own timestamp markup: each reader sees "in 3 hours", in their
    # language and time zone.
    (Subject.USER, Kind.DAILY_TOKENS): "You have used today's budget for answers ({limit} "
    "tokens). It resets <t:{resets_at}:R>.",
    (Subject.SERVER, Kind.DAILY_TOKENS): "This server has used today's budget for answers "
    "({limit} tokens). It resets <t:{resets_at}:R>.",
}


@dataclass(frozen=True, slots=True)
class Refused:
    """A limit the job would pass: said to the user, privately."""

    subject: Subject
    kind: Kind
    limit: int
    wait: int = 0  # seconds until a per-minute window turns
    what: str = "commands"  # what the limits count, in the user's words
    resets_at: int = 0  # when a daily budget starts again (epoch seconds)

    @property
    def text(self) -> str:
        return _TEXTS[self.subject, self.kind].format(
            limit=f"{self.limit:,}", wait=self.wait, what=self.what, resets_at=self.resets_at
        )

    @property
    def reason(self) -> str:
        prefix = "" if self.what == "commands" else f"{self.what}_"
        return f"{prefix}{self.subject}_{self.kind}"


@dataclass(frozen=True, slots=True)
class _Rule:
    key: str
    subject: Subject
    running: int  # 0: no limit
    per_minute: int


class JobLimits:
    def __init__(
        self,
        *,
        client: Any,
        table: str,
        settings: LimitSettings,
        clock: Callable[[], float] = time.time,
        pool: str = "",
        what: str = "commands",
    ) -> None:
        self._client = client
        self._table = table
        self._settings = settings
        self._clock = clock
        # Another set of places in the same kind of items (``answers:user:<id>``...): the
        # LLM commands' answers in flight are counted apart from long jobs.
        self._prefix = f"{pool}:" if pool else ""
        self.what = what

    def _rules(self, user_id: str | None, guild_id: str | None) -> list[_Rule]:
        s = self._settings
        rules = []
        if user_id is not None and (s.user_running or s.user_per_minute):
            rules.append(
                _Rule(
                    f"{self._prefix}user:{user_id}", Subject.USER, s.user_running, s.user_per_minute
                )
            )
        if guild_id is not None and (s.server_running or s.server_per_minute):
            rules.append(
                _Rule(
                    f"{self._prefix}server:{guild_id}",
                    Subject.SERVER,
                    s.server_running,
                    s.server_per_minute,
                )
            )
        return rules

    async def take(
        self, job_id: str, *, user_id: str | None, guild_id: str | None, timeout: float
    ) -> Refused | None:
        """Take a place for the job within ``timeout`` seconds, or say which limit it would
        pass. Raises ``LimitsUnavailable`` when the table fails or is slow: not when it is
        contended (other writes of the same items keep winning), which refuses the job."""
        rules = self._rules(user_id, guild_id)
        if not rules:
            return None
        contended: Subject | None = None
        try:
            async with asyncio.timeout(timeout):
                for attempt in range(ATTEMPTS):
                    if attempt:
                        await asyncio.sleep(random.uniform(*BACKOFF))
                    outcome = await self._attempt(rules, job_id)
                    if isinstance(outcome, Refused):
                        return replace(outcome, what=self.what)
                    if outcome is None:
                        return None
                    contended = outcome
        except TimeoutError:
            if contended is None:
                raise LimitsUnavailable("timed out") from None
        assert contended is not None
        return Refused(contended, Kind.CONTENDED, limit=0, what=self.what)

    async def _attempt(self, rules: list[_Rule], job_id: str) -> Refused | Subject | None:
        """One read and conditional write: taken (None), refused, or the subject whose item
        another task wrote first."""
        try:
            items = await asyncio.gather(*(self._read(rule.key) for rule in rules))
        except AWS_ERRORS as exc:
            raise LimitsUnavailable(error_code(exc)) from None
        now = int(self._clock())
        writes = []
        for rule, item in zip(rules, items, strict=True):
            outcome = _next_item(rule, item, job_id, now)
            if isinstance(outcome, Refused):
                return outcome
            writes.append({"Put": {"TableName": self._table, **outcome}})
        try:
            await self._client.transact_write_items(TransactItems=writes)
        except AWS_ERRORS as exc:
            if error_code(exc) not in _CONFLICTS:
                raise LimitsUnavailable(error_code(exc)) from None
            return _conflicting(exc, rules)
        return None

    async def _read(self, key: str) -> dict[str, Any] | None:
        response = await self._client.get_item(
            TableName=self._table, Key={"id": {"S": key}}, ConsistentRead=True
        )
        item: dict[str, Any] | None = response.get("Item")
        return item

    async def renew(self, job_id: str, *, user_id: str | None, guild_id: str | None) -> None:
        """Hold the job's places for another lease (while it runs). Best effort: a failure
        shortens nothing but this renewal."""
        until = str(int(self._clock()) + LEASE_SECONDS)
        await self._update(
            job_id, user_id, guild_id, "SET running.#job = :until", {":until": {"N": until}}
        )

    async def give_back(self, job_id: str, *, user_id: str | None, guild_id: str | None) -> None:
        """The job ended: its places are free at once. Best effort: else its lease lapses."""
        await self._update(job_id, user_id, guild_id, "REMOVE running.#job", None)

    async def _update(
        self,
        job_id: str,
        user_id: str | None,
        guild_id: str | None,
        expression: str,
        values: dict[str, Any] | None,
    ) -> None:
        for rule in self._rules(user_id, guild_id):
            if not rule.running:
                continue
            try:
                await self._client.update_item(
                    TableName=self._table,
                    Key={"id": {"S": rule.key}},
                    # A new version too: a take that read the item before this write must
                    # read it again, or its put would bring a freed place back.
                    UpdateExpression=f"{expression} ADD version :one",
                    # Never creates an item: one that lapsed has nothing to hold or free.
                    ConditionExpression="attribute_exists(running)",
                    ExpressionAttributeNames={"#job": job_id},
                    ExpressionAttributeValues={":one": {"N": "1"}, **(values or {})},
                )
            except AWS_ERRORS as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    log.warning("limits_update_failed", subject=rule.subject, error=error_code(exc))


def _conflicting(exc: Exception, rules: list[_Rule]) -> Subject:
    """Whose item was written first, from the transaction's cancellation reasons."""
    reasons = getattr(exc, "response", {}).get("CancellationReasons") or []
    for rule, reason in zip(rules, reasons, strict=False):
        if reason.get("Code") not in (None, "None"):
            return rule.subject
    return rules[0].subject


def _next_item(
    rule: _Rule, item: dict[str, Any] | None, job_id: str, now: int
) -> dict[str, Any] | Refused:
    """The item with the job's place taken (as a conditional put), or the limit it passes."""
    item = item or {}
    running = {
        job: int(lease["N"])
        for job, lease in item.get("running", {}).get("M", {}).items()
        if int(lease["N"]) > now and job != job_id
    }
    minute = now // 60
    started = int(item["started"]["N"]) if int(item.get("window", {}).get("N", -1)) == minute else 0
    if rule.running and len(running) >= rule.running:
        return Refused(rule.subject, Kind.RUNNING, rule.running)
    if rule.per_minute and started >= rule.per_minute:
        return Refused(rule.subject, Kind.PER_MINUTE, rule.per_minute, wait=60 - now % 60)
    running[job_id] = now + LEASE_SECONDS
    version = int(item.get("version", {}).get("N", 0))
    return {
        "Item": {
            "id": {"S": rule.key},
            "running": {"M": {job: {"N": str(lease)} for job, lease in running.items()}},
            "window": {"N": str(minute)},
            "started": {"N": str(started + 1)},
            "version": {"N": str(version + 1)},
            "expires_at": {"N": str(now + KEEP_SECONDS)},
        },
        "ConditionExpression": "attribute_not_exists(id) OR version = :seen",
        "ExpressionAttributeValues": {":seen": {"N": str(version)}},
    }


@asynccontextmanager
async def open_limits(
    settings: LimitSettings, aws: AwsSettings, *, timeout: float, max_attempts: int
) -> AsyncIterator[JobLimits | None]:
    """The limits, for a service's lifetime; ``None`` without a table (no limits)."""
    if settings.table is None:
        yield None
        return
    async with aws_client(
        "dynamodb", aws, connect_timeout=timeout, read_timeout=timeout, max_attempts=max_attempts
    ) as client:
        yield JobLimits(client=client, table=settings.table, settings=settings)
