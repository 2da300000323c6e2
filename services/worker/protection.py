"""ECS task scale-in protection while jobs run.

When the service scales in, ECS stops tasks it chooses; a protected task is skipped. The
worker asks for protection when its first job starts and drops it when its last job ends
(ECS docs, "Protect your Amazon ECS tasks from being terminated by scale-in events"), through
the ECS agent's endpoint ``$ECS_AGENT_URI/task-protection/v1/state``. Protection expires by
itself after ``expires_minutes`` (ECS's default is 2 hours, the maximum 48 hours), so it is
renewed while jobs keep running. A failure is logged and never holds a job up: the graceful
SIGTERM drain still protects running jobs.
"""

from __future__ import annotations

import asyncio
import time
from typing import Final

import aiohttp
import structlog

log = structlog.get_logger("worker.protection")

PROTECTION_PATH: Final = "/task-protection/v1/state"


class TaskProtection:
    def __init__(
        self, *, session: aiohttp.ClientSession, agent_uri: str, expires_minutes: int = 60
    ) -> None:
        self._session = session
        self._url = agent_uri.rstrip("/") + PROTECTION_PATH
        self._expires_minutes = expires_minutes
        self._running = 0
        self._protected_until = 0.0
        self._lock = asyncio.Lock()

    async def job_started(self) -> None:
        self._running += 1
        # Renewed at half its life, so a long busy spell never runs unprotected.
        if time.monotonic() > self._protected_until - self._expires_minutes * 30:
            await self._set(enabled=True)

    async def job_finished(self) -> None:
        self._running -= 1
        if self._running == 0:
            await self._set(enabled=False)

    async def _set(self, *, enabled: bool) -> None:
        async with self._lock:
            if enabled != (self._running > 0):
                return  # the state moved on while we waited
            body: dict[str, object] = {"ProtectionEnabled": enabled}
            if enabled:
                body["ExpiresInMinutes"] = self._expires_minutes
            try:
                async with self._session.put(
                    self._url, json=body, timeout=aiohttp.ClientTimeout(total=5)
                ) as response:
                    if response.status >= 300:
                        log.warning(
                            "task_protection_refused", status=response.status, enabled=enabled
                        )
                        return
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("task_protection_failed", error=type(exc).__name__, enabled=enabled)
                return
            self._protected_until = (
                time.monotonic() + self._expires_minutes * 60 if enabled else 0.0
            )
            log.info("task_protection", enabled=enabled)


class NoProtection:
    """Outside ECS (``ECS_AGENT_URI`` unset)."""

    async def job_started(self) -> None:
        return None

    async def job_finished(self) -> None:
        return None
