"""Readiness: whether this task can do its whole job, long commands included, which needs the
jobs queue. ``/healthz`` stays a liveness check (the process answers); ``/readyz`` asks SQS.

The load balancer's health check uses ``/healthz``, not this: ECS replaces the tasks the
balancer finds unhealthy, so a health check on SQS would turn a minute of SQS trouble into
every API task stopped and restarted at once, and Discord's PINGs and the instant commands,
which need no queue, would fail with them. A blip in SQS costs the long commands of that
minute a "couldn't start" message each (their own budget); ``/readyz`` is for deploy checks
and the operator. Its answer says only ready or not: the path is as public as the API, so
the reason (an AWS error code) goes to the log, once per check.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Final

import structlog

log = structlog.get_logger("api.readiness")

# How long an answer is kept: probes from several checkers cost SQS one call, not one each.
TTL: Final = 5.0


class Readiness:
    def __init__(
        self,
        check: Callable[[], Awaitable[str | None]],
        *,
        ttl: float = TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._check = check
        self._ttl = ttl
        self._clock = clock
        self._lock = asyncio.Lock()
        self._checked_at: float | None = None
        self._problem: str | None = None

    async def problem(self) -> str | None:
        """Why the queue cannot be reached (None: it can), as of at most ``ttl`` ago."""
        async with self._lock:
            now = self._clock()
            if self._checked_at is None or now - self._checked_at >= self._ttl:
                self._problem = await self._check()
                self._checked_at = self._clock()
                if self._problem is not None:
                    log.warning("not_ready", queue=self._problem)
            return self._problem
