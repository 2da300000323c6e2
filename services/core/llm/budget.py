"""Daily token budgets, per user and per server, counted in the LLM table.

One item per subject and day (``id`` is ``tokens:user:<id>`` or ``tokens:server:<id>``):
``day`` (days since the epoch, UTC), ``used`` (tokens in and out of every answer that day)
and ``expires_at`` (the table's TTL). The API refuses a new answer once a budget is spent;
the worker adds what each answer used when it ends, so an answer that starts under budget
finishes (``LLM_MAX_OUTPUT_TOKENS`` bounds how far past it one answer can go).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Final

import structlog

from services.core.aws import AWS_ERRORS, error_code
from services.core.errors import LimitsUnavailable
from services.core.limits import Kind, Refused, Subject
from services.core.llm.settings import Budgets

log = structlog.get_logger("llm.budget")

DAY: Final = 86400
_KEEP: Final = 2 * DAY
_DAY_CHANGED: Final = "ConditionalCheckFailedException"


class TokenBudget:
    def __init__(
        self,
        *,
        client: Any,
        table: str,
        budgets: Budgets,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._table = table
        self._budgets = budgets
        self._clock = clock

    def _subjects(
        self, user_id: str | None, guild_id: str | None
    ) -> list[tuple[Subject, str, int]]:
        b = self._budgets
        subjects = []
        if user_id is not None and b.user_daily_tokens:
            subjects.append((Subject.USER, f"tokens:user:{user_id}", b.user_daily_tokens))
        if guild_id is not None and b.server_daily_tokens:
            subjects.append((Subject.SERVER, f"tokens:server:{guild_id}", b.server_daily_tokens))
        return subjects

    async def check(self, *, user_id: str | None, guild_id: str | None) -> Refused | None:
        """The budget a new answer would pass, if any. Raises ``LimitsUnavailable`` when the
        table cannot be read."""
        subjects = self._subjects(user_id, guild_id)
        if not subjects:
            return None
        today = int(self._clock()) // DAY
        try:
            items = await asyncio.gather(*(self._read(key) for _, key, _ in subjects))
        except AWS_ERRORS as exc:
            raise LimitsUnavailable(error_code(exc)) from None
        for (subject, _, budget), item in zip(subjects, items, strict=True):
            today_item = item if item is not None and int(item["day"]["N"]) == today else None
            if today_item is not None and int(today_item["used"]["N"]) >= budget:
                return Refused(
                    subject, Kind.DAILY_TOKENS, budget, what="answers", resets_at=(today + 1) * DAY
                )
        return None

    async def _read(self, key: str) -> dict[str, Any] | None:
        response = await self._client.get_item(
            TableName=self._table, Key={"id": {"S": key}}, ConsistentRead=True
        )
        item: dict[str, Any] | None = response.get("Item")
        return item

    async def charge(self, tokens: int, *, user_id: str | None, guild_id: str | None) -> None:
        """Count tokens: an answer's estimate when it starts, and the difference (either
        way) from what the model counted when it ends. Best effort: a failure is logged, and
        those tokens are not counted."""
        if tokens == 0:
            return
        now = int(self._clock())
        for _, key, _ in self._subjects(user_id, guild_id):
            try:
                await self._add(key, tokens, now // DAY, now + _KEEP)
            except AWS_ERRORS as exc:
                log.warning("budget_not_counted", tokens=tokens, error=error_code(exc))

    async def _add(self, key: str, tokens: int, today: int, expires: int) -> None:
        values = {
            ":n": {"N": str(tokens)},
            ":day": {"N": str(today)},
            ":exp": {"N": str(expires)},
        }
        common = {
            "TableName": self._table,
            "Key": {"id": {"S": key}},
            "ExpressionAttributeNames": {"#day": "day"},
            "ExpressionAttributeValues": values,
        }
        for _ in range(3):
            try:
                await self._client.update_item(
                    UpdateExpression="ADD used :n SET expires_at = :exp",
                    ConditionExpression="#day = :day",
                    **common,
                )
            except AWS_ERRORS as exc:
                if error_code(exc) != _DAY_CHANGED:
                    raise
            else:
                return
            if tokens < 0:
                return  # a correction for a day that has ended: the new day owes nothing
            # No item for today yet: start the day's count, unless another task just did
            # (then the next add counts on top of it).
            try:
                await self._client.update_item(
                    UpdateExpression="SET used = :n, #day = :day, expires_at = :exp",
                    ConditionExpression="attribute_not_exists(#day) OR #day < :day",
                    **common,
                )
            except AWS_ERRORS as exc:
                if error_code(exc) != _DAY_CHANGED:
                    raise
            else:
                return
