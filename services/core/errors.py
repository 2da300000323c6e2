"""Errors raised by the shared core.

    CoreError
    ├── ConfigError          a setting is missing or malformed (stops the process at start)
    ├── JobFormatError       a queue message is not a job this version understands
    ├── EnqueueError         a job could not be put on the queue within its time budget
    ├── ConfigStoreError     SSM Parameter Store could not be read or written
    ├── EventPublishError    EventBridge did not take an event
    ├── LimitsUnavailable    the limits table could not be asked (the job goes ahead)
    └── TaskError            a scheduled task could not run or deliver (fails its invocation)
        ├── UnknownTask      a schedule names a task this bot does not declare
        ├── NoWebhook        a server (or the default target) has no webhook configured
        └── DeliveryFailed   some messages did not reach Discord (which, and why, in ``failures``)

Discord's own errors live in ``services.core.discord.errors``; command declaration errors
in ``services.core.bot.errors``.
"""

from __future__ import annotations


class CoreError(Exception):
    """Base for every error the shared core raises."""


class ConfigError(CoreError):
    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        self.problem = problem
        super().__init__(f"{name}: {problem}")


class JobFormatError(CoreError):
    def __init__(self, reason: str, *, message_id: str | None = None) -> None:
        self.reason = reason
        self.message_id = message_id
        super().__init__(f"not a valid job ({reason})")


class EnqueueError(CoreError):
    def __init__(self, reason: str, *, elapsed: float) -> None:
        self.reason = reason
        self.elapsed = elapsed
        super().__init__(f"could not enqueue job after {elapsed:.3f}s: {reason}")


class ConfigStoreError(CoreError):
    """``reason`` says what failed where (for logs); ``code`` is short enough to show a
    user (``ThrottlingException``, ``not JSON``)."""

    def __init__(self, reason: str, *, code: str) -> None:
        self.reason = reason
        self.code = code
        super().__init__(reason)


class EventPublishError(CoreError):
    def __init__(self, reason: str, *, failed: int = 1) -> None:
        self.reason = reason
        self.failed = failed
        super().__init__(f"event not published: {reason}")


class LimitsUnavailable(CoreError):  # noqa: N818
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"limits not checked: {reason}")


class TaskError(CoreError):
    """A scheduled task failed: the scheduler lets its invocation fail, so EventBridge retries
    it and then keeps it in the target's dead-letter queue."""


class UnknownTask(TaskError):  # noqa: N818
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"unknown task {name!r}")


class NoWebhook(TaskError):  # noqa: N818
    def __init__(self, target: str) -> None:
        self.target = target
        super().__init__(f"no webhook configured for {target}")


class DeliveryFailed(TaskError):  # noqa: N818
    def __init__(self, failures: dict[str, str]) -> None:
        self.failures = failures
        listed = ", ".join(f"{k}: {v}" for k, v in sorted(failures.items()))
        super().__init__(f"{len(failures)} deliveries failed ({listed})")
