"""Errors of the scheduler Lambda. Each one fails the invocation, so EventBridge retries it
and, past its retries, keeps it in the target's dead-letter queue: nothing is dropped silently.

    SchedulerError
    └── MalformedEvent     neither a scheduled task nor a notification we can read

A task's own failures (``UnknownTask``, ``DeliveryFailed``) are ``TaskError``s of the core
(``services.core.errors``) and fail the invocation the same way.
"""

from __future__ import annotations


class SchedulerError(Exception):
    pass


class MalformedEvent(SchedulerError):  # noqa: N818
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"malformed event: {reason}")
