"""Errors of the scheduler. Each one fails the invocation, so EventBridge retries it and,
past its retries, keeps it in the target's dead-letter queue: nothing is dropped silently.

    SchedulerError
    ├── MalformedEvent     neither a scheduled task nor a notification we can read
    ├── UnknownTask        a schedule names a task this bot does not declare
    └── DeliveryFailed     some messages did not reach Discord (which, and why, in ``failures``)
"""

from __future__ import annotations


class SchedulerError(Exception):
    pass


class MalformedEvent(SchedulerError):  # noqa: N818
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"malformed event: {reason}")


class UnknownTask(SchedulerError):  # noqa: N818
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"unknown task {name!r}")


class DeliveryFailed(SchedulerError):  # noqa: N818
    def __init__(self, failures: dict[str, str]) -> None:
        self.failures = failures
        listed = ", ".join(f"{k}: {v}" for k, v in sorted(failures.items()))
        super().__init__(f"{len(failures)} deliveries failed ({listed})")
