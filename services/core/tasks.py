"""Scheduled tasks, declared like commands:

    @tasks.task(description="Post the daily reminder")
    async def daily_reminder(ctx: TaskContext) -> None: ...

A rule or schedule on EventBridge sends ``{"type": "scheduled_task", "task": "daily-reminder"}``
and the Lambda runs the task, or, for a task declared ``long=True``, puts it on the jobs queue
for the worker, which has no time limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from services.core.errors import UnknownTask
from services.core.webhooks import WebhookDelivery

TaskHandler = Callable[["TaskContext"], Awaitable[None]]
T = TypeVar("T", bound=TaskHandler)


@dataclass(frozen=True, slots=True)
class TaskContext:
    delivery: WebhookDelivery
    # The event's other fields, for tasks that take parameters.
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Task:
    name: str
    description: str
    handler: TaskHandler
    # Runs in the worker, with no time limit, instead of in the Lambda (15 minutes at most).
    long: bool = False


class TaskRegistry:
    def __init__(self) -> None:
        self._tasks: dict[str, Task] = {}

    def task(
        self, *, description: str, name: str | None = None, long: bool = False
    ) -> Callable[[T], T]:
        def decorate(handler: T) -> T:
            task_name = name or handler.__name__.replace("_", "-")
            if task_name in self._tasks:
                raise ValueError(f"task {task_name!r} is declared twice")
            self._tasks[task_name] = Task(task_name, description, handler, long)
            return handler

        return decorate

    def get(self, name: str) -> Task:
        try:
            return self._tasks[name]
        except KeyError:
            raise UnknownTask(name) from None

    def names(self) -> list[str]:
        return sorted(self._tasks)
