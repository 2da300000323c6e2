"""Time budgets for the handlers that run in the API, kept by one watchdog task.

``asyncio.timeout`` arms and disarms a timer on the event loop for every call; measured with
callgrind, that is about 33,000 instructions per request, more than the rest of a /ping
once the signature is checked. Here a request only records its deadline in a dict; one task,
opened with the app's lifespan, wakes every ``tick`` seconds and cancels the requests past
theirs. A budget is therefore kept to within ``tick``, which Discord's 3-second window (and
the 2-second budget inside it) leaves room for.

A cancellation is a request, as with ``asyncio.timeout``: a handler that catches it and goes
on, or that blocks the event loop (``time.sleep``, heavy computation), is not stopped, and
holds up every other request of the process meanwhile. Slow work belongs in ``defer=True``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Final, Self, TypeVar

T = TypeVar("T")
TICK: Final = 0.05


class Deadlines:
    """Open with ``async with Deadlines(budget) as deadlines:``; then ``await
    deadlines.run(coro)`` raises ``TimeoutError`` if ``coro`` outlives the budget."""

    def __init__(self, budget: float, *, tick: float = TICK) -> None:
        self._budget = budget
        self._tick = tick
        self._due: dict[asyncio.Task[object], float] = {}
        self._expired: set[asyncio.Task[object]] = set()
        self._watchdog: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._watchdog = asyncio.create_task(self._watch(), name="deadlines")
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self._tick)
            now = loop.time()
            for task, due in list(self._due.items()):
                if now >= due and task not in self._expired:
                    self._expired.add(task)
                    task.cancel()

    async def run(self, work: Awaitable[T]) -> T:
        task = asyncio.current_task()
        assert task is not None
        self._due[task] = asyncio.get_running_loop().time() + self._budget
        try:
            return await work
        except asyncio.CancelledError:
            if task in self._expired:
                raise TimeoutError from None
            raise  # someone else's cancellation: let it through
        finally:
            del self._due[task]
            if task in self._expired:
                # Ours, whether the work let it end it or swallowed it: take it back, so the
                # task's later awaits are not cancelled for it.
                self._expired.discard(task)
                task.uncancel()
